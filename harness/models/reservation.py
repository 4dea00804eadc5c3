"""OCPP 1.6 reservations: ReserveNow / CancelReservation outcomes, use, expiry, Reserved status.

Pure model shared by both roles (no I/O, no clock: callers pass ``now`` and the statuses):
the CS role predicts a charge point's answers and StatusNotifications and judges its
StartTransaction.req; the CP role answers a central system by the same rules. Spec: 3.10,
3.11, 4.8, 4.9 (A7, G1, G2, G8, G9), 5.1, 5.13, 6.5, 6.6, 6.37, 6.38, 7.5, 7.40, 9.3; OCTT
TC_046..TC_053 (both roles).

Rules: (1) only what decides reservations lives here; connector statuses are inputs
(``Statuses``), transitions are judged by ``connector_status``. (2) Judge, never raise: peer
data yields a status or a reason; only programming errors raise. (3) Every function first
*settles* the book (R8), so a stale reservation never reserves, cancels or starts.

Readings where the spec is ambiguous (digest section 7; spec 5.13 unless noted):

R1  ReserveNow.conf precedence (5.13 gives none), first match wins: Rejected (reservations
    not accepted: profile unsupported as in TC_048_4 / TC_050_4, or configured off;
    connectorId 0 unless ReserveConnectorZeroSupported is true, 9.3; R3) > Faulted >
    Unavailable > Occupied > Accepted. Configuration answers in any state; an inoperative CP
    or connector could not hold a reservation (5.13 (3) would end it) while occupation is
    transient; Faulted before Unavailable as in MicroOcpp.
R2  "The Charge Point or the specified connector": connector 0's status counts for every
    request. For connectorId 0 the CP is also Faulted when all its connectors are Faulted,
    Unavailable when none is operative, else Occupied when R6 leaves no room (TC_050_1..3).
R3  Also Rejected: an unknown connectorId (not in ``statuses``; EVerest answers Unavailable,
    MicroOcpp a CALLERROR) and an expiryDate not after ``now`` (nothing left to reserve).
R4  A known reservationId (5.13 "replace") is judged as a new request with the old
    reservation disregarded (its connector counts as free). Accepted replaces it, possibly on
    another connector; any other status leaves the old reservation in place.
R5  Statuses describe the connector apart from reservations: a reported Reserved counts as
    Available (the book is the truth about reservations); a value outside spec 7.7 counts as
    in use. A connector is *free* if Available, the CP operative, and it holds no reservation.
R6  Connector-0 reservations are counted, never placed (5.13 "SHALL NOT reserve a specific
    connector ... one connector remains available"): with k of them live, k free connectors
    must remain. A new one needs k+1 free connectors; a reservation of free connector c, and
    a start on c by a tag using none of them, need k free connectors besides c. Otherwise
    Occupied ("the Charge Point ... has been reserved") or the start is refused. We do not
    read one connector-0 reservation as making every further ReserveNow Occupied.
R7  Matching (5.13, 3.10): a reservation admits idTag T with parentIdTag P if T equals its
    idTag, or both parentIdTags are present and equal (TC_053); case-insensitive (CiString).
    T is not compared with the reservation's parentIdTag, nor P with its idTag: 3.10 says a
    parentIdTag SHOULD NOT be compared with a presented token. P comes from the caller
    (Authorize.conf, local list, cache).
R8  A reservation ends (5.13): at ``now >= expiryDate``; when its connector (or, for every
    reservation, connector 0) is Faulted or Unavailable; on CancelReservation; when used.
R9  Use: on a connector holding a reservation only its group may start, and uses it.
    Elsewhere a tag matching a connector-0 reservation uses it (lowest reservationId first);
    other tags start if R6 allows. A tag holding a reservation on connector X may start on Y
    without using it (5.13 (1) "on the reserved connector"). A StartTransaction.req carries
    a reservationId iff it uses that reservation (4.8). Starts need Available or Preparing
    (not judged on StartTransaction.req: Charging may be reported first, TC_053 steps 7/9).
R10 Status shown (4.9): a connector holding a reservation and otherwise Available is Reserved
    (A7; G1 when it ends). Under connector-0 reservations, free connectors are Reserved when
    all of them are needed (free <= k; OCTT TC_049_CS expects Reserved with one connector
    left), else Available; ``allowed_statuses`` tolerates either on free connectors then, as
    the spec leaves it open (digest open question 5). Connector 0 never shows Reserved.
R11 CancelReservation of a reservation that already ended (R8) is Rejected: the CP no longer
    holds it (5.1). It does not depend on the profile flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple, TypeGuard

from harness.models.charging_profile import format_datetime, parse_datetime
from harness.models.connector_status import ChargePointStatus
from harness.models.local_auth_list import ID_TOKEN_MAX_LENGTH, PayloadError, fold_id_tag

__all__ = [
    "CancelReservationResult", "CancelReservationStatus", "Reservation", "ReservationBook",
    "ReservationStatus", "ReserveNowResult", "Settled", "StartDecision", "Statuses",
    "allowed_statuses", "cancel_reservation", "check_start_transaction", "expected_status",
    "free_connectors", "reserve_now", "settle", "start_transaction", "usable_connectors",
]

_S = ChargePointStatus
_INOPERATIVE = frozenset({_S.UNAVAILABLE, _S.FAULTED})
_STARTABLE = frozenset({_S.AVAILABLE, _S.PREPARING})
_RESERVE = "OCPP 1.6 section 5.13"


class ReservationStatus(str, Enum):
    """ReserveNow.conf status (spec 7.40), spelled as on the wire."""

    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


class CancelReservationStatus(str, Enum):
    """CancelReservation.conf status (spec 7.5), spelled as on the wire."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime: {value!r}")


