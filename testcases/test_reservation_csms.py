"""Reservation profile, central system under test (the harness is the charge point): TC_046_CSMS .. TC_053_CSMS.

The operator of the central system makes it send ReserveNow / CancelReservation (actuator
words ``cs_reserve_now``, ``cs_cancel_reservation``). The harness charge point answers as a
conforming charge point would (:class:`HarnessReservations`, judged by
harness.models.reservation) or as the catalog step says, and fails a request no charge
point could honour: an expiryDate not in the future, an unknown connector, connectorId 0
without ReserveConnectorZeroSupported (R3). The catalog's checks ("=>") are payload patterns.

Every case starts from the reusable state Booted on ``extra.connector_id`` (default 1) with
the configured valid id tag; the harness charge point reports the Reservation profile and
ReserveConnectorZeroSupported true. Transactions a case leaves running are stopped after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

import pytest

from harness.errors import PayloadMismatch
from harness.inbox import Expectation, Received
from harness.matching import Where
from harness.models.local_auth_list import PayloadError
from harness.models.reservation import (
    Reservation, ReservationBook, allowed_statuses, cancel_reservation, reserve_now, settle, start_transaction,
)
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import (
    authorize, booted, check_id_tag_status, fail_on, operator_sends, status, stop_transaction,
)
from testcases.states_reservation import arrives, new_reservation_id, reservation_setting, utcnow


class HarnessReservations:
    """The harness charge point's reservations in one case: it answers the central system by the model."""

    def __init__(self, charge_point: ChargePoint, sut: SutHandle, *, zero_supported: bool = True) -> None:
        self.cp, self.sut = charge_point, sut
        self.zero_supported = zero_supported
        self.book = ReservationBook()
        self.statuses: dict[int, str] = {c: "Available" for c in range(sut.connectors + 1)}
        config = charge_point.configuration  # this case's (reset_state restores it)
        config["ReserveConnectorZeroSupported"] = {"value": str(zero_supported).lower(), "readonly": True}
        profiles = config["SupportedFeatureProfiles"]["value"].split(",")
        if "Reservation" not in profiles:
            config["SupportedFeatureProfiles"]["value"] = ",".join([*profiles, "Reservation"])

    async def report(self, connector: int, state: str, *, step: str) -> None:
        """StatusNotification of the harness charge point (Reserved only where the model allows it)."""
        if state in ("Reserved", "Available") and connector > 0:
            allowed = {s.value for s in allowed_statuses(self.book, connector, statuses=self.statuses, now=utcnow())}
            assert state in allowed, f"harness: {state} on connector {connector} contradicts its book ({allowed})"
        await status(self.cp, connector, state, step=step)
        self.statuses[connector] = state

    def _request_problems(self, request: Reservation, now: datetime) -> list[str]:
        """What no charge point could honour (R3)."""
        found = []
        if request.expired(now):
            found.append(f"expiryDate {request.expiry_date.isoformat()} is not after the current time {now_iso()}: "
                         "the reservation would be over before it began (a charge point answers Rejected)")
        if request.connector_id not in self.statuses:
            found.append(f"connectorId {request.connector_id} is not a connector of this charge point "
                         f"(0..{self.sut.connectors})")
        if request.connector_id == 0 and not self.zero_supported:
            found.append("connectorId 0, but the charge point's ReserveConnectorZeroSupported is false (spec 9.3)")
        return found

    async def operator_reserves(self, step: str, *, answer: str, connector: int, id_tag: str | None = None,
                                parent: str | None = None, seconds: float | None = None,
                                check: Callable[[Reservation, datetime], list[str]] | None = None,
                                **pattern: Any) -> Reservation:
        """The operator makes the central system send ReserveNow; the harness answers ``answer``.

        ``pattern`` is what the catalog step checks; ``check`` adds the step's own rules. A
        request with problems fails the step and is answered as a conforming charge point would.
        """
        tag = id_tag or self.sut.id_tags.valid
        seconds = float(seconds or reservation_setting(self.sut, "reservation_duration"))
        problems: list[str] = []
        made: list[Reservation] = []

        def reply(payload: dict[str, Any]) -> dict[str, str]:
            now = utcnow()
            try:
                request = Reservation.from_payload(payload)
            except PayloadError as exc:
                problems.append(str(exc))
                return {"status": "Rejected"}
            result = reserve_now(self.book, request, statuses=self.statuses, now=now,
                                 reserve_connector_zero_supported=self.zero_supported)
            problems.extend(self._request_problems(request, now) + (check(request, now) if check else []))
            if answer == "Accepted" and result.status.value != "Accepted" and not problems:
                problems.append(f"a charge point in this state answers {result.status.value} to it "
                                f"(statuses {self.statuses}, reservations {list(self.book.reservations)})")
            made.append(request)
            if problems:
                return {"status": result.status.value if result.status.value != "Accepted" else "Rejected"}
            if answer == "Accepted":
                self.book = result.book
            return {"status": answer}

        params = {"connector": connector, "id_tag": tag, "parent_id_tag": parent, "expiry": seconds,
                  "reservation_id": new_reservation_id()}
        await operator_sends(self.cp, self.sut, "cs_reserve_now", "ReserveNow", step=step, reply=reply, params=params,
                             **pattern)
        fail_on(problems, step, "ReserveNow.req", "spec 5.13, 6.37: a reservation of a connector (0: any) until "
                                                  "expiryDate (model reading R3)")
        return made[0]

    async def operator_cancels(self, step: str, reservation_id: int, *, answer: str, **pattern: Any) -> Received:
        """The operator makes the central system send CancelReservation; the model's answer must be ``answer``."""
        problems: list[str] = []

        def reply(payload: dict[str, Any]) -> dict[str, str]:
            result = cancel_reservation(self.book, payload["reservationId"], statuses=self.statuses, now=utcnow())
            if result.status.value != answer:
                problems.append(f"reservationId {payload['reservationId']}: a charge point answers "
                                f"{result.status.value}, the step needs {answer}")
            self.book = result.book
            return {"status": result.status.value}

        got = await operator_sends(self.cp, self.sut, "cs_cancel_reservation", "CancelReservation", step=step,
                                   reply=reply, params={"reservation_id": reservation_id}, **pattern)
        fail_on(problems, step, "CancelReservation.req", "spec 5.1, 7.5: Accepted iff the reservation is held")
        return got

    async def start(self, step: str, connector: int, id_tag: str, reservation: Reservation) -> int:
        """StartTransaction with the reservation's reservationId (spec 4.8); the central system must accept it."""
        decision = start_transaction(self.book, connector, id_tag, parent_id_tag=reservation.parent_id_tag,
                                     statuses=self.statuses, now=utcnow())
        assert decision.reservation_id == reservation.reservation_id, f"harness: {decision} uses no {reservation}"
        payload = {"connectorId": connector, "idTag": id_tag, "meterStart": self.cp.meter_start, "timestamp": now_iso(),
                   "reservationId": reservation.reservation_id}
        reply = await self.cp.call("StartTransaction", payload, step=step)
        check_id_tag_status(step, "StartTransaction.conf", id_tag, reply, "Accepted",  # type: ignore[arg-type]
                            "spec 4.8, 5.13: the transaction uses the reservation the central system made for this idTag")
        self.book = decision.book
        tx_id = int(reply["transactionId"])  # type: ignore[index]
        self.cp.transactions[tx_id] = {"connector": connector, "idTag": id_tag, "open": True, "start": utcnow()}
        return tx_id

    async def await_expiry(self, step: str, reservation: Reservation) -> None:
        """Wait for the expiryDate (bounded); a CancelReservation of it meanwhile is answered (a warning)."""
        def reply(payload: dict[str, Any]) -> dict[str, str]:
            result = cancel_reservation(self.book, payload["reservationId"], statuses=self.statuses, now=utcnow())
            self.book = result.book
            return {"status": result.status.value}

        cap = float(reservation_setting(self.sut, "reservation_expiry_seconds")) + self.sut.config.timeouts.clock_deviation
        cancel = Expectation("CancelReservation", {"reservationId": reservation.reservation_id}, reply)
        if not await arrives(self.cp, step, cancel, min(cap, (reservation.expiry_date - utcnow()).total_seconds())):
            self.book = settle(self.book, statuses=self.statuses, now=reservation.expiry_date).book
            return
        await self.cp.expect_all(cancel, step=step)
        left = (reservation.expiry_date - utcnow()).total_seconds()
        self.cp.warn(step, f"the central system cancelled reservation {reservation.reservation_id} {left:.1f}s before "
                           "its expiryDate; the case expects it to expire",
                     "spec 5.1: a central system may cancel a reservation at any time")


