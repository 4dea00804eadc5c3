"""Reservation profile, charge point under test (spec 3.11, 4.8, 4.9, 5.1, 5.13, 6.5, 6.37, 7.40, 9.3): TC_046_1_CS .. TC_053_CS.

Every case keeps a :class:`~testcases.states_reservation.ReservationJudge`: each
StatusNotification the charge point sends is judged against the reservations the harness
made (Reserved while one holds the idle connector, Available once it ended), and each
StartTransaction.req's reservationId against the one it uses (harness.models.reservation,
readings R1-R11). ReserveNow / CancelReservation answers are the catalog's.

Steps labelled "before" are the catalog's Before section. OCTT's common state is established
before each case and restored after it (open reservations cancelled, connectors Available).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from harness.errors import PayloadMismatch, UnexpectedMessage
from harness.inbox import Expectation
from harness.models.connector_status import ChargePointStatus
from harness.models.reservation import Reservation, ReservationBook, allowed_statuses, reserve_now
from harness.ocppj import CallError
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import (
    authorized, connector_status, connector_under_test, get_configuration, set_connector_unavailable,
)
from testcases.states_reservation import (
    RULE, ReservationJudge, arrives, charging_on, expect_with_optional, new_reservation_id, reservation_setting,
    reserved, utcnow,
)


async def _unused_unavailable(cs: CentralSystem, sut: SutHandle, connector: int) -> None:
    """Before: SetConnectorUnavailable for all unused connectors."""
    for c in range(1, sut.connectors + 1):
        if c != connector:
            await set_connector_unavailable(cs, sut, c, step=f"before (SetConnectorUnavailable connector {c})")


async def _zero_judge(cs: CentralSystem, sut: SutHandle) -> ReservationJudge:
    """Prerequisite ReserveConnectorZeroSupported true (skip otherwise); a judge that knows it."""
    keys = await get_configuration(cs, "before (GetConfiguration ReserveConnectorZeroSupported)",
                                   "ReserveConnectorZeroSupported")
    return ReservationJudge(cs, sut, zero_supported=_connector_zero_supported(sut, keys))


def _without_profile(sut: SutHandle) -> None:
    if "reservation" in sut.config.features:
        pytest.skip("prerequisite not met: the charge point supports the Reservation profile (its config lists "
                    "reservation in 'features'); this case needs one without it")


async def _rejected_without_profile(cs: CentralSystem, sut: SutHandle, connector: int) -> None:
    """ReserveNow to a charge point without the profile: Rejected (a CALLERROR NotSupported/NotImplemented: a warning)."""
    seconds = float(reservation_setting(sut, "reservation_duration"))
    request = Reservation(new_reservation_id(), connector, sut.id_tags.valid, utcnow() + timedelta(seconds=seconds))
    statuses = {c: str(cs.connector_status.status(c) or "Available") for c in range(sut.connectors + 1)}
    model = reserve_now(ReservationBook(), request, statuses=statuses, now=utcnow(), accept_reservations=False)
    reply = await cs.call("ReserveNow", request.to_payload(), step="1-2 (ReserveNow.req)", allow_error=True)
    if isinstance(reply, CallError):
        if reply.error_code not in ("NotSupported", "NotImplemented"):
            raise PayloadMismatch("2", f"ReserveNow.req was answered with CALLERROR {reply.error_code}; expected status "
                                       "Rejected (or CALLERROR NotSupported / NotImplemented)")
        cs.warn("2", f"ReserveNow.req was answered with CALLERROR {reply.error_code}; the catalog expects status Rejected",
                "OCPP-J 4.2.3: a message a receiver does not support is answered NotSupported / NotImplemented")
    elif reply["status"] != model.status.value:
        raise PayloadMismatch("2", f"ReserveNow.conf status is {reply['status']!r}; a charge point without the "
                                   f"Reservation profile answers {model.status.value!r} (spec 7.40: Rejected when it is "
                                   "not configured to accept reservations)")


def _connector_zero_supported(sut: SutHandle, keys: dict[str, dict[str, Any]]) -> bool:
    """Prerequisite ReserveConnectorZeroSupported true (spec 9.3): the config's flag and the charge point's key."""
    if not reservation_setting(sut, "reserve_connector_zero"):
        pytest.skip("prerequisite not met: the SUT config (extra.reserve_connector_zero: false) says the charge point "
                    "does not support reservations of connectorId 0")
    value = str(keys.get("ReserveConnectorZeroSupported", {}).get("value", "absent")).lower()
    if value != "true":
        pytest.skip(f"prerequisite not met: the charge point reports ReserveConnectorZeroSupported {value} (spec 9.3); "
                    "the case needs true")
    return True


async def _refused(judge: ReservationJudge, *, step: str, connector: int, id_tag: str) -> None:
    """``id_tag`` is presented at a connector reserved for another: no Preparing, no StartTransaction.req (5.13).

    Watched for ``reservation_refusal_window`` seconds. An Authorize.req for it is answered
    (as the tag is judged: Accepted) and is a warning: the reservation has no parentIdTag to
    compare, and the catalog's Authorize.req is for the reserved idTag only.
    """
    cs, sut = judge.cs, judge.sut
    first = len(cs.inbox.items)
    await sut.act("present_id_tag", step=step, connector=connector, id_tag=id_tag)
    await cs.actuations_done(step)
    deadline = time.monotonic() + float(reservation_setting(sut, "reservation_refusal_window"))
    asked = Expectation("Authorize", {"idTag": id_tag})
    while (remaining := deadline - time.monotonic()) > 0:
        claimed = await expect_with_optional(cs, step, [], [asked], timeout=0.0)
        if claimed:
            cs.warn(step, f"the charge point sent Authorize.req for idTag {id_tag!r}, which cannot use the reservation",
                    "spec 5.13: an Authorize.req is needed only to learn a parentIdTag; this reservation has none")
        for item in cs.inbox.items[first:]:
            if item.action == "StartTransaction" or (item.action == "StatusNotification" and item.payload.get(
                    "connectorId") == connector and item.payload.get("status") == "Preparing"):
                what = "StatusNotification.req (Preparing)" if item.action != "StartTransaction" else "StartTransaction.req"
                raise UnexpectedMessage(step, f"the charge point sent {what} for idTag {id_tag!r} on connector "
                                              f"{connector}, which a reservation for another idTag holds: it must refuse "
                                              "to charge", f"payload: {item.payload}\n"
                                        f"{RULE}: only the reservation's idTag or parentIdTag may use it")
        await cs.inbox.changed(remaining)
    judge.audit(step)


# -- reservation of a connector -----------------------------------------------------------------------------
@pytest.mark.reservation
@pytest.mark.tc("TC_046_1_CS", "Reservation of a Connector - Local start transaction")
async def test_tc_046_1_cs_reservation_of_a_connector_local_start(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_046_1_CS, OCPP 1.6 sections 4.8, 4.9 (A7, G2), 5.13.

    The reserved connector refuses another valid card (no Preparing, no StartTransaction.req
    within ``extra.reservation_refusal_window``); the reserved idTag then charges on it:
    Authorize.req (optional), Preparing, StartTransaction.req with the reservationId, Charging.
    Readings: the other card is <Configured Valid IdTag 2>; an Authorize.req for it is a
    warning (the reservation has no parentIdTag to compare it with, R7).
    """
    cs, cid, tags = central_system, connector_under_test(sut), sut.id_tags
    judge = ReservationJudge(cs, sut)
    await _unused_unavailable(cs, sut, cid)
    reservation = await reserved(judge, step="", connector=cid)
    await _refused(judge, step="5 (a card other than the reserved idTag: refused)", connector=cid, id_tag=tags.valid_2)
    await sut.act("present_id_tag", step="5", connector=cid, id_tag=tags.valid)
    label = "5-8 (Authorize.req for the reserved idTag (optional), StatusNotification Preparing)"
    claimed = await expect_with_optional(cs, label, [connector_status(cid, "Preparing")],
                                         [Expectation("Authorize", {"idTag": tags.valid})])
    judge.audit(label, *claimed)
    await sut.act("plug_in", step="9", connector=cid)
    await judge.started("9-12 (StartTransaction.req with the reservationId, StatusNotification Charging)", cid,
                        tags.valid, reservation)