@dataclass(frozen=True)
class Reservation:
    """One reservation as ReserveNow.req carries it (spec 6.37); ``connector_id`` 0 = any."""

    reservation_id: int
    connector_id: int
    id_tag: str
    expiry_date: datetime
    parent_id_tag: str | None = None

    def __post_init__(self) -> None:
        _aware(self.expiry_date, "expiry_date")

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Reservation:
        """Build from a ReserveNow.req payload; raises PayloadError on schema violations."""
        keys = {"connectorId", "expiryDate", "idTag", "reservationId"}
        if not isinstance(payload, Mapping) or not keys <= payload.keys() <= keys | {
                "parentIdTag"}:
            raise PayloadError(f"ReserveNow.req lacks or adds fields: {payload!r}")
        ids = (payload["connectorId"], payload["reservationId"])
        tags = (payload["idTag"], payload.get("parentIdTag", ""))
        if not all(map(_is_int, ids)) or not all(
                isinstance(t, str) and len(t) <= ID_TOKEN_MAX_LENGTH for t in tags):
            raise PayloadError(f"ReserveNow.req field types or lengths: {payload!r}")
        try:
            expiry = parse_datetime(payload["expiryDate"])
        except (AttributeError, TypeError, ValueError) as exc:
            raise PayloadError(f"expiryDate is no date-time: {payload['expiryDate']!r}") from exc
        return cls(ids[1], ids[0], tags[0], expiry, payload.get("parentIdTag"))

    def to_payload(self) -> dict[str, Any]:
        """ReserveNow.req payload, expiryDate in UTC with ``Z``."""
        out: dict[str, Any] = {
            "connectorId": self.connector_id, "expiryDate": format_datetime(self.expiry_date),
            "idTag": self.id_tag, "reservationId": self.reservation_id}
        if self.parent_id_tag is not None:
            out["parentIdTag"] = self.parent_id_tag
        return out

    def expired(self, now: datetime) -> bool:
        """expiryDate is reached: the reservation has ended (5.13, R8)."""
        return now >= self.expiry_date

    def admits(self, id_tag: str, parent_id_tag: str | None = None) -> bool:
        """Whether ``id_tag`` (with its known parent) may use this reservation (5.13, R7)."""
        mine, theirs = self.parent_id_tag, parent_id_tag
        group = isinstance(mine, str) and isinstance(theirs, str) and (
            fold_id_tag(mine) == fold_id_tag(theirs))
        return isinstance(id_tag, str) and (
            fold_id_tag(id_tag) == fold_id_tag(self.id_tag) or group)