def _connector(sut: SutHandle) -> int:
    """<Configured ConnectorId>."""
    return int(sut.config.extra.get("connector_id", 1))


def _same(expected: str) -> Any:
    """An IdToken equal to ``expected`` (CiString: case-insensitive, spec 2.2)."""
    return Where(lambda v: isinstance(v, str) and v.lower() == expected.lower(), f"{expected!r} (case-insensitive)")


def _some_connector(sut: SutHandle) -> Any:
    return Where(lambda v: isinstance(v, int) and 0 < v <= sut.connectors,
                 f"a connectorId other than 0 (1..{sut.connectors})")


async def _start(charge_point: ChargePoint, sut: SutHandle) -> HarnessReservations:
    await booted(charge_point, sut)
    return HarnessReservations(charge_point, sut)


async def _reserve(cp: HarnessReservations, step: str, *, answer: str, connector: int, **kwargs: Any) -> Reservation:
    """The operator reserves ``connector`` for the valid id tag; the catalog checks connectorId and idTag."""
    return await cp.operator_reserves(step, answer=answer, connector=connector, connectorId=connector,
                                      idTag=_same(cp.sut.id_tags.valid), **kwargs)


async def _charging(cp: HarnessReservations, step: str, reservation: Reservation) -> int:
    """Reusable state Charging with the reservation: Preparing (G2), StartTransaction with its reservationId, Charging."""
    c = reservation.connector_id
    await cp.report(c, "Preparing", step=f"{step} (Charging 1-2: StatusNotification Preparing)")
    tx = await cp.start(f"{step} (Charging 3-4: StartTransaction with reservationId {reservation.reservation_id})", c,
                        reservation.id_tag, reservation)
    await cp.report(c, "Charging", step=f"{step} (Charging 5-6: StatusNotification Charging)")
    return tx


