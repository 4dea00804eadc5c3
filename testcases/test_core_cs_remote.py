"""Core profile, charge point under test: remote start/stop, reset and unlock (spec 5.11, 5.12, 5.14, 5.18).

Steps labelled "before" are the catalog's Before section; "after" leaves the charge
point idle for the next case.
"""

from __future__ import annotations

import pytest

from harness.errors import PayloadMismatch, StepTimeout
from harness.inbox import Expectation, Received
from harness.matching import OneOf
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import (
    connector_status,
    boot_statuses, charging, check_stop_transaction, configure, connector_under_test, get_configuration,
    require, setting, unplug_to_available,
)
from testcases.timing import check_not_before


@pytest.mark.core
@pytest.mark.tc("TC_010_CS", "Remote Start Charging Session – Cable Plugged in First")
async def test_tc_010_cs_remote_start_cable_plugged_in_first(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_010_CS, OCPP 1.6 sections 5.11, 4.8: the reusable state Charging (cable first, then RemoteStartTransaction)."""
    await charging(central_system, sut, step="1 (Charging)")


async def _remote_start_first(cs: CentralSystem, sut: SutHandle) -> Received:
    """Catalog steps 1-8 of TC_011_1/TC_011_2; returns the Preparing StatusNotification."""
    cid, tag = connector_under_test(sut), sut.id_tags.valid
    keys = await get_configuration(cs, "1-2 (GetConfiguration AuthorizeRemoteTxRequests)", "AuthorizeRemoteTxRequests")
    if "AuthorizeRemoteTxRequests" not in keys:
        raise PayloadMismatch("2", "GetConfiguration.conf does not carry AuthorizeRemoteTxRequests (a required Core key)")
    await cs.call("RemoteStartTransaction", {"connectorId": cid, "idTag": tag}, step="3-4 (RemoteStartTransaction)",
                  expect={"status": "Accepted"})
    if keys["AuthorizeRemoteTxRequests"].get("value", "").lower() == "true":
        await cs.expect("Authorize", step="5-6 (Authorize.req, AuthorizeRemoteTxRequests is true)", idTag=tag)
    return await cs.expect("StatusNotification", step="7-8 (StatusNotification Preparing)", connectorId=cid, status="Preparing")


@pytest.mark.core
@pytest.mark.tc("TC_011_1_CS", "Remote Start Charging Session – Remote Start First")
async def test_tc_011_1_cs_remote_start_first(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_011_1_CS, OCPP 1.6 sections 5.11, 9.1.3.

    RemoteStartTransaction before the cable: the charge point authorizes the id if
    AuthorizeRemoteTxRequests says so, goes Preparing, and starts when the cable comes.
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    await _remote_start_first(cs, sut)
    await sut.act("plug_in", step="9", connector=cid)
    await cs.expect("StartTransaction", step="9-10 (StartTransaction.req)", connectorId=cid, idTag=tag)
    await cs.expect("StatusNotification", step="11-12 (StatusNotification Charging)", connectorId=cid, status="Charging")


@pytest.mark.core
@pytest.mark.tc("TC_011_2_CS", "Remote Start Charging Session – Time Out")
async def test_tc_011_2_cs_remote_start_time_out(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_011_2_CS, OCPP 1.6 sections 5.11, 9.1.6.

    An accepted RemoteStartTransaction whose cable never comes is given up after
    ConnectionTimeOut: Available again, not earlier than the timeout.
    """
    cs, cid = central_system, connector_under_test(sut)
    timeout = int(setting(sut, "connection_timeout"))
    await configure(cs, sut, "before", {"ConnectionTimeOut": timeout})
    preparing = await _remote_start_first(cs, sut)
    back = await cs.expect("StatusNotification", step="9-10 (StatusNotification Available after ConnectionTimeOut)",
                           timeout=timeout + sut.config.timeouts.step, connectorId=cid, status="Available")
    check_not_before("9", "Available after Preparing", preparing.arrived + timeout, back, sut.config.timeouts.timing_tolerance,
                     f"section 9.1.6: the incipient transaction is cancelled after ConnectionTimeOut ({timeout}s)")


@pytest.mark.core
@pytest.mark.tc("TC_012_CS", "Remote Stop Charging Session")
async def test_tc_012_cs_remote_stop_charging_session(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_012_CS, OCPP 1.6 sections 5.12, 4.10: RemoteStopTransaction ends the transaction with reason Remote."""
    cs = central_system
    tx = await charging(cs, sut, step="before (Charging)")
    await cs.call("RemoteStopTransaction", {"transactionId": tx.transaction_id}, step="1-2 (RemoteStopTransaction)",
                  expect={"status": "Accepted"})
    stop, _ = await cs.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, "Finishing"),
                                  step="3-6 (StopTransaction.req, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "3", tx, ("Remote",))


@pytest.mark.core
@pytest.mark.tc("TC_026_CS", "Remote Start Charging Session – Rejected")
async def test_tc_026_cs_remote_start_rejected(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_026_CS, OCPP 1.6 section 5.11: a RemoteStartTransaction for a connector that is charging is Rejected."""
    cs = central_system
    await configure(cs, sut, "before", {"LocalPreAuthorize": False})
    tx = await charging(cs, sut, step="before (Charging)")
    await cs.call("RemoteStartTransaction", {"connectorId": tx.connector, "idTag": sut.id_tags.valid_2},
                  step="1-2 (RemoteStartTransaction on the charging connector)", expect={"status": "Rejected"})


@pytest.mark.core
@pytest.mark.tc("TC_027_CS", "Remote start transaction - connector id shall not be 0")
async def test_tc_027_cs_remote_start_connector_id_zero(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_027_CS, OCPP 1.6 section 6.33: connectorId 0 in RemoteStartTransaction is refused (Rejected or a CALLERROR)."""
    reply = await central_system.call("RemoteStartTransaction", {"connectorId": 0, "idTag": sut.id_tags.valid},
                                      step="1-2 (RemoteStartTransaction connectorId 0)", allow_error=True)
    if isinstance(reply, dict) and reply["status"] != "Rejected":
        raise PayloadMismatch("2", f"RemoteStartTransaction.conf status is {reply['status']!r} for connectorId 0; "
                                   "expected Rejected (or a CALLERROR): section 6.33 says connectorId SHALL be > 0")


@pytest.mark.core
@pytest.mark.tc("TC_028_CS", "Remote Stop Transaction – Rejected")
async def test_tc_028_cs_remote_stop_transaction_rejected(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_028_CS, OCPP 1.6 section 5.12: RemoteStopTransaction for an unknown transactionId is Rejected."""
    cs = central_system
    await charging(cs, sut, step="before (Charging)")
    unknown = max(cs.issued_transactions) + 1000
    await cs.call("RemoteStopTransaction", {"transactionId": unknown}, step=f"1-2 (RemoteStopTransaction {unknown})",
                  expect={"status": "Rejected"})


async def _unavailable_then_reset(cs: CentralSystem, cid: int, kind: str) -> None:
    await cs.call("ChangeAvailability", {"connectorId": cid, "type": "Inoperative"}, step="1-2 (ChangeAvailability Inoperative)",
                  expect={"status": "Accepted"})
    await cs.expect("StatusNotification", step="3-4 (StatusNotification Unavailable)", connectorId=cid, status="Unavailable")
    await cs.call("Reset", {"type": kind}, step=f"5-6 (Reset {kind})", expect={"status": "Accepted"})


async def _operative_again(cs: CentralSystem, cid: int) -> None:
    await cs.call("ChangeAvailability", {"connectorId": cid, "type": "Operative"}, step="11-12 (ChangeAvailability Operative)",
                  expect={"status": "Accepted"})
    await cs.expect("StatusNotification", step="13-14 (StatusNotification Available)", connectorId=cid, status="Available")


@pytest.mark.core
@pytest.mark.tc("TC_013_CS", "Hard Reset Without transaction")
async def test_tc_013_cs_hard_reset_without_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_013_CS, OCPP 1.6 sections 5.2, 5.14, 4.9.

    A hard reset reboots the charge point (BootNotification); a connector set
    Inoperative before stays Unavailable across the reboot (section 5.2), the others
    come back Available.
    """
    cs, cid = central_system, connector_under_test(sut)
    await _unavailable_then_reset(cs, cid, "Hard")
    await cs.expect("BootNotification", step="7-8 (BootNotification.req, answered Accepted)")
    await cs.expect_all(*boot_statuses(sut, {cid: "Unavailable"}), step="9-10 (StatusNotification per connector after boot)")
    await _operative_again(cs, cid)


@pytest.mark.core
@pytest.mark.tc("TC_014_CS", "Soft Reset Without Transaction")
async def test_tc_014_cs_soft_reset_without_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_014_CS, OCPP 1.6 sections 5.2, 5.14.

    As TC_013_CS with a soft reset, where the BootNotification (and so the statuses
    after it) is optional. Reading: a BootNotification not within the step timeout
    means the charge point restarted without one.
    """
    cs, cid = central_system, connector_under_test(sut)
    await _unavailable_then_reset(cs, cid, "Soft")
    try:
        await cs.expect("BootNotification", step="7-8 (BootNotification.req, optional)")
    except StepTimeout:
        pass
    else:
        await cs.expect_all(*boot_statuses(sut, {cid: "Unavailable"}), step="9-10 (StatusNotification per connector after boot)")
    await _operative_again(cs, cid)


@pytest.mark.core
@pytest.mark.tc("TC_015_CS", "Hard Reset With Transaction")
async def test_tc_015_cs_hard_reset_with_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_015_CS, OCPP 1.6 sections 5.14, 4.2.

    A hard reset during a transaction ends it with StopTransaction reason HardReset,
    before or after the reboot's BootNotification; after the boot the connector that
    was charging reports Finishing or Preparing and the others Available. Reading: the
    StopTransaction, the boot and the statuses are one group in any order, because the
    catalog lets the stop come before or after the boot.
    """
    cs = central_system
    tx = await charging(cs, sut, step="before (Charging)")
    await cs.call("Reset", {"type": "Hard"}, step="1-2 (Reset Hard)", expect={"status": "Accepted"})
    got = await cs.expect_all(Expectation("StopTransaction"), Expectation("BootNotification"),
                              *boot_statuses(sut, {tx.connector: OneOf("Finishing", "Preparing")}),
                              step="3-10 (StopTransaction.req HardReset, BootNotification, StatusNotification per connector)")
    check_stop_transaction(cs, got[0], "3", tx, ("HardReset",))


@pytest.mark.core
@pytest.mark.tc("TC_016_CS", "Soft Reset With Transaction")
async def test_tc_016_cs_soft_reset_with_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_016_CS, OCPP 1.6 section 5.14.

    A soft reset stops the transaction gracefully first: StopTransaction reason
    SoftReset and Finishing (either order, spec 4.10); the reboot's BootNotification and
    statuses are optional.
    """
    cs = central_system
    tx = await charging(cs, sut, step="before (Charging)")
    await cs.call("Reset", {"type": "Soft"}, step="1-2 (Reset Soft)", expect={"status": "Accepted"})
    stop, _ = await cs.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, "Finishing"),
                                  step="3-6 (StopTransaction.req SoftReset, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "3", tx, ("SoftReset",))
    try:
        await cs.expect("BootNotification", step="7-8 (BootNotification.req, optional)")
    except StepTimeout:
        pass
    else:
        await cs.expect_all(*boot_statuses(sut, {tx.connector: OneOf("Finishing", "Preparing")}),
                            step="9-10 (StatusNotification per connector after boot)")


@pytest.mark.core
@pytest.mark.tc("TC_017_1_CS", "Unlock connector - no charging session running (Not fixed cable)")
async def test_tc_017_1_cs_unlock_connector_no_session(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_017_1_CS, OCPP 1.6 section 5.18: an idle connector with a lock is Unlocked."""
    require(sut, "fixed_cable", present=False)
    await central_system.call("UnlockConnector", {"connectorId": connector_under_test(sut)}, step="1-2 (UnlockConnector)",
                              expect={"status": "Unlocked"})


@pytest.mark.core
@pytest.mark.tc("TC_017_2_CS", "Unlock connector - no charging session running (Fixed cable)")
async def test_tc_017_2_cs_unlock_connector_no_session_fixed_cable(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_017_2_CS, OCPP 1.6 section 5.18: a fixed cable has no lock to open: NotSupported."""
    require(sut, "fixed_cable")
    await central_system.call("UnlockConnector", {"connectorId": connector_under_test(sut)}, step="1-2 (UnlockConnector)",
                              expect={"status": "NotSupported"})


@pytest.mark.core
@pytest.mark.tc("TC_018_1_CS", "Unlock Connector - With Charging Session (Not fixed cable)")
async def test_tc_018_1_cs_unlock_connector_with_session(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_018_1_CS, OCPP 1.6 sections 5.18, 4.10.

    UnlockConnector on a charging connector first stops the transaction (reason
    UnlockCommand, and Finishing), then unlocks; unplugging makes it Available.
    Reading: StopTransaction and Finishing may come in either order (spec 4.10 does not
    order them; the catalog says so for TC_005_1, TC_012, TC_038).
    """
    cs = central_system
    require(sut, "fixed_cable", present=False)
    tx = await charging(cs, sut, step="before (Charging)")
    await cs.call("UnlockConnector", {"connectorId": tx.connector}, step="1-2 (UnlockConnector)", expect={"status": "Unlocked"})
    stop, _ = await cs.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, "Finishing"),
                                  step="3-6 (StopTransaction.req UnlockCommand, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "3", tx, ("UnlockCommand",))
    await unplug_to_available(cs, sut, tx.connector, step="7-8")


@pytest.mark.core
@pytest.mark.tc("TC_018_2_CS", "Unlock Connector - With Charging Session (Fixed cable)")
async def test_tc_018_2_cs_unlock_connector_with_session_fixed_cable(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_018_2_CS, OCPP 1.6 section 5.18: a fixed cable answers NotSupported, also while charging."""
    cs = central_system
    require(sut, "fixed_cable")
    tx = await charging(cs, sut, step="before (Charging)")
    await cs.call("UnlockConnector", {"connectorId": tx.connector}, step="1-2 (UnlockConnector)", expect={"status": "NotSupported"})


@pytest.mark.core
@pytest.mark.tc("TC_030_CS", "Unlock Connector – Unlock Failure")
async def test_tc_030_cs_unlock_connector_unlock_failure(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_030_CS, OCPP 1.6 section 5.18: a lock that does not open is reported UnlockFailed."""
    cid = connector_under_test(sut)
    require(sut, "lock_failure")
    await sut.act("lock_failure", step="before", connector=cid)
    await central_system.call("UnlockConnector", {"connectorId": cid}, step="1-2 (UnlockConnector)", expect={"status": "UnlockFailed"})


@pytest.mark.core
@pytest.mark.tc("TC_031_CS", "Unlock Connector – Unknown Connector")
async def test_tc_031_cs_unlock_connector_unknown_connector(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_031_CS, OCPP 1.6 section 5.18, errata 3.87.

    An unknown connectorId is answered NotSupported (not UnlockFailed).
    Assumption: <Unknown connectorId> is extra.unknown_connector_id, default connectors + 1.
    """
    unknown = int(sut.config.extra.get("unknown_connector_id", sut.connectors + 1))
    await central_system.call("UnlockConnector", {"connectorId": unknown}, step=f"1-2 (UnlockConnector {unknown})",
                              expect={"status": "NotSupported"})