@dataclass(frozen=True)
class ReservationBook:
    """The reservations a charge point holds, sorted by reservationId.

    Raises ValueError on two reservations with one id or on one connector > 0: the functions
    below never produce such a book.
    """

    reservations: tuple[Reservation, ...] = ()

    def __post_init__(self) -> None:
        items = tuple(sorted(self.reservations, key=lambda r: r.reservation_id))
        ids = [r.reservation_id for r in items]
        held = [r.connector_id for r in items if r.connector_id > 0]
        if len(set(ids)) != len(ids) or len(set(held)) != len(held):
            raise ValueError(f"duplicate reservationId or reserved connector in {items!r}")
        object.__setattr__(self, "reservations", items)

    def get(self, reservation_id: object) -> Reservation | None:
        """The reservation with this id, or None."""
        return next((r for r in self.reservations if r.reservation_id == reservation_id), None)

    def on_connector(self, connector_id: object) -> Reservation | None:
        """The reservation of connector ``connector_id`` > 0, or None."""
        if not _is_int(connector_id) or connector_id <= 0:
            return None
        return next((r for r in self.reservations if r.connector_id == connector_id), None)

    @property
    def charge_point_wide(self) -> tuple[Reservation, ...]:
        """The connectorId 0 reservations."""
        return tuple(r for r in self.reservations if r.connector_id == 0)

    def without(self, reservation_id: int) -> ReservationBook:
        """This book minus one reservation."""
        return ReservationBook(
            tuple(r for r in self.reservations if r.reservation_id != reservation_id))


class Settled(NamedTuple):
    """The book after expiry and termination (R8), and the reservations that ended."""

    book: ReservationBook
    ended: tuple[Reservation, ...]


class ReserveNowResult(NamedTuple):
    """The book after a ReserveNow.req, and the ReserveNow.conf status."""

    book: ReservationBook
    status: ReservationStatus


class CancelReservationResult(NamedTuple):
    """The book after a CancelReservation.req, and the CancelReservation.conf status."""

    book: ReservationBook
    status: CancelReservationStatus


class StartDecision(NamedTuple):
    """Whether a transaction may start, the reservation it uses, and the book after it."""

    book: ReservationBook
    allowed: bool
    reservation: Reservation | None

    @property
    def reservation_id(self) -> int | None:
        """The StartTransaction.req reservationId: present iff a reservation is used (4.8)."""
        return None if self.reservation is None else self.reservation.reservation_id


Statuses = Mapping[int, ChargePointStatus | str]
"""connectorId -> status as last reported; key 0 = the charge point (absent = Available)."""


def _status(statuses: Statuses, connector_id: int) -> ChargePointStatus | None:
    """The connector's status apart from reservations (R5); None if unknown or unparsable."""
    try:
        status = _S(statuses[connector_id])
    except (KeyError, ValueError, TypeError):
        return None
    return _S.AVAILABLE if status is _S.RESERVED else status


def _cp_down(statuses: Statuses) -> bool:
    return 0 in statuses and _status(statuses, 0) in _INOPERATIVE


def _connectors(statuses: Statuses) -> list[int]:
    return sorted(c for c in statuses if _is_int(c) and c > 0)


def _free(book: ReservationBook, statuses: Statuses, ignoring: int | None = None) -> set[int]:
    """Free connectors (R5); ``ignoring`` names a reservation to disregard (R4)."""
    if _cp_down(statuses):
        return set()
    held = {r.connector_id for r in book.reservations if r.reservation_id != ignoring}
    return {c for c in _connectors(statuses)
            if c not in held and _status(statuses, c) is _S.AVAILABLE}


def settle(book: ReservationBook, *, statuses: Statuses, now: datetime) -> Settled:
    """End expired reservations and those on a Faulted/Unavailable connector or CP (5.13, R8).

    Returns the same book object when nothing ended.
    """
    _aware(now, "now")
    cp_down = _cp_down(statuses)
    ended = tuple(r for r in book.reservations if r.expired(now) or cp_down or (
        r.connector_id > 0 and _status(statuses, r.connector_id) in _INOPERATIVE))
    if not ended:
        return Settled(book, ())
    return Settled(ReservationBook(tuple(r for r in book.reservations if r not in ended)), ended)


