"""Beyond OCTT, charge point under test: the OCPP-J layer and field robustness (ids RPC_nnn_CS, marker ocppj).

OCTT never sends a malformed frame, an unknown action, a repeated or over-long unique id,
never stays quiet on the link, never sends a frame of megabytes: these cases do (the
harness is the central system). They are not certification steps; each docstring names
the OCPP-J 1.6 section (or spec clause) it checks and the reading it takes, and what the
text leaves open is a warning (a failure with ``strict: true``).

Frames go out raw (harness.session.Session.send_raw); harness.probes builds them and
judges the answers by the OCPP-J error code table. The plugin's fixtures establish OCTT's
common state before each case and restore it after, as for the OCTT cases.

The transport cases (pings, an oversize frame, slow and quiet links) are in ``test_rpc_transport_cs``.
"""

from __future__ import annotations

import copy

import pytest

from harness.errors import PayloadMismatch, ProtocolFailure
from harness.inbox import Expectation
from harness.ocppj import CallResult
from harness.probe_run import as_message, probe_step, run_probe
from harness.probes import (
    SCHEMA_CODES, UNIQUE_ID_36, Expect, Probe, call_frame, malformed_probes, probe_id, schema_probes,
    unknown_action_probe, wrong_direction_probe,
)
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases import test_smart_charging_cs as smart
from testcases.states_charge_point import (
    accepted, charging, check_stop_transaction, configure, connector_status, connector_under_test,
    get_configuration, setting,
)
from testcases.states_rpc import must_answer, unsupported_probe

SUT = "cp"


