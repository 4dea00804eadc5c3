"""Core profile, charge point under test (the harness is the central system): TC_xxx_CS.

Boot, heartbeat, configuration and DataTransfer. Sessions are in test_core_cs_sessions,
remote control, reset and unlock in test_core_cs_remote, power loss, offline behaviour
and meter values in test_core_cs_offline. Reusable states: testcases/states_charge_point.
"""

from __future__ import annotations

import pytest

from harness.errors import PayloadMismatch
from harness.matching import OneOf
from harness.roles.central_system import CentralSystem, now_iso
from harness.sut import SutHandle
from testcases.states_charge_point import (
    boot_statuses, check_heartbeats, get_configuration, no_message_between, setting,
)
from testcases.timing import check_not_before

# spec 9.1 (and 9.2, 9.4 for their profiles): required keys and their accessibility (R, RW, or either)
REQUIRED_KEYS: dict[str, dict[str, str]] = {
    "Core": {
        "AuthorizeRemoteTxRequests": "R|RW", "ClockAlignedDataInterval": "RW", "ConnectionTimeOut": "RW",
        "ConnectorPhaseRotation": "RW", "GetConfigurationMaxKeys": "R", "HeartbeatInterval": "RW",
        "LocalAuthorizeOffline": "RW", "LocalPreAuthorize": "RW", "MeterValuesAlignedData": "RW",
        "MeterValuesSampledData": "RW", "MeterValueSampleInterval": "RW", "NumberOfConnectors": "R",
        "ResetRetries": "RW", "StopTransactionOnInvalidId": "RW", "StopTxnAlignedData": "RW",
        "StopTxnSampledData": "RW", "SupportedFeatureProfiles": "R", "TransactionMessageAttempts": "RW",
        "TransactionMessageRetryInterval": "RW", "UnlockConnectorOnEVSideDisconnect": "R|RW",
    },
    "LocalAuthListManagement": {"LocalAuthListEnabled": "RW", "LocalAuthListMaxLength": "R", "SendLocalListMaxLength": "R"},
    "SmartCharging": {"ChargeProfileMaxStackLevel": "R", "ChargingScheduleAllowedChargingRateUnit": "R",
                      "ChargingScheduleMaxPeriods": "R", "MaxChargingProfilesInstalled": "R"},
}