@pytest.mark.reservation
@pytest.mark.tc("TC_046_2_CS", "Reservation of a Connector - Remote start transaction")
async def test_tc_046_2_cs_reservation_of_a_connector_remote_start(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_046_2_CS, OCPP 1.6 sections 4.8, 4.9 (A7, G2), 5.11, 5.13.

    After the reservation, the reusable state Charging on the reserved connector: the cable
    keeps it Reserved (or Preparing), RemoteStartTransaction for the reserved idTag, Preparing,
    StartTransaction.req with the reservation's idTag and reservationId, Charging.
    """
    cs, cid = central_system, connector_under_test(sut)
    judge = ReservationJudge(cs, sut)
    reservation = await reserved(judge, step="", connector=cid)
    await charging_on(judge, step="5 (Charging)", connector=cid, id_tag=sut.id_tags.valid, reservation=reservation,
                      authorize_optional=True)


@pytest.mark.reservation
@pytest.mark.tc("TC_047_CS", "Reservation of a Connector - Expire")
async def test_tc_047_cs_reservation_of_a_connector_expire(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_047_CS, OCPP 1.6 sections 4.9 (G1), 5.13.

    A reservation of ``extra.reservation_expiry_seconds`` (<Configured Reservation Expiry Date
    Offset>) ends at its expiryDate: the connector reports Available, not before the expiryDate
    (``timing_tolerance``), and another valid idTag then charges on it without a reservationId.
    """
    cs, cid = central_system, connector_under_test(sut)
    judge = ReservationJudge(cs, sut)
    await _unused_unavailable(cs, sut, cid)
    reservation = await judge.reserve_now("1-2 (ReserveNow.req, expiryDate now + the configured offset; Accepted)", cid,
                                          expected="Accepted", seconds=float(reservation_setting(
                                              sut, "reservation_expiry_seconds")))
    await judge.expect_status("3-4 (StatusNotification Reserved)", cid, "Reserved")
    left = max(0.0, (reservation.expiry_date - utcnow()).total_seconds())
    await judge.expect_status("5-6 (StatusNotification Available after the expiryDate)", cid, "Available",
                              timeout=left + sut.config.timeouts.step)
    await charging_on(judge, step="7 (Charging with another valid idTag)", connector=cid, id_tag=sut.id_tags.valid_2,
                      reservation=None, authorize_optional=False)


@pytest.mark.reservation
@pytest.mark.tc("TC_048_1_CS", "Reservation of a Connector - Faulted")
async def test_tc_048_1_cs_reservation_of_a_connector_faulted(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_048_1_CS, OCPP 1.6 sections 5.13, 7.40: a Faulted connector answers ReserveNow with Faulted (R1)."""
    cs, cid = central_system, connector_under_test(sut)
    judge = ReservationJudge(cs, sut)
    await sut.act("fault_connector", step="before (SetConnectorFaulted)", connector=cid)
    await cs.expect("StatusNotification", step="before (SetConnectorFaulted) 1-2 (StatusNotification Faulted)",
                    connectorId=cid, status="Faulted")
    await judge.reserve_now("1-2 (ReserveNow.req, status Faulted)", cid, expected="Faulted")


@pytest.mark.reservation
@pytest.mark.tc("TC_048_2_CS", "Reservation of a Connector - Occupied")
async def test_tc_048_2_cs_reservation_of_a_connector_occupied(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_048_2_CS, OCPP 1.6 sections 5.13, 7.40: a connector in use (Preparing) answers ReserveNow with Occupied (R1)."""
    cs, cid = central_system, connector_under_test(sut)
    judge = ReservationJudge(cs, sut)
    await sut.act("plug_in", step="before (SetConnectorOccupied)", connector=cid)
    await cs.expect("StatusNotification", step="before (SetConnectorOccupied) 1-2 (StatusNotification Preparing)",
                    connectorId=cid, status="Preparing")
    await judge.reserve_now("1-2 (ReserveNow.req, status Occupied)", cid, expected="Occupied")


@pytest.mark.reservation
@pytest.mark.tc("TC_048_3_CS", "Reservation of a Connector - Unavailable")
async def test_tc_048_3_cs_reservation_of_a_connector_unavailable(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_048_3_CS, OCPP 1.6 sections 5.2, 5.13, 7.40: an Unavailable connector answers ReserveNow with Unavailable (R1)."""
    cs, cid = central_system, connector_under_test(sut)
    judge = ReservationJudge(cs, sut)
    await set_connector_unavailable(cs, sut, cid, step="before (SetConnectorUnavailable)")
    await judge.reserve_now("1-2 (ReserveNow.req, status Unavailable)", cid, expected="Unavailable")


@pytest.mark.reservation
@pytest.mark.also_without_profile
@pytest.mark.tc("TC_048_4_CS", "Reservation of a Connector - Rejected")
async def test_tc_048_4_cs_reservation_of_a_connector_rejected(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_048_4_CS, OCPP 1.6 sections 5.13, 7.40.

    A charge point without the Reservation profile answers ReserveNow with Rejected (R1). Its
    prerequisite is a charge point without the profile: one whose config lists it skips this case.
    """
    _without_profile(sut)
    await _rejected_without_profile(central_system, sut, connector_under_test(sut))


# -- reservation of the charge point (connectorId 0) -----------------------------------------------------------
@pytest.mark.reservation
@pytest.mark.tc("TC_049_CS", "Reservation of a Charge Point - Transaction")
async def test_tc_049_cs_reservation_of_a_charge_point_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_049_CS, OCPP 1.6 sections 4.8, 5.13, 9.3.

    With one connector left (the others Unavailable), a connectorId 0 reservation makes it
    Reserved, and the reserved idTag's transaction on it carries the reservationId. Reading
    R10: the spec does not say which connector shows Reserved for connectorId 0; the model
    expects it here, and a charge point that stays Available passes with a warning.
    """
    cs, cid = central_system, connector_under_test(sut)
    judge = await _zero_judge(cs, sut)
    await _unused_unavailable(cs, sut, cid)
    reservation = await judge.reserve_now("1-2 (ReserveNow.req connectorId 0, status Accepted)", 0, expected="Accepted")
    step = "3-4 (StatusNotification Reserved)"
    judge.audit(step)
    optional = ChargePointStatus.AVAILABLE in allowed_statuses(judge.book, cid, statuses=judge.statuses, now=utcnow())
    if not optional or await arrives(cs, step, connector_status(cid, "Reserved"), sut.config.timeouts.step):
        await judge.expect_status(step, cid, "Reserved")
    else:
        cs.warn(step, f"connector {cid} did not report Reserved for the connectorId 0 reservation",
                "spec 5.13 does not say which connector shows Reserved for connectorId 0 (model reading R10)")
    await charging_on(judge, step="5 (Charging on the reserved connector)", connector=cid, id_tag=sut.id_tags.valid,
                      reservation=reservation, authorize_optional=True)


async def _zero_reserve(judge: ReservationJudge, expected: str) -> None:
    await judge.reserve_now(f"1-2 (ReserveNow.req connectorId 0, status {expected})", 0, expected=expected)


@pytest.mark.reservation
@pytest.mark.tc("TC_050_1_CS", "Reservation of a Charge Point - Faulted")
async def test_tc_050_1_cs_reservation_of_a_charge_point_faulted(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_050_1_CS, OCPP 1.6 sections 5.13, 7.40: a Faulted charge point answers ReserveNow connectorId 0 with Faulted (R1, R2)."""
    cs = central_system
    judge = await _zero_judge(cs, sut)
    await sut.act("fault_charge_point", step="before (SetChargePointFaulted)")
    await cs.expect("StatusNotification", step="before (SetChargePointFaulted) 1-2 (StatusNotification Faulted)",
                    connectorId=0, status="Faulted")
    await _zero_reserve(judge, "Faulted")


@pytest.mark.reservation
@pytest.mark.tc("TC_050_2_CS", "Reservation of a Charge Point - Occupied")
async def test_tc_050_2_cs_reservation_of_a_charge_point_occupied(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_050_2_CS, OCPP 1.6 sections 5.13, 7.40: with every connector in use, ReserveNow connectorId 0 is Occupied (R2, R6)."""
    cs = central_system
    judge = await _zero_judge(cs, sut)
    for c in range(1, sut.connectors + 1):
        await sut.act("plug_in", step=f"before (SetConnectorOccupied connector {c})", connector=c)
    await cs.expect_all(*[connector_status(c, "Preparing") for c in range(1, sut.connectors + 1)],
                        step="before (SetConnectorOccupied for all connectors) 1-2 (StatusNotification Preparing)")
    await _zero_reserve(judge, "Occupied")


@pytest.mark.reservation
@pytest.mark.tc("TC_050_3_CS", "Reservation of a Charge Point - Unavailable")
async def test_tc_050_3_cs_reservation_of_a_charge_point_unavailable(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_050_3_CS, OCPP 1.6 sections 5.2, 5.13, 7.40: an Unavailable charge point answers ReserveNow connectorId 0 with Unavailable."""
    cs = central_system
    judge = await _zero_judge(cs, sut)
    await set_connector_unavailable(cs, sut, 0, step="before (SetChargePointUnavailable)")
    await _zero_reserve(judge, "Unavailable")


@pytest.mark.reservation
@pytest.mark.also_without_profile
@pytest.mark.tc("TC_050_4_CS", "Reservation of a Charge Point - Rejected")
async def test_tc_050_4_cs_reservation_of_a_charge_point_rejected(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_050_4_CS, OCPP 1.6 sections 5.13, 7.40, 9.3.

    A charge point without the Reservation profile answers ReserveNow connectorId 0 with
    Rejected. Its prerequisite is a charge point without the profile: one whose config lists it
    skips this case.
    """
    _without_profile(sut)
    await _rejected_without_profile(central_system, sut, 0)


# -- cancel, parentIdTag ------------------------------------------------------------------------------------
@pytest.mark.reservation
@pytest.mark.tc("TC_051_CS", "Cancel Reservation")
async def test_tc_051_cs_cancel_reservation(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_051_CS, OCPP 1.6 sections 4.9 (G1), 5.1, 5.13.

    CancelReservation of the reservation is Accepted, the connector reports Available, and
    <Configured Valid IdTag 2> then charges on it without a reservationId.
    """
    cs, cid = central_system, connector_under_test(sut)
    judge = ReservationJudge(cs, sut)
    reservation = await reserved(judge, step="before (Reserved) ", connector=cid)
    await judge.cancel("1-2 (CancelReservation.req, status Accepted)", reservation.reservation_id, expected="Accepted")
    await judge.expect_status("3-4 (StatusNotification Available)", cid, "Available")
    await charging_on(judge, step="5 (Charging with <Configured Valid IdTag 2>)", connector=cid,
                      id_tag=sut.id_tags.valid_2, reservation=None, authorize_optional=False)


@pytest.mark.reservation
@pytest.mark.tc("TC_052_CS", "Cancel Reservation - Rejected")
async def test_tc_052_cs_cancel_reservation_rejected(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_052_CS, OCPP 1.6 sections 5.1, 7.5 (R11).

    CancelReservation of a reservationId the charge point does not hold is Rejected, and the
    reservation it holds stays: no StatusNotification Available within
    ``extra.reservation_refusal_window``.
    """
    cs, cid = central_system, connector_under_test(sut)
    judge = ReservationJudge(cs, sut)
    reservation = await reserved(judge, step="before (Reserved) ", connector=cid)
    unknown = reservation.reservation_id + 1000 + new_reservation_id()
    await judge.cancel("1-2 (CancelReservation.req of an unknown reservationId, status Rejected)", unknown,
                       expected="Rejected")
    step = "2 (the reservation stays: no StatusNotification Available)"
    await cs.expect_none("StatusNotification", step=step, within=float(reservation_setting(
        sut, "reservation_refusal_window")), connectorId=cid, status="Available")
    judge.audit(step)


@pytest.mark.reservation
@pytest.mark.tc("TC_053_CS", "Use a reserved Connector with parentIdTag")
async def test_tc_053_cs_use_a_reserved_connector_with_parent_id_tag(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_053_CS, OCPP 1.6 sections 3.10, 4.8, 5.13.

    A reservation for <Configured Valid IdTag 1> with parentIdTag <Configured ParentId> is
    used by <Configured Valid IdTag 2>, whose Authorize.conf gives the same parentIdTag (R7):
    Preparing, and its StartTransaction.req carries the reservationId.
    """
    cs, cid, tags = central_system, connector_under_test(sut), sut.id_tags
    judge = ReservationJudge(cs, sut)
    await _unused_unavailable(cs, sut, cid)
    reservation = await judge.reserve_now("1-2 (ReserveNow.req with parentIdTag, status Accepted)", cid,
                                          expected="Accepted", parent=tags.parent)
    await judge.expect_status("3-4 (StatusNotification Reserved)", cid, "Reserved")
    auth = await authorized(cs, sut, step="5 (Authorized with <Configured Valid IdTag 2>)", id_tag=tags.valid_2,
                            connector=cid)
    judge.audit("5 (Authorized with <Configured Valid IdTag 2>)", auth)
    await sut.act("plug_in", step="6", connector=cid)
    await judge.started("7-10 (StartTransaction.req with the reservationId, StatusNotification Charging)", cid,
                        tags.valid_2, reservation)
