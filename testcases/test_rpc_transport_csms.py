"""Beyond OCTT, central system under test: the WebSocket transport (ids RPC_009_CSMS .. RPC_014_CSMS, marker ocppj).

Pings, a frame over the size limit, slow and half-open peers beside the harness's charge point,
a quiet link, the subprotocol, a stale connection replaced by a new one (OCPP-J 1.6 section 3,
RFC 6455); the error-code and message-id cases are in ``test_rpc_csms``, with the same
conventions: every case boots the harness's charge point first, each docstring names the section
it checks and the reading it takes, and what the text leaves open is a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from harness.errors import ConnectionFailure, ProtocolFailure
from harness.probe_run import probe_step
from harness.probes import call_frame, partial_frame, probe_id, upgrade_request
from harness.roles.charge_point import ChargePoint
from harness.steps import Message
from harness.sut import SutHandle
from harness.transport import basic_auth_header, connect_charge_point
from harness.waits import within
from testcases.states_central_system import boot_notification_payload, booted, operator_sends
from testcases.states_rpc import open_connection, oversize, pings, reach

SUT = "cs"


# -- transport (OCPP-J 1.6 section 3, RFC 6455) -------------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_009_CSMS", "WebSocket pings are answered")
async def test_rpc_009_csms_ping(charge_point: ChargePoint, sut: SutHandle, request: pytest.FixtureRequest) -> None:
    """RPC_009_CSMS, RFC 6455 section 5.5.2, OCPP-J 1.6 section 5 (WebSocket ping in place of most heartbeats).

    Three WebSocket pings of the charge point are each answered with a pong within the step
    timeout; the round trips are recorded (property ping_rtt_ms).
    """
    await booted(charge_point, sut, step="before (Booted)")
    await pings(charge_point, request.node.user_properties)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_010_CSMS", "A frame over the size limit is handled without a crash")
async def test_rpc_010_csms_oversize_frame(charge_point: ChargePoint, sut: SutHandle) -> None:
    """RPC_010_CSMS, RFC 6455 section 7.4.1 (1009 'message too big'), OCPP-J 1.6 section 4.2.3.

    A DataTransfer.req of ``extra.oversize_frame_bytes`` (default 2 MiB): the central system
    answers it or closes with 1009 (another close or silence is a warning); then it serves a
    Heartbeat, on a new connection if it closed the old one.
    """
    await booted(charge_point, sut, step="before (Booted)")
    await oversize(charge_point, sut, "DataTransfer", sentinel=("Heartbeat", {}))


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
    endpoint, password, tls = reach(cp)
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
    endpoint, password, tls = reach(cp)
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
            ws = await open_connection(cp, sut.config.charge_point_id)
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
