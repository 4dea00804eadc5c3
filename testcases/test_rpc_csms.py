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
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
import time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from harness import schemas
from harness.errors import (
    ConnectionFailure, PayloadMismatch, ProtocolFailure, SchemaFailure,
)
from harness.ocppj import CallResult
from harness.probes import (
    SCHEMA_CODES, UNIQUE_ID_36, Expect, Probe, as_message, call_frame, malformed_probes, partial_frame, probe_id,
    probe_step, run_probe, schema_probes, unknown_action_probe, unsupported_action_probe, upgrade_request,
    wrong_direction_probe,
)
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.steps import Message
from harness.sut import SutHandle
from harness.transport import basic_auth_header, connect_charge_point
from harness.waits import within
from testcases.states_central_system import (
    METER_START, boot_notification_payload, booted, operator_sends, stop_transaction,
)
from testcases.test_rpc_cs import _must_answer, _oversize, _pings

SUT = "cs"


# -- how the harness charge point reaches the central system (its security profile's endpoint and credentials) --------
def _reach(cp: ChargePoint) -> tuple[str, Any, ssl_module.SSLContext | None]:
    """(endpoint, basic-auth password or None, TLS context or None) of the harness charge point's current profile."""
    profile = int(getattr(cp, "profile", 0) or 0)
    endpoint = cp.endpoint_for(profile) if hasattr(cp, "endpoint_for") else cp.config.endpoint
    if hasattr(cp, "password"):
        password = cp.password() if profile in (1, 2) else None
    else:
        password = cp.config.basic_auth_password
    tls = cp.tls_context(profile) if hasattr(cp, "tls_context") and profile >= 2 else None
    return endpoint, password, tls


async def _open(cp: ChargePoint, identity: str) -> Any:
    """A second connection of the harness, as charge point ``identity`` (ConnectionFailure if refused)."""
    endpoint, password, tls = _reach(cp)
    return await connect_charge_point(endpoint, identity, password=password, open_timeout=cp.timeouts.connect, ssl=tls)


