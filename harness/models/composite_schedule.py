"""OCPP 1.6 composite charging schedule: the limit that applies at every second of a window.

Pure logic: no clock (callers pass ``start`` and the transaction), no I/O. Used by the CP role
to answer GetCompositeSchedule.req and by the CS role to judge a CP's answer (spec 5.7, 3.13).

Rules for what lives here:

1. One definition of "the limit at second t", evaluated only at the seconds where something
   can change (period bounds, validity bounds, the TxProfile take-over), then merged.
2. Every reading the spec leaves open is a named field of ``Readings``; defaults are the readings
   OCTT checks (shared/smart_charging.md section 4) and ``Readings.describe()`` prints them.

Definitions (all times UTC, floored to whole seconds; notes section 2.3-2.8 and 3):

- A profile *covers* t when t lies in [validFrom, validTo) and in a period of one occurrence:
  occurrence anchor A = startSchedule (Absolute), transaction start (Relative; without a
  transaction see ``NoTransaction``), startSchedule + k * 86400/604800 (Recurring; a recurrence is
  cut at the next one). Period i covers [A + startPeriod_i, A + min(startPeriod_i+1, duration)).
- Within a purpose the covering profile with the highest stackLevel wins; when it covers nothing,
  lower levels show through (``StackValidity``, A4). Connector-0 vs connector TxDefault: A1.
- A TxProfile for the running transaction overrules TxDefault from the first second it covers
  (at or after transaction start) until the end of the window, even after its own schedule has
  ended (spec 3.13.1, OCTT TC_066_CS; ``TxOverride``, A14).
- ChargePointMaxProfile caps: result = min(Tx-or-TxDefault, CPMax) over the defined ones, after
  converting to the requested unit (W = A * nominal voltage * numberPhases, phases default 3).
- Seconds where nothing applies get ``limit=None`` (no smart-charging constraint, A5).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Iterable, Mapping, Union

from harness.models.charging_profile import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    format_datetime,
)
from harness.models.charging_profile_rules import ChargingProfileStore, InstalledProfile

__all__ = [
    "CompositePeriod", "CompositeSchedule", "ConnectorZero", "NoTransaction", "Readings",
    "RecurrenceBeforeStart", "StackValidity", "Transaction", "TxDefaultScope", "TxOverride",
    "ZeroDuration", "composite_schedule", "convert_limit",
]

INF = math.inf


class TxOverride(str, Enum):
    """A14: what happens once a TxProfile's schedule has ended during the transaction."""

    WHOLE_TRANSACTION = "TxProfile overrules TxDefault for the rest of the transaction (spec 3.13.1, OCTT TC_066_CS)"
    PER_INSTANT = "TxDefault shows through wherever no TxProfile period applies (libocpp, MicroOcpp)"


class StackValidity(str, Enum):
    """A4: when does a higher stackLevel hide a lower one."""

    FALL_THROUGH = "highest stackLevel whose schedule covers t (libocpp, MicroOcpp, OCTT TC_072_CS)"
    VALIDITY_ONLY = "highest stackLevel inside validFrom/validTo, even where its schedule is over (spec 3.13.2 text)"


class TxDefaultScope(str, Enum):
    """A1: connector-specific TxDefault vs connector-0 TxDefault."""

    CONNECTOR_FIRST = "any covering connector-specific TxDefault beats connector-0 ones (spec 3.13.1, MicroOcpp)"
    STACK_LEVEL = "one stack, stackLevel decides, connector-specific wins ties (libocpp)"


class NoTransaction(str, Enum):
    """A2: profiles needing a transaction when none runs."""

    SIMULATE_AT_START = "TxDefault applies, Relative anchored at the window start (libocpp, OCTT TC_056_CS)"
    RELATIVE_UNANCHORED = "TxDefault applies, Relative profiles do not (MicroOcpp >= PR 424)"
    IGNORE_TX_DEFAULT = "no TxDefault without a transaction (MicroOcpp < PR 424)"