@pytest.mark.core
@pytest.mark.tc("TC_001_CS", "Cold Boot Charge Point")
async def test_tc_001_cs_cold_boot_charge_point(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_001_CS, OCPP 1.6 sections 4.2 (boot), 4.6 (heartbeat), 4.9 (status).

    A charge point that is switched on registers with BootNotification, obeys a
    Rejected answer by staying silent for the interval it was given, then reports
    every connector and connector 0 as Available and keeps its heartbeat at the
    interval of the accepting BootNotification.conf.
    """
    cfg = sut.config
    tol = cfg.timeouts.timing_tolerance
    retry, heartbeat = cfg.boot_retry_interval, cfg.heartbeat_interval

    await sut.act("power_cycle", step="1")
    rejected = await central_system.expect(
        "BootNotification", step="1-2 (BootNotification.req, answered Rejected)",
        reply=lambda _: {"status": "Rejected", "currentTime": now_iso(), "interval": retry},
    )
    assert rejected.replied_at is not None

    retried = await central_system.expect(
        "BootNotification", step="3 (BootNotification.req after the interval)",
        timeout=retry + cfg.timeouts.step,
        reply=lambda _: {"status": "Accepted", "currentTime": now_iso(), "interval": heartbeat},
    )
    check_not_before(
        "3", "the BootNotification after Rejected", rejected.replied_at + retry, retried, tol,
        f"section 4.2: after Rejected the charge point SHALL NOT send any message until the interval ({retry}s) has passed",
    )
    no_message_between(central_system, "3", rejected, retried,
                       "while Rejected; section 4.2: it SHALL NOT send any OCPP message until the interval expires")

    await central_system.expect_all(*boot_statuses(sut),
                                    step="5-6 (StatusNotification Available for connector 0 and every connector)")
    await check_heartbeats(central_system, sut, heartbeat, step="7-8")


@pytest.mark.core
@pytest.mark.tc("TC_002_CS", "Cold Boot Charge Point - Pending")
async def test_tc_002_cs_cold_boot_charge_point_pending(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_002_CS, OCPP 1.6 sections 4.2 (Pending), 5.3, 5.8, 4.6.

    While its registration is Pending the charge point answers the central system's
    GetConfiguration and ChangeConfiguration, sends nothing of its own but the next
    BootNotification, and that not before the interval it was given; once Accepted it
    reports its connectors Available and keeps the granted heartbeat interval.
    Assumption: "<Configured Meter Value interval>" is extra.meter_value_sample_interval.
    """
    cfg = sut.config
    retry, heartbeat = cfg.boot_retry_interval, cfg.heartbeat_interval
    await sut.act("power_cycle", step="1")
    pending = await central_system.expect(
        "BootNotification", step="1-2 (BootNotification.req, answered Pending)",
        reply=lambda _: {"status": "Pending", "currentTime": now_iso(), "interval": retry})
    assert pending.replied_at is not None
    await central_system.call("GetConfiguration", {}, step="3-4 (GetConfiguration, no key)")
    await central_system.call("ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                      "value": str(setting(sut, "meter_value_sample_interval"))},
                              step="5-6 (ChangeConfiguration MeterValueSampleInterval)", expect={"status": "Accepted"})
    retried = await central_system.expect(
        "BootNotification", step="7-8 (BootNotification.req after the interval, answered Accepted)",
        timeout=retry + cfg.timeouts.step,
        reply=lambda _: {"status": "Accepted", "currentTime": now_iso(), "interval": heartbeat})
    check_not_before("7", "the BootNotification after Pending", pending.replied_at + retry, retried,
                     cfg.timeouts.timing_tolerance,
                     f"section 4.2: after Pending the next BootNotification waits for the interval ({retry}s)")
    no_message_between(central_system, "7", pending, retried,
                       "while Pending; section 4.2: it SHALL NOT send requests unless triggered")
    await central_system.expect_all(*boot_statuses(sut), step="9-10 (StatusNotification Available, connector 0 and each)")
    await check_heartbeats(central_system, sut, heartbeat, step="11-12")


def _accessibility(step: str, key: str, entry: dict, wanted: str) -> None:
    actual = "R" if entry.get("readonly") else "RW"
    if actual not in wanted.split("|"):
        raise PayloadMismatch(step, f"configuration key {key} is reported {'read-only' if actual == 'R' else 'read-write'}; "
                                    f"spec 9 makes it {' or '.join(wanted.split('|'))}", f"KeyValue: {entry}")


@pytest.mark.core
@pytest.mark.tc("TC_019_CS", "Retrieve configuration")
async def test_tc_019_cs_retrieve_configuration(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_019_CS, OCPP 1.6 sections 5.8, 9.

    The charge point reports its supported feature profiles, returns every key the
    specification requires for them with the right accessibility, and answers a request
    for as many keys as GetConfigurationMaxKeys allows with all of them and no unknownKey.
    """
    cs = central_system
    reply = await cs.call("GetConfiguration", {"key": ["SupportedFeatureProfiles"]}, step="1-2 (GetConfiguration SupportedFeatureProfiles)")
    keys = reply.get("configurationKey", [])  # type: ignore[union-attr]
    if reply.get("unknownKey") or [k["key"] for k in keys] != ["SupportedFeatureProfiles"]:  # type: ignore[union-attr]
        raise PayloadMismatch("2", "GetConfiguration.conf must carry exactly SupportedFeatureProfiles and no unknownKey",
                              f"received: {reply}")
    profiles = [p.strip() for p in keys[0].get("value", "").split(",") if p.strip()]

    everything = await cs.call("GetConfiguration", {}, step="3-4 (GetConfiguration, all keys)")
    known = {kv["key"]: kv for kv in everything.get("configurationKey", [])}  # type: ignore[union-attr]
    for profile in profiles:
        for key, wanted in REQUIRED_KEYS.get(profile, {}).items():
            if key not in known:
                raise PayloadMismatch("4", f"required configuration key {key} (profile {profile}) is missing",
                                      f"keys reported: {sorted(known)}")
            _accessibility("4", key, known[key], wanted)

    limit = await get_configuration(cs, "5-6 (GetConfiguration GetConfigurationMaxKeys)", "GetConfigurationMaxKeys")
    max_keys = int(limit.get("GetConfigurationMaxKeys", {}).get("value", len(known)))
    chosen = sorted(known)[:min(max_keys, len(known))]
    last = await cs.call("GetConfiguration", {"key": chosen}, step=f"7-8 (GetConfiguration {len(chosen)} keys)")
    returned = {kv["key"] for kv in last.get("configurationKey", [])}  # type: ignore[union-attr]
    if last.get("unknownKey") or set(chosen) - returned:  # type: ignore[union-attr]
        raise PayloadMismatch("8", "GetConfiguration.conf must return every requested key, with no unknownKey",
                              f"missing: {sorted(set(chosen) - returned)}; unknownKey: {last.get('unknownKey')}")  # type: ignore[union-attr]


@pytest.mark.core
@pytest.mark.tc("TC_021_CS", "Change/set Configuration")
async def test_tc_021_cs_change_set_configuration(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_021_CS, OCPP 1.6 sections 5.3, 5.8.

    A value the central system sets with ChangeConfiguration (Accepted) is the value
    GetConfiguration reports afterwards. Before: MeterValueSampleInterval is set to
    another value than the configured one (configured + 1) so the change is visible.
    """
    cs = central_system
    interval = str(setting(sut, "meter_value_sample_interval"))
    await cs.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": str(int(interval) + 1)},
                  step="before (MeterValueSampleInterval is not the configured value)", expect={"status": "Accepted"})
    await cs.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": interval},
                  step="1-2 (ChangeConfiguration MeterValueSampleInterval)", expect={"status": "Accepted"})
    await cs.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]}, step="3-4 (GetConfiguration MeterValueSampleInterval)",
                  expect={"configurationKey": [{"key": "MeterValueSampleInterval", "value": interval,
                                                "readonly": False}]})


