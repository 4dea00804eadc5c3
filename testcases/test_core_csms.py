"""Core profile, central system under test (the harness is the charge point): TC_xxx_CSMS.

Boot, charging sessions and remote actions here; configuration, refusals, offline
behaviour and data transfer in ``test_core_csms_flows``.

Every case but TC_001 starts from the reusable state Booted (the catalog leaves it
implicit: OCTT's charge point boots when it connects), on connector 1 with the
configured valid id tag. Steps that need the operator of the central system go
through the actuator vocabulary (``cs_remote_start`` ...). Cases that leave a
transaction running stop it afterwards ("cleanup", not a catalog step, never judged)
so the next case starts without one.

The operator is asked for exact values (connector, id tag, transaction). Where the
catalog's step names none, another value than asked is a warning, unless a conforming
charge point could then not give the step's answer (see ``states_central_system``).
"""

from __future__ import annotations

import pytest

from harness.errors import UnexpectedMessage
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import (
    authorize, authorized, booted, charging, check_current_time, end_open_transactions, operator_sends,
    remote_start, start_transaction, status, stop_transaction,
)

CONNECTOR = 1


def connection_timeout(charge_point: ChargePoint, sut: SutHandle) -> float:
    """The harness charge point's ConnectionTimeOut (its own timer), capped like its heartbeat wait."""
    return min(float(charge_point.configuration["ConnectionTimeOut"]["value"]), sut.config.timeouts.heartbeat_wait_cap)




