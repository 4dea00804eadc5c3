"""Field checks on every frame of a charge point (harness/field_checks.py): registers, closed transactions, clocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.field_checks import FieldChecks, register_unit_problem, register_wh

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def checks() -> FieldChecks:
    c = FieldChecks(started=T0, deviation=timedelta(seconds=120))
    c.started_transaction(7, 1000)
    return c


def meter(value: str, unit: str | None = None, at: datetime = T0, tx: int = 7, **extra: str) -> dict:
    sampled = {"value": value, **({"unit": unit} if unit else {}), **extra}
    return {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": at.isoformat(), "sampledValue": [sampled]}]}


def test_a_register_that_rises_is_fine_and_kwh_is_converted() -> None:
    c = checks()
    assert c.observe("MeterValues", meter("1100"), T0) == []
    assert c.observe("MeterValues", meter("1.2", "kWh"), T0) == []
    assert c.observe("StopTransaction", {"transactionId": 7, "meterStop": 1250, "timestamp": T0.isoformat()}, T0) == []


def test_a_register_sent_in_kwh_with_unit_wh_is_named_as_a_fall() -> None:
    c = checks()
    c.observe("MeterValues", meter("1100"), T0)
    (problem,) = c.observe("MeterValues", meter("1.2"), T0)
    assert "fell from 1100 to 1.2 Wh" in problem and "kWh sent with unit Wh" in problem


def test_a_first_register_below_meter_start_is_a_defect() -> None:
    (problem,) = checks().observe("MeterValues", meter("900"), T0)
    assert "below its meterStart 1000" in problem


def test_measurands_other_than_registers_and_per_phase_values_are_not_judged() -> None:
    c = checks()
    assert c.observe("MeterValues", meter("16", "A", measurand="Current.Import"), T0) == []
    assert register_wh({"value": "5", "measurand": "Energy.Active.Import.Register", "phase": "L1"}) is None


def test_a_meter_stop_below_the_last_register_is_a_defect() -> None:
    c = checks()
    c.observe("MeterValues", meter("1300"), T0)
    (problem,) = c.observe("StopTransaction", {"transactionId": 7, "meterStop": 1250, "timestamp": T0.isoformat()}, T0)
    assert "meterStop 1250 Wh is below the last register value 1300" in problem


def test_a_stop_or_meter_values_after_the_stop_was_confirmed_is_a_defect() -> None:
    c = checks()
    c.confirmed_stop(7)
    (again,) = c.observe("StopTransaction", {"transactionId": 7, "meterStop": 1250, "timestamp": T0.isoformat()}, T0)
    assert "again, after the central system confirmed" in again
    (late,) = c.observe("MeterValues", meter("1300"), T0)
    assert "already confirmed" in late


def test_a_timestamp_of_1970_or_in_the_future_is_named() -> None:
    c = checks()
    (old,) = c.observe("MeterValues", meter("1100", at=datetime(1970, 1, 1, tzinfo=timezone.utc)), T0)
    assert "1970-01-01" in old and "before the harness started" in old
    (future,) = c.observe("Heartbeat", {"timestamp": (T0 + timedelta(hours=1)).isoformat()}, T0)
    assert "in the future" in future
    assert c.observe("MeterValues", meter("1100", at=T0 + timedelta(seconds=60)), T0) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=20))
def test_only_a_register_that_falls_is_ever_flagged(steps: list[int]) -> None:
    c = checks()
    value, flagged = 1000, 0
    values = []
    for step in steps:
        value += step
        values.append(value)
        flagged += len(c.observe("MeterValues", meter(str(value)), T0))
    assert flagged == 0
    assert c.observe("MeterValues", meter(str(values[-1] - 1)), T0)


def test_a_register_in_a_unit_that_is_not_energy_is_named() -> None:
    c = checks()
    (problem,) = c.observe("MeterValues", meter("11000", "W"), T0)
    assert "Energy.Active.Import.Register is sent in unit W" in problem and "Wh or kWh" in problem
    assert register_unit_problem({"value": "5", "measurand": "Energy.Reactive.Import.Register", "unit": "varh"}) is None
    assert "varh or kvarh" in str(register_unit_problem({"value": "5", "measurand": "Energy.Reactive.Import.Register",
                                                         "unit": "kWh"}))
    assert register_unit_problem({"value": "5", "measurand": "Power.Active.Import", "unit": "W"}) is None
    assert register_unit_problem({"value": "5"}) is None  # no unit, no measurand: Wh of the import register


def test_the_defects_of_the_reference_charge_points_faults_are_each_named() -> None:
    """The RPC_016_CS faults, as frames: a register in kWh labelled Wh, one that falls, a 1970 stamp, a stop resent."""
    c = FieldChecks(started=T0, deviation=timedelta(seconds=120))
    c.started_transaction(7, 1_250_000)
    (kwh,) = c.observe("MeterValues", meter("1250.006", "Wh"), T0)
    assert "is 1250.006 Wh" in kwh and "below its meterStart 1250000 Wh" in kwh and "sent as 1250.006 Wh" in kwh
    c = FieldChecks(started=T0, deviation=timedelta(seconds=120))
    c.started_transaction(7, 1_250_000)
    assert c.observe("MeterValues", meter("1250094"), T0) == []
    (fell,) = c.observe("MeterValues", meter("1250088"), T0)
    assert "fell from 1250094 to 1250088 Wh" in fell
    (old,) = c.observe("MeterValues", meter("1250100", at=datetime(1970, 1, 1, tzinfo=timezone.utc)), T0)
    assert "1970-01-01" in old
    c.confirmed_stop(7)
    (again,) = c.observe("StopTransaction", {"transactionId": 7, "meterStop": 1250100, "timestamp": T0.isoformat()}, T0)
    assert "after the central system confirmed its stop" in again
