"""The reference charge point's composite schedule (GetCompositeSchedule; spec 3.13, 5.7, 7.13, 7.14).

Written from the spec and shared/smart_charging.md, separately from the harness's model
(the harness's models/composite_schedule.py), so that running the compliance suite against the
simulator cross-checks that model instead of echoing it.

Algorithm: a *walk over a point query*. :func:`in_force` answers, for one profile and one
second t, which period is in force at t (found by arithmetic: the occurrence's anchor, the
offset into it, the last period starting at or before the offset) and the first later
second at which that answer can change, derived from the profile's own state at t (next
period start, schedule end, next recurrence, validFrom/validTo). The composite starts at
the window start, evaluates every relevant profile there, combines them (stack winners,
TxProfile or TxDefault, ChargePointMaxProfile cap), and jumps to the earliest second any
of them said it could change; no list of boundaries is built beforehand. Periods whose
emitted (limit, numberPhases) equal their predecessor's are merged.

Readings (shared/smart_charging.md section 4; the same as the harness's defaults):

- A1  a connector-specific TxDefaultProfile covering t beats every connector-0 one (spec
      3.13.1, MicroOcpp); within each group the highest stackLevel covering t wins.
- A2  with no transaction the TxDefaultProfiles still apply; Relative profiles are then
      anchored at the window start (libocpp, OCTT TC_056_CS). TxProfiles apply only to a
      running transaction (transactionId absent or equal to it).
- A3  the composite of connectorId 0 is the ChargePointMaxProfiles only.
- A4  fall-through: a higher stackLevel hides a lower one only at the seconds its schedule
      covers (libocpp, MicroOcpp, OCTT TC_072_CS), not for its whole validity.
- A5  where nothing applies the charge point reports its own maximum (``own_max``), no numberPhases.
- A6  minChargingRate is advisory and ignored.
- A9  a Recurring profile also applies before its first startSchedule (modulo arithmetic).
- A10 a schedule duration of 0 covers nothing (libocpp).
- A12 recurrences in UTC, 86400 / 604800 s, no DST.
- A14 once a TxProfile for the running transaction covers a second (at or after the
      transaction start) it governs the rest of the transaction, also after its own
      schedule ended — TxDefault does not show through again (spec 3.13.1, OCTT TC_066_CS).
- Units: A = per phase, W = total; W = A x 230 V x numberPhases, numberPhases absent = 3
  (spec 7.12, 7.14, smart_charging.md 2.7); each period is converted to the requested unit
  before comparing. Limits are emitted rounded to one decimal (schema multipleOf 0.1).
- numberPhases is emitted only where the deciding period set it; when the cap and the
  transaction side give the same limit, the smaller of their phase counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .charge_point_smart_profiles import Period, Profile, Stored

__all__ = ["VOLTAGE", "Request", "composite_periods", "convert", "in_force"]

VOLTAGE = 230.0  # nominal, per phase (spec 7.12; smart_charging.md 2.7)
NEVER = math.inf

Cap = tuple[float, "int | None"]  # a limit in the requested unit, and the numberPhases that came with it


@dataclass(frozen=True)
class Request:
    """A GetCompositeSchedule.req as the charge point sees it: window [start, start + duration), unit, transaction."""

    connector: int
    start: int
    duration: int
    unit: str
    tx_start: int | None = None  # the running transaction on the connector (whole seconds)
    tx_id: int | None = None


def in_force(p: Profile, t: int, relative_anchor: int) -> tuple[Period | None, float]:
    """The period of ``p`` in force at second ``t`` (None: ``p`` does not cover t), and when that may next change."""
    if p.valid_from is not None and t < p.valid_from:
        return None, p.valid_from
    valid_to = NEVER if p.valid_to is None else p.valid_to
    if t >= valid_to:
        return None, NEVER
    cycle = p.cycle
    if cycle:  # the occurrence that began last, possibly a virtual one before startSchedule (A9)
        anchor = (p.start or 0) + (t - (p.start or 0)) // cycle * cycle
        next_anchor: float = anchor + cycle
    else:
        anchor = relative_anchor if p.kind == "Relative" else (p.start or 0)
        next_anchor = NEVER
    offset = t - anchor
    if offset < 0:
        return None, min(anchor, valid_to)
    end = NEVER if p.duration is None else p.duration
    if offset >= end:
        return None, min(next_anchor, valid_to)
    current, following = p.periods[0], NEVER
    for period in p.periods:
        if period.start > offset:
            following = period.start
            break
        current = period
    return current, min(anchor + min(following, end), next_anchor, valid_to)


def convert(period: Period, source: str, target: str) -> float:
    """``period``'s limit in ``target`` units: W = A x 230 V x numberPhases (absent: 3)."""
    if source == target:
        return period.limit
    factor = VOLTAGE * (period.phases or 3)
    return period.limit * factor if target == "W" else period.limit / factor


