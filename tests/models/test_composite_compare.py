"""Table-driven tests of harness.models.composite_compare: when a received composite matches the model."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from harness.models.charging_profile import ChargingRateUnit
from harness.models.composite_compare import Tolerance, compare_composite
from harness.models.composite_schedule import CompositePeriod, CompositeSchedule

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
A, W = ChargingRateUnit.A, ChargingRateUnit.W


def model(*periods: tuple, unit: ChargingRateUnit = A, duration: int = 400) -> CompositeSchedule:
    return CompositeSchedule(T0, duration, unit, tuple(CompositePeriod(*p) for p in periods))


def got(*periods: tuple, unit: str = "A", duration: int = 400) -> dict:
    out = []
    for p in periods:
        item = {"startPeriod": p[0], "limit": p[1]}
        if len(p) > 2:
            item["numberPhases"] = p[2]
        out.append(item)
    return {"duration": duration, "chargingRateUnit": unit, "chargingSchedulePeriod": out}


TC_066 = model((0, 8.0), (50, 10.0), (200, 6.0), (240, 10.0))

CASES = [
    # (id, expected, received, kwargs, ok, phrase)
    ("equal", TC_066, got((0, 8), (50, 10), (200, 6), (240, 10)), {}, True, ""),
    ("shifted within tolerance", TC_066, got((0, 8), (48, 10), (198, 6), (238, 10)), {}, True, ""),
    ("shifted beyond tolerance", TC_066, got((0, 8), (40, 10), (190, 6), (230, 10)), {}, False, "at +40s"),
    ("limit rounding", model((0, 14.49)), got((0, 14.5)), {}, True, ""),
    ("limit really different", model((0, 6.0)), got((0, 7.0)), {}, False, "reports 7 A"),
    ("unit conversion W received for A", model((0, 6.0), (100, 10.0)), got((0, 4140), (100, 6900), unit="W"), {}, True, ""),
    ("unit conversion A received for W", model((0, 4140.0), unit=W), got((0, 6.0)), {}, True, ""),
    ("wrong unit conversion (1 phase)", model((0, 6.0)), got((0, 1380), unit="W"), {}, False, "1380 W"),
    ("missing period", TC_066, got((0, 8), (50, 10), (240, 10)), {}, False, "model has 6 A"),
    ("extra period", model((0, 8.0)), got((0, 8), (100, 5), (200, 8)), {}, False, "reports 5 A"),
    ("short extra period (a value the model never has)", model((0, 8.0)), got((0, 8), (100, 5), (102, 8)), {}, False, "+100s"),
    ("no-profile span: any limit", model((0, 6.0), (150, None)), got((0, 6), (150, 48)), {}, True, ""),
    ("no-profile span: at or above floor", model((0, None)), got((0, 32)), {"no_limit_floor": 32}, True, ""),
    ("no-profile span: below floor", model((0, 6.0), (150, None)), got((0, 6), (150, 6)),
     {"no_limit_floor": 32}, False, "no profile (any limit >= 32 A)"),
    ("numberPhases compared when set", model((0, 6.0, 1)), got((0, 6, 3)), {}, False, "3 phases"),
    ("numberPhases absent means 3", model((0, 6.0, 3)), got((0, 6)), {}, True, ""),
    ("numberPhases ignored when the model has none", model((0, 6.0)), got((0, 6, 1)), {}, True, ""),
    ("first period not at 0", model((0, 6.0)), got((5, 6)), {}, False, "not 0"),
    ("tighter tolerance", TC_066, got((0, 8), (48, 10), (198, 6), (238, 10)), {"tolerance": Tolerance(seconds=1)}, False, "+48s"),
]


@pytest.mark.parametrize(("expected", "received", "kwargs", "ok", "phrase"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compare_composite(expected, received, kwargs, ok, phrase) -> None:
    result = compare_composite(expected, received, **kwargs)
    assert result.ok is ok, result.message()
    if phrase:
        assert phrase in result.message(), result.message()


def test_mismatch_message_has_side_by_side_table_and_readings() -> None:
    result = compare_composite(TC_066, got((0, 8), (50, 10), (240, 10)))
    text = result.message()
    assert "expected (model)" in text and "received (charge point)" in text
    assert "A14 TxProfile vs TxDefault" in text
    assert "       200            6" in text  # the expected row the charge point lacks


def test_empty_received_schedule() -> None:
    assert not compare_composite(TC_066, got()).ok
