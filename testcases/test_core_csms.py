"""Core profile, central system under test (the harness is the charge point): TC_xxx_CSMS.

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

from harness.errors import PayloadMismatch, UnexpectedMessage
from harness.matching import ANY, OneOf
from harness.roles.central_system import now_iso
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


def offline_seconds(sut: SutHandle) -> float:
    """How long the harness charge point stays offline in TC_037/TC_039 (``extra.offline_seconds``, default 5)."""
    return float(sut.config.extra.get("offline_seconds", 5))


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


# -- configuration ----------------------------------------------------------------------------------------
@pytest.mark.core
@pytest.mark.tc("TC_019_1_CSMS", "Retrieve all configuration keys")
async def test_tc_019_1_csms_retrieve_all_configuration_keys(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_019_1_CSMS, sections 5.8, 9.1 (GetConfiguration).

    The operator asks for every key: the central system sends GetConfiguration without
    keys (the field absent or an empty list; spec 6.23: "if the list is empty, all
    keys"). The charge point answers every Core key with its accessibility.
    """
    await booted(charge_point, sut)
    got = await operator_sends(charge_point, sut, "cs_get_configuration", "GetConfiguration", step="1-2",
                               reply=None, params={"keys": []})
    if got.payload.get("key"):
        raise UnexpectedMessage("1-2", f"GetConfiguration.req asks for keys {got.payload['key']!r}; to retrieve all keys "
                                       "the key list must be absent or empty (spec 6.23)", f"payload: {got.payload}")


@pytest.mark.core
@pytest.mark.tc("TC_019_2_CSMS", "Retrieve specific configuration key")
async def test_tc_019_2_csms_retrieve_specific_configuration_key(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_019_2_CSMS, section 5.8: the central system sends GetConfiguration for exactly
    SupportedFeatureProfiles; the charge point answers that key and no unknown key."""
    await booted(charge_point, sut)
    # reply=None: the harness charge point answers from its own configuration (its real feature profiles)
    await operator_sends(charge_point, sut, "cs_get_configuration", "GetConfiguration", step="1-2", reply=None,
                         params={"keys": ["SupportedFeatureProfiles"]}, key=["SupportedFeatureProfiles"])


@pytest.mark.core
@pytest.mark.tc("TC_021_CSMS", "Change/set Configuration")
async def test_tc_021_csms_change_set_configuration(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_021_CSMS, section 5.3: the central system sends ChangeConfiguration
    MeterValueSampleInterval = "60" (a string, like every configuration value); the charge point accepts."""
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_change_configuration", "ChangeConfiguration", step="1-2",
                         reply={"status": "Accepted"}, params={"key": "MeterValueSampleInterval", "value": "60"},
                         key="MeterValueSampleInterval", value="60")


