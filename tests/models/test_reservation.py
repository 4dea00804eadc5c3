"""Tests for harness.models.reservation: ReserveNow / CancelReservation outcomes, use by idTag
and parentIdTag, expiry, connector-0 reservations, the Reserved status, the OCTT scenarios
TC_046..TC_053 (both roles), and a replay oracle for random event sequences written apart from
the model (it never calls the model's helpers). A case id without suffix (TC_048_2) names both
roles' cases: the harness judges a charge point and answers as one by the same model."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.models.connector_status import ChargePointStatus, transition_error
from harness.models.local_auth_list import PayloadError
from harness.models.reservation import (
    CancelReservationStatus,
    Reservation,
    ReservationBook,
    ReservationStatus,
    allowed_statuses,
    cancel_reservation,
    check_start_transaction,
    expected_status,
    free_connectors,
    reserve_now,
    settle,
    start_transaction,
    usable_connectors,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
AV, PR, CH, SEV, SEVSE, FI, RE, UN, FA = (
    "Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing",
    "Reserved", "Unavailable", "Faulted",
)
R = ReservationStatus


def res(rid: int, cid: int, tag: str = "TAG1", parent: str | None = None,
        expiry: datetime = NOW + HOUR) -> Reservation:
    return Reservation(rid, cid, tag, expiry, parent)


def world(*connectors: str, cp: str = AV) -> dict[int, str]:
    """Statuses: connector 0 (the charge point) and connectors 1..n."""
    return {0: cp, **dict(enumerate(connectors, start=1))}


def book(*reservations: Reservation) -> ReservationBook:
    return ReservationBook(reservations)


ZERO = {"reserve_connector_zero_supported": True}
OFF = {"accept_reservations": False}
ON_1 = book(res(5, 1))
ON_0 = book(res(9, 0, "WIDE"))

# (sentence, book, request, statuses, flags, ReserveNow.conf status, reservation ids after)
RESERVE_ROWS = [
    ("an available connector is reserved (TC_046)",
     book(), res(1, 1), world(AV), {}, R.ACCEPTED, [1]),
    ("a faulted connector answers Faulted (TC_048_1)",
     book(), res(1, 1), world(FA), {}, R.FAULTED, []),
    *[(f"a {s} connector is occupied (TC_048_2)", book(), res(1, 1), world(s), {}, R.OCCUPIED, [])
      for s in (PR, CH, SEV, SEVSE, FI)],
    ("an unavailable connector answers Unavailable (TC_048_3)",
     book(), res(1, 1), world(UN), {}, R.UNAVAILABLE, []),
    ("a charge point not accepting reservations answers Rejected (TC_048_4)",
     book(), res(1, 1), world(AV), OFF, R.REJECTED, []),
    ("Rejected by configuration wins over a faulted connector",
     book(), res(1, 1), world(FA), OFF, R.REJECTED, []),
    ("a connector reserved for another idTag is occupied",
     ON_1, res(6, 1, "OTHER"), world(AV), {}, R.OCCUPIED, [5]),
    ("a connector reserved for the same idTag under another id is occupied",
     ON_1, res(6, 1), world(RE), {}, R.OCCUPIED, [5]),
    ("the same reservationId replaces the reservation with the new expiry",
     ON_1, res(5, 1, "NEW", expiry=NOW + 2 * HOUR), world(RE), {}, R.ACCEPTED, [5]),
    ("the same reservationId may move the reservation to another connector",
     ON_1, res(5, 2), world(RE, AV), {}, R.ACCEPTED, [5]),
    ("a replacement onto an occupied connector keeps the old reservation",
     ON_1, res(5, 2), world(RE, CH), {}, R.OCCUPIED, [5]),
    ("a reported Reserved status without a known reservation counts as Available",
     book(), res(1, 1), world(RE), {}, R.ACCEPTED, [1]),
    ("an expired reservation no longer occupies its connector (TC_047)",
     book(res(5, 1, expiry=NOW)), res(6, 1), world(RE), {}, R.ACCEPTED, [6]),
    ("a faulted charge point makes a connector reservation Faulted",
     book(), res(1, 1), world(AV, cp=FA), {}, R.FAULTED, []),
    ("an unavailable charge point makes a connector reservation Unavailable",
     book(), res(1, 1), world(AV, cp=UN), {}, R.UNAVAILABLE, []),
    ("Faulted wins over Unavailable when the charge point is unavailable",
     book(), res(1, 1), world(FA, cp=UN), {}, R.FAULTED, []),
    ("Faulted wins over Unavailable when the connector is unavailable",
     book(), res(1, 1), world(UN, cp=FA), {}, R.FAULTED, []),
    ("Unavailable wins over Occupied",
     book(), res(1, 1), world(CH, cp=UN), {}, R.UNAVAILABLE, []),
    ("an unknown connectorId is rejected",
     book(), res(1, 3), world(AV, AV), {}, R.REJECTED, []),
    ("an expiryDate in the past is rejected",
     book(), res(1, 1, expiry=NOW - HOUR), world(AV), {}, R.REJECTED, []),
    ("an expiryDate equal to now is rejected",
     book(), res(1, 1, expiry=NOW), world(AV), {}, R.REJECTED, []),
    ("a status outside the spec counts as in use",
     book(), res(1, 1), world("Bogus"), {}, R.OCCUPIED, []),
    ("connectorId 0 is rejected without ReserveConnectorZeroSupported (TC_050_4)",
     book(), res(1, 0), world(AV), {}, R.REJECTED, []),
    ("connectorId 0 is rejected when reservations are not accepted (TC_050_4)",
     book(), res(1, 0), world(AV), OFF | ZERO, R.REJECTED, []),
    ("connectorId 0 is accepted with one free connector (TC_049)",
     book(), res(1, 0), world(AV, UN), ZERO, R.ACCEPTED, [1]),
    ("connectorId 0 on a faulted charge point answers Faulted (TC_050_1)",
     book(), res(1, 0), world(AV, AV, cp=FA), ZERO, R.FAULTED, []),
    ("connectorId 0 with every connector faulted answers Faulted (TC_050_1)",
     book(), res(1, 0), world(FA, FA), ZERO, R.FAULTED, []),
    ("connectorId 0 with every connector occupied answers Occupied (TC_050_2)",
     book(), res(1, 0), world(PR, CH), ZERO, R.OCCUPIED, []),
    ("connectorId 0 on an unavailable charge point answers Unavailable (TC_050_3)",
     book(), res(1, 0), world(AV, AV, cp=UN), ZERO, R.UNAVAILABLE, []),
    ("connectorId 0 with no operative connector answers Unavailable",
     book(), res(1, 0), world(FA, UN), ZERO, R.UNAVAILABLE, []),
    ("connectorId 0 with one operative occupied connector answers Occupied",
     book(), res(1, 0), world(FA, CH), ZERO, R.OCCUPIED, []),
    ("connectorId 0 with the only free connector reserved answers Occupied",
     ON_1, res(6, 0), world(RE, CH), ZERO, R.OCCUPIED, [5]),
    ("a second connectorId 0 reservation needs a second free connector",
     ON_0, res(10, 0, "B"), world(AV, AV), ZERO, R.ACCEPTED, [9, 10]),
    ("a second connectorId 0 reservation without a second free connector is occupied",
     ON_0, res(10, 0, "B"), world(AV, CH), ZERO, R.OCCUPIED, [9]),
    ("a connector reservation may not take the last free connector from connectorId 0",
     ON_0, res(10, 1, "B"), world(AV, CH), ZERO, R.OCCUPIED, [9]),
    ("a connector reservation may take a free connector when another stays free",
     ON_0, res(10, 1, "B"), world(AV, AV), ZERO, R.ACCEPTED, [9, 10]),
    ("a connectorId 0 reservation may move to a connector with its own id",
     ON_0, res(9, 1, "B"), world(AV, CH), ZERO, R.ACCEPTED, [9]),
]


@pytest.mark.parametrize(
    ("current", "request_", "statuses", "flags", "status", "ids"),
    [pytest.param(*row[1:], id=row[0]) for row in RESERVE_ROWS],
)
def test_reserve_now_answers_as_the_spec_requires(
    current: ReservationBook, request_: Reservation, statuses: dict[int, str],
    flags: dict[str, bool], status: ReservationStatus, ids: list[int],
) -> None:
    new_book, got = reserve_now(current, request_, statuses=statuses, now=NOW, **flags)
    assert got is status
    assert [r.reservation_id for r in new_book.reservations] == ids
    if got is R.ACCEPTED:
        assert new_book.get(request_.reservation_id) == request_
    elif (old := current.get(request_.reservation_id)) is not None:
        assert new_book.get(request_.reservation_id) == old


def test_a_replacement_onto_another_connector_frees_the_old_one() -> None:
    statuses = world(RE, AV)
    new_book, _ = reserve_now(ON_1, res(5, 2), statuses=statuses, now=NOW)
    assert expected_status(new_book, 1, statuses=statuses, now=NOW) == AV
    assert expected_status(new_book, 2, statuses=statuses, now=NOW) == RE


# --- CancelReservation ------------------------------------------------------------------

CANCEL_ROWS = [
    ("a known reservationId is cancelled (TC_051)", ON_1, 5, world(RE), "Accepted", []),
    ("an unknown reservationId is rejected (TC_052)", ON_1, 6, world(RE), "Rejected", [5]),
    ("a connectorId 0 reservation is cancelled", ON_0, 9, world(AV), "Accepted", []),
    ("an expired reservation can no longer be cancelled",
     book(res(5, 1, expiry=NOW)), 5, world(RE), "Rejected", []),
    ("a reservation ended by a fault can no longer be cancelled",
     ON_1, 5, world(FA), "Rejected", []),
    ("a boolean reservationId matches nothing", book(res(1, 1)), True, world(RE), "Rejected", [1]),
]


@pytest.mark.parametrize(
    ("current", "reservation_id", "statuses", "status", "ids"),
    [pytest.param(*row[1:], id=row[0]) for row in CANCEL_ROWS],
)
def test_cancel_reservation_answers(current: ReservationBook, reservation_id: Any,
                                   statuses: dict[int, str], status: str, ids: list[int]) -> None:
    new_book, got = cancel_reservation(current, reservation_id, statuses=statuses, now=NOW)
    assert got == status and isinstance(got, CancelReservationStatus)
    assert [r.reservation_id for r in new_book.reservations] == ids


def test_cancelling_an_unknown_id_returns_the_same_book() -> None:
    assert cancel_reservation(ON_1, 6, statuses=world(RE), now=NOW).book is ON_1


# --- use of a reservation -----------------------------------------------------------------

GROUP = book(res(5, 1, "TAG1", parent="GROUP"))

# (sentence, book, connector, idTag, parentIdTag, statuses, allowed, reservationId used)
START_ROWS = [
    ("the reserved idTag starts on the reserved connector and uses it (TC_046)",
     ON_1, 1, "TAG1", None, world(RE), True, 5),
    ("the reserved idTag starts from Preparing (G2)", ON_1, 1, "TAG1", None, world(PR), True, 5),
    ("idTags compare case-insensitively", ON_1, 1, "tag1", None, world(RE), True, 5),
    ("another idTag is refused on the reserved connector (TC_046_1 step 5)",
     ON_1, 1, "TAG2", None, world(RE), False, None),
    ("an idTag of the reservation's parentIdTag group uses it (TC_053)",
     GROUP, 1, "TAG2", "group", world(RE), True, 5),
    ("an idTag of another group is refused", GROUP, 1, "TAG2", "OTHER", world(RE), False, None),
    ("an idTag whose parent is unknown is refused", GROUP, 1, "TAG2", None, world(RE), False, None),
    ("a presented token equal to the reservation's parentIdTag is refused",
     GROUP, 1, "GROUP", None, world(RE), False, None),
    ("an idTag whose parent is the reserved idTag is refused",
     ON_1, 1, "TAG2", "TAG1", world(RE), False, None),
    ("parents never match when the reservation has none", ON_1, 1, "TAG2", None, world(RE),
     False, None),
    ("after expiry another idTag starts without a reservation (TC_047 step 7)",
     book(res(5, 1, expiry=NOW)), 1, "TAG2", None, world(RE), True, None),
    ("at expiry the reserved idTag starts without the reservation",
     book(res(5, 1, expiry=NOW)), 1, "TAG1", None, world(RE), True, None),
    ("the reserved idTag may start elsewhere without using its reservation",
     ON_1, 2, "TAG1", None, world(RE, AV), True, None),
    ("other connectors stay usable beside a reserved one", ON_1, 2, "TAG2", None, world(RE, AV),
     True, None),
    ("a faulted connector does not start", ON_1, 1, "TAG1", None, world(FA), False, None),
    ("a charging connector does not start", book(), 1, "TAG1", None, world(CH), False, None),
    ("nothing starts on an unavailable charge point", book(), 1, "TAG1", None,
     world(AV, cp=UN), False, None),
    ("an unknown connector does not start", book(), 2, "TAG1", None, world(AV), False, None),
    ("the connectorId 0 idTag uses its reservation on any free connector (TC_049)",
     ON_0, 1, "WIDE", None, world(AV, UN), True, 9),
    ("the connectorId 0 idTag may use a connector another user prepared",
     ON_0, 2, "WIDE", None, world(AV, PR), True, 9),
    ("another idTag may not take the last free connector from connectorId 0",
     ON_0, 1, "TAG2", None, world(AV, UN), False, None),
    ("another idTag may start when a free connector remains for connectorId 0",
     ON_0, 1, "TAG2", None, world(AV, AV), True, None),
    ("another idTag may start on a prepared connector when one stays free",
     ON_0, 2, "TAG2", None, world(AV, PR), True, None),
    ("two connectorId 0 reservations keep two connectors free",
     book(res(9, 0, "A"), res(10, 0, "B")), 1, "C", None, world(AV, AV, UN), False, None),
    ("a third idTag may start when two connectors stay free for connectorId 0",
     book(res(9, 0, "A"), res(10, 0, "B")), 1, "C", None, world(AV, AV, AV), True, None),
    ("of two matching connectorId 0 reservations the lowest id is used",
     book(res(10, 0, "A"), res(9, 0, "A")), 1, "A", None, world(AV, AV), True, 9),
    ("a connector reservation wins over a connectorId 0 reservation of the same idTag",
     book(res(9, 0, "A"), res(5, 1, "A")), 1, "A", None, world(RE, AV), True, 5),
]


@pytest.mark.parametrize(
    ("current", "connector", "tag", "parent", "statuses", "allowed", "used"),
    [pytest.param(*row[1:], id=row[0]) for row in START_ROWS],
)
def test_start_transaction_decides_who_may_start(
    current: ReservationBook, connector: int, tag: str, parent: str | None,
    statuses: dict[int, str], allowed: bool, used: int | None,
) -> None:
    decision = start_transaction(current, connector, tag, parent_id_tag=parent,
                                 statuses=statuses, now=NOW)
    assert (decision.allowed, decision.reservation_id) == (allowed, used)
    if used is not None:
        assert decision.book.get(used) is None  # a used reservation is gone
        assert len(decision.book.reservations) == len(current.reservations) - 1


# (sentence, book, connector, idTag, parentIdTag, reservationId, statuses, words in the reason)
CHECK_ROWS = [
    ("the reservationId of the used reservation passes (TC_046)",
     ON_1, 1, "TAG1", None, 5, world(CH), None),
    ("a group idTag with the reservationId passes (TC_053)",
     GROUP, 1, "TAG2", "GROUP", 5, world(CH), None),
    ("a connectorId 0 reservation used on a connector passes (TC_049)",
     ON_0, 1, "WIDE", None, 9, world(CH, UN), None),
    ("a start after a cancel without reservationId passes (TC_051 step 5)",
     book(), 1, "TAG2", None, None, world(CH), None),
    ("a start after expiry without reservationId passes (TC_047 step 7)",
     book(res(5, 1, expiry=NOW)), 1, "TAG2", None, None, world(CH), None),
    ("using a reservation without its reservationId fails",
     ON_1, 1, "TAG1", None, None, world(CH), "lacks its reservationId"),
    ("using a connectorId 0 reservation without its reservationId fails",
     ON_0, 1, "WIDE", None, None, world(CH, UN), "lacks its reservationId"),
    ("another idTag on the reserved connector fails", ON_1, 1, "TAG2", None, None, world(CH),
     "reservation 5 holds the connector"),
    ("an unknown reservationId fails", ON_1, 1, "TAG1", None, 6, world(CH), "is no reservation"),
    ("a non-integer reservationId fails", ON_1, 1, "TAG1", None, "5", world(CH),
     "is no reservation"),
    ("an expired reservation never authorizes a start",
     book(res(5, 1, expiry=NOW)), 1, "TAG1", None, 5, world(CH), "expired"),
    ("a reservation ended by a fault never authorizes a start",
     ON_1, 1, "TAG1", None, 5, world(CH, cp=FA), "Faulted or Unavailable"),
    ("a reservation of another connector fails", ON_1, 2, "TAG1", None, 5, world(RE, CH),
     "is for connector 1"),
    ("a connectorId 0 reservation used on another's reserved connector fails",
     book(res(5, 1), res(9, 0, "WIDE")), 1, "WIDE", None, 9, world(CH, AV),
     "held by reservation 5"),
    ("a reservationId with a foreign idTag fails", ON_1, 1, "TAG2", None, 5, world(CH),
     "neither its idTag"),
    ("taking the last free connector from connectorId 0 fails",
     ON_0, 1, "TAG2", None, None, world(CH, UN), "1 connectorId 0 reservation(s)"),
    ("a start on an unknown connector fails", book(), 4, "TAG2", None, None, world(CH),
     "no such connector"),
]


@pytest.mark.parametrize(
    ("current", "connector", "tag", "parent", "reservation_id", "statuses", "words"),
    [pytest.param(*row[1:], id=row[0]) for row in CHECK_ROWS],
)
def test_check_start_transaction_judges_the_reservation_id(
    current: ReservationBook, connector: int, tag: str, parent: str | None,
    reservation_id: Any, statuses: dict[int, str], words: str | None,
) -> None:
    reason = check_start_transaction(current, connector, tag, reservation_id,
                                     parent_id_tag=parent, statuses=statuses, now=NOW)
    if words is None:
        assert reason is None
    else:
        assert reason is not None and words in reason, reason


# --- statuses ---------------------------------------------------------------------------

# (sentence, book, connector, statuses, expected status, allowed statuses)
STATUS_ROWS = [
    ("a reserved connector reports Reserved (A7, TC_046 step 3)",
     ON_1, 1, world(AV), RE, {RE}),
    ("a reserved connector with the user present reports Preparing (G2)",
     ON_1, 1, world(PR), PR, {PR}),
    ("an expired reservation shows Available again (G1, TC_047 step 5)",
     book(res(5, 1, expiry=NOW)), 1, world(RE), AV, {AV}),
    ("a faulted reserved connector reports Faulted (G9)", ON_1, 1, world(FA), FA, {FA}),
    ("an unreserved connector reports Available", ON_1, 2, world(RE, AV), AV, {AV}),
    ("the last free connector under connectorId 0 reports Reserved (TC_049 step 3)",
     ON_0, 1, world(AV, UN), RE, {AV, RE}),
    ("a free connector with room to spare under connectorId 0 reports Available",
     ON_0, 1, world(AV, AV), AV, {AV, RE}),
    ("an occupied connector under connectorId 0 keeps its status", ON_0, 2, world(AV, CH), CH,
     {CH}),
    ("connector 0 reports its own status", ON_0, 0, world(AV, cp=AV), AV, {AV}),
    ("an unknown connector has no expected status", ON_1, 3, world(AV), None, set()),
    ("an unparsable status has no expected status", ON_1, 1, world("Bogus"), None, set()),
]


@pytest.mark.parametrize(
    ("current", "connector", "statuses", "expected", "allowed"),
    [pytest.param(*row[1:], id=row[0]) for row in STATUS_ROWS],
)
def test_expected_and_allowed_statuses(current: ReservationBook, connector: int,
                                       statuses: dict[int, str], expected: str | None,
                                       allowed: set[str]) -> None:
    assert expected_status(current, connector, statuses=statuses, now=NOW) == expected
    assert allowed_statuses(current, connector, statuses=statuses, now=NOW) == allowed


def test_free_and_usable_connectors_under_a_connector_zero_reservation() -> None:
    statuses = world(AV, AV, CH)
    assert free_connectors(ON_0, statuses=statuses, now=NOW) == {1, 2}
    assert usable_connectors(ON_0, "WIDE", statuses=statuses, now=NOW) == {1, 2}
    assert usable_connectors(ON_0, "OTHER", statuses=statuses, now=NOW) == {1, 2}
    tight = world(AV, UN, CH)
    assert usable_connectors(ON_0, "OTHER", statuses=tight, now=NOW) == set()
    assert usable_connectors(ON_0, "WIDE", statuses=tight, now=NOW) == {1}


def test_settle_ends_expired_and_inoperative_reservations_only() -> None:
    current = book(res(1, 1, expiry=NOW), res(2, 2), res(3, 3), res(4, 0))
    settled, ended = settle(current, statuses=world(RE, UN, RE), now=NOW)
    assert [r.reservation_id for r in ended] == [1, 2]
    assert [r.reservation_id for r in settled.reservations] == [3, 4]
    assert settle(settled, statuses=world(AV, AV, RE), now=NOW).book is settled
    assert settle(current, statuses=world(RE, RE, RE, cp=FA), now=NOW - HOUR).book == book()


# --- the OCTT scenarios, step by step, with every StatusNotification judged by 4.9 ---------


class Cp:
    """A tiny charge point driven by the model: statuses, book, clock, reported statuses."""

    def __init__(self, *connectors: str, zero: bool = False) -> None:
        self.statuses, self.book, self.now, self.zero = world(*connectors), book(), NOW, zero
        self.reported = {c: ChargePointStatus(expected_status(self.book, c, statuses=self.statuses,
                                                              now=self.now)) for c in self.statuses}

    def notifications(self) -> list[tuple[int, str]]:
        """The StatusNotifications due now; each must be an allowed 4.9 transition."""
        due = []
        for c in sorted(self.statuses):
            status = expected_status(self.book, c, statuses=self.statuses, now=self.now)
            assert status is not None
            if status is not self.reported[c]:
                assert transition_error(c, self.reported[c], status) is None
                self.reported[c] = status
                due.append((c, status.value))
        return due

    def reserve(self, request: Reservation) -> str:
        self.book, status = reserve_now(self.book, request, statuses=self.statuses, now=self.now,
                                        reserve_connector_zero_supported=self.zero)
        return status.value

    def cancel(self, reservation_id: int) -> str:
        self.book, status = cancel_reservation(self.book, reservation_id,
                                               statuses=self.statuses, now=self.now)
        return status.value

    def start(self, connector: int, tag: str, parent: str | None = None) -> int | None | bool:
        """Start if allowed (the connector then charges); the reservationId, or False."""
        decision = start_transaction(self.book, connector, tag, parent_id_tag=parent,
                                     statuses=self.statuses, now=self.now)
        if not decision.allowed:
            return False
        assert check_start_transaction(self.book, connector, tag, decision.reservation_id,
                                       parent_id_tag=parent, statuses=self.statuses,
                                       now=self.now) is None
        self.book, self.statuses[connector] = decision.book, CH
        return decision.reservation_id


def test_tc_046_reservation_of_a_connector_then_charging() -> None:
    cp = Cp(AV, UN)
    assert cp.reserve(res(7, 1)) == "Accepted"
    assert cp.notifications() == [(1, RE)]
    assert cp.start(1, "TAG2") is False  # the driver first swipes another card
    assert cp.notifications() == []
    cp.statuses[1] = PR  # the right card: G2
    assert cp.notifications() == [(1, PR)]
    assert cp.start(1, "TAG1") == 7
    assert cp.notifications() == [(1, CH)]
    assert cp.book == book()


def test_tc_047_reservation_expires_and_another_id_tag_charges() -> None:
    cp = Cp(AV)
    assert cp.reserve(res(7, 1, expiry=NOW + HOUR)) == "Accepted"
    assert cp.notifications() == [(1, RE)]
    cp.now = NOW + HOUR - timedelta(microseconds=1)
    assert cp.notifications() == [] and cp.start(1, "TAG2") is False
    cp.now = NOW + HOUR
    assert cp.notifications() == [(1, AV)]
    assert cp.start(1, "TAG2") is None
    assert check_start_transaction(book(res(7, 1, expiry=NOW + HOUR)), 1, "TAG1", 7,
                                   statuses=cp.statuses, now=cp.now) is not None


@pytest.mark.parametrize(
    ("status", "accept", "answer"),
    [
        pytest.param(FA, True, "Faulted", id="TC_048_1_CS and _CSMS: faulted"),
        pytest.param(PR, True, "Occupied", id="TC_048_2_CS and _CSMS: occupied"),
        pytest.param(UN, True, "Unavailable", id="TC_048_3_CS and _CSMS: unavailable"),
        pytest.param(AV, False, "Rejected", id="TC_048_4_CS and _CSMS: rejected"),
    ],
)
def test_tc_048_a_connector_that_cannot_be_reserved(status: str, accept: bool,
                                                    answer: str) -> None:
    statuses = world(status)
    new_book, got = reserve_now(book(), res(7, 1), statuses=statuses, now=NOW,
                                accept_reservations=accept)
    assert got == answer and new_book == book()
    assert expected_status(new_book, 1, statuses=statuses, now=NOW) == status


def test_tc_049_reservation_of_the_charge_point_then_charging() -> None:
    cp = Cp(AV, UN, zero=True)
    assert cp.reserve(res(7, 0)) == "Accepted"
    assert cp.notifications() == [(1, RE)]
    assert cp.start(1, "OTHER") is False
    cp.statuses[1] = PR
    assert cp.notifications() == [(1, PR)]
    assert cp.start(1, "TAG1") == 7
    assert cp.notifications() == [(1, CH)]


def test_tc_049_with_two_free_connectors_both_stay_usable_until_one_is_left() -> None:
    cp = Cp(AV, AV, zero=True)
    assert cp.reserve(res(7, 0)) == "Accepted"
    assert cp.notifications() == []
    assert cp.start(2, "OTHER") is None
    assert cp.notifications() == [(1, RE), (2, CH)]
    assert cp.start(1, "TAG1") == 7


def test_tc_050_4_connector_zero_without_the_key_is_rejected() -> None:
    assert Cp(AV).reserve(res(7, 0)) == "Rejected"


def test_tc_051_cancel_reservation_then_another_id_tag_charges() -> None:
    cp = Cp(AV)
    cp.reserve(res(7, 1))
    cp.notifications()
    assert cp.cancel(7) == "Accepted"
    assert cp.notifications() == [(1, AV)]
    assert cp.start(1, "TAG2") is None


def test_tc_052_cancelling_an_unknown_reservation_changes_nothing() -> None:
    cp = Cp(AV)
    cp.reserve(res(7, 1))
    cp.notifications()
    assert cp.cancel(8) == "Rejected"
    assert cp.notifications() == [] and cp.book == book(res(7, 1))


def test_tc_053_a_reserved_connector_used_by_the_parent_id_tag_group() -> None:
    cp = Cp(AV, UN)
    assert cp.reserve(res(7, 1, "TAG1", parent="PARENT")) == "Accepted"
    assert cp.notifications() == [(1, RE)]
    cp.statuses[1] = PR
    assert cp.notifications() == [(1, PR)]
    assert cp.start(1, "TAG2", parent="PARENT") == 7
    assert check_start_transaction(book(res(7, 1, "TAG1", parent="PARENT")), 1, "TAG2", None,
                                   parent_id_tag="PARENT", statuses=world(PR, UN),
                                   now=NOW) is not None


# --- payloads -----------------------------------------------------------------------------


def test_reservation_round_trips_through_its_payload() -> None:
    payload = {"connectorId": 1, "expiryDate": "2025-06-01T13:00:00Z", "idTag": "TAG1",
               "reservationId": 7, "parentIdTag": "PARENT"}
    assert Reservation.from_payload(payload) == res(7, 1, "TAG1", parent="PARENT")
    assert Reservation.from_payload(payload).to_payload() == payload
    assert "parentIdTag" not in res(7, 1).to_payload()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"connectorId": 1, "idTag": "A", "reservationId": 1}, id="no expiryDate"),
        pytest.param({"connectorId": "1", "expiryDate": "2025-06-01T13:00:00Z", "idTag": "A",
                      "reservationId": 1}, id="connectorId as a string"),
        pytest.param({"connectorId": 1, "expiryDate": "2025-06-01T13:00:00Z", "idTag": "A",
                      "reservationId": True}, id="reservationId as a bool"),
        pytest.param({"connectorId": 1, "expiryDate": "tomorrow", "idTag": "A",
                      "reservationId": 1}, id="unparsable expiryDate"),
        pytest.param({"connectorId": 1, "expiryDate": "2025-06-01T13:00:00Z", "idTag": "A" * 21,
                      "reservationId": 1}, id="idTag over 20 chars"),
        pytest.param({"connectorId": 1, "expiryDate": "2025-06-01T13:00:00Z", "idTag": "A",
                      "reservationId": 1, "extra": 0}, id="an unknown field"),
        pytest.param([], id="not an object"),
    ],
)
def test_schema_violations_raise_payload_error(payload: Any) -> None:
    with pytest.raises(PayloadError):
        Reservation.from_payload(payload)


def test_programming_errors_raise() -> None:
    with pytest.raises(ValueError):
        Reservation(1, 1, "A", datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        book(res(1, 1), res(2, 1))
    with pytest.raises(ValueError):
        book(res(1, 1), res(1, 2))
    with pytest.raises(ValueError):
        settle(book(), statuses=world(AV), now=datetime(2025, 1, 1))


# --- property: random event sequences agree with an independent replay oracle ------------

DOWN = {"Unavailable", "Faulted"}
ORDER = ["Rejected", "Faulted", "Unavailable", "Occupied"]  # R1, the precedence under test


class Oracle:
    """Reservations as {reservationId: (connector, idTag, parent, expiry minute)}, lower-cased,
    with the free-connector room found by brute force (an injective placement must exist)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.res: dict[int, tuple[int, str, str | None, int]] = {}

    def prune(self, w: dict[int, str], t: int) -> None:
        for rid, (c, _, _, exp) in list(self.res.items()):
            if exp <= t or w[0] in DOWN or (c > 0 and w[c] in DOWN):
                del self.res[rid]

    def free(self, w: dict[int, str], ignoring: int | None = None) -> list[int]:
        held = {v[0] for k, v in self.res.items() if k != ignoring}
        return [c for c in range(1, self.n + 1) if w[0] not in DOWN and c not in held
                and (AV if w[c] == RE else w[c]) == AV]

    def wide(self, ignoring: int | None = None) -> list[int]:
        return sorted(k for k, v in self.res.items() if v[0] == 0 and k != ignoring)

    @staticmethod
    def placeable(slots: list[int], count: int) -> bool:
        return next(itertools.permutations(slots, count), None) is not None

    @staticmethod
    def match(entry: tuple[int, str, str | None, int], tag: str, parent: str | None) -> bool:
        return entry[1] == tag.lower() or (
            entry[2] is not None and parent is not None and entry[2] == parent.lower())

    def expected(self, w: dict[int, str], c: int) -> str | None:
        """Reserved if the connector holds a reservation, or if the connectorId 0 reservations
        could not all be placed without it; otherwise the reported status."""
        if w[c] not in {s.value for s in ChargePointStatus}:
            return None
        base = AV if w[c] == RE else w[c]
        if base != AV or w[0] in DOWN:
            return base
        if any(v[0] == c for v in self.res.values()):
            return RE
        fr, wide = self.free(w), len(self.wide())
        needed = wide and c in fr and not self.placeable([x for x in fr if x != c], wide)
        return RE if needed else AV

    def capacity_ok(self, w: dict[int, str]) -> bool:
        return self.placeable(self.free(w), len(self.wide()))

    def reserve(self, w: dict[int, str], t: int, rid: int, c: int, tag: str, parent: str | None,
                exp: int, accept: bool, zero: bool) -> str:
        self.prune(w, t)
        if not accept or c > self.n or (c == 0 and not zero) or exp <= t:
            return "Rejected"
        holds, fr, wide = set(), self.free(w, rid), len(self.wide(rid))
        own = [w[i] for i in range(1, self.n + 1)]
        if c == 0:
            if w[0] == FA or all(s == FA for s in own):
                holds.add("Faulted")
            if w[0] == UN or all(s in DOWN for s in own):
                holds.add("Unavailable")
            if not self.placeable(fr, wide + 1):
                holds.add("Occupied")
        else:
            if FA in (w[0], w[c]):
                holds.add("Faulted")
            if UN in (w[0], w[c]):
                holds.add("Unavailable")
            if c not in fr or not self.placeable([x for x in fr if x != c], wide):
                holds.add("Occupied")
        for status in ORDER:
            if status in holds:
                return status
        self.res[rid] = (c, tag.lower(), None if parent is None else parent.lower(), exp)
        return "Accepted"

    def cancel(self, w: dict[int, str], t: int, rid: int) -> str:
        self.prune(w, t)
        return "Accepted" if self.res.pop(rid, None) is not None else "Rejected"

    def start(self, w: dict[int, str], t: int, c: int, tag: str,
              parent: str | None) -> tuple[bool, int | None]:
        self.prune(w, t)
        if not 1 <= c <= self.n or w[0] in DOWN or (AV if w[c] == RE else w[c]) not in (AV, PR):
            return False, None
        own = [k for k, v in self.res.items() if v[0] == c]
        if own and self.match(self.res[own[0]], tag, parent):
            del self.res[own[0]]
            return True, own[0]
        if own:
            return False, None
        mine = [k for k in self.wide() if self.match(self.res[k], tag, parent)]
        if mine:
            del self.res[mine[0]]
            return True, mine[0]
        return self.placeable([x for x in self.free(w) if x != c], len(self.wide())), None


