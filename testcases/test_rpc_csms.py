"""Beyond OCTT, central system under test: the OCPP-J layer and field robustness (ids RPC_nnn_CSMS, marker ocppj).

OCTT's charge point never sends a malformed frame, never reuses a unique id, never comes
back while its old connection still hangs open, never connects without ``ocpp1.6``: the
harness's charge point does, here. A central system that has such defects passes all of
OCTT and still breaks in the field. Each docstring names the OCPP-J 1.6 section it checks
and the reading it takes; what the text leaves open is a warning (a failure with
``strict: true``).

Every case boots the harness's charge point first (reusable state Booted), so a central
system that serves only registered, booted charge points sees a normal one. Extra charge
point identities some cases open (``extra.slow_charge_point_id``) must be known to a real
central system; if it refuses them the case says so and goes on without.

The transport cases (pings, an oversize frame, slow and quiet links) are in ``test_rpc_transport_csms``.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import schemas
from harness.errors import PayloadMismatch, ProtocolFailure, SchemaFailure
from harness.ocppj import CallResult
from harness.probe_run import as_message, probe_step, run_probe
from harness.probes import (
    SCHEMA_CODES, UNIQUE_ID_36, Expect, Probe, call_frame, malformed_probes, probe_id, schema_probes,
    unknown_action_probe, wrong_direction_probe,
)
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import METER_START, booted, stop_transaction
from testcases.states_rpc import must_answer, unsupported_probe

SUT = "cs"


# -- error codes (OCPP-J 1.6 section 4.2.3) -------------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_001_CSMS", "Unknown action: CALLERROR NotImplemented")
async def test_rpc_001_csms_unknown_action(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_001_CSMS, OCPP-J 1.6 section 4.2.3 (table 'Valid Error Codes').

    A CALL of an action no OCPP version has is answered CALLERROR NotImplemented ('Requested
    Action is not known by receiver'); NotSupported ('recognized but not supported') fails.
    (mobilityhouse/ocpp swaps the two, its issue 493; CitrineOS fixed the swap, PR 996.)
    """
    await booted(charge_point, sut, step="before (Booted)")
    await run_probe(charge_point, unknown_action_probe(), step="1-2 (unknown action)", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_002_CSMS", "Known but unsupported action: CALLERROR NotSupported")
async def test_rpc_002_csms_known_unsupported_action(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_002_CSMS, OCPP-J 1.6 section 4.2.3.

    A CALL of an OCPP 1.6 action the central system does not support (``extra.unsupported_actions``,
    else one of a feature profile its config does not list) is answered NotSupported. Reading:
    for a security white paper action NotImplemented is a warning. Skipped when the config lists
    every profile and names no unsupported action.
    """
    probe = unsupported_probe(sut, SUT)
    await booted(charge_point, sut, step="before (Booted)")
    await run_probe(charge_point, probe, step="1-2 (known, unsupported action)", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_003_CSMS", "CALLs that break the schema: the table's error code")
async def test_rpc_003_csms_schema_violations(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_003_CSMS, OCPP-J 1.6 section 4.2.3 (table 'Valid Error Codes'), the OCPP 1.6 JSON schemas.

    Authorize with a number as idTag and with 21 characters (TypeConstraintViolation), without
    idTag (OccurenceConstraintViolation or ProtocolError), StatusNotification with status
    'Sideways' (PropertyConstraintViolation), Heartbeat with a property it has not
    (FormationViolation), MeterValues with an empty meterValue (OccurenceConstraintViolation).
    Another of these codes is a warning (the rows overlap); a CALLRESULT, another code or no
    answer fails.
    """
    await booted(charge_point, sut, step="before (Booted)")
    for n, probe in enumerate(schema_probes(SUT), start=1):
        await run_probe(charge_point, probe, step=f"{n} ({probe.name})", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_004_CSMS", "Malformed frames: FormationViolation or ProtocolError, the connection survives")
async def test_rpc_004_csms_malformed_frames(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_004_CSMS, OCPP-J 1.6 sections 4.1.2, 4.1.3, 4.2, 4.2.3.

    As RPC_004_CS, towards the central system: after each malformed frame it still answers a
    Heartbeat. An addressable malformed CALL gets FormationViolation or ProtocolError (another
    code or silence: a warning; a CALLRESULT fails); frames without a readable unique id and an
    unknown message type may go unanswered; closing the connection is a warning (the harness
    reconnects and the central system must take it).
    """
    await booted(charge_point, sut, step="before (Booted)")
    for n, probe in enumerate(malformed_probes(SUT), start=1):
        await run_probe(charge_point, probe, step=f"{n} ({probe.name})", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_005_CSMS", "A CALL in the wrong direction: NotSupported or NotImplemented")
async def test_rpc_005_csms_wrong_direction(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_005_CSMS, OCPP 1.6 spec 5.8 (GetConfiguration goes central system to charge point), OCPP-J 1.6 section 4.2.3.

    A GetConfiguration.req from the charge point is answered NotSupported or NotImplemented
    (another code is a warning); a CALLRESULT fails.
    """
    await booted(charge_point, sut, step="before (Booted)")
    await run_probe(charge_point, wrong_direction_probe(SUT), step="1-2 (GetConfiguration.req to the central system)",
                    sut_role=SUT)


# -- message ids (OCPP-J 1.6 section 4.1.4) -----------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_006_CSMS", "A CALL repeated with the same unique id is not processed twice")
async def test_rpc_006_csms_repeated_unique_id(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_006_CSMS, OCPP-J 1.6 sections 4.1.4, 4.2.3; OCPP 1.6 spec 4.8 (StartTransaction).

    StartTransaction.req is sent twice with the same unique id (a retransmission after a lost
    answer). The central system repeats its first answer (the same transactionId) or refuses
    the repeat with a CALLERROR; a second transactionId means it opened a second transaction
    for one request and fails. No answer is a warning. The transaction is stopped after.
    """
    cp, connector = charge_point, 1
    await booted(cp, sut, step="before (Booted)")
    uid = probe_id("twice")
    payload = {"connectorId": connector, "idTag": sut.id_tags.valid, "meterStart": METER_START, "timestamp": now_iso()}
    frame = call_frame(uid, "StartTransaction", payload)
    session = await cp.wait_connected("1")
    with probe_step(cp, "1 (StartTransaction.req)", frame, "StartTransaction.conf with a transactionId") as record:
        first = await session.exchange_raw(frame, unique_id=uid, timeout=cp.timeouts.call)
        if first is not None:
            record.received.append(as_message(first.message))
        first_id = _transaction_id("1", first)
        cp.transactions[first_id] = {"connector": connector, "idTag": sut.id_tags.valid, "open": True}
    with probe_step(cp, "2 (the same CALL again, same unique id)", frame, "the first answer, or a CALLERROR") as record:
        again = await session.exchange_raw(frame, unique_id=uid, timeout=cp.timeouts.call)
        reply = again.message if again else None
        if reply is not None:
            record.received.append(as_message(reply))
        if reply is None:
            cp.warn("2", "the repeated StartTransaction.req got no answer",
                    "OCPP-J 1.6 section 4.2.3 lists a CALL 'with the same unique identifier' among the CallError situations")
        elif isinstance(reply, CallResult):
            second_id = _transaction_id("2", again)
            if second_id != first_id:
                cp.transactions[second_id] = {"connector": connector, "idTag": sut.id_tags.valid, "open": True}
                raise ProtocolFailure("2", f"the repeated StartTransaction.req (unique id {uid!r}) was processed again: "
                                           f"a second transaction {second_id} besides {first_id}",
                                      "OCPP-J 1.6 section 4.1.4: a unique id identifies one request; a repeat is "
                                      "answered with the first answer or refused, never executed a second time")
    await stop_transaction(cp, first_id, step="3 (StopTransaction)", reason="Local", id_tag=sut.id_tags.valid)


def _transaction_id(step: str, answer: Any) -> int:
    if answer is None or not isinstance(answer.message, CallResult):
        raise PayloadMismatch(step, f"StartTransaction.req was answered with {answer.message if answer else 'nothing'}; "
                                    "a central system answers StartTransaction.conf (spec 4.8)")
    problems = schemas.validate("StartTransaction", "response", answer.message.payload)
    if problems:
        raise SchemaFailure(step, "StartTransaction.conf breaks the OCPP 1.6 schema",
                            "\n".join(f"  - {p}" for p in problems))
    return int(answer.message.payload["transactionId"])


@pytest.mark.ocppj
@pytest.mark.tc("RPC_007_CSMS", "Unique ids of 36 characters are taken, longer ones refused")
async def test_rpc_007_csms_unique_id_length(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_007_CSMS, OCPP-J 1.6 section 4.1.4 (messageId at most 36 characters), 4.2.3 ('unique identifier too long').

    Heartbeats with a 36-character GUID and a 36-character id that is no GUID are answered
    with CALLRESULTs carrying those ids; one with 37 characters is refused with a CALLERROR
    (another code or silence: a warning; a CALLRESULT fails).
    """
    cp = charge_point
    await booted(cp, sut, step="before (Booted)")
    for n, uid in enumerate(UNIQUE_ID_36, start=1):
        await must_answer(cp, Probe("36-character id", call_frame(uid, "Heartbeat", {}), uid, Expect(frozenset()),
                                     f"Heartbeat.req with the 36-character unique id {uid!r}",
                                     "OCPP-J 1.6 section 4.1.4: a unique id of 36 characters is valid"),
                           step=f"{n} (unique id of 36 characters)")
    uid = UNIQUE_ID_36[0] + "x"
    await run_probe(cp, Probe(
        "37-character id", call_frame(uid, "Heartbeat", {}), uid,
        Expect(SCHEMA_CODES, silence="warn", other="warn",
               reading="the table names no code for an over-long unique id; these are its nearest rows"),
        "Heartbeat.req with a unique id of 37 characters",
        "OCPP-J 1.6 section 4.2.3: 'unique identifier too long' is answered with a CallError"),
        step="3 (unique id of 37 characters)", sut_role=SUT)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_008_CSMS", "A CALLRESULT or CALLERROR for an unknown id is ignored")
async def test_rpc_008_csms_reply_to_no_call(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_008_CSMS, OCPP-J 1.6 section 4.2 (a reply carries the id of the CALL it answers).

    A CALLRESULT and a CALLERROR for unique ids the central system never sent are ignored: no
    answer, the connection stays open and serves the next Heartbeat. Closing it or answering fails.
    """
    await booted(charge_point, sut, step="before (Booted)")
    ignore = Expect(frozenset(), silence="pass", result="fail", other="fail", close="fail")
    rule = "OCPP-J 1.6 section 4.2: a CALLRESULT or CALLERROR answers a CALL; one for no CALL is ignored"
    await run_probe(charge_point, Probe("CALLRESULT for no CALL", f'[3,"{probe_id("never-sent")}",{{}}]', None, ignore,
                                        "a CALLRESULT for a unique id the central system never sent", rule),
                    step="1-2 (CALLRESULT for an unknown unique id)", sut_role=SUT)
    error = f'[4,"{probe_id("never-sent")}","GenericError","probe",{{}}]'
    await run_probe(charge_point, Probe("CALLERROR for no CALL", error, None, ignore,
                                        "a CALLERROR for a unique id the central system never sent", rule),
                    step="3-4 (CALLERROR for an unknown unique id)", sut_role=SUT)