@pytest.mark.core
@pytest.mark.tc("TC_040_1_CSMS", "Configuration keys")
async def test_tc_040_1_csms_configuration_keys_not_supported(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_040_1_CSMS, sections 5.3, 7.22 (NotSupported).

    The central system can send ChangeConfiguration for a key the charge point does not
    know and take NotSupported for an answer. The catalog names no key: the operator
    is asked for the key "Testing" (OCTT's choice in TC_040_1_CS), but any key the
    central system sends is accepted.
    """
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_change_configuration", "ChangeConfiguration", step="1-2",
                         reply={"status": "NotSupported"}, params={"key": "Testing", "value": "1"}, key=ANY)


@pytest.mark.core
@pytest.mark.tc("TC_040_2_CSMS", "Configuration keys")
async def test_tc_040_2_csms_configuration_keys_rejected(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_040_2_CSMS, sections 5.3, 7.22 (Rejected): the central system sends ChangeConfiguration
    MeterValueSampleInterval = "-1" as asked (it leaves judging the value to the charge point), which answers Rejected."""
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_change_configuration", "ChangeConfiguration", step="1-2",
                         reply={"status": "Rejected"}, params={"key": "MeterValueSampleInterval", "value": "-1"},
                         key="MeterValueSampleInterval", value="-1")


# -- non-happy flows ------------------------------------------------------------------------------------------
@pytest.mark.core
@pytest.mark.tc("TC_023_1_CSMS", "Start Charging Session – Authorize invalid")
async def test_tc_023_1_csms_authorize_invalid(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_023_1_CSMS, sections 4.1, 7.2: Authorize of a tag unknown to the central system
    (``id_tags.invalid``) is answered Invalid."""
    await booted(charge_point, sut)
    await authorize(charge_point, sut.id_tags.invalid, step="1-2", expected="Invalid")


@pytest.mark.core
@pytest.mark.tc("TC_023_2_CSMS", "Start Charging Session – Authorize expired")
async def test_tc_023_2_csms_authorize_expired(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_023_2_CSMS, sections 4.1, 7.2: Authorize of the tag the central system holds as
    expired (``id_tags.expired``) is answered Expired."""
    await booted(charge_point, sut)
    await authorize(charge_point, sut.id_tags.expired, step="1-2", expected="Expired")


@pytest.mark.core
@pytest.mark.tc("TC_023_3_CSMS", "Start Charging Session – Authorize blocked")
async def test_tc_023_3_csms_authorize_blocked(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_023_3_CSMS, sections 4.1, 7.2: Authorize of the tag the central system holds as
    blocked (``id_tags.blocked``) is answered Blocked."""
    await booted(charge_point, sut)
    await authorize(charge_point, sut.id_tags.blocked, step="1-2", expected="Blocked")


@pytest.mark.core
@pytest.mark.tc("TC_024_CSMS", "Start Charging Session Lock Failure")
async def test_tc_024_csms_start_charging_session_lock_failure(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_024_CSMS, sections 4.9, 7.6 (ConnectorLockFailure): the central system acknowledges
    Preparing and then Faulted with errorCode ConnectorLockFailure."""
    await booted(charge_point, sut)
    await authorized(charge_point, sut)
    await status(charge_point, CONNECTOR, "Preparing", step="1-2")
    await status(charge_point, CONNECTOR, "Faulted", step="3-4", error_code="ConnectorLockFailure")


@pytest.mark.core
@pytest.mark.tc("TC_026_CSMS", "Remote Start Charging Session – Rejected")
async def test_tc_026_csms_remote_start_rejected(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_026_CSMS, section 5.11: the central system sends a valid RemoteStartTransaction;
    the charge point answers Rejected (nothing else may follow from it)."""
    await booted(charge_point, sut)
    await remote_start(charge_point, sut, step="1-2", answer="Rejected", connector=CONNECTOR)


@pytest.mark.core
@pytest.mark.tc("TC_028_CSMS", "Remote Stop Transaction – Rejected")
async def test_tc_028_csms_remote_stop_rejected(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_028_CSMS, section 5.12: the central system sends RemoteStopTransaction; the charge point answers
    Rejected. The operator asks to stop the running transaction; another transactionId is a warning (the
    catalog names none, and a charge point answers Rejected to an unknown id as well: errata 3.33)."""
    await booted(charge_point, sut)
    tx = await charging(charge_point, sut)
    got = await operator_sends(charge_point, sut, "cs_remote_stop", "RemoteStopTransaction", step="1-2",
                               reply={"status": "Rejected"}, params={"transaction_id": tx})
    if got.payload["transactionId"] != tx:
        charge_point.warn("1-2", f"RemoteStopTransaction.req names transactionId {got.payload['transactionId']}; the "
                                 f"operator asked to stop the running transaction {tx}",
                          "the catalog step names no transaction, and Rejected is the answer to an unknown id too")
    await end_open_transactions(charge_point)


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


@pytest.mark.core
@pytest.mark.tc("TC_032_1_CSMS", "Power failure boot charging point-configured to stop transaction(s)")
async def test_tc_032_1_csms_power_failure_stop_transactions(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_032_1_CSMS, sections 4.2, 4.10 (reason PowerLoss).

    The charge point loses power during a transaction and boots again: the central
    system accepts the boot, Finishing on the transaction's connector and Available on
    the others, and then the StopTransaction (reason PowerLoss, timestamp of the power
    loss) of a transaction it still has open. It must not refuse that stop.
    """
    await booted(charge_point, sut)
    tx = await charging(charge_point, sut)
    lost = now_iso()
    await charge_point.lose_power(step="1 (power restored)")  # TCP cut without a close frame; on power-up a new boot
    await booted(charge_point, sut, boot_step="1-2", status_step="3-4", statuses={CONNECTOR: "Finishing"})
    await stop_transaction(charge_point, tx, step="5-6", reason="PowerLoss", timestamp=lost)


# -- offline behaviour -------------------------------------------------------------------------------------------
@pytest.mark.core
@pytest.mark.tc("TC_037_1_CSMS", "Offline Start Transaction - Valid IdTag")
async def test_tc_037_1_csms_offline_start_transaction_valid_id_tag(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_037_1_CSMS, sections 3.7 (transaction messages offline), 4.8.

    A transaction started while the connection was down reaches the central system
    after reconnect, with its original (past) timestamp; the central system accepts
    the valid tag and the Charging status. The harness reconnects without a new boot
    (losing the connection is not a reboot); ``extra.offline_seconds`` sets the gap.
    """
    await booted(charge_point, sut)
    await charge_point.disconnect()
    started = now_iso()
    await charge_point.idle(offline_seconds(sut), step="1 (the charge point is offline)")
    await charge_point.connect(step="1 (connectivity restored)")
    await start_transaction(charge_point, step="1-2", connector=CONNECTOR, id_tag=sut.id_tags.valid, timestamp=started)
    await status(charge_point, CONNECTOR, "Charging", step="3-4", timestamp=started)
    await end_open_transactions(charge_point)


@pytest.mark.core
@pytest.mark.tc("TC_037_3_CSMS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = true")
async def test_tc_037_3_csms_offline_start_transaction_invalid_id_tag(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_037_3_CSMS, sections 3.5.4, 4.8, 4.10 (reason DeAuthorized).

    A transaction the charge point started offline for an invalid tag: after reconnect
    the central system answers its StartTransaction (original timestamp) Invalid and
    still gives a transaction id; it accepts Charging, the StopTransaction with reason
    DeAuthorized (StopTransactionOnInvalidId=true) and Finishing.
    """
    await booted(charge_point, sut)
    await charge_point.disconnect()
    started = now_iso()
    await charge_point.idle(offline_seconds(sut), step="1 (the charge point is offline)")
    await charge_point.connect(step="1 (connectivity restored)")
    tx = await start_transaction(charge_point, step="1-2", connector=CONNECTOR, id_tag=sut.id_tags.invalid,
                                 expected="Invalid", timestamp=started)
    await status(charge_point, CONNECTOR, "Charging", step="3-4", timestamp=started)
    await stop_transaction(charge_point, tx, step="5-6", reason="DeAuthorized")
    await status(charge_point, CONNECTOR, "Finishing", step="7-8")


@pytest.mark.core
@pytest.mark.tc("TC_039_CSMS", "Offline Transaction")
async def test_tc_039_csms_offline_transaction(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_039_CSMS, sections 3.7, 4.8, 4.10.

    A whole transaction happened while offline: after reconnect the central system
    accepts the queued StartTransaction and StopTransaction (reason Local) in order,
    each with its original timestamp. The statuses of the offline period are not
    replayed (spec 4.9: historical statuses SHOULD NOT be sent).
    """
    await booted(charge_point, sut)
    await charge_point.disconnect()
    started = now_iso()
    await charge_point.idle(offline_seconds(sut) / 2, step="1 (offline: the driver charges)")
    stopped = now_iso()
    await charge_point.idle(offline_seconds(sut) / 2, step="1 (offline: the driver stopped and unplugged)")
    await charge_point.connect(step="1 (connectivity restored)")
    tx = await start_transaction(charge_point, step="1-2", connector=CONNECTOR, id_tag=sut.id_tags.valid, timestamp=started)
    await stop_transaction(charge_point, tx, step="3-4", reason="Local", id_tag=sut.id_tags.valid, timestamp=stopped)


# -- data transfer ------------------------------------------------------------------------------------------------
@pytest.mark.core
@pytest.mark.tc("TC_064_CSMS", "Data Transfer to a Central System")
async def test_tc_064_csms_data_transfer_to_central_system(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_064_CSMS, sections 4.3, 7.23 (DataTransfer).

    A DataTransfer for a vendor the central system does not know
    (``extra.unknown_vendor_id``) is answered with a DataTransfer.conf (not a CALLERROR)
    with status Rejected, UnknownMessageId or UnknownVendorId. Accepted is allowed by
    the catalog but reported as a warning.
    """
    await booted(charge_point, sut)
    vendor = str(sut.config.extra.get("unknown_vendor_id", "org.openocpp.harness.unknown"))
    allowed = OneOf("Rejected", "UnknownMessageId", "UnknownVendorId", "Accepted")
    try:
        reply = await charge_point.call("DataTransfer", {"vendorId": vendor, "messageId": "HarnessTest", "data": "test"},
                                        step="1-2", expect={"status": allowed})
    except PayloadMismatch as exc:
        raise PayloadMismatch(exc.step, exc.problem, exc.detail + "\nsection 4.3: a central system without this "
                              "vendor's extension answers UnknownVendorId (or Rejected / UnknownMessageId)") from None
    if reply["status"] == "Accepted":
        charge_point.warn("1-2", f"the central system accepted a DataTransfer for the unknown vendor {vendor!r}",
                          "catalog TC_064_CSMS: Accepted is allowed, but the vendor should be warned")
