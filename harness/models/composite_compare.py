"""Judge a charge point's GetCompositeSchedule answer against the model (harness.models.composite_schedule).

Pure logic (no I/O, no clock). The model says what the composite must be; a charge point
that follows it exactly may still differ in ways a certification body accepts:

- *Clock deviation*: the charge point's clock and the harness's differ, and the charge
  point rounds its scheduleStart. A period boundary may therefore lie up to
  ``Tolerance.seconds`` away from the model's (OCTT: "<Configured max time deviation>").
  Compared as step functions: the value received at second t must be a value the model
  has somewhere in [t - seconds, t + seconds], and the other way round (so a missing or
  an extra period longer than the tolerance is found).
- *Rounding*: limits are equal within ``Tolerance.limit_abs`` (schema: one decimal) or
  ``Tolerance.limit_rel`` of the expected value (rounding of a W <-> A conversion).
- *Units*: a received schedule in the other unit is converted (P = I * U_nominal *
  numberPhases, phases default 3) before comparing; whether the unit is the one asked
  for is the caller's check.
- *numberPhases* is compared only where the model has one (a profile set it); an absent
  received numberPhases means 3 (spec 7.14).
- *No profile* (model limit None): the charge point reports its own maximum; any limit
  at or above ``no_limit_floor`` (in the expected unit; None = any limit) matches.

A mismatch comes with a side-by-side table of expected and received periods and the
model's readings (``Readings.describe()``) that produced the expected side.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from harness.models.charging_profile import ChargingRateUnit
from harness.models.composite_schedule import CompositeSchedule, convert_limit

__all__ = ["Tolerance", "ReceivedPeriod", "CompositeComparison", "compare_composite", "received_periods"]


@dataclass(frozen=True)
class Tolerance:
    """How far a received composite may be from the model's and still match."""

    seconds: float = 3.0       # period boundaries (clock deviation + rounding of scheduleStart)
    limit_abs: float = 0.1     # schema: limits have one decimal
    limit_rel: float = 0.005   # rounding of a unit conversion


@dataclass(frozen=True)
class ReceivedPeriod:
    """A received period, its limit converted to the expected unit."""

    start_period: int
    limit: float
    number_phases: int | None
    raw_limit: float


@dataclass(frozen=True)
class CompositeComparison:
    """The outcome: ``problems`` empty = the received composite matches the model."""

    problems: tuple[str, ...]
    table: str
    readings: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        """Problems, the side-by-side table and the readings the model used (for a failure)."""
        lines = [f"  - {p}" for p in self.problems]
        lines += ["", self.table, "", "model readings used for the expected side:"]
        lines += [f"  {key}: {value}" for key, value in self.readings.items()]
        return "\n".join(lines)


def received_periods(schedule: Mapping[str, Any], unit: ChargingRateUnit, *, number_phases: int = 3,
                     nominal_voltage: float = 230.0) -> list[ReceivedPeriod]:
    """The periods of a received ``chargingSchedule``, limits converted to ``unit``."""
    source = ChargingRateUnit(schedule.get("chargingRateUnit", unit.value))
    out = []
    for p in sorted(schedule.get("chargingSchedulePeriod", []), key=lambda p: p["startPeriod"]):
        phases = p.get("numberPhases")
        limit = float(p["limit"])
        out.append(ReceivedPeriod(int(p["startPeriod"]),
                                  convert_limit(limit, source, unit, phases or number_phases, nominal_voltage),
                                  phases, limit))
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "no limit"
    return f"{value:g}"


def _table(expected: CompositeSchedule, received: Sequence[ReceivedPeriod], received_unit: str) -> str:
    unit = expected.charging_rate_unit.value
    head = f"{'expected (model)':<34}| received (charge point)"
    sub = f"{'startPeriod':>11} {'limit ' + unit:>12} {'phases':>7}  | {'startPeriod':>11} {'limit ' + received_unit:>12} {'phases':>7}"
    rows = [head, sub]
    exp = expected.charging_schedule_period
    for i in range(max(len(exp), len(received))):
        left = right = ""
        if i < len(exp):
            e = exp[i]
            left = f"{e.start_period:>11} {_fmt(e.limit):>12} {e.number_phases if e.number_phases else '-':>7}"
        if i < len(received):
            r = received[i]
            right = f"{r.start_period:>11} {_fmt(r.raw_limit):>12} {r.number_phases if r.number_phases else '-':>7}"
        rows.append(f"{left:<33} | {right}")
    return "\n".join(rows)