class ConnectorZero(str, Enum):
    """A3: what the composite of connectorId 0 is."""

    CP_MAX_ONLY = "ChargePointMaxProfile only"
    CP_MAX_AND_TX_DEFAULT = "min(ChargePointMaxProfile, connector-0 TxDefault) (older libocpp)"
    SUM_OF_CONNECTORS = "min(ChargePointMaxProfile, sum over connectors) (spec 5.7, libocpp >= PR 1062)"


class RecurrenceBeforeStart(str, Enum):
    """A9: does a Recurring profile apply before its first startSchedule."""

    VIRTUAL = "yes, earlier virtual occurrences (libocpp, MicroOcpp modulo arithmetic)"
    LITERAL = "no, first occurrence is startSchedule"


class ZeroDuration(str, Enum):
    """A10: schedule duration 0."""

    EMPTY = "zero-length schedule (libocpp)"
    UNBOUNDED = "same as no duration (MicroOcpp)"


@dataclass(frozen=True)
class Readings:
    """The reading taken for each ambiguity of shared/smart_charging.md section 4."""

    tx_override: TxOverride = TxOverride.WHOLE_TRANSACTION
    stack_validity: StackValidity = StackValidity.FALL_THROUGH
    tx_default_scope: TxDefaultScope = TxDefaultScope.CONNECTOR_FIRST
    no_transaction: NoTransaction = NoTransaction.SIMULATE_AT_START
    connector_zero: ConnectorZero = ConnectorZero.CP_MAX_ONLY
    recurrence_before_start: RecurrenceBeforeStart = RecurrenceBeforeStart.VIRTUAL
    zero_duration: ZeroDuration = ZeroDuration.EMPTY
    min_charging_rate_as_floor: bool = False

    def describe(self) -> dict[str, str]:
        """Ambiguity id -> human-readable reading, for reports."""
        return {
            "A1 TxDefault connector vs 0": self.tx_default_scope.value,
            "A2 no transaction": self.no_transaction.value,
            "A3 connectorId 0": self.connector_zero.value,
            "A4 stack validity": self.stack_validity.value,
            "A5 no profile": "limit None (no constraint)",
            "A6 minChargingRate": "floor (MicroOcpp)" if self.min_charging_rate_as_floor else "advisory, ignored",
            "A9 Recurring before startSchedule": self.recurrence_before_start.value,
            "A10 duration 0": self.zero_duration.value,
            "A12 time zone": "UTC, no DST",
            "A14 TxProfile vs TxDefault": self.tx_override.value,
        }


@dataclass(frozen=True)
class Transaction:
    """The running transaction on a connector: its start (anchor of Relative profiles) and id."""

    start: datetime
    transaction_id: int | None = None


@dataclass(frozen=True)
class CompositePeriod:
    """A period of the composite; ``limit`` None = no limit applies (spec 7.14 + A5)."""

    start_period: int
    limit: float | None
    number_phases: int | None = None


@dataclass(frozen=True)
class CompositeSchedule:
    """GetCompositeSchedule.conf ``chargingSchedule`` plus the readings used to compute it."""

    start_schedule: datetime
    duration: int
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: tuple[CompositePeriod, ...]
    readings: Readings = Readings()

    def period_at(self, offset: int) -> CompositePeriod:
        """The period in force ``offset`` seconds after start_schedule."""
        starts = [p.start_period for p in self.charging_schedule_period]
        return self.charging_schedule_period[max(0, bisect_right(starts, offset) - 1)]

    def limit_at(self, offset: int) -> float | None:
        return self.period_at(offset).limit

    def to_payload(self, no_limit: float | None = None) -> dict[str, Any]:
        """camelCase ``chargingSchedule``; limit-less periods get ``no_limit`` or no ``limit`` key."""
        periods = []
        for p in self.charging_schedule_period:
            limit = no_limit if p.limit is None else p.limit
            out: dict[str, Any] = {"startPeriod": p.start_period}
            if limit is not None:
                out["limit"] = limit
            if p.number_phases is not None:
                out["numberPhases"] = p.number_phases
            periods.append(out)
        return {
            "duration": self.duration,
            "startSchedule": format_datetime(self.start_schedule),
            "chargingRateUnit": self.charging_rate_unit.value,
            "chargingSchedulePeriod": periods,
        }

    def to_charging_schedule(self, no_limit: float) -> ChargingSchedule:
        """As a ChargingSchedule, filling limit-less periods with ``no_limit`` (e.g. 48 A, -1)."""
        return ChargingSchedule(
            self.charging_rate_unit,
            tuple(ChargingSchedulePeriod(p.start_period, no_limit if p.limit is None else p.limit,
                                         p.number_phases) for p in self.charging_schedule_period),
            self.duration,
            self.start_schedule,
        )