def _reserve_status(book: ReservationBook, request: Reservation, statuses: Statuses,
                    now: datetime, accept: bool, zero_supported: bool) -> ReservationStatus:
    """ReserveNow.conf status in the order of R1 (the book is settled)."""
    cid, rid = request.connector_id, request.reservation_id
    known = _is_int(cid) and (cid == 0 or cid in _connectors(statuses))
    if not accept or not known or (cid == 0 and not zero_supported) or request.expired(now):
        return ReservationStatus.REJECTED
    cp = _status(statuses, 0) if 0 in statuses else _S.AVAILABLE
    free = _free(book, statuses, ignoring=rid)
    wide = len([r for r in book.charge_point_wide if r.reservation_id != rid])
    if cid == 0:
        each = [_status(statuses, c) for c in _connectors(statuses)]
        if cp is _S.FAULTED or (each and all(s is _S.FAULTED for s in each)):
            return ReservationStatus.FAULTED
        if cp is _S.UNAVAILABLE or all(s in _INOPERATIVE for s in each):
            return ReservationStatus.UNAVAILABLE
        return ReservationStatus.ACCEPTED if len(free) > wide else ReservationStatus.OCCUPIED
    here = _status(statuses, cid)
    if _S.FAULTED in (cp, here):
        return ReservationStatus.FAULTED
    if _S.UNAVAILABLE in (cp, here):
        return ReservationStatus.UNAVAILABLE
    if cid not in free or len(free - {cid}) < wide:
        return ReservationStatus.OCCUPIED
    return ReservationStatus.ACCEPTED


def reserve_now(book: ReservationBook, request: Reservation, *, statuses: Statuses,
                now: datetime, accept_reservations: bool = True,
                reserve_connector_zero_supported: bool = False) -> ReserveNowResult:
    """Apply a ReserveNow.req (5.13, 6.37, 7.40; R1-R6).

    ``accept_reservations``: the Reservation profile is supported and reservations are
    accepted; ``reserve_connector_zero_supported``: the key (9.3; absent = False). Unless
    Accepted, the (settled) book is returned unchanged.
    """
    book = settle(book, statuses=statuses, now=now).book
    status = _reserve_status(book, request, statuses, now, accept_reservations,
                             reserve_connector_zero_supported)
    if status is not ReservationStatus.ACCEPTED:
        return ReserveNowResult(book, status)
    return ReserveNowResult(
        ReservationBook(book.without(request.reservation_id).reservations + (request,)), status)


def cancel_reservation(book: ReservationBook, reservation_id: object, *, statuses: Statuses,
                       now: datetime) -> CancelReservationResult:
    """Apply a CancelReservation.req (5.1, 6.5, 7.5; R11): Accepted iff the id is live."""
    book = settle(book, statuses=statuses, now=now).book
    if not _is_int(reservation_id) or book.get(reservation_id) is None:
        return CancelReservationResult(book, CancelReservationStatus.REJECTED)
    return CancelReservationResult(book.without(reservation_id), CancelReservationStatus.ACCEPTED)


def _gate(book: ReservationBook, connector_id: int, id_tag: str, parent_id_tag: str | None,
          statuses: Statuses) -> tuple[bool, Reservation | None]:
    """The reservation rule alone (R6, R7, R9): (may start, reservation used)."""
    if connector_id not in _connectors(statuses):
        return False, None
    own = book.on_connector(connector_id)
    if own is not None:
        return (True, own) if own.admits(id_tag, parent_id_tag) else (False, None)
    wide = book.charge_point_wide
    mine = next((r for r in wide if r.admits(id_tag, parent_id_tag)), None)
    if mine is not None:
        return True, mine
    return len(_free(book, statuses) - {connector_id}) >= len(wide), None


def start_transaction(book: ReservationBook, connector_id: int, id_tag: str, *,
                      parent_id_tag: str | None = None, statuses: Statuses,
                      now: datetime) -> StartDecision:
    """May ``id_tag`` start on ``connector_id`` now, and using which reservation (4.8, R9)?

    Only from Available or Preparing, the CP operative. The used reservation is gone from the
    returned book; a refusal returns the settled book.
    """
    book = settle(book, statuses=statuses, now=now).book
    if _cp_down(statuses) or _status(statuses, connector_id) not in _STARTABLE:
        return StartDecision(book, False, None)
    allowed, used = _gate(book, connector_id, id_tag, parent_id_tag, statuses)
    return StartDecision(book if used is None else book.without(used.reservation_id),
                         allowed, used)