def _unsupported(sut: SutHandle) -> Probe:
    """The probe of RPC_002: an action of ``extra.unsupported_actions``, else of a profile not in ``features``."""
    probe = unsupported_action_probe(SUT, sut.config.features, sut.config.extra.get("unsupported_actions") or ())
    if probe is None:
        pytest.skip("the SUT config lists every feature profile (and the security extension): there is no known action "
                    "it does not support; name one in extra.unsupported_actions to run this case")
    return probe


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
    probe = _unsupported(sut)
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
        await _must_answer(cp, Probe("36-character id", call_frame(uid, "Heartbeat", {}), uid, Expect(frozenset()),
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


# -- transport (OCPP-J 1.6 section 3, RFC 6455) -------------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_009_CSMS", "WebSocket pings are answered")
async def test_rpc_009_csms_ping(charge_point: ChargePoint, sut: SutHandle, request: pytest.FixtureRequest) -> None:
    """RPC_009_CSMS, RFC 6455 section 5.5.2, OCPP-J 1.6 section 5 (WebSocket ping in place of most heartbeats).

    Three WebSocket pings of the charge point are each answered with a pong within the step
    timeout; the round trips are recorded (property ping_rtt_ms).
    """
    await booted(charge_point, sut, step="before (Booted)")
    await _pings(charge_point, request.node.user_properties)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_010_CSMS", "A frame over the size limit is handled without a crash")
async def test_rpc_010_csms_oversize_frame(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_010_CSMS, RFC 6455 section 7.4.1 (1009 'message too big'), OCPP-J 1.6 section 4.2.3.

    A DataTransfer.req of ``extra.oversize_frame_bytes`` (default 2 MiB): the central system
    answers it or closes with 1009 (another close or silence is a warning); then it serves a
    Heartbeat, on a new connection if it closed the old one.
    """
    await booted(charge_point, sut, step="before (Booted)")
    await _oversize(charge_point, sut, "DataTransfer", sentinel=("Heartbeat", {}))


@pytest.mark.ocppj
@pytest.mark.tc("RPC_011_CSMS", "Silent and slow peers do not stall the central system's other connections")
async def test_rpc_011_csms_slow_peers(charge_point: ChargePoint, sut: SutHandle, request: pytest.FixtureRequest) -> None:
    """RPC_011_CSMS, OCPP-J 1.6 section 3 (one WebSocket per charge point), RFC 6455 sections 4.1, 5.2.

    Three peers hold connections without completing anything: a TCP connection that sends
    nothing, an HTTP upgrade request cut in half, and a WebSocket (identity
    ``extra.slow_charge_point_id``) that sent half a frame. Meanwhile the harness charge point
    boots and sends three Heartbeats: each is answered within timeouts.call (latencies in
    property slow_peer_heartbeat_ms). A central system that serves one connection at a time,
    or waits for a whole frame before the next connection, fails.
    """
    cp = charge_point
    endpoint, password, tls = _reach(cp)
    peers: list[Any] = []
    try:
        with probe_step(cp, "1 (three slow peers connect)", "<silent TCP>, <half an upgrade request>, <half a frame>", "-"):
            await _slow_peers(cp, sut, endpoint, password, tls, peers)
        await booted(cp, sut, step="2 (Booted while the slow peers hang)")
        latencies = []
        for n in (1, 2, 3):
            began = time.monotonic()
            await cp.call("Heartbeat", {}, step=f"3 (Heartbeat #{n} while the slow peers hang)")
            latencies.append(round((time.monotonic() - began) * 1000, 2))
        request.node.user_properties.append(("slow_peer_heartbeat_ms", latencies))
        cp.trace.event(f"Heartbeat round trips while slow peers hang: {latencies} ms")
    finally:
        for peer in peers:  # cut, not closed: a close handshake on a connection left mid-frame would only wait
            with contextlib.suppress(Exception):
                peer.transport.abort()


async def _slow_peers(cp: ChargePoint, sut: SutHandle, endpoint: str, password: Any, tls: Any, peers: list[Any]) -> None:
    parts = urlsplit(endpoint)
    host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "wss" else 80)
    secure = parts.scheme == "wss"
    for half in (False, True):
        try:
            _, writer = await within(asyncio.open_connection(host, port, ssl=tls if secure else None), cp.timeouts.connect)
        except (OSError, asyncio.TimeoutError) as exc:
            cp.trace.event(f"slow peer: TCP connection failed ({type(exc).__name__}: {exc})")
            continue
        peers.append(writer)
        if half:
            identity = str(sut.config.extra.get("slow_charge_point_id", f"{sut.config.charge_point_id}-SLOW"))
            text = upgrade_request(f"{host}:{port}", f"{parts.path.rstrip('/')}/{quote(identity, safe='')}")
            writer.write(text[: len(text) // 2])
            cp.trace.event(f"slow peer: sent {len(text) // 2} of {len(text)} bytes of an HTTP upgrade request")
        else:
            cp.trace.event("slow peer: a TCP connection that sends nothing")
    identity = str(sut.config.extra.get("slow_charge_point_id", f"{sut.config.charge_point_id}-SLOW"))
    try:
        ws = await connect_charge_point(endpoint, identity, password=password, open_timeout=cp.timeouts.connect, ssl=tls)
    except ConnectionFailure as exc:
        cp.trace.event(f"slow peer: the WebSocket as {identity!r} was refused ({exc.problem}); the case goes on without it")
        return
    peers.append(ws)
    ws.transport.write(partial_frame(announced=120, sent=10))
    cp.trace.event(f"slow peer {identity!r}: a WebSocket frame header announcing 120 bytes, then 10 of them")


@pytest.mark.ocppj
@pytest.mark.tc("RPC_012_CSMS", "After a quiet spell the central system still answers")
async def test_rpc_012_csms_quiet_link(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_012_CSMS, OCPP 1.6 spec 4.6 (Heartbeat), OCPP-J 1.6 section 5.

    The harness charge point boots, then sends nothing for twice the granted heartbeat
    interval (``extra.quiet_link_seconds`` overrides; at most half the case's time limit);
    then a Heartbeat must be answered. If the central system closed the quiet connection
    meanwhile (a warning: the charge point only missed one heartbeat), it must answer on a new one.
    """
    cp = charge_point
    interval = await booted(cp, sut, step="before (Booted)")
    quiet = min(float(sut.config.extra.get("quiet_link_seconds", 2 * interval)), cp.timeouts.test / 2)
    session = await cp.wait_connected("1")
    await cp.idle(quiet, step=f"1 (the charge point sends nothing for {quiet:g}s)")
    if session.closed.is_set():
        cp.warn("1", f"the central system closed the connection after {quiet:g}s of quiet ({session.close_reason})",
                "spec 4.6: a charge point that misses a heartbeat may be considered offline, but OCPP-J asks no one to "
                "drop its connection")
    await cp.call("Heartbeat", {}, step="2 (Heartbeat after the quiet spell)")


@pytest.mark.ocppj
@pytest.mark.tc("RPC_013_CSMS", "A connection without subprotocol ocpp1.6 is refused or closed")
async def test_rpc_013_csms_subprotocol(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_013_CSMS, OCPP-J 1.6 section 3.1.2 (the client offers ocpp1.6) and 3.2 ('If the Central System does not
    agree to using one of the subprotocols offered by the client, it MUST complete the WebSocket handshake with a
    response without a Sec-WebSocket-Protocol header and then immediately close the WebSocket connection').

    Two upgrades, one offering no subprotocol, one offering only ocpp2.0.1: the central
    system completes each without a subprotocol and closes it within the step timeout, never
    serving the BootNotification.req sent on it. Refusing the upgrade with an HTTP error has
    the same effect and is a warning (3.2 asks for the handshake then the close); selecting a
    subprotocol that was not offered (RFC 6455 section 4.2.2) or serving OCPP fails.
    """
    cp = charge_point
    for n, offered in ((1, []), (2, ["ocpp2.0.1"])):
        await _without_ocpp16(cp, sut, offered, step=f"{n} (upgrade offering {', '.join(offered) or 'no subprotocol'})")


async def _without_ocpp16(cp: ChargePoint, sut: SutHandle, offered: list[str], *, step: str) -> None:
    endpoint, password, tls = _reach(cp)
    identity = sut.config.charge_point_id
    url = f"{endpoint.rstrip('/')}/{quote(identity, safe='')}"
    headers = {"Authorization": basic_auth_header(identity, password)} if password is not None else {}
    uid = probe_id("nosub")
    frame = call_frame(uid, "BootNotification", boot_notification_payload(sut))
    with probe_step(cp, step, f"<WebSocket upgrade, Sec-WebSocket-Protocol: {offered or 'absent'}>", "close") as record:
        cp.trace.event(f"{step}: opening a WebSocket to {url} offering {offered or 'no subprotocol'}")
        try:
            ws = await ws_connect(url, subprotocols=offered or None, additional_headers=headers, proxy=None,
                                  open_timeout=cp.timeouts.connect, close_timeout=2, ping_interval=None,
                                  **({"ssl": tls} if tls is not None else {}))
        except InvalidStatus as exc:
            cp.trace.event(f"{step}: refused with HTTP {exc.response.status_code}")
            cp.warn(step, f"the upgrade was refused with HTTP {exc.response.status_code}",
                    "OCPP-J 1.6 section 3.2: complete the handshake without a Sec-WebSocket-Protocol header, then close")
            return
        except InvalidHandshake as exc:
            raise ProtocolFailure(step, f"the central system's handshake response is invalid for this offer: {exc}",
                                  "RFC 6455 section 4.2.2: the server selects one of the offered subprotocols, "
                                  "or none") from None
        try:
            if ws.subprotocol is not None:
                raise ProtocolFailure(step, f"the central system selected subprotocol {ws.subprotocol!r}, which was not "
                                            "offered", "RFC 6455 section 4.2.2, OCPP-J 1.6 section 3.2")
            try:
                cp.trace.add("sent", frame, "no-subprotocol")
                await ws.send(frame)
                answer = await within(ws.recv(), cp.timeouts.step)
            except ConnectionClosed:
                cp.trace.event(f"{step}: the central system closed the connection ({ws.close_code})")
                return
            except asyncio.TimeoutError:
                raise ProtocolFailure(step, f"the connection without subprotocol stayed open {cp.timeouts.step:g}s",
                                      "OCPP-J 1.6 section 3.2: the central system MUST then immediately close it") from None
            cp.trace.add("received", str(answer), "no-subprotocol")
            record.received.append(Message("frame", str(answer)[:200], bad=["$"]))
            raise ProtocolFailure(step, "the central system served OCPP on a connection that never agreed on ocpp1.6: it "
                                        f"answered the BootNotification.req ({str(answer)[:120]})",
                                  "OCPP-J 1.6 section 3.2: it MUST complete the handshake without the header and then "
                                  "immediately close the connection")
        finally:
            with contextlib.suppress(Exception):
                await within(ws.close(), 3)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_014_CSMS", "A charge point reconnecting over a stale connection is taken on the new one")
async def test_rpc_014_csms_stale_connection(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_014_CSMS, OCPP-J 1.6 section 3 (one connection per charge point identity), OCPP 1.6 spec 4.2 (boot).

    A power cut leaves the charge point's TCP connection open at the central system (no FIN,
    no close frame): the harness keeps connection A open and silent, and the charge point
    comes back on connection B and boots. B must be accepted and served; the operator's next
    command (cs_get_configuration) must arrive on B; A should be closed within the step timeout
    (a warning if not: OCPP-J does not say so, but a stale connection must not win).
    """
    cp = charge_point
    await booted(cp, sut, step="before (Booted on connection A)")
    stale = await cp.wait_connected("1")
    with probe_step(cp, "1 (connection B opens while A is still open)", "<WebSocket upgrade>", "101 Switching Protocols"):
        try:
            ws = await _open(cp, sut.config.charge_point_id)
        except ConnectionFailure as exc:
            raise ConnectionFailure("1", f"the central system refused the charge point's new connection while its "
                                         f"old one is still open: {exc.problem}",
                                    "a power cut leaves the old TCP connection open at the central system until it "
                                    "times out (often hours): a refused reconnect keeps the charge point offline") from None
        fresh = cp.new_session(ws, f"{sut.config.charge_point_id}#B")
    try:
        await booted(cp, sut, step="2 (Booted on connection B)")
        got = await operator_sends(cp, sut, "cs_get_configuration", "GetConfiguration", step="3-4 (operator: "
                                   "GetConfiguration)", reply=None, params={"keys": []})
        if got.session is not fresh:
            raise ProtocolFailure("3-4", "the operator's GetConfiguration.req went out on the stale connection A, not on "
                                         "the charge point's live connection B")
        try:
            await within(stale.wait_closed(), cp.timeouts.step)
        except asyncio.TimeoutError:
            cp.warn("5", f"the stale connection A is still open {cp.timeouts.step:g}s after B took over",
                    "OCPP-J 1.6 does not say what becomes of the old connection; closing it frees the charge point's "
                    "identity and the server's resources")
    finally:
        await stale.close()