def convert_limit(limit: float, source: ChargingRateUnit, target: ChargingRateUnit,
                  number_phases: int, nominal_voltage: float) -> float:
    """Convert per-phase amperes <-> total watts: P = I * U_nominal * numberPhases (spec 7.12, 7.14)."""
    if source is target:
        return limit
    factor = nominal_voltage * number_phases
    return limit * factor if source is ChargingRateUnit.A else limit / factor


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return math.floor(value.timestamp())


_Value = tuple[float, Union[int, None]]  # (limit in the requested unit, numberPhases or None)


class _Timeline:
    """One profile's covered intervals inside [lo, hi), converted to the requested unit."""

    def __init__(self, installed: InstalledProfile, rank: tuple[int, ...], anchor: int | None,
                 lo: int, hi: int, ctx: _Ctx) -> None:
        p = installed.profile
        self.rank = rank
        self.valid_from = _ts(p.valid_from) if p.valid_from else -INF
        self.valid_to = _ts(p.valid_to) if p.valid_to else INF
        self.present = True  # False: Relative profile without anchor (never valid)
        self.starts: list[int] = []
        self.ends: list[float] = []
        self.values: list[_Value] = []
        anchors = self._anchors(p, anchor, lo, hi, ctx)
        if anchors is None:
            self.present = False
            return
        sched = p.charging_schedule
        periods = sorted(sched.charging_schedule_period, key=lambda q: q.start_period)
        length: float = INF if sched.duration is None else sched.duration
        if sched.duration == 0 and ctx.readings.zero_duration is ZeroDuration.UNBOUNDED:
            length = INF
        if p.charging_profile_kind is ChargingProfileKind.RECURRING and p.recurrency_kind is not None:
            length = min(length, p.recurrency_kind.seconds)
        floor = sched.min_charging_rate if ctx.readings.min_charging_rate_as_floor else None
        lo_c, hi_c = max(lo, self.valid_from), min(hi, self.valid_to)
        for a in anchors:
            for i, q in enumerate(periods):
                nxt = periods[i + 1].start_period if i + 1 < len(periods) else INF
                s, e = max(a + q.start_period, lo_c), min(a + min(nxt, length), hi_c)
                if s < e:
                    limit = q.limit if floor is None else max(q.limit, floor)
                    phases = q.number_phases
                    conv = convert_limit(limit, sched.charging_rate_unit, ctx.unit,
                                         phases or ctx.number_phases, ctx.nominal_voltage)
                    self.starts.append(int(s))
                    self.ends.append(e)
                    self.values.append((float(conv), phases))

    @staticmethod
    def _anchors(p: ChargingProfile, relative: int | None, lo: int, hi: int, ctx: _Ctx) -> list[int] | None:
        ss = p.charging_schedule.start_schedule
        base = _ts(ss) if ss is not None and p.charging_profile_kind is not ChargingProfileKind.RELATIVE else relative
        if base is None:
            return None
        if p.charging_profile_kind is not ChargingProfileKind.RECURRING or p.recurrency_kind is None:
            return [base]
        period = p.recurrency_kind.seconds
        k = (lo - base) // period
        if ctx.readings.recurrence_before_start is RecurrenceBeforeStart.LITERAL:
            k = max(k, 0)
        out = []
        while base + k * period < hi:
            out.append(base + k * period)
            k += 1
        return out

    def value_at(self, t: int) -> _Value | None:
        i = bisect_right(self.starts, t) - 1
        return self.values[i] if i >= 0 and t < self.ends[i] else None

    def valid_at(self, t: int) -> bool:
        return self.present and self.valid_from <= t < self.valid_to

    def bounds(self) -> Iterable[float]:
        yield from self.starts
        yield from self.ends
        yield self.valid_from
        yield self.valid_to