def _lower(a: Cap | None, b: Cap | None) -> Cap | None:
    if a is None or b is None:
        return a if b is None else b
    if a[0] != b[0]:
        return a if a[0] < b[0] else b
    phases = [x for x in (a[1], b[1]) if x is not None]
    return a[0], min(phases) if phases else None


class _Group:
    """Profiles that stack (one purpose, one connector scope): the best-ranked one covering t wins."""

    def __init__(self, members: Iterable[Stored], rank: Callable[[Stored], Any], unit: str, anchor: int) -> None:
        self.members = sorted(members, key=rank, reverse=True)
        self.unit, self.anchor = unit, anchor

    def at(self, t: int) -> tuple[Cap | None, float]:
        """The winner's limit at ``t`` and the earliest second any member's answer may change."""
        winner: Cap | None = None
        change = NEVER
        for s in self.members:
            period, until = in_force(s.profile, t, self.anchor)
            change = min(change, until)
            if period is not None and winner is None:
                winner = (convert(period, s.profile.unit, self.unit), period.phases)
        return winner, change


def _takeover(tx: _Group, since: int, stop: int) -> float:
    """The first second >= ``since`` (the transaction start) a TxProfile covers, NEVER if none before ``stop``."""
    t: float = since
    while t < stop:
        winner, change = tx.at(int(t))
        if winner is not None:
            return t
        t = change
    return NEVER


def composite_periods(stored: Iterable[Stored], req: Request, *, rank: Callable[[Stored], Any],
                      own_max: float) -> list[dict[str, Any]]:
    """chargingSchedulePeriod of GetCompositeSchedule.conf for ``req`` (startPeriod relative to req.start).

    ``stored`` are the profiles to take into account (a fault may have left some out); ``rank``
    orders profiles of one group, highest wins; ``own_max`` (requested unit) fills spans
    where nothing applies (A5).
    """
    profiles = list(stored)
    c, stop = req.connector, req.start + req.duration
    anchor = req.start if req.tx_start is None else req.tx_start  # Relative profiles (A2)

    def group(purpose: str, connector: int, keep: Callable[[Profile], bool] = lambda p: True) -> _Group:
        chosen = [s for s in profiles if s.profile.purpose == purpose and s.connector == connector and keep(s.profile)]
        return _Group(chosen, rank, req.unit, anchor)

    cap = group("ChargePointMaxProfile", 0)
    tx = group("TxProfile", c, lambda p: c > 0 and req.tx_start is not None and p.tx_id in (None, req.tx_id))
    own_default, shared_default = group("TxDefaultProfile", c), group("TxDefaultProfile", 0)
    takeover = _takeover(tx, req.tx_start, stop) if tx.members and req.tx_start is not None else NEVER

    rows: list[dict[str, Any]] = []
    last: tuple[float, int | None] | None = None
    t = req.start
    while True:
        limit, change = cap.at(t)
        if c > 0:  # connector 0: the ChargePointMaxProfiles only (A3)
            if t >= takeover:  # A14: the TxProfile governs the rest of the transaction
                side, until = tx.at(t)
            else:  # A1: a connector's own TxDefault before the connector-0 ones
                (own, until), (shared, later) = own_default.at(t), shared_default.at(t)
                side, until = (shared if own is None else own), min(until, later, takeover)
            limit, change = _lower(side, limit), min(change, until)
        value, phases = (own_max, None) if limit is None else (limit[0], limit[1])
        emitted = (round(value, 1) + 0.0, phases)
        if emitted != last:
            row: dict[str, Any] = {"startPeriod": t - req.start, "limit": emitted[0]}
            if phases is not None:
                row["numberPhases"] = phases
            rows.append(row)
            last = emitted
        if change >= stop:
            return rows
        t = int(change)