def compare_composite(expected: CompositeSchedule, received_schedule: Mapping[str, Any], *,
                      tolerance: Tolerance = Tolerance(), no_limit_floor: float | None = None,
                      number_phases: int = 3, nominal_voltage: float = 230.0) -> CompositeComparison:
    """Compare a received GetCompositeSchedule.conf ``chargingSchedule`` with the model's ``expected``.

    Both are relative to their own start (the caller computes ``expected`` from the charge
    point's scheduleStart). ``no_limit_floor``: lowest limit (expected unit) accepted where no
    profile applies. Only [0, expected.duration) is compared.
    """
    unit = expected.charging_rate_unit
    got = received_periods(received_schedule, unit, number_phases=number_phases, nominal_voltage=nominal_voltage)
    received_unit = str(received_schedule.get("chargingRateUnit", unit.value))
    table = _table(expected, got, received_unit)
    readings = expected.readings.describe()
    exp = expected.charging_schedule_period
    problems: list[str] = []
    if not got:
        return CompositeComparison(("the received chargingSchedule has no chargingSchedulePeriod",), table, readings)
    if got[0].start_period != 0:
        problems.append(f"the first received period starts at {got[0].start_period}, not 0 (spec 7.13)")
    horizon = max(1, expected.duration)
    tol = int(math.floor(tolerance.seconds))

    def exp_at(t: int) -> Any:
        starts = [p.start_period for p in exp]
        return exp[max(0, bisect_right(starts, t) - 1)]

    def got_at(t: int) -> ReceivedPeriod:
        starts = [p.start_period for p in got]
        return got[max(0, bisect_right(starts, t) - 1)]

    def same(e: Any, r: ReceivedPeriod) -> bool:
        if e.limit is None:
            return no_limit_floor is None or r.limit >= no_limit_floor - tolerance.limit_abs
        if abs(r.limit - e.limit) > max(tolerance.limit_abs, tolerance.limit_rel * abs(e.limit)):
            return False
        return e.number_phases is None or (r.number_phases or 3) == e.number_phases

    def window(t: int) -> range:
        return range(max(0, t - tol), min(horizon - 1, t + tol) + 1)

    bounds = {p.start_period for p in exp} | {p.start_period for p in got}
    points = set()
    for b in bounds:
        points.update({b - tol - 1, b - tol, b - 1, b, b + tol, b + tol + 1})
    ordered = sorted(b for b in bounds if 0 <= b < horizon) + [horizon]
    points.update((a + b) // 2 for a, b in zip(ordered, ordered[1:]))
    seen: set[tuple[int, int]] = set()  # (received period, model period) pairs already reported
    for t in sorted(p for p in points if 0 <= p < horizon):
        r, e = got_at(t), exp_at(t)
        if (r.start_period, e.start_period) in seen:
            continue
        seen.add((r.start_period, e.start_period))
        if not any(same(exp_at(u), r) for u in _edges(window(t), exp)):
            problems.append(f"at +{t}s the charge point reports {_fmt(r.raw_limit)} {received_unit}"
                            f"{'' if r.number_phases is None else f' ({r.number_phases} phases)'}; the model has "
                            f"{_describe(e, no_limit_floor, unit)} (no model period within ±{tolerance.seconds:g}s matches)")
        elif not any(same(e, got_at(u)) for u in _edges(window(t), got)):
            problems.append(f"at +{t}s the model has {_describe(e, no_limit_floor, unit)}, but the charge point reports "
                            f"{_fmt(r.raw_limit)} {received_unit} (no received period within ±{tolerance.seconds:g}s matches)")
        if len(problems) >= 6:
            break
    return CompositeComparison(tuple(problems), table, readings)


def _edges(span: range, periods: Sequence[Any]) -> list[int]:
    """The instants of ``span`` at which a step function with ``periods`` can take each of its values."""
    if not span:
        return []
    inside = [p.start_period for p in periods if span.start < p.start_period < span.stop]
    return [span.start, *inside]


def _describe(e: Any, floor: float | None, unit: ChargingRateUnit) -> str:
    if e.limit is None:
        return "no profile (any limit" + ("" if floor is None else f" >= {floor:g} {unit.value}") + ")"
    return f"{e.limit:g} {unit.value}" + ("" if e.number_phases is None else f" ({e.number_phases} phases)")