@dataclass(frozen=True)
class _Ctx:
    unit: ChargingRateUnit
    number_phases: int
    nominal_voltage: float
    readings: Readings


def _stack_value(stack: list[_Timeline], t: int, validity: StackValidity) -> _Value | None:
    """Resolve one purpose's stack at t (timelines sorted by rank, highest first)."""
    for tl in stack:
        value = tl.value_at(t)
        if value is not None:
            return value
        if validity is StackValidity.VALIDITY_ONLY and tl.valid_at(t):
            return None
    return None


def _minimum(a: _Value | None, b: _Value | None) -> _Value | None:
    if a is None or b is None:
        return a if b is None else b
    if a[0] != b[0]:
        return a if a[0] < b[0] else b
    phases = [p for p in (a[1], b[1]) if p is not None]
    return (a[0], min(phases) if phases else None)


class _ConnectorSide:
    """The Tx-or-TxDefault value of one connector (steps 1-4 of the notes' algorithm)."""

    def __init__(self, entries: list[InstalledProfile], connector_id: int, transaction: Transaction | None,
                 s: int, e: int, ctx: _Ctx, tx_default_connectors: tuple[int, ...]) -> None:
        r = ctx.readings
        self.validity = r.stack_validity
        self.per_instant = r.tx_override is TxOverride.PER_INSTANT
        tx_start = _ts(transaction.start) if transaction else None
        no_tx = r.no_transaction
        relative = tx_start if tx_start is not None else (
            s if no_tx is NoTransaction.SIMULATE_AT_START else None)
        lo = min(s, tx_start) if tx_start is not None else s
        tx, txd = [], []
        for order, ip in enumerate(entries):
            p = ip.profile
            purpose = p.charging_profile_purpose
            if purpose is ChargingProfilePurpose.TX_PROFILE and transaction is not None and (
                ip.connector_id == connector_id and connector_id > 0
                and p.transaction_id in (None, transaction.transaction_id)
            ):
                tx.append(_Timeline(ip, (p.stack_level, order), relative, lo, e, ctx))
            elif purpose is ChargingProfilePurpose.TX_DEFAULT_PROFILE and ip.connector_id in tx_default_connectors:
                if transaction is None and no_tx is NoTransaction.IGNORE_TX_DEFAULT:
                    continue
                specific = int(ip.connector_id != 0)
                rank = ((specific, p.stack_level, order) if r.tx_default_scope is TxDefaultScope.CONNECTOR_FIRST
                        else (p.stack_level, specific, order))
                txd.append(_Timeline(ip, rank, relative, s, e, ctx))
        self.tx = sorted(tx, key=lambda tl: tl.rank, reverse=True)
        self.txd = sorted(txd, key=lambda tl: tl.rank, reverse=True)
        self.takeover: float = INF  # first second (>= tx start) a TxProfile covers
        if tx_start is not None:
            for tl in self.tx:
                for start, end in zip(tl.starts, tl.ends):
                    if end > tx_start:
                        self.takeover = min(self.takeover, max(start, tx_start))
                        break

    def bounds(self) -> Iterable[float]:
        for tl in self.tx + self.txd:
            yield from tl.bounds()
        yield self.takeover

    def value_at(self, t: int) -> _Value | None:
        if self.per_instant:
            value = _stack_value(self.tx, t, self.validity)
            return value if value is not None else _stack_value(self.txd, t, self.validity)
        if t >= self.takeover:
            return _stack_value(self.tx, t, self.validity)
        return _stack_value(self.txd, t, self.validity)


