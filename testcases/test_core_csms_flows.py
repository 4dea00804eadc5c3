"""Core profile, central system under test: configuration, refusals and failures, offline behaviour, data transfer.

The TC_xxx_CSMS cases beside ``test_core_csms`` (boot, charging sessions, remote actions),
with the same conventions: every case starts from the reusable state Booted on connector
1 with the configured valid id tag, the operator's steps go through the actuator
vocabulary, and a transaction a case leaves running is stopped afterwards ("cleanup",
never judged). The operator is asked for exact values; where the catalog's step names
none, another value than asked is a warning.
"""

from __future__ import annotations

import pytest

from harness.errors import PayloadMismatch, UnexpectedMessage
from harness.matching import ANY, OneOf
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import (
    authorize, authorized, booted, charging, end_open_transactions, operator_sends,
    remote_start, start_transaction, status, stop_transaction,
)

CONNECTOR = 1


def offline_seconds(sut: SutHandle) -> float:
    """How long the harness charge point stays offline in TC_037/TC_039 (``extra.offline_seconds``, default 5)."""
    return float(sut.config.extra.get("offline_seconds", 5))


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
