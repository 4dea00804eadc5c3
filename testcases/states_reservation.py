"""Reusable state Reserved and the reservation steps of both roles (spec 4.8, 4.9, 5.1, 5.13; OCTT TC_046..TC_053).

Judged with harness.models.reservation (its readings R1-R11):

* Charge point under test (the harness is the central system): :class:`ReservationJudge`
  keeps the book of the reservations the harness made and replays, in arrival order, every
  StatusNotification and StartTransaction.req the charge point sent: an idle connector must
  be Reserved while a reservation holds it and Available once it ended (``allowed_statuses``:
  R5, R10; ``timing_tolerance`` either side of an expiryDate and after the reply to a
  ReserveNow / CancelReservation, as a status decided before it may arrive just after it),
  and every StartTransaction.req carries a reservationId iff it uses a reservation
  (``check_start_transaction``: R7-R9).
  ReserveNow / CancelReservation answers are the catalog's, explained by the model.
* Both roles: :func:`expect_with_optional` (the catalog's "(optional)" messages), :func:`arrives`
  (what may or may not come), the ``extra:`` values below. The harness charge point's own
  reservations (central system under test) are in test_reservation_csms.HarnessReservations.

Values of ``extra:``: ``reservation_expiry_seconds`` (<Configured Reservation Expiry Date
Offset>), ``reservation_duration`` (the other reservations), ``reservation_refusal_window``
(how long a refused id tag is watched), ``reserve_connector_zero`` (a capability flag).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable


from harness.errors import PayloadMismatch, UnexpectedMessage
from harness.inbox import Expectation, Received
from harness.models.reservation import (
    Reservation, ReservationBook, allowed_statuses, check_start_transaction, reserve_now, settle,
)
from harness.roles.central_system import CentralSystem
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_charge_point import Tx, connector_status, get_configuration

__all__ = [
    "DEFAULTS", "RULE", "reservation_setting", "new_reservation_id", "utcnow", "ReservationJudge", "reserved",
    "charging_on", "expect_with_optional",
]

DEFAULTS: dict[str, Any] = {
    "reservation_expiry_seconds": 30,   # <Configured Reservation Expiry Date Offset>, s
    "reservation_duration": 900,        # the other cases' reservations, s
    "reservation_refusal_window": 3,    # s a refused id tag is watched (nothing may follow)
    "reserve_connector_zero": False,    # the charge point supports connectorId 0 reservations
}
RULE = "OCPP 1.6 sections 4.9 (A7, G1, G2) and 5.13"
WHY = {
    "Accepted": "the connector (or, for connectorId 0, a connector) is free",
    "Faulted": "the connector or the charge point is Faulted",
    "Occupied": "the connector is in use (Preparing, Charging, Finishing ...) or reserved",
    "Unavailable": "the connector or the charge point is Unavailable",
    "Rejected": "the charge point does not accept this reservation (no Reservation profile, or connectorId 0 without "
                "ReserveConnectorZeroSupported)",
}
_ids = itertools.count(1)


def reservation_setting(sut: SutHandle, name: str) -> Any:
    return sut.config.extra.get(name, DEFAULTS[name])


def new_reservation_id() -> int:
    """A reservationId not used before in this run."""
    return next(_ids)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _hms(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class _Change:
    """A change of the book by a CALL of the harness, in force from its reply (either way while outstanding)."""

    sent: float
    replied: float
    apply: Callable[[ReservationBook], ReservationBook]


# -- charge point under test ---------------------------------------------------------------------------
class ReservationJudge:
    """The reservations the harness (as central system) made in one case, and the replay that judges the charge point."""

    def __init__(self, cs: CentralSystem, sut: SutHandle, *, zero_supported: bool = False) -> None:
        self.cs, self.sut = cs, sut
        self.supported = "reservation" in sut.config.features
        self.zero_supported = zero_supported
        self.book = ReservationBook()
        self.made: list[Reservation] = []
        self.ended: dict[int, str] = {}
        self._changes: list[_Change] = []
        self._before: list[tuple[float, ReservationBook]] = []  # (reply time, the book before that change)
        self._seen = len(cs.inbox.items)
        self.statuses: dict[int, str] = {c: str(cs.connector_status.status(c) or "Available")
                                         for c in range(sut.connectors + 1)}
        self.tolerance = timedelta(seconds=sut.config.timeouts.timing_tolerance)

    def parent_of(self, id_tag: str) -> str | None:
        """The parentIdTag the harness gives ``id_tag`` (Authorize.conf, StartTransaction.conf)."""
        return self.cs.id_tag_info(id_tag).get("parentIdTag")

    # -- the replay ---------------------------------------------------------------------------------
    def audit(self, step: str, *through: Received) -> None:
        """Judge every StatusNotification and StartTransaction.req not judged yet, in arrival order; raise the first problem.

        ``through``: the messages ``step`` claimed; later ones are left to the steps that claim them.
        """
        problems: list[str] = []
        items = self.cs.inbox.items
        end = len(items) if not through else 1 + max(i for i, r in enumerate(items) if any(r is t for t in through))
        while self._seen < end:
            item = items[self._seen]
            self._seen += 1
            self._apply_changes(until=item.arrived)
            if item.action == "StatusNotification":
                problems += self._judge_status(item)
            elif item.action == "StartTransaction":
                problems += self._judge_start(item)
        self._apply_changes(until=items[end - 1].arrived if through else time.monotonic())
        if problems:
            raise UnexpectedMessage(step, problems[0], "".join(f"  - {p}\n" for p in problems[1:]) + RULE)

    def _apply_changes(self, until: float) -> None:
        while self._changes and self._changes[0].replied <= until:
            change = self._changes.pop(0)
            self._before.append((change.replied, self.book))
            self.book = change.apply(self.book)

    def _judge_status(self, item: Received) -> list[str]:
        c, reported = item.payload.get("connectorId"), item.payload.get("status")
        if c not in self.statuses:
            return []
        self.statuses[c] = str(reported)
        if c == 0 or reported not in ("Available", "Reserved"):
            return []
        # a status decided before a change may arrive just after its reply (timing_tolerance), or with it
        grace = self.tolerance.total_seconds()
        books = [self.book] + [ch.apply(self.book) for ch in self._changes if ch.sent <= item.arrived] + [
            book for replied, book in self._before if item.arrived - replied <= grace]
        when = item.entry.wall
        for book in books:
            for moment in (when - self.tolerance, when, when + self.tolerance):
                if reported in {s.value for s in allowed_statuses(book, c, statuses=self.statuses, now=moment)}:
                    return []
        live = settle(self.book, statuses=self.statuses, now=when).book
        holder = live.on_connector(c)
        if reported == "Available" and holder is not None:
            return [f"connector {c} reported Available at {_hms(when)} while reservation {holder.reservation_id} "
                    f"(idTag {holder.id_tag!r}, expiryDate {_hms(holder.expiry_date)}) holds it: a reserved connector "
                    "reports Reserved"]
        if reported == "Available":
            return [f"connector {c} reported Available at {_hms(when)} while the {len(live.charge_point_wide)} "
                    "connectorId 0 reservation(s) need every free connector: it reports Reserved"]
        gone = [r for r in self.made if r.connector_id in (0, c) and live.get(r.reservation_id) is None]
        why = (f"reservation {gone[-1].reservation_id} {self._end_of(gone[-1], when)}" if gone
               else "the harness made none for it")
        return [f"connector {c} reported Reserved at {_hms(when)} but no reservation holds it ({why}): it reports "
                "Available"]

    def _end_of(self, reservation: Reservation, when: datetime) -> str:
        if reservation.reservation_id in self.ended:
            return self.ended[reservation.reservation_id]
        if reservation.expired(when):
            return f"expired at {_hms(reservation.expiry_date)}"
        return "ended"

    def _judge_start(self, item: Received) -> list[str]:
        p = item.payload
        c, tag, rid = p.get("connectorId"), str(p.get("idTag", "")), p.get("reservationId")
        when = item.entry.wall
        reason = check_start_transaction(self.book, c, tag, rid, parent_id_tag=self.parent_of(tag),
                                         statuses=self.statuses, now=when)
        live = settle(self.book, statuses=self.statuses, now=when).book
        used = live.get(rid) if rid is not None else None
        if used is not None:
            self.ended[used.reservation_id] = f"was used by the transaction on connector {c}"
            live = live.without(used.reservation_id)
        self.book = live
        return [] if reason is None else [reason]

    # -- the harness's CALLs ------------------------------------------------------------------------------
    async def reserve_now(self, step: str, connector: int, *, expected: str, id_tag: str | None = None,
                          parent: str | None = None, seconds: float | None = None) -> Reservation:
        """ReserveNow.req; ReserveNow.conf must be ``expected`` (the catalog's), explained by the model (R1-R6)."""
        self.audit(step)
        now = utcnow()
        seconds = float(seconds or reservation_setting(self.sut, "reservation_duration"))
        request = Reservation(new_reservation_id(), connector, id_tag or self.sut.id_tags.valid,
                              now + timedelta(seconds=seconds), parent)
        predicted = reserve_now(self.book, request, statuses=self.statuses, now=now, accept_reservations=self.supported,
                                reserve_connector_zero_supported=self.zero_supported).status.value
        sent = time.monotonic()
        reply = await self.cs.call("ReserveNow", request.to_payload(), step=step)
        got = reply["status"]  # type: ignore[index]
        if got != expected:
            raise PayloadMismatch(step, f"ReserveNow.conf status is {got!r}; expected {expected!r}: {WHY[expected]}",
                                  f"ReserveNow.req: {request.to_payload()}\nstatuses the harness saw: {self.statuses}\n"
                                  f"the harness's model answers {predicted!r} (spec 5.13, 7.40)")
        if got == "Accepted":
            self.made.append(request)
            self._changes.append(_Change(sent, time.monotonic(), lambda book: ReservationBook(
                book.without(request.reservation_id).reservations + (request,))))
        return request

    async def cancel(self, step: str, reservation_id: int, *, expected: str) -> None:
        """CancelReservation.req; CancelReservation.conf must be ``expected`` (spec 5.1, 7.5; R11)."""
        self.audit(step)
        sent = time.monotonic()
        reply = await self.cs.call("CancelReservation", {"reservationId": reservation_id}, step=step)
        got = reply["status"]  # type: ignore[index]
        if got != expected:
            held = "holds it" if self.book.get(reservation_id) else "holds no reservation with this id"
            raise PayloadMismatch(step, f"CancelReservation.conf status is {got!r}; expected {expected!r}: the charge "
                                        f"point {held} (spec 5.1, 7.5)", f"reservations the harness made: {self.made}")
        if got == "Accepted":
            self.ended[reservation_id] = "was cancelled"
            self._changes.append(_Change(sent, time.monotonic(), lambda book: book.without(reservation_id)))

    async def expect_status(self, step: str, connector: int, wanted: str, *, timeout: float | None = None) -> Received:
        """StatusNotification ``wanted`` for ``connector`` (through permitted intermediates), then the replay."""
        (got,) = await self.cs.expect_all(connector_status(connector, wanted), step=step, timeout=timeout)
        self.audit(step, got)
        return got

    async def started(self, step: str, connector: int, id_tag: str, reservation: Reservation | None,
                      optional: list[Expectation] | None = None) -> Tx:
        """StartTransaction.req and Charging (either order); the reservationId is the reservation's, or absent.

        ``optional``: CALLs the charge point may send first (claimed and answered if it does).
        """
        got = await expect_with_optional(self.cs, step, [
            Expectation("StartTransaction", {"connectorId": connector, "idTag": id_tag}, self.cs.start_transaction_reply),
            connector_status(connector, "Charging")], optional or [])
        start = next(r for r in got if r.action == "StartTransaction")
        self.audit(step, *got)
        sent, wanted = start.payload.get("reservationId"), getattr(reservation, "reservation_id", None)
        if sent != wanted:
            need = f"must be {wanted}, the reservation's" if wanted is not None else "must be omitted (no reservation)"
            raise PayloadMismatch(step, f"StartTransaction.req reservationId is {sent!r}; it {need}",
                                  f"payload: {start.payload}\nspec 4.8: reservationId is present iff the transaction "
                                  "ends a reservation")
        return Tx(connector, id_tag, start.replied["transactionId"], start.payload["meterStart"])


async def reserved(judge: ReservationJudge, *, step: str = "Reserved ", connector: int, id_tag: str | None = None,
                   parent: str | None = None, seconds: float | None = None) -> Reservation:
    """Reusable state Reserved: ReserveNow Accepted, StatusNotification Reserved. ``step`` prefixes the step numbers."""
    reservation = await judge.reserve_now(f"{step}1-2 (ReserveNow.req, status Accepted)", connector, expected="Accepted",
                                          id_tag=id_tag, parent=parent, seconds=seconds)
    await judge.expect_status(f"{step}3-4 (StatusNotification Reserved)", connector, "Reserved")
    return reservation


async def charging_on(judge: ReservationJudge, *, step: str, connector: int, id_tag: str,
                      reservation: Reservation | None, authorize_optional: bool) -> Tx:
    """Reusable state Charging on a connector that may be Reserved: Preparing after plug-in (step 3) or, when it
    was Reserved, after RemoteStartTransaction (step 7). ``authorize_optional``: the catalog's "(sending an
    Authorize.req is optional)"; otherwise AuthorizeRemoteTxRequests true requires one (spec 5.11)."""
    cs, sut = judge.cs, judge.sut
    keys = await get_configuration(cs, f"{step} 1-2 (GetConfiguration AuthorizeRemoteTxRequests)",
                                   "AuthorizeRemoteTxRequests")
    authorize = [Expectation("Authorize", {"idTag": id_tag})] if keys.get("AuthorizeRemoteTxRequests", {}).get(
        "value", "false").lower() == "true" else []
    was_reserved = cs.connector_status.status(connector) == "Reserved"
    await sut.act("plug_in", step=f"{step} 3", connector=connector)
    if not was_reserved:
        await judge.expect_status(f"{step} 3-4 (StatusNotification Preparing)", connector, "Preparing")
    await cs.call("RemoteStartTransaction", {"connectorId": connector, "idTag": id_tag},
                  step=f"{step} 5-6 (RemoteStartTransaction)", expect={"status": "Accepted"})
    claimed: list[Received] = []
    if was_reserved:
        label = f"{step} 7-8 (StatusNotification Preparing: the connector was Reserved)"
        claimed = await expect_with_optional(cs, label, [connector_status(connector, "Preparing")], authorize)
        judge.audit(label, *claimed)
    if any(r.action == "Authorize" for r in claimed):
        authorize = []
    elif authorize and not authorize_optional:
        await cs.expect("Authorize", step=f"{step} 9-10 (Authorize.req: AuthorizeRemoteTxRequests is true)", idTag=id_tag)
        authorize = []
    return await judge.started(f"{step} 11-14 (StartTransaction.req, StatusNotification Charging)", connector, id_tag,
                               reservation, optional=authorize)


async def expect_with_optional(cs: CentralSystem | ChargePoint, step: str, required: list[Expectation],
                               optional: list[Expectation], *, timeout: float | None = None) -> list[Received]:
    """Wait for ``required`` (any order); each ``optional`` CALL that comes meanwhile is claimed (answered) too.

    The catalog's "(optional)" messages: a charge point may send them or not, and may wait
    for their answer before it sends the required ones. Each CALL is claimed as it arrives
    (with whatever else is there, so the inbox's cursor skips none). ``timeout`` 0: claim what
    is there.
    """
    deadline = time.monotonic() + (cs.timeouts.step if timeout is None else timeout)
    got: list[Received] = []
    optional, required = list(optional), list(required)

    def unclaimed() -> list[Received]:
        return [r for r in cs.inbox.items[cs.inbox.cursor:] if not r.consumed]

    while True:
        cs.check(step)
        present = [e for e in optional + required if any(e.matches(r) for r in unclaimed())]
        if present:
            got += await cs.expect_all(*present, step=step)
            optional = [e for e in optional if all(e is not p for p in present)]
            required = [e for e in required if all(e is not p for p in present)]
            continue
        if not required:
            return got
        actions = {e.action for e in required}
        wrong = any(r.held and r.action in actions for r in unclaimed())  # expect_all says what is wrong with it
        busy = cs.actuations is not None and cs.actuations.pending
        remaining = deadline - time.monotonic()
        if wrong or (remaining <= 0 and not busy):
            return got + await cs.expect_all(*required, step=step, timeout=1e-3)
        await cs.inbox.changed(max(remaining, 0.05))


async def arrives(role: CentralSystem | ChargePoint, step: str, expectation: Expectation, timeout: float) -> bool:
    """Whether a CALL matching ``expectation`` is (or within ``timeout`` becomes) there to claim; claims nothing.

    For what may or may not come (not a step of its own: nothing is recorded); SUT defects
    recorded meanwhile still fail ``step``.
    """
    deadline = time.monotonic() + timeout
    while True:
        role.check(step)
        if any(not r.consumed and expectation.matches(r) for r in role.inbox.items[role.inbox.cursor:]):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        await role.inbox.changed(remaining)


__all__ += ["arrives"]