# -- boot -------------------------------------------------------------------------------------------
@pytest.mark.core
@pytest.mark.tc("TC_001_CSMS", "Cold Boot Charge Point")
async def test_tc_001_csms_cold_boot_charge_point(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_001_CSMS, OCPP 1.6 sections 4.2 (boot), 4.6 (heartbeat), 4.9 (status).

    A central system accepts a booting, known charge point with its real time and
    a usable heartbeat interval, acknowledges the StatusNotification of every
    connector and of connector 0, and answers the heartbeats that follow at that
    interval with its current time. The harness waits the granted interval
    between heartbeats, capped by ``timeouts.heartbeat_wait_cap`` (a central
    system does not judge the charge point's timer here).
    """
    interval = await booted(charge_point, sut, step="1-4")

    wait = min(interval, sut.config.timeouts.heartbeat_wait_cap)
    for n in (1, 2):
        await charge_point.idle(wait, step=f"5 (the charge point's heartbeat timer, {wait:g}s)")
        reply = await charge_point.call("Heartbeat", {}, step=f"5-6 (Heartbeat #{n})")
        check_current_time(f"6 (Heartbeat.conf #{n})", reply["currentTime"], sut.config.timeouts.clock_deviation)


# -- starting and stopping a charging session ---------------------------------------------------------
@pytest.mark.core
@pytest.mark.tc("TC_003_CSMS", "Regular Charging Session - Plugin First")
async def test_tc_003_csms_regular_charging_session_plugin_first(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_003_CSMS, sections 4.1 (Authorize), 4.8 (StartTransaction), 4.9 (status).

    The central system follows a session that begins with the cable: it acknowledges
    Preparing, authorizes the valid id tag, starts the transaction (Accepted, with a
    transaction id) and acknowledges Charging.
    """
    await booted(charge_point, sut)
    await status(charge_point, CONNECTOR, "Preparing", step="1-2")
    await authorize(charge_point, sut.id_tags.valid, step="3-4")
    await start_transaction(charge_point, step="5-6", connector=CONNECTOR, id_tag=sut.id_tags.valid)
    await status(charge_point, CONNECTOR, "Charging", step="7-8")
    await end_open_transactions(charge_point)


@pytest.mark.core
@pytest.mark.tc("TC_004_1_CSMS", "Regular Charging Session – Identification First")
async def test_tc_004_1_csms_regular_charging_session_identification_first(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_004_1_CSMS, sections 4.8, 4.9. The catalog's only step is the reusable state Charging.

    The central system starts a transaction for the valid id tag (Accepted, with a
    transaction id) and acknowledges the connector's Preparing and Charging.
    """
    await booted(charge_point, sut)
    await charging(charge_point, sut, step="1", connector=CONNECTOR)
    await end_open_transactions(charge_point)


@pytest.mark.core
@pytest.mark.tc("TC_004_2_CSMS", "Regular Charging Session – Identification First - ConnectionTimeOut")
async def test_tc_004_2_csms_identification_first_connection_timeout(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_004_2_CSMS, sections 4.9 (B1), 9.1.6 (ConnectionTimeOut).

    After an authorized id tag, no cable arrives: the charge point goes Preparing and,
    when its ConnectionTimeOut expires, Available again. The central system
    acknowledges both and does not insist on a transaction. The harness waits its own
    ConnectionTimeOut (capped by ``timeouts.heartbeat_wait_cap``).
    """
    await booted(charge_point, sut)
    await authorized(charge_point, sut)
    await status(charge_point, CONNECTOR, "Preparing", step="1-2")
    await charge_point.idle(connection_timeout(charge_point, sut), step="3 (the charge point's ConnectionTimeOut)")
    await status(charge_point, CONNECTOR, "Available", step="3-4")


@pytest.mark.core
@pytest.mark.tc("TC_005_1_CSMS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect = true - "
                "UnlockConnectorOnEVSideDisconnect = true")
async def test_tc_005_1_csms_ev_side_disconnected(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_005_1_CSMS, sections 4.9, 4.10, 9.1.23 (StopTransactionOnEVSideDisconnect).

    The EV is unplugged on its side during a transaction: the central system
    acknowledges SuspendedEV, accepts the StopTransaction with reason EVDisconnected,
    and acknowledges Finishing and Available.
    """
    await booted(charge_point, sut)
    tx = await charging(charge_point, sut)
    await status(charge_point, CONNECTOR, "SuspendedEV", step="1-2", info="EV side disconnected")
    await stop_transaction(charge_point, tx, step="3-4", reason="EVDisconnected")
    await status(charge_point, CONNECTOR, "Finishing", step="5-6")
    await status(charge_point, CONNECTOR, "Available", step="7-8")


@pytest.mark.core
@pytest.mark.tc("TC_007_CSMS", "Regular Start Charging Session – Cached Id")
async def test_tc_007_csms_regular_start_cached_id(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_007_CSMS, sections 3.5.1 (authorization cache), 4.8.

    The charge point knows the id tag from its cache and starts without Authorize:
    the central system must verify the tag in StartTransaction itself and accept it,
    not require an Authorize first.
    """
    await booted(charge_point, sut)
    await status(charge_point, CONNECTOR, "Preparing", step="1-2")
    await start_transaction(charge_point, step="3-4", connector=CONNECTOR, id_tag=sut.id_tags.valid)
    await status(charge_point, CONNECTOR, "Charging", step="5-6")
    await end_open_transactions(charge_point)


@pytest.mark.core
@pytest.mark.tc("TC_061_CSMS", "Clear Authorization Data in Authorization Cache")
async def test_tc_061_csms_clear_authorization_cache(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_061_CSMS, section 5.4 (ClearCache).

    The operator can make the central system send ClearCache.req; the charge point answers Accepted.
    """
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_clear_cache", "ClearCache", step="1-2", reply={"status": "Accepted"}, params={})


# -- remote actions -------------------------------------------------------------------------------------
@pytest.mark.core
@pytest.mark.tc("TC_010_CSMS", "Remote Start Charging Session – Cable Plugged in First")
async def test_tc_010_csms_remote_start_cable_plugged_in_first(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_010_CSMS, sections 5.11 (RemoteStartTransaction), 4.1, 4.8.

    With the cable in, the operator starts a session remotely: the central system sends
    RemoteStartTransaction (the operator asks for the valid id tag on the connector; the
    catalog names neither, so the charge point goes on with what the request names), then
    authorizes that tag and starts the transaction. The harness charge point has
    AuthorizeRemoteTxRequests=true, hence the Authorize.
    """
    await booted(charge_point, sut)
    await status(charge_point, CONNECTOR, "Preparing", step="1-2")
    tag, connector = await remote_start(charge_point, sut, step="3-4", answer="Accepted", connector=CONNECTOR)
    await authorize(charge_point, tag, step="5-6")
    await start_transaction(charge_point, step="7-8", connector=connector, id_tag=tag)
    await status(charge_point, connector, "Charging", step="9-10")
    await end_open_transactions(charge_point)


@pytest.mark.core
@pytest.mark.tc("TC_011_1_CSMS", "Remote Start Charging Session – Remote Start First")
async def test_tc_011_1_csms_remote_start_first(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_011_1_CSMS, sections 5.11, 4.1, 4.8, 4.9.

    The operator starts a session remotely before the cable is in; the central system
    then authorizes the tag, acknowledges Preparing, starts the transaction and
    acknowledges Charging.
    """
    await booted(charge_point, sut)
    tag, connector = await remote_start(charge_point, sut, step="1-2", answer="Accepted", connector=CONNECTOR)
    await authorize(charge_point, tag, step="3-4")
    await status(charge_point, connector, "Preparing", step="5-6")
    await start_transaction(charge_point, step="7-8", connector=connector, id_tag=tag)
    await status(charge_point, connector, "Charging", step="9-10")
    await end_open_transactions(charge_point)


@pytest.mark.core
@pytest.mark.tc("TC_011_2_CSMS", "Remote Start Charging Session – Time Out")
async def test_tc_011_2_csms_remote_start_time_out(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_011_2_CSMS, sections 5.11, 4.9 (B1), 9.1.6.

    A remote start whose cable never comes: the central system acknowledges Preparing
    and, after the charge point's ConnectionTimeOut, Available, without a transaction.
    """
    await booted(charge_point, sut)
    tag, connector = await remote_start(charge_point, sut, step="1-2", answer="Accepted", connector=CONNECTOR)
    await authorize(charge_point, tag, step="3-4")
    await status(charge_point, connector, "Preparing", step="5-6")
    await charge_point.idle(connection_timeout(charge_point, sut), step="7 (the charge point's ConnectionTimeOut)")
    await status(charge_point, connector, "Available", step="7-8")


@pytest.mark.core
@pytest.mark.tc("TC_012_CSMS", "Remote Stop Charging Session")
async def test_tc_012_csms_remote_stop_charging_session(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_012_CSMS, sections 5.12 (RemoteStopTransaction), 4.10.

    The operator stops the running transaction: the central system sends
    RemoteStopTransaction with that transaction's id (the step requires Accepted, which a
    charge point answers only for a transaction it runs: errata 3.33), and accepts the
    StopTransaction (reason Remote) and the Finishing and Available that follow.
    """
    await booted(charge_point, sut)
    tx = await charging(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_remote_stop", "RemoteStopTransaction", step="1-2",
                         reply={"status": "Accepted"}, params={"transaction_id": tx}, transactionId=tx)
    await stop_transaction(charge_point, tx, step="3-4", reason="Remote")
    await status(charge_point, CONNECTOR, "Finishing", step="5-6")
    await status(charge_point, CONNECTOR, "Available", step="7-8")


async def _reset(charge_point: ChargePoint, sut: SutHandle, kind: str) -> None:
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_reset", "Reset", step="1-2", reply={"status": "Accepted"},
                         params={"type": kind}, type=kind)
    restart = charge_point.lose_power if kind == "Hard" else charge_point.connect  # a hard reset cuts TCP as hardware does
    await restart(step=f"3 (the charge point restarts after the {kind} reset)")
    await booted(charge_point, sut, boot_step="3-4", status_step="5-6")


@pytest.mark.core
@pytest.mark.tc("TC_013_CSMS", "Hard Reset")
async def test_tc_013_csms_hard_reset(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_013_CSMS, section 5.14 (Reset).

    The operator resets the charge point hard: the central system sends Reset type
    Hard, then accepts the charge point's new boot (current time, interval > 0) and
    its StatusNotifications. The restart is a new WebSocket connection.
    """
    await _reset(charge_point, sut, "Hard")


@pytest.mark.core
@pytest.mark.tc("TC_014_CSMS", "Soft Reset")
async def test_tc_014_csms_soft_reset(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_014_CSMS, section 5.14 (Reset): as TC_013_CSMS with type Soft."""
    await _reset(charge_point, sut, "Soft")


async def _unlock(charge_point: ChargePoint, sut: SutHandle, connector: int, answer: str, step: str = "1-2", *,
                  unknown: bool = False, session: bool = False) -> None:
    """The operator unlocks ``connector``; the charge point answers ``answer`` (spec 5.18).

    The catalog names no connector. connectorId must be > 0 (spec 6.53); a connector of the
    charge point where the answer is Unlocked or UnlockFailed, one it does not have where
    the case is about an ``unknown`` connector (errata 3.87: that is NotSupported), and the
    connector of the running transaction where the case's next steps stop it (``session``:
    spec 5.18). Any other connector than asked is a warning.
    """
    got = await operator_sends(charge_point, sut, "cs_unlock_connector", "UnlockConnector", step=step,
                               reply={"status": answer}, params={"connector": connector})
    sent = got.payload["connectorId"]
    exists = 1 <= sent <= sut.connectors
    needs = ("the connector of the running transaction" if session else "an unknown connector" if unknown
             else "a connector of the charge point" if answer in ("Unlocked", "UnlockFailed") else "")
    if sent <= 0 or (session and sent != connector) or (unknown and exists) or (needs and not unknown and not exists):
        raise UnexpectedMessage(step, f"UnlockConnector.req names connectorId {sent}; the step needs "
                                      f"{needs or 'a connectorId > 0'} (connector {connector}; connectors 1..{sut.connectors})",
                                f"payload: {got.payload}\nspec 6.53: connectorId > 0; errata 3.87: an unknown connector "
                                "is answered NotSupported; spec 5.18: unlocking stops the transaction on that connector")
    if sent != connector:
        charge_point.warn(step, f"UnlockConnector.req names connectorId {sent}; the operator asked for connector {connector}",
                          "the catalog step names no connector")


@pytest.mark.core
@pytest.mark.tc("TC_017_1_CSMS", "Unlock connector - no charging session running (Not fixed cable)")
async def test_tc_017_1_csms_unlock_connector_not_fixed_cable(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_017_1_CSMS, section 5.18 (UnlockConnector): the central system sends UnlockConnector for the
    connector the operator chose; the charge point answers Unlocked."""
    await booted(charge_point, sut)
    await _unlock(charge_point, sut, CONNECTOR, "Unlocked")


@pytest.mark.core
@pytest.mark.tc("TC_017_2_CSMS", "Unlock connector - no charging session running (Fixed cable)")
async def test_tc_017_2_csms_unlock_connector_fixed_cable(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_017_2_CSMS, section 5.18: as TC_017_1_CSMS; a fixed cable answers NotSupported."""
    await booted(charge_point, sut)
    await _unlock(charge_point, sut, CONNECTOR, "NotSupported")


@pytest.mark.core
@pytest.mark.tc("TC_018_1_CSMS", "Unlock Connector - With Charging Session (Not fixed cable)")
async def test_tc_018_1_csms_unlock_connector_with_charging_session(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_018_1_CSMS, sections 5.18, 4.10 (reason UnlockCommand).

    Unlocking a connector with a running transaction ends it: the central system sends
    UnlockConnector for it and accepts Finishing, the StopTransaction with reason
    UnlockCommand and Available, in the catalog's order.
    """
    await booted(charge_point, sut)
    tx = await charging(charge_point, sut)
    await _unlock(charge_point, sut, CONNECTOR, "Unlocked", session=True)
    await status(charge_point, CONNECTOR, "Finishing", step="3-4")
    await stop_transaction(charge_point, tx, step="5-6", reason="UnlockCommand")
    await status(charge_point, CONNECTOR, "Available", step="7-8")


@pytest.mark.core
@pytest.mark.tc("TC_030_CSMS", "Unlock Connector – Unlock Failure")
async def test_tc_030_csms_unlock_connector_unlock_failure(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_030_CSMS, section 5.18: UnlockConnector for the chosen connector; the charge point answers UnlockFailed."""
    await booted(charge_point, sut)
    await _unlock(charge_point, sut, CONNECTOR, "UnlockFailed")


@pytest.mark.core
@pytest.mark.tc("TC_031_CSMS", "Unlock Connector – Unknown Connector")
async def test_tc_031_csms_unlock_connector_unknown_connector(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_031_CSMS, section 5.18, errata 3.87: the operator asks to unlock a connector the charge
    point does not have (one above ``connectors``); the central system sends it as asked and
    the charge point answers NotSupported."""
    await booted(charge_point, sut)
    await _unlock(charge_point, sut, sut.connectors + 1, "NotSupported", unknown=True)
