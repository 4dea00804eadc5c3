"""Benchmark of harness.models.composite_schedule over (number of profiles) x (window length).

Run:
    python -m pytest benchmarks/bench_composite_schedule.py --benchmark-only

All cases share one benchmark group, so pytest-benchmark's parenthesised columns read as ratios
to the fastest case: ``test_baseline_single_profile`` (one Absolute profile, one period, one
hour) measured in the same run, next to ``test_baseline_python_loop`` (a plain loop touching
one value per profile-period, the size of the work the engine cannot avoid).
No timed assertions: results depend on the machine.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from harness.models.charging_profile import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    RecurrencyKind,
)
from harness.models.charging_profile_rules import InstalledProfile
from harness.models.composite_schedule import Transaction, composite_schedule

START = datetime(2024, 6, 3, 8, 0, tzinfo=timezone.utc)
TX = Transaction(START - timedelta(minutes=10), 1)
PROFILE_COUNTS = [1, 8, 32]
WINDOWS = {"1h": 3600, "1d": 86400, "7d": 7 * 86400}


def _periods(n: int, step: int, base: float) -> tuple[ChargingSchedulePeriod, ...]:
    return tuple(ChargingSchedulePeriod(i * step, base + (i * 7) % 13, 1 + i % 3) for i in range(n))


def make_profiles(count: int) -> list[InstalledProfile]:
    """A deterministic mix: recurring CPMax, absolute/recurring TxDefaults, relative TxProfiles."""
    out = [InstalledProfile(0, ChargingProfile(
        1, 0, ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE, ChargingProfileKind.RECURRING,
        ChargingSchedule(ChargingRateUnit.A, _periods(24, 3600, 20), 86400, START - timedelta(days=3)),
        recurrency_kind=RecurrencyKind.DAILY))]
    for i in range(1, count):
        purpose, kind = [
            (ChargingProfilePurpose.TX_DEFAULT_PROFILE, ChargingProfileKind.ABSOLUTE),
            (ChargingProfilePurpose.TX_DEFAULT_PROFILE, ChargingProfileKind.RECURRING),
            (ChargingProfilePurpose.TX_PROFILE, ChargingProfileKind.RELATIVE),
        ][i % 3]
        unit = ChargingRateUnit.W if i % 2 else ChargingRateUnit.A
        start = None if kind is ChargingProfileKind.RELATIVE else START + timedelta(minutes=17 * i)
        schedule = ChargingSchedule(unit, _periods(10, 600 + 60 * i, 6 if unit is ChargingRateUnit.A else 4000),
                                    3600 * (1 + i % 5), start)
        rec = RecurrencyKind.WEEKLY if i % 4 == 1 else RecurrencyKind.DAILY
        out.append(InstalledProfile(0 if i % 5 == 0 else 1, ChargingProfile(
            i + 1, i, purpose, kind, schedule, recurrency_kind=rec if kind is ChargingProfileKind.RECURRING else None)))
    return out


@pytest.mark.benchmark(group="composite")
def test_baseline_single_profile(benchmark):
    profile = ChargingProfile(1, 0, ChargingProfilePurpose.TX_DEFAULT_PROFILE, ChargingProfileKind.ABSOLUTE,
                              ChargingSchedule(ChargingRateUnit.A, (ChargingSchedulePeriod(0, 16),), 3600, START))
    result = benchmark(composite_schedule, [InstalledProfile(1, profile)], 1, START, 3600, unit=ChargingRateUnit.A)
    assert len(result.charging_schedule_period) == 1


@pytest.mark.benchmark(group="composite")
def test_baseline_python_loop(benchmark):
    values = [float(i % 13) for i in range(32 * 10 * 7)]

    def loop() -> float:
        best = 0.0
        for v in values:
            best = v if v > best else best
        return best

    assert benchmark(loop) == 12.0


@pytest.mark.benchmark(group="composite")
@pytest.mark.parametrize("window", list(WINDOWS), ids=list(WINDOWS))
@pytest.mark.parametrize("count", PROFILE_COUNTS, ids=[f"{n}profiles" for n in PROFILE_COUNTS])
def test_composite(benchmark, count, window):
    profiles = make_profiles(count)
    result = benchmark(composite_schedule, profiles, 1, START, WINDOWS[window], unit=ChargingRateUnit.W,
                       transaction=TX)
    assert result.charging_schedule_period[0].start_period == 0