def _sum(values: list[_Value | None]) -> _Value | None:
    if not values or any(v is None for v in values):
        return None  # a connector without limit makes the total unlimited
    phases = [v[1] for v in values if v is not None and v[1] is not None]
    return (sum(v[0] for v in values if v is not None), max(phases) if phases else None)


def composite_schedule(
    profiles: ChargingProfileStore | Iterable[InstalledProfile],
    connector_id: int,
    start: datetime,
    duration: int,
    *,
    unit: ChargingRateUnit,
    transaction: Transaction | None = None,
    number_phases: int = 3,
    nominal_voltage: float = 230.0,
    readings: Readings = Readings(),
    connector_transactions: Mapping[int, Transaction | None] | None = None,
) -> CompositeSchedule:
    """Compute the composite schedule of ``connector_id`` over [start, start + duration) (spec 5.7).

    ``transaction`` is the one running on ``connector_id`` (None: see ``Readings.no_transaction``).
    ``number_phases`` is assumed where a period has no numberPhases. For connectorId 0 with
    ``ConnectorZero.SUM_OF_CONNECTORS``, ``connector_transactions`` must map every connector > 0 to
    its transaction (or None). Periods are relative to ``start`` floored to the second; adjacent
    periods with equal limit and numberPhases are merged.
    """
    if duration < 0 or connector_id < 0:
        raise ValueError("duration and connector_id must be >= 0")
    entries = list(profiles.entries if isinstance(profiles, ChargingProfileStore) else profiles)
    ctx = _Ctx(unit, number_phases, nominal_voltage, readings)
    s = _ts(start)
    e = s + max(duration, 1)  # a zero-length window still reports the period in force at start
    cpmax = sorted(
        (_Timeline(ip, (ip.profile.stack_level, order), _ts(transaction.start) if transaction else (
            s if readings.no_transaction is NoTransaction.SIMULATE_AT_START else None), s, e, ctx)
         for order, ip in enumerate(entries)
         if ip.connector_id == 0
         and ip.profile.charging_profile_purpose is ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE),
        key=lambda tl: tl.rank, reverse=True)
    sides: list[_ConnectorSide] = []
    if connector_id > 0:
        sides = [_ConnectorSide(entries, connector_id, transaction, s, e, ctx, (0, connector_id))]
    elif readings.connector_zero is ConnectorZero.CP_MAX_AND_TX_DEFAULT:
        sides = [_ConnectorSide(entries, 0, None, s, e, ctx, (0,))]
    elif readings.connector_zero is ConnectorZero.SUM_OF_CONNECTORS:
        if connector_transactions is None:
            raise ValueError("SUM_OF_CONNECTORS needs connector_transactions")
        sides = [_ConnectorSide(entries, k, tx, s, e, ctx, (0, k))
                 for k, tx in sorted(connector_transactions.items()) if k > 0]
    bounds: set[int] = {s}
    for source in [tl.bounds() for tl in cpmax] + [side.bounds() for side in sides]:
        bounds.update(int(b) for b in source if s < b < e)
    periods: list[CompositePeriod] = []
    for t in sorted(bounds):
        if connector_id == 0 and readings.connector_zero is ConnectorZero.SUM_OF_CONNECTORS:
            demand = _sum([side.value_at(t) for side in sides])
        else:
            demand = sides[0].value_at(t) if sides else None
        value = _minimum(demand, _stack_value(cpmax, t, readings.stack_validity))
        period = CompositePeriod(t - s, *(value if value is not None else (None, None)))
        if not periods or (periods[-1].limit, periods[-1].number_phases) != (period.limit, period.number_phases):
            periods.append(period)
    return CompositeSchedule(datetime.fromtimestamp(s, timezone.utc), duration, unit, tuple(periods), readings)