TAGS = st.sampled_from(["a", "A", "b", "c"])
PARENTS = st.sampled_from([None, None, "g", "G", "b", "a"])  # b, a: parent equal to a tag
STATUS = st.sampled_from([AV, AV, AV, PR, PR, CH, SEV, SEVSE, FI, RE, UN, UN, FA, FA, "Bogus"])
CONNECTOR = st.sampled_from([0, 0, 1, 1, 1, 2, 2, 3])  # 3 is unknown unless n == 3
RESERVE = st.tuples(st.just("reserve"), st.integers(1, 4), CONNECTOR, TAGS, PARENTS,
                    st.integers(-1, 30), st.sampled_from([True] * 9 + [False]),
                    st.sampled_from([True] * 5 + [False]))
CANCEL = st.tuples(st.just("cancel"), st.integers(0, 5))
TIME = st.tuples(st.just("time"), st.integers(1, 15))
STATUS_CHANGE = st.tuples(st.just("status"), CONNECTOR, STATUS)
START = st.tuples(st.just("start"), CONNECTOR, TAGS, PARENTS)
# a start by the holder (or group) of the i-th live reservation: rare by chance, so asked for
USE = st.tuples(st.just("use"), st.integers(0, 3), st.sampled_from(["tag", "group", "parent"]),
                CONNECTOR)