# -- error codes (OCPP-J 1.6 section 4.2.3) ---------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_001_CS", "Unknown action: CALLERROR NotImplemented")
async def test_rpc_001_cs_unknown_action(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_001_CS, OCPP-J 1.6 section 4.2.3 (table 'Valid Error Codes').

    A CALL of an action no OCPP version has is answered CALLERROR NotImplemented ('Requested
    Action is not known by receiver'). NotSupported is the other row ('recognized but not
    supported') and fails: the action is not recognized. (mobilityhouse/ocpp swaps the two,
    its issue 493; CitrineOS fixed the same swap in its PR 996.)
    """
    await run_probe(central_system, unknown_action_probe(), step="1-2 (unknown action)", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_002_CS", "Known but unsupported action: CALLERROR NotSupported")
async def test_rpc_002_cs_known_unsupported_action(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_002_CS, OCPP-J 1.6 section 4.2.3.

    A CALL of an OCPP 1.6 action the charge point does not support (``extra.unsupported_actions``,
    else one of a feature profile its config does not list) is answered CALLERROR NotSupported.
    Reading: for an action of the security white paper (an addition to 1.6) NotImplemented is a
    warning, a charge point without the extension may not know it. Skipped when the config
    lists every profile and names no unsupported action.
    """
    await run_probe(central_system, unsupported_probe(sut, SUT), step="1-2 (known, unsupported action)", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_003_CS", "CALLs that break the schema: the table's error code")
async def test_rpc_003_cs_schema_violations(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_003_CS, OCPP-J 1.6 section 4.2.3 (table 'Valid Error Codes'), the OCPP 1.6 JSON schemas.

    Each CALL breaks its schema one way: a value of the wrong type and a string over its
    CiString length (TypeConstraintViolation), a required field missing (OccurenceConstraint-
    Violation or ProtocolError 'payload incomplete'), a value outside the enumeration
    (PropertyConstraintViolation), a property the schema does not have (FormationViolation).
    Reading: the table's rows overlap, so another of these codes is a warning; a CALLRESULT
    (the CALL was processed), another code (GenericError, InternalError ...) or no answer fails.
    """
    for n, probe in enumerate(schema_probes(SUT), start=1):
        await run_probe(central_system, probe, step=f"{n} ({probe.name})", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_004_CS", "Malformed frames: FormationViolation or ProtocolError, the connection survives")
async def test_rpc_004_cs_malformed_frames(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_004_CS, OCPP-J 1.6 sections 4.1.2 (valid JSON), 4.1.3 (message type), 4.2 (message structures), 4.2.3.

    Frames that are not OCPP-J: not JSON, not an array, message type 9, a number as unique id,
    a CALL of 3 or 5 elements, a payload that is an array, an action that is a number, a
    binary frame. After each the charge point must still answer a valid CALL (it did not
    break). A CALL it can address gets CALLERROR FormationViolation or ProtocolError; silence
    or another code there is a warning, a CALLRESULT a failure. A frame without a readable
    unique id, and an unknown message type (4.1.3: 'SHALL ignore'), may go unanswered.
    Closing the connection is a warning; the charge point must then reconnect.
    """
    for n, probe in enumerate(malformed_probes(SUT), start=1):
        await run_probe(central_system, probe, step=f"{n} ({probe.name})", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_005_CS", "A CALL in the wrong direction: NotSupported or NotImplemented")
async def test_rpc_005_cs_wrong_direction(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_005_CS, OCPP 1.6 spec 4.6 (Heartbeat goes charge point to central system), OCPP-J 1.6 section 4.2.3.

    A Heartbeat.req from the central system is answered CALLERROR NotSupported or
    NotImplemented (the spec names no code; another code is a warning). A CALLRESULT fails:
    the charge point processed a CALL it must never receive.
    """
    await run_probe(central_system, wrong_direction_probe(SUT), step="1-2 (Heartbeat.req to the charge point)",
                    sut_role=SUT)


# -- message ids (OCPP-J 1.6 section 4.1.4) -------------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_006_CS", "A CALL repeated with the same unique id is not processed twice")
async def test_rpc_006_cs_repeated_unique_id(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_006_CS, OCPP-J 1.6 sections 4.1.4 (message ID) and 4.2.3.

    RemoteStartTransaction starts a transaction on the plugged connector; the same CALL, same
    unique id, arrives again once the transaction runs (a retransmission). The charge point
    repeats its first answer or refuses the repeat (CALLERROR): both pass. Another answer
    than the first (Rejected: the connector is busy now) shows it processed the CALL again,
    and a second StartTransaction.req fails too. No answer is a warning.
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    keys = await get_configuration(cs, "before (GetConfiguration AuthorizeRemoteTxRequests)", "AuthorizeRemoteTxRequests")
    authorize_remote = keys.get("AuthorizeRemoteTxRequests", {}).get("value", "false").lower() == "true"
    await sut.act("plug_in", step="1", connector=cid)
    await cs.expect("StatusNotification", step="1 (StatusNotification Preparing)", connectorId=cid, status="Preparing")
    uid = probe_id("twice")
    frame = call_frame(uid, "RemoteStartTransaction", {"connectorId": cid, "idTag": tag})
    session = await cs.wait_connected("2")
    with probe_step(cs, "2 (RemoteStartTransaction)", frame, "RemoteStartTransaction.conf Accepted") as record:
        first = await session.exchange_raw(frame, unique_id=uid, timeout=cs.timeouts.call)
        if first is None or not isinstance(first.message, CallResult) or first.message.payload.get("status") != "Accepted":
            raise PayloadMismatch("2", "RemoteStartTransaction (a raw CALL of the harness) was not answered Accepted; the "
                                       "case needs a transaction to start", f"answer: {first.message if first else None}")
    if authorize_remote:
        await cs.expect("Authorize", step="3 (Authorize.req, AuthorizeRemoteTxRequests is true)", reply=accepted(),
                        idTag=tag)
    await cs.expect_all(Expectation("StartTransaction", {"connectorId": cid, "idTag": tag}, cs.start_transaction_reply),
                        connector_status(cid, "Charging"), step="3-4 (StartTransaction.req, StatusNotification Charging)")
    with probe_step(cs, "5 (the same CALL again, same unique id)", frame, "the first answer, or a CALLERROR") as record:
        again = await session.exchange_raw(frame, unique_id=uid, timeout=cs.timeouts.call)
        reply = again.message if again else None
        if reply is None:
            cs.warn("5", "the repeated CALL got no answer", "OCPP-J 1.6 section 4.2.3 lists 'an existing call with the "
                                                            "same unique identifier' among the CallError situations")
        elif isinstance(reply, CallResult) and reply.payload != first.message.payload:
            raise ProtocolFailure("5", f"the repeated CALL (unique id {uid!r}) was processed again: answered "
                                       f"{reply.payload} where the first answer was {first.message.payload}",
                                  "OCPP-J 1.6 section 4.1.4: a unique id identifies one request; a repeat is "
                                  "answered with the first answer or refused, never executed a second time")
        if reply is not None:
            record.received.append(as_message(reply))
    window = min(cs.timeouts.step, 3.0)
    await cs.expect_none("StartTransaction", step="6 (no second transaction)", within=window)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_007_CS", "Unique ids of 36 characters are taken, longer ones refused")
async def test_rpc_007_cs_unique_id_length(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_007_CS, OCPP-J 1.6 section 4.1.4 (messageId: 'Maximum of 36 characters, to allow for GUIDs'), 4.2.3.

    GetConfiguration with a 36-character GUID and a 36-character id that is no GUID is
    answered with CALLRESULTs carrying those ids. One of 37 characters is refused with a
    CALLERROR (4.2.3: 'unique identifier too long'); any of the payload codes passes, another
    code or silence is a warning, a CALLRESULT fails.
    """
    cs = central_system
    for n, uid in enumerate(UNIQUE_ID_36, start=1):
        probe = Probe("36-character id", call_frame(uid, "GetConfiguration", {"key": ["HeartbeatInterval"]}), uid,
                      Expect(frozenset(), result="pass", silence="fail", other="fail"),
                      f"GetConfiguration.req with the 36-character unique id {uid!r}",
                      "OCPP-J 1.6 section 4.1.4: a unique id has at most 36 characters; one of 36 is valid")
        await must_answer(cs, probe, step=f"{n} (unique id of 36 characters)")
    uid = UNIQUE_ID_36[0] + "x"
    await run_probe(cs, Probe(
        "37-character id", call_frame(uid, "GetConfiguration", {"key": ["HeartbeatInterval"]}), uid,
        Expect(SCHEMA_CODES, silence="warn", other="warn",
               reading="the table names no code for an over-long unique id; these are its nearest rows"),
        "GetConfiguration.req with a unique id of 37 characters",
        "OCPP-J 1.6 section 4.2.3: 'unique identifier too long' is answered with a CallError"),
        step="3 (unique id of 37 characters)", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_008_CS", "A CALLRESULT or CALLERROR for an unknown id is ignored")
async def test_rpc_008_cs_reply_to_no_call(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_008_CS, OCPP-J 1.6 sections 4.1.4 and 4.2.2/4.2.3 (a reply carries the id of the CALL it answers).

    A CALLRESULT and a CALLERROR whose unique ids the charge point never sent are ignored:
    no answer to them (a CALLERROR only ever answers a CALL), and the connection stays open
    and serves the next CALL. Closing it, or answering them, fails.
    """
    ignore = Expect(frozenset(), silence="pass", result="fail", other="fail", close="fail")
    rule = "OCPP-J 1.6 section 4.2: a CALLRESULT or CALLERROR answers a CALL; one for no CALL is ignored"
    result = Probe("CALLRESULT for no CALL", f'[3,"{probe_id("never-sent")}",{{}}]', None, ignore,
                   "a CALLRESULT for a unique id the charge point never sent", rule)
    error = Probe("CALLERROR for no CALL", f'[4,"{probe_id("never-sent")}","GenericError","probe",{{}}]', None, ignore,
                  "a CALLERROR for a unique id the charge point never sent", rule)
    await run_probe(central_system, result, step="1-2 (CALLRESULT for an unknown unique id)", sut_role=SUT)
    await run_probe(central_system, error, step="3-4 (CALLERROR for an unknown unique id)", sut_role=SUT)


# -- configuration and field checks (spec 5.3, 7.31, 3.7, 4.2) ----------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_015_CS", "Read-only configuration keys are not changed")
async def test_rpc_015_cs_read_only_keys(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_015_CS, OCPP 1.6 spec 5.3, 7.22 (ChangeConfiguration), 9 (key accessibility), 6.23/6.24 (readonly).

    Every key GetConfiguration reports read-only (at most ``extra.readonly_probe_max``, 20)
    is sent to ChangeConfiguration with its own value: the answer is Rejected (reading of
    5.3: the key is supported, it cannot be set; NotSupported is a warning), never Accepted
    or RebootRequired; afterwards it is still read-only with the same value. (The value is
    its own so a charge point that wrongly takes it is not changed.)
    """
    cs = central_system
    keys = await get_configuration(cs, "1 (GetConfiguration, all keys)")
    limit = int(sut.config.extra.get("readonly_probe_max", 20))
    readonly = [kv for kv in keys.values() if kv.get("readonly") and "value" in kv][:limit]
    if not readonly:
        pytest.skip("the charge point reports no read-only key with a value")
    for kv in readonly:
        key, value = kv["key"], str(kv["value"])
        reply = await cs.call("ChangeConfiguration", {"key": key, "value": value}, step=f"2 (ChangeConfiguration {key})")
        status = reply["status"]  # type: ignore[index]
        if status in ("Accepted", "RebootRequired"):
            raise PayloadMismatch(f"2 (ChangeConfiguration {key})", f"{key} is reported read-only, yet ChangeConfiguration "
                                  f"answered {status}", "spec 5.3 / 9: a read-only key cannot be set; the consistent "
                                  "answer is Rejected (the key is known and supported)")
        if status == "NotSupported":
            cs.warn(f"2 (ChangeConfiguration {key})", f"ChangeConfiguration of read-only {key} answered NotSupported",
                    "spec 5.3 defines NotSupported for a key the charge point does not know; Rejected fits a known key")
    after = await get_configuration(cs, "3 (GetConfiguration: still read-only, same values)",
                                    *[kv["key"] for kv in readonly])
    for kv in readonly:
        now = after.get(kv["key"], {})
        if not now.get("readonly") or str(now.get("value")) != str(kv["value"]):
            raise PayloadMismatch("3", f"{kv['key']} changed by ChangeConfiguration: was read-only {kv['value']!r}, now "
                                       f"readonly={now.get('readonly')} value={now.get('value')!r}")


@pytest.mark.ocppj
@pytest.mark.tc("RPC_016_CS", "Meter values and transaction messages stay consistent across samples and a reconnect")
async def test_rpc_016_cs_transaction_field_checks(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_016_CS, OCPP 1.6 spec 3.7 (transaction messages until confirmed), 3.16 / 7.31 (registers), 4.2 (clock), 6.45/6.49.

    A transaction with periodic meter values (MeterValueSampleInterval, MeterValuesSampledData
    Energy.Active.Import.Register), stopped remotely; then the central system closes the
    connection and the charge point reconnects. The field checks judge every frame
    (harness.field_checks): the register starts at meterStart and rises, in the unit it names,
    up to meterStop; timestamps are the harness's time (not 1970); after the reconnect no
    StopTransaction.req or MeterValues.req of the confirmed transaction arrives again.
    """
    cs, cid = central_system, connector_under_test(sut)
    interval = int(setting(sut, "meter_value_sample_interval"))
    await configure(cs, sut, "before", {"MeterValueSampleInterval": interval,
                                        "MeterValuesSampledData": "Energy.Active.Import.Register"})
    tx = await charging(cs, sut, step="before (Charging)", connector=cid)
    for n in (1, 2):
        await cs.expect("MeterValues", step=f"{n} (MeterValues #{n}: the register from meterStart up, in its unit, "
                                            "stamped now)", timeout=interval + cs.timeouts.step,
                        transactionId=tx.transaction_id)
    await cs.call("RemoteStopTransaction", {"transactionId": tx.transaction_id}, step="3 (RemoteStopTransaction)",
                  expect={"status": "Accepted"})
    stop, _ = await cs.expect_all(Expectation("StopTransaction", {"transactionId": tx.transaction_id}),
                                  connector_status(cid, "Finishing"), step="4 (StopTransaction.req, Finishing)")
    check_stop_transaction(cs, stop, "4", tx, ("Remote",))
    session = await cs.wait_connected("5")
    with probe_step(cs, "5 (the central system closes the connection; the charge point reconnects)", "<close>", "-"):
        await session.close()
        await cs.wait_connected("5 (the charge point reconnects)", timeout=cs.timeouts.connect)
    window = min(cs.timeouts.step, 3.0)
    await cs.expect_none("StopTransaction", step="6 (no StopTransaction.req again for the confirmed stop)", within=window)
    await sut.act("unplug", step="after", connector=cid)
    await cs.expect("StatusNotification", step="after (StatusNotification Available)", connectorId=cid, status="Available")


# -- smart charging in W (spec 3.13, 5.7, 7.9 ChargingRateUnitType) ---------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_017_CS", "Charging profiles and composite schedules in W")
async def test_rpc_017_cs_composite_schedule_in_watts(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_017_CS, OCPP 1.6 spec 3.13, 5.7, 7.9 (ChargingRateUnitType W), 9.4 (ChargingScheduleAllowedChargingRateUnit).

    The OCTT smart-charging cases ask in ``extra.charging_rate_unit`` (A for most chargers);
    this case reruns their composite checks in W when the charge point allows Power: two
    stacked TxDefaultProfiles (TC_072's schedule) under a ChargePointMaxProfile, all in W,
    then the cap cleared; each GetCompositeSchedule in W is judged by the same model and
    comparison as TC_066/TC_067/TC_072 (limits of the catalog x 1000, as its W note says).
    Skipped without the SmartCharging profile or without Power in the allowed units.
    """
    cs, cid = central_system, connector_under_test(sut)
    if "smart_charging" not in sut.config.features:
        pytest.skip("the SUT config does not list feature profile 'smart_charging'")
    keys = await get_configuration(cs, "before (GetConfiguration)", "ChargingScheduleAllowedChargingRateUnit")
    allowed = str(keys.get("ChargingScheduleAllowedChargingRateUnit", {}).get("value", ""))
    if "Power" not in [u.strip() for u in allowed.split(",")]:
        pytest.skip(f"ChargingScheduleAllowedChargingRateUnit is {allowed!r}: the charge point does not take W")
    watts = copy.copy(sut)
    watts.config = sut.config.with_overrides(extra={**sut.config.extra, "charging_rate_unit": "W"})
    installed = smart.Installed()
    await installed.set(cs, "1 (SetChargingProfile TxDefaultProfile in W, stackLevel 0)", cid, smart._profile(
        watts, "TxDefaultProfile", 0, [(0, 6), (100, 8), (200, 10)], duration=400, valid_for=401))
    await installed.set(cs, "2 (SetChargingProfile TxDefaultProfile in W, stackLevel 1)", cid, smart._profile(
        watts, "TxDefaultProfile", 1, [(0, 7), (100, 9)], duration=150, valid_for=401))
    await installed.set(cs, "3 (SetChargingProfile ChargePointMaxProfile in W)", 0, smart._profile(
        watts, "ChargePointMaxProfile", 0, [(0, 8.5)], duration=86400, valid_for=401))
    await smart.check_composite(cs, watts, "4-5 (GetCompositeSchedule in W)", installed, duration=350)
    await installed.clear(cs, "6 (ClearChargingProfile ChargePointMaxProfile)",
                          {"chargingProfilePurpose": "ChargePointMaxProfile"})
    await smart.check_composite(cs, watts, "7-8 (GetCompositeSchedule in W, no cap)", installed, duration=350)