@pytest.mark.core
@pytest.mark.tc("TC_040_1_CS", "Configuration key - NotSupported")
async def test_tc_040_1_cs_configuration_key_not_supported(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_040_1_CS, OCPP 1.6 sections 5.3, 7.22: an unknown key is answered NotSupported."""
    await central_system.call("ChangeConfiguration", {"key": "Testing", "value": "true"}, step="1-2 (ChangeConfiguration Testing)",
                              expect={"status": "NotSupported"})


@pytest.mark.core
@pytest.mark.tc("TC_040_2_CS", "Configuratoin key - Invalid value")
async def test_tc_040_2_cs_configuration_key_invalid_value(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_040_2_CS, OCPP 1.6 sections 5.3, 7.22, OCPP-J 4.2.3.

    An out-of-range value (MeterValueSampleInterval -1) is refused: Rejected, or a
    CALLERROR PropertyConstraintViolation. (The title's typo is the catalog's.)
    """
    reply = await central_system.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "-1"},
                                      step="1-2 (ChangeConfiguration MeterValueSampleInterval=-1)", allow_error=True)
    if isinstance(reply, dict):
        if reply["status"] != "Rejected":
            raise PayloadMismatch("2", f"ChangeConfiguration.conf status is {reply['status']!r} for the invalid value -1; "
                                       "expected Rejected (or CALLERROR PropertyConstraintViolation)")
    elif reply.error_code != "PropertyConstraintViolation":
        raise PayloadMismatch("2", f"CALLERROR {reply.error_code} for an invalid value; expected PropertyConstraintViolation "
                                   "(or ChangeConfiguration.conf Rejected)")


@pytest.mark.core
@pytest.mark.tc("TC_062_CS", "Data Transfer to a Charge Point")
async def test_tc_062_cs_data_transfer_to_a_charge_point(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_062_CS, OCPP 1.6 sections 4.3, 5.6.

    A DataTransfer for a vendorId the charge point does not know is not accepted:
    Rejected, UnknownMessageId or UnknownVendorId. Accepted is allowed by the catalog
    but logged as a warning in the trace. Assumption: vendorId "org.openocpp.harness.unknown".
    """
    reply = await central_system.call("DataTransfer", {"vendorId": "org.openocpp.harness.unknown", "messageId": "Test",
                                                       "data": "harness"}, step="1-2 (DataTransfer)",
                                      expect={"status": OneOf("Rejected", "UnknownMessageId", "UnknownVendorId", "Accepted")})
    if reply["status"] == "Accepted":  # type: ignore[index]
        central_system.warn("2", "the charge point accepted a DataTransfer for a vendorId it cannot know",
                            "the catalog allows Accepted; spec 4.3/5.6: an unknown vendorId SHOULD be UnknownVendorId")