# the i-th live reservationId asked for again, on its own connector or another (replacement)
AGAIN = st.tuples(st.just("again"), st.integers(0, 3), st.integers(-1, 30), st.booleans(),
                  CONNECTOR)
EVENTS = st.lists(st.one_of(RESERVE, RESERVE, AGAIN, CANCEL, TIME, STATUS_CHANGE, START, USE,
                            USE),
                  min_size=1, max_size=16)
WORLDS = st.tuples(st.integers(1, 3), st.sampled_from([AV] * 5 + [UN, FA]),
                   st.lists(st.sampled_from([AV] * 6 + [PR, CH, FI, RE, UN, FA, "Bogus"]),
                            min_size=3, max_size=3))


@settings(max_examples=300, deadline=None, database=None)
@given(WORLDS, EVENTS)
def test_random_event_sequences_match_the_oracle_and_keep_the_invariants(
    start: tuple[int, str, list[str]], events: list[tuple[Any, ...]]
) -> None:
    n, cp, connectors = start
    w = world(*connectors[:n], cp=cp)
    oracle, current, t = Oracle(n), book(), 0
    for event in events:
        now = NOW + timedelta(minutes=t)
        if event[0] in ("use", "again") and oracle.res:
            rid = sorted(oracle.res)[event[1] % len(oracle.res)]
            conn, tag, parent, _ = oracle.res[rid]
            if event[0] == "again":
                _, _, offset, same, c = event
                event = ("reserve", rid, conn if same else c, tag, parent, offset, True, True)
            else:
                _, _, how, c = event  # the parent presented as an idTag must not match (R7)
                who = {"group": ("other", parent), "parent": (parent, None)}.get(how)
                event = ("start", conn or c, *(who if who and parent else (tag.upper(), None)))
        kind = event[0]
        room_before = oracle.capacity_ok(w)
        before = {c: expected_status(current, c, statuses=w, now=now) for c in range(1, n + 1)}
        if kind == "reserve":
            _, rid, c, tag, parent, offset, accept, zero = event
            request = Reservation(rid, c, tag, now + timedelta(minutes=offset), parent)
            current, status = reserve_now(current, request, statuses=w, now=now,
                                          accept_reservations=accept,
                                          reserve_connector_zero_supported=zero)
            assert status == oracle.reserve(w, t, rid, c, tag, parent, t + offset, accept, zero)
        elif kind == "cancel":
            current, cancelled = cancel_reservation(current, event[1], statuses=w, now=now)
            assert cancelled == oracle.cancel(w, t, event[1])
        elif kind == "time":
            t += event[1]
            now = NOW + timedelta(minutes=t)
            current = settle(current, statuses=w, now=now).book
            oracle.prune(w, t)
        elif kind == "status" and event[1] <= n:
            w[event[1]] = event[2]
            current = settle(current, statuses=w, now=now).book
            oracle.prune(w, t)
        elif kind == "start":
            _, c, tag, parent = event
            decision = start_transaction(current, c, tag, parent_id_tag=parent, statuses=w,
                                         now=now)
            assert (decision.allowed, decision.reservation_id) == oracle.start(w, t, c, tag,
                                                                               parent)
            if decision.reservation is not None:  # an expired reservation never authorizes
                assert now < decision.reservation.expiry_date
                assert check_start_transaction(current, c, tag, None, parent_id_tag=parent,
                                               statuses=w, now=now) is not None
            if decision.allowed:
                assert check_start_transaction(current, c, tag, decision.reservation_id,
                                               parent_id_tag=parent, statuses=w, now=now) is None
                w[c] = CH
            current = decision.book
        assert [r.reservation_id for r in current.reservations] == sorted(oracle.res)
        held = [r.connector_id for r in current.reservations if r.connector_id > 0]
        assert len(held) == len(set(held))  # at most one reservation per connector
        if room_before and kind != "status":  # only the world can break connectorId 0 room
            assert oracle.capacity_ok(w)
            for wide in current.charge_point_wide:
                assert usable_connectors(current, wide.id_tag, parent_id_tag=wide.parent_id_tag,
                                         statuses=w, now=now)
        for c in range(1, n + 1):
            after = expected_status(current, c, statuses=w, now=now)
            assert after == oracle.expected(w, c)
            assert after is None or after in allowed_statuses(current, c, statuses=w, now=now)
            if kind in ("reserve", "cancel", "time") and after is not None:
                assert transition_error(c, before[c], after) is None  # only A7 / G1
