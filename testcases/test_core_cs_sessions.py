"""Core profile, charge point under test: local charging sessions, stopping rules, authorization cache, faults.

Steps labelled "before" are the catalog's Before section (configuration, reusable and
memory states). The plugin's fixtures establish OCTT's common state before each case and
restore it (configuration, transactions, connectors) after it.
"""

from __future__ import annotations

import pytest

from harness.inbox import Expectation
from harness.matching import OneOf
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import (
    Tx, authorized, charging, check_stop_transaction, configure, connector_status, connector_under_test,
    get_configuration, id_tag_cached, require, setting,
)
from testcases.timing import check_not_before


def _start(cs: CentralSystem, cid: int, tag: str, reply_info: dict | None = None) -> Expectation:
    return Expectation("StartTransaction", {"connectorId": cid, "idTag": tag}, lambda p: cs.start_transaction_reply(p, reply_info))


@pytest.mark.core
@pytest.mark.tc("TC_003_CS", "Regular Charging Session - Plugin First")
async def test_tc_003_cs_regular_charging_session_plugin_first(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_003_CS, OCPP 1.6 sections 4.1, 4.8, 4.9.

    Cable first, then identification: the connector goes Preparing, the id is authorized
    with Authorize.req, and the transaction starts (StartTransaction.req and Charging, in
    either order).
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    await sut.act("plug_in", step="1", connector=cid)
    await cs.expect("StatusNotification", step="1-2 (StatusNotification Preparing)", connectorId=cid, status="Preparing")
    await sut.act("present_id_tag", step="3", connector=cid, id_tag=tag)
    await cs.expect("Authorize", step="3-4 (Authorize.req, answered Accepted)", idTag=tag)
    start, _ = await cs.expect_all(_start(cs, cid, tag), connector_status(cid, "Charging"),
                                   step="5-8 (StartTransaction.req, StatusNotification Charging)")


@pytest.mark.core
@pytest.mark.tc("TC_004_1_CS", "Regular Charging Session – Identification First")
async def test_tc_004_1_cs_regular_charging_session_identification_first(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_004_1_CS, OCPP 1.6 sections 4.1, 4.8, 4.9.

    Identification first, then the cable: an authorized id waits for the cable, and
    plugging in starts the transaction (StartTransaction.req and Charging, either order).
    """
    cs, cid = central_system, connector_under_test(sut)
    await configure(cs, sut, "before", {"MeterValueSampleInterval": setting(sut, "meter_value_sample_interval")})
    await authorized(cs, sut, step="1 (Authorized)", connector=cid)
    await sut.act("plug_in", step="2", connector=cid)
    start, _ = await cs.expect_all(_start(cs, cid, sut.id_tags.valid), connector_status(cid, "Charging"),
                                   step="3-6 (StartTransaction.req, StatusNotification Charging)")


@pytest.mark.core
@pytest.mark.tc("TC_004_2_CS", "Regular Charging Session – Identification First - ConnectionTimeOut")
async def test_tc_004_2_cs_identification_first_connection_timeout(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_004_2_CS, OCPP 1.6 sections 4.9 (B1), 9.1.6.

    An authorized id whose cable never comes is given up after ConnectionTimeOut: the
    connector returns to Available, not earlier than the timeout, without a transaction.
    """
    cs, cid = central_system, connector_under_test(sut)
    timeout = int(setting(sut, "connection_timeout"))
    await configure(cs, sut, "before", {"ConnectionTimeOut": timeout})
    auth = await authorized(cs, sut, step="1 (Authorized)", connector=cid)
    back = await cs.expect("StatusNotification", step="2-3 (StatusNotification Available after ConnectionTimeOut)",
                           timeout=timeout + sut.config.timeouts.step, connectorId=cid, status="Available")
    check_not_before("2", "Available after the authorization", auth.arrived + timeout, back, sut.config.timeouts.timing_tolerance,
                     f"section 9.1.6: the incipient transaction is cancelled after ConnectionTimeOut ({timeout}s)")


@pytest.mark.core
@pytest.mark.tc("TC_068_CS", "Stop transaction - IdTag in StopTransaction matches IdTag in StartTransaction")
async def test_tc_068_cs_stop_transaction_idtag_matches(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_068_CS, OCPP 1.6 sections 3.4, 3.10, 4.10.

    Only the id tag that started a transaction stops it when the tag has no group:
    another valid tag is ignored (no Authorize.req, no StopTransaction.req).
    Reading: the harness answers the Charging state's StartTransaction without a
    parentIdTag, so the charge point has no group to check and no reason to ask.
    """
    cs, cid = central_system, connector_under_test(sut)
    tx = await charging(cs, sut, step="before (Charging)", connector=cid, id_tag_info={"status": "Accepted"})
    await sut.act("present_id_tag", step="1", connector=cid, id_tag=sut.id_tags.valid_2)
    wait = float(setting(sut, "transaction_duration"))
    await cs.expect_none("Authorize", step="1 (no Authorize.req for a different idTag)", within=wait)
    await cs.expect_none("StopTransaction", step="1 (no StopTransaction.req for a different idTag)", within=0.1)
    await sut.act("present_id_tag", step="3", connector=cid, id_tag=tx.id_tag)
    stop, _ = await cs.expect_all(Expectation("StopTransaction", {"idTag": tx.id_tag}), connector_status(cid, "Finishing"),
                                  step="3-6 (StopTransaction.req with the starting idTag, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "3", tx, ("Local",))


@pytest.mark.core
@pytest.mark.tc("TC_069_CS", "Stop transaction - ParentIdTag in StopTransaction matches ParentIdTag in StartTransaction")
async def test_tc_069_cs_stop_transaction_parent_idtag_matches(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_069_CS, OCPP 1.6 sections 3.4, 3.10, 4.10.

    A different id tag of the same group (same parentIdTag) stops the transaction: the
    charge point asks Authorize.req for it, and stops with that tag (reason Local).
    Assumption: <Configured Valid IdTag 2> shares <Configured parent IdTag> with the valid tag.
    """
    cs, cid, other = central_system, connector_under_test(sut), sut.id_tags.valid_2
    tx = await charging(cs, sut, step="before (Charging)", connector=cid)
    await sut.act("present_id_tag", step="1", connector=cid, id_tag=other)
    await cs.expect("Authorize", step="1-2 (Authorize.req for the other idTag, same parentIdTag)",
                    reply={"idTagInfo": {"status": "Accepted", "parentIdTag": sut.id_tags.parent}}, idTag=other)
    stop, _ = await cs.expect_all(Expectation("StopTransaction", {"idTag": other}), connector_status(cid, "Finishing"),
                                  step="3-6 (StopTransaction.req with the idTag of step 1, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "3", tx, ("Local",))


async def _ev_side_disconnect(cs: CentralSystem, sut: SutHandle, stop: bool, unlock: bool) -> Tx:
    await configure(cs, sut, "before", {"MinimumStatusDuration": 0, "StopTransactionOnEVSideDisconnect": stop,
                                   "UnlockConnectorOnEVSideDisconnect": unlock}, optional=("MinimumStatusDuration",))
    tx = await charging(cs, sut, step="before (Charging)")
    await sut.act("unplug_ev_side", step="1", connector=tx.connector)
    return tx


@pytest.mark.core
@pytest.mark.tc("TC_005_1_CS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect = true - UnlockConnectorOnEVSideDisconnect = true")
async def test_tc_005_1_cs_ev_side_disconnected_stop_and_unlock(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_005_1_CS, OCPP 1.6 sections 4.10, 9.1.23, 9.1.33.

    With StopTransactionOnEVSideDisconnect and UnlockConnectorOnEVSideDisconnect true,
    unplugging at the EV stops the transaction with reason EVDisconnected and the
    connector goes Finishing (either order).
    """
    require(sut, "fixed_cable", present=False)
    tx = await _ev_side_disconnect(central_system, sut, True, True)
    stop, _ = await central_system.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, "Finishing"),
                                              step="1-4 (StopTransaction.req, StatusNotification Finishing)")
    check_stop_transaction(central_system, stop, "1", tx, ("EVDisconnected",))


@pytest.mark.core
@pytest.mark.tc("TC_005_2_CS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect = true - UnlockConnectorOnEVSideDisconnect = false")
async def test_tc_005_2_cs_ev_side_disconnected_stop_no_unlock(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_005_2_CS, OCPP 1.6 sections 4.10, 5.18, 9.1.23, 9.1.33.

    With StopTransactionOnEVSideDisconnect true and UnlockConnectorOnEVSideDisconnect
    false, an EV-side unplug stops the transaction (EVDisconnected) but keeps the cable
    locked, so an UnlockConnector afterwards unlocks it (or NotSupported: fixed cable).
    """
    cs = central_system
    tx = await _ev_side_disconnect(cs, sut, True, False)
    stop, status = await cs.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, OneOf("Finishing", "Available")),
                                       step="1-4 (StopTransaction.req, StatusNotification Finishing or Available)")
    check_stop_transaction(cs, stop, "1", tx, ("EVDisconnected",))
    await cs.call("UnlockConnector", {"connectorId": tx.connector}, step="5-6 (UnlockConnector)",
                  expect={"status": OneOf("Unlocked", "NotSupported")})


@pytest.mark.core
@pytest.mark.tc("TC_005_3_CS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect = false - UnlockConnectorOnEVSideDisconnect = false")
async def test_tc_005_3_cs_ev_side_disconnected_no_stop(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_005_3_CS, OCPP 1.6 sections 4.9, 4.10, 5.12, 9.1.23.

    With StopTransactionOnEVSideDisconnect false the transaction survives an EV-side
    unplug (SuspendedEV or SuspendedEVSE); it ends only by RemoteStopTransaction, with
    reason Remote and Finishing (either order). Reading: the info text ("EV side
    disconnected") is free text and is not compared.
    """
    cs = central_system
    keys = await get_configuration(cs, "before (GetConfiguration StopTransactionOnEVSideDisconnect)", "StopTransactionOnEVSideDisconnect")
    if "StopTransactionOnEVSideDisconnect" not in keys:
        pytest.skip("prerequisite not met: StopTransactionOnEVSideDisconnect is not implemented")
    tx = await _ev_side_disconnect(cs, sut, False, False)
    await cs.expect("StatusNotification", step="1-2 (StatusNotification SuspendedEV/SuspendedEVSE, EV side disconnected)",
                    connectorId=tx.connector, status=OneOf("SuspendedEV", "SuspendedEVSE"))
    await cs.call("RemoteStopTransaction", {"transactionId": tx.transaction_id}, step="3-4 (RemoteStopTransaction)",
                  expect={"status": "Accepted"})
    ended = OneOf("Finishing", "Available") if sut.config.extra.get("fixed_cable") else "Finishing"
    stop, status = await cs.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, ended),
                                       step="5-8 (StatusNotification Finishing (Available: fixed cable), StopTransaction.req)")
    check_stop_transaction(cs, stop, "7", tx, ("Remote",))


@pytest.mark.core
@pytest.mark.tc("TC_007_CS", "Regular Start Charging Session – Cached Id")
async def test_tc_007_cs_regular_start_charging_session_cached_id(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_007_CS, OCPP 1.6 sections 3.5.1, 5.11, 9.1.3.

    An id in the authorization cache starts a remotely requested transaction when
    AuthorizeRemoteTxRequests and LocalPreAuthorize are true. Reading: the memory state
    IdTagCached runs before AuthorizeRemoteTxRequests/LocalPreAuthorize are set (its own
    Charging state then needs no Authorize.req); an Authorize.req the charge point may
    still send is answered by default and not required.
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    require(sut, "authorization_cache")
    await configure(cs, sut, "before", {"AuthorizationCacheEnabled": True})
    await id_tag_cached(cs, sut, tag)
    await configure(cs, sut, "before", {"AuthorizeRemoteTxRequests": True, "LocalPreAuthorize": True},
                                optional=("AuthorizeRemoteTxRequests",))
    await sut.act("plug_in", step="1", connector=cid)
    await cs.expect("StatusNotification", step="1-2 (StatusNotification Preparing)", connectorId=cid, status="Preparing")
    await cs.call("RemoteStartTransaction", {"connectorId": cid, "idTag": tag}, step="3-4 (RemoteStartTransaction)",
                  expect={"status": "Accepted"})
    start, _ = await cs.expect_all(_start(cs, cid, tag), connector_status(cid, "Charging"),
                                   step="5-8 (StartTransaction.req, StatusNotification Charging)")


@pytest.mark.core
@pytest.mark.tc("TC_061_CS", "Clear Authorization Data in Authorization Cache")
async def test_tc_061_cs_clear_authorization_cache(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_061_CS, OCPP 1.6 sections 3.5.1, 5.4.

    ClearCache empties the authorization cache: afterwards a tag that was authorized
    before is asked for again with Authorize.req. Reading: catalog steps 1-2 (Preparing)
    are the Preparing of the reusable state Authorized; step 3 presents the tag again.
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    require(sut, "authorization_cache")
    timeout = int(setting(sut, "connection_timeout"))
    await configure(cs, sut, "before", {"AuthorizationCacheEnabled": True, "LocalPreAuthorize": True, "ConnectionTimeOut": timeout})
    await authorized(cs, sut, step="1-2 (Authorized)", connector=cid)
    await sut.act("present_id_tag", step="3", connector=cid, id_tag=tag)
    await cs.expect("StatusNotification", step="3-4 (StatusNotification Available)", timeout=timeout + sut.config.timeouts.step,
                    connectorId=cid, status="Available")
    await cs.call("ClearCache", {}, step="5-6 (ClearCache)", expect={"status": "Accepted"})
    await sut.act("present_id_tag", step="7", connector=cid, id_tag=tag)
    await cs.expect("Authorize", step="7-8 (Authorize.req for the tag of step 1)", idTag=tag)
    await cs.expect("StatusNotification", step="after (Preparing)", connectorId=cid, status="Preparing")
    await cs.expect("StatusNotification", step="after (Available)", timeout=timeout + sut.config.timeouts.step,
                    connectorId=cid, status="Available")


@pytest.mark.core
@pytest.mark.tc("TC_023_CS", "Start Charging Session – Authorize invalid")
async def test_tc_023_cs_start_charging_session_authorize_invalid(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_023_CS, OCPP 1.6 sections 3.5, 4.1.

    An id the central system answers Invalid does not start a transaction: no
    StartTransaction.req within <Configured Transaction Duration>.
    """
    cs, cid, bad = central_system, connector_under_test(sut), sut.id_tags.invalid
    await configure(cs, sut, "before", {"MinimumStatusDuration": 10, "LocalPreAuthorize": True},
                               optional=("MinimumStatusDuration",))
    await sut.act("plug_in", step="1", connector=cid)
    await cs.expect("StatusNotification", step="1-2 (StatusNotification Preparing)", connectorId=cid, status="Preparing")
    await sut.act("present_id_tag", step="3", connector=cid, id_tag=bad)
    await cs.expect("Authorize", step="3-4 (Authorize.req, answered Invalid)", reply={"idTagInfo": {"status": "Invalid"}}, idTag=bad)
    await cs.expect_none("StartTransaction", step="4 (the charge point does NOT start a transaction)",
                         within=float(setting(sut, "transaction_duration")))


@pytest.mark.core
@pytest.mark.tc("TC_024_CS", "Start Charging Session - Lock Failure")
async def test_tc_024_cs_start_charging_session_lock_failure(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_024_CS, OCPP 1.6 sections 4.9, 7.6.

    A remotely started session whose cable cannot be locked reports the connector
    Faulted with errorCode ConnectorLockFailure and starts no transaction. Manual step 9
    ("plugs in the cable halfway") is done as lock_failure followed by plug_in.
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    require(sut, "fixed_cable", present=False)
    require(sut, "lock_failure")
    keys = await get_configuration(cs, "1-2 (GetConfiguration AuthorizeRemoteTxRequests)", "AuthorizeRemoteTxRequests")
    await cs.call("RemoteStartTransaction", {"connectorId": cid, "idTag": tag}, step="3-4 (RemoteStartTransaction)",
                  expect={"status": "Accepted"})
    if keys.get("AuthorizeRemoteTxRequests", {}).get("value", "").lower() == "true":
        await cs.expect("Authorize", step="5-6 (Authorize.req, AuthorizeRemoteTxRequests is true)", idTag=tag)
    await cs.expect("StatusNotification", step="7-8 (StatusNotification Preparing)", connectorId=cid, status="Preparing")
    await sut.act("lock_failure", step="9", connector=cid)
    await sut.act("plug_in", step="9", connector=cid)
    await cs.expect("StatusNotification", step="9-10 (StatusNotification Faulted, ConnectorLockFailure)", connectorId=cid,
                    status="Faulted", errorCode="ConnectorLockFailure")
    await cs.expect_none("StartTransaction", step="10 (the charge point does NOT start a transaction)",
                         within=float(setting(sut, "transaction_duration")))


@pytest.mark.core
@pytest.mark.tc("TC_041_CS", "Fault Behavior")
async def test_tc_041_cs_fault_behavior(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_041_CS, OCPP 1.6 sections 4.9, 7.7.

    A charge point in a fault state reports Faulted and starts no transaction when a
    driver tries. Reading: "set the Charge Point in fault state" is fault_charge_point;
    the Faulted status is checked on <Configured ConnectorId>, where the driver tries.
    """
    cs, cid = central_system, connector_under_test(sut)
    await sut.act("fault_charge_point", step="1")
    await cs.expect("StatusNotification", step="1-2 (StatusNotification Faulted)", connectorId=cid, status="Faulted")
    await sut.act("plug_in", step="3", connector=cid)
    await sut.act("present_id_tag", step="3", connector=cid, id_tag=sut.id_tags.valid)
    await cs.expect_none("StartTransaction", step="3 (the charge point does NOT start a transaction)",
                         within=float(setting(sut, "transaction_duration")))