@pytest.mark.reservation
@pytest.mark.tc("TC_046_CSMS", "Reservation of a Connector - Transaction")
async def test_tc_046_csms_reservation_of_a_connector_transaction(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_046_CSMS, OCPP 1.6 sections 4.8, 5.13, 6.37.

    The central system reserves <Configured ConnectorId> for <Configured Valid IdTag>
    (Accepted), acknowledges Reserved, and accepts the transaction that uses the reservation
    (StartTransaction.req with its reservationId).
    """
    cp = await _start(charge_point, sut)
    reservation = await _reserve(cp, "1-2 (ReserveNow.req, answered Accepted)", answer="Accepted",
                                 connector=_connector(sut))
    await cp.report(reservation.connector_id, "Reserved", step="3-4 (StatusNotification Reserved)")
    await _charging(cp, "5", reservation)


@pytest.mark.reservation
@pytest.mark.tc("TC_047_CSMS", "Reservation of a Connector - Expire")
async def test_tc_047_csms_reservation_of_a_connector_expire(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_047_CSMS, OCPP 1.6 sections 4.9 (G1), 5.13.

    The reservation's expiryDate is now + ``extra.reservation_expiry_seconds`` (<Configured
    Expiry Date Offset>, within ``timeouts.clock_deviation``); at the expiryDate the harness
    charge point reports Available. A CancelReservation of it before is answered and is a
    warning (the case expects it to expire).
    """
    cp = await _start(charge_point, sut)
    offset = float(reservation_setting(sut, "reservation_expiry_seconds"))
    deviation = sut.config.timeouts.clock_deviation

    def offset_check(request: Reservation, now: datetime) -> list[str]:
        off = (request.expiry_date - (now + timedelta(seconds=offset))).total_seconds()
        if abs(off) <= deviation:
            return []
        return [(f"expiryDate {request.expiry_date.isoformat()} is {off:+.0f}s off the current time + {offset:g}s "
                 f"(<Configured Expiry Date Offset>); at most {deviation:g}s allowed (timeouts.clock_deviation)")]

    reservation = await _reserve(cp, "1-2 (ReserveNow.req, expiryDate now + the configured offset; answered Accepted)",
                                 answer="Accepted", connector=_connector(sut), seconds=offset, check=offset_check)
    await cp.report(reservation.connector_id, "Reserved", step="3-4 (StatusNotification Reserved)")
    await cp.await_expiry("5 (the EV driver does not arrive before the expiryDate)", reservation)
    await cp.report(reservation.connector_id, "Available", step="5-6 (StatusNotification Available)")


@pytest.mark.reservation
@pytest.mark.tc("TC_048_1_CSMS", "Reservation of a Connector - Faulted")
async def test_tc_048_1_csms_reservation_of_a_connector_faulted(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_048_1_CSMS, OCPP 1.6 sections 5.13, 7.40: the central system takes ReserveNow.conf Faulted (it answers it, nothing more)."""
    cp = await _start(charge_point, sut)
    await _reserve(cp, "1-2 (ReserveNow.req, answered Faulted)", answer="Faulted", connector=_connector(sut))


@pytest.mark.reservation
@pytest.mark.tc("TC_048_2_CSMS", "Reservation of a Connector - Occupied")
async def test_tc_048_2_csms_reservation_of_a_connector_occupied(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_048_2_CSMS, OCPP 1.6 sections 5.13, 7.40: a Preparing connector is reserved; the answer is Occupied."""
    cp = await _start(charge_point, sut)
    c = _connector(sut)
    await cp.report(c, "Preparing", step="1-2 (StatusNotification Preparing)")
    await _reserve(cp, "3-4 (ReserveNow.req for the connector of step 1, answered Occupied)", answer="Occupied", connector=c)


@pytest.mark.reservation
@pytest.mark.tc("TC_048_3_CSMS", "Reservation of a Connector - Unavailable")
async def test_tc_048_3_csms_reservation_of_a_connector_unavailable(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_048_3_CSMS, OCPP 1.6 sections 5.2, 5.13, 7.40.

    The central system makes the connector Inoperative (ChangeAvailability), acknowledges
    Unavailable, and then reserves it; the answer is Unavailable.
    """
    cp = await _start(charge_point, sut)
    c = _connector(sut)
    await operator_sends(charge_point, sut, "cs_change_availability", "ChangeAvailability",
                         step="1-2 (ChangeAvailability.req Inoperative)", reply={"status": "Accepted"},
                         params={"connector": c, "type": "Inoperative"}, connectorId=c, type="Inoperative")
    await cp.report(c, "Unavailable", step="3-4 (StatusNotification Unavailable)")
    await _reserve(cp, "5-6 (ReserveNow.req for the connector of step 1, answered Unavailable)", answer="Unavailable",
                   connector=c)


@pytest.mark.reservation
@pytest.mark.tc("TC_048_4_CSMS", "Reservation of a Connector - Rejected")
async def test_tc_048_4_csms_reservation_of_a_connector_rejected(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_048_4_CSMS, OCPP 1.6 sections 5.13, 7.40: the central system takes ReserveNow.conf Rejected."""
    cp = await _start(charge_point, sut)
    await _reserve(cp, "1-2 (ReserveNow.req, answered Rejected)", answer="Rejected", connector=_connector(sut))


@pytest.mark.reservation
@pytest.mark.tc("TC_049_CSMS", "Reservation of a Charge Point - Transaction")
async def test_tc_049_csms_reservation_of_a_charge_point_transaction(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_049_CSMS, OCPP 1.6 sections 5.13, 9.3.

    The central system reserves connectorId 0 (the harness charge point reports
    ReserveConnectorZeroSupported true) and acknowledges Reserved, reported by
    <Configured ConnectorId> (R10 allows it there).
    """
    cp = await _start(charge_point, sut)
    await cp.operator_reserves("1-2 (ReserveNow.req connectorId 0, answered Accepted)", answer="Accepted", connector=0,
                               connectorId=0, idTag=_same(sut.id_tags.valid))
    await cp.report(_connector(sut), "Reserved", step="3-4 (StatusNotification Reserved)")


@pytest.mark.reservation
@pytest.mark.tc("TC_051_CSMS", "Cancel Reservation")
async def test_tc_051_csms_cancel_reservation(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_051_CSMS, OCPP 1.6 sections 4.9 (G1), 5.1: the reservation of step 1 is cancelled by its reservationId."""
    cp = await _start(charge_point, sut)
    reservation = await cp.operator_reserves("1-2 (ReserveNow.req, connectorId not 0; answered Accepted)",
                                             answer="Accepted", connector=_connector(sut), connectorId=_some_connector(sut))
    await cp.report(reservation.connector_id, "Reserved", step="3-4 (StatusNotification Reserved)")
    await cp.operator_cancels("5-6 (CancelReservation.req of the reservation of step 1, answered Accepted)",
                              reservation.reservation_id, answer="Accepted", reservationId=reservation.reservation_id)
    await cp.report(reservation.connector_id, "Available", step="7-8 (StatusNotification Available)")


@pytest.mark.reservation
@pytest.mark.tc("TC_052_CSMS", "Cancel Reservation - Rejected")
async def test_tc_052_csms_cancel_reservation_rejected(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_052_CSMS, OCPP 1.6 sections 5.1, 7.5 (R11).

    The operator cancels a reservationId the charge point does not hold (the one of step 1 +
    1000); the central system's CancelReservation.req must not name the reservation of step 1,
    and takes the answer Rejected.
    """
    cp = await _start(charge_point, sut)
    reservation = await cp.operator_reserves("1-2 (ReserveNow.req, answered Accepted)", answer="Accepted",
                                             connector=_connector(sut), connectorId=_some_connector(sut))
    await cp.report(reservation.connector_id, "Reserved", step="3-4 (StatusNotification Reserved)")
    rid = reservation.reservation_id
    await cp.operator_cancels("5-6 (CancelReservation.req of an unknown reservationId, answered Rejected)", rid + 1000,
                              answer="Rejected", reservationId=Where(lambda v: v != rid, f"a reservationId other "
                                                                                            f"than {rid} (step 1's)"))


@pytest.mark.reservation
@pytest.mark.tc("TC_053_CSMS", "Use a reserved Connector with parentIdTag")
async def test_tc_053_csms_use_a_reserved_connector_with_parent_id_tag(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_053_CSMS, OCPP 1.6 sections 3.10, 4.1, 4.8, 5.13.

    The reservation carries <Configured ParentId>; after a transaction that uses it, a new id
    tag of the same group (<Configured Valid IdTag 2>) is Accepted with that parentIdTag and
    stops the transaction (Local), Finishing.
    """
    cp, tags = await _start(charge_point, sut), sut.id_tags
    reservation = await cp.operator_reserves(
        "1-2 (ReserveNow.req with reservationId, idTag and parentIdTag; answered Accepted)", answer="Accepted",
        connector=_connector(sut), parent=tags.parent, connectorId=_some_connector(sut), idTag=_same(tags.valid),
        parentIdTag=_same(tags.parent))
    await cp.report(reservation.connector_id, "Reserved", step="3-4 (StatusNotification Reserved)")
    tx = await _charging(cp, "5", reservation)
    step = "6-7 (Authorize.req with a new idTag of the reservation's parentIdTag)"
    reply = await authorize(charge_point, tags.valid_2, step=step)
    parent = reply["idTagInfo"].get("parentIdTag")
    if not isinstance(parent, str) or parent.lower() != str(reservation.parent_id_tag).lower():
        raise PayloadMismatch(step, f"Authorize.conf idTagInfo.parentIdTag is {parent!r}; it must be "
                                    f"{reservation.parent_id_tag!r}, the parentIdTag of the reservation of step 1",
                              "spec 3.10, 5.13: id tags of one group share the parentIdTag the reservation names")
    await stop_transaction(charge_point, tx, step="8-9 (StopTransaction.req by the new idTag)", reason="Local",
                           id_tag=tags.valid_2)
    await cp.report(reservation.connector_id, "Finishing", step="10-11 (StatusNotification Finishing)")