def check_start_transaction(book: ReservationBook, connector_id: int, id_tag: str,
                            reservation_id: int | None, *, parent_id_tag: str | None = None,
                            statuses: Statuses, now: datetime) -> str | None:
    """Judge a StartTransaction.req against the reservations (4.8, 5.13; R7-R9).

    ``book`` and ``statuses`` are those before the start, ``now`` the start time,
    ``parent_id_tag`` the parent the CS gave ``id_tag``. Returns None or a one-sentence
    reason; never raises on peer data.
    """
    live = settle(book, statuses=statuses, now=now).book
    where = f"StartTransaction on connector {connector_id!r} for idTag {id_tag!r}"
    if reservation_id is not None:
        known = book.get(reservation_id) if _is_int(reservation_id) else None
        if known is None:
            return f"{where}: reservationId {reservation_id!r} is no reservation ({_RESERVE})"
        other = getattr(live.on_connector(connector_id), "reservation_id", reservation_id)
        problems = [
            (known.expired(now), f"it expired at {known.expiry_date.isoformat()}"),
            (live.get(reservation_id) is None,
             "it ended when its connector or the charge point became Faulted or Unavailable"),
            (known.connector_id not in (0, connector_id),
             f"it is for connector {known.connector_id}"),
            (other != reservation_id, f"the connector is held by reservation {other}"),
            (not known.admits(id_tag, parent_id_tag),
             "the idTag is neither its idTag nor of its parentIdTag group"),
        ]
        return next((f"{where} with reservation {reservation_id}: {text} ({_RESERVE})"
                     for bad, text in problems if bad), None)
    allowed, used = _gate(live, connector_id, id_tag, parent_id_tag, statuses)
    own = live.on_connector(connector_id)
    if used is not None:
        return (f"{where} uses reservation {used.reservation_id} but lacks its reservationId "
                "(OCPP 1.6 sections 4.8, 5.13)")
    if allowed:
        return None
    if own is not None:
        return f"{where}: reservation {own.reservation_id} holds the connector ({_RESERVE})"
    if connector_id not in _connectors(statuses):
        return f"{where}: no such connector"
    return (f"{where}: it leaves fewer free connectors than the "
            f"{len(live.charge_point_wide)} connectorId 0 reservation(s) need ({_RESERVE})")


def usable_connectors(book: ReservationBook, id_tag: str, *, parent_id_tag: str | None = None,
                      statuses: Statuses, now: datetime) -> frozenset[int]:
    """The connectors on which ``id_tag`` could start a transaction now (R6, R9)."""
    return frozenset(c for c in _connectors(statuses) if start_transaction(
        book, c, id_tag, parent_id_tag=parent_id_tag, statuses=statuses, now=now).allowed)


def free_connectors(book: ReservationBook, *, statuses: Statuses,
                    now: datetime) -> frozenset[int]:
    """Available connectors holding no reservation, the CP operative (R5)."""
    return frozenset(_free(settle(book, statuses=statuses, now=now).book, statuses))


def _statuses_of(book: ReservationBook, connector_id: int, statuses: Statuses,
                 now: datetime) -> tuple[ChargePointStatus | None, frozenset[ChargePointStatus]]:
    """(expected, allowed) status of one connector (R10)."""
    if not _is_int(connector_id) or connector_id not in statuses:
        return None, frozenset()
    here = _status(statuses, connector_id)
    book = settle(book, statuses=statuses, now=now).book
    if connector_id > 0 and here is _S.AVAILABLE and not _cp_down(statuses):
        if book.on_connector(connector_id) is not None:
            return _S.RESERVED, frozenset({_S.RESERVED})
        free, wide = _free(book, statuses), len(book.charge_point_wide)
        if wide and connector_id in free:
            expected = _S.RESERVED if len(free) <= wide else _S.AVAILABLE
            return expected, frozenset({_S.AVAILABLE, _S.RESERVED})
    return here, frozenset() if here is None else frozenset({here})


def expected_status(book: ReservationBook, connector_id: int, *, statuses: Statuses,
                    now: datetime) -> ChargePointStatus | None:
    """The status the connector should report given the reservations (4.9, 5.13; R10).

    None for an unknown connector or an unparsable status.
    """
    return _statuses_of(book, connector_id, statuses, now)[0]


def allowed_statuses(book: ReservationBook, connector_id: int, *, statuses: Statuses,
                     now: datetime) -> frozenset[ChargePointStatus]:
    """``expected_status`` and the variant the spec leaves open (R10); empty if unknown."""
    return _statuses_of(book, connector_id, statuses, now)[1]
