"""Beyond OCTT, charge point under test: the WebSocket transport (ids RPC_009_CS .. RPC_012_CS, marker ocppj).

Pings, a frame over the size limit, a central system slow to answer, a quiet link (OCPP-J 1.6
section 3, RFC 6455); the error-code and message-id cases are in ``test_rpc_cs``, with the same
conventions: each docstring names the section it checks and the reading it takes, and what the
text leaves open is a warning (a failure with ``strict: true``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness.errors import StepTimeout
from harness.probe_run import probe_step
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import connector_under_test, get_configuration
from testcases.states_rpc import oversize, pings

SUT = "cp"


# -- transport (OCPP-J 1.6 section 3, RFC 6455) ---------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.tc("RPC_009_CS", "WebSocket pings are answered")
async def test_rpc_009_cs_ping(central_system: CentralSystem, sut: SutHandle, request: pytest.FixtureRequest) -> None:
    """RPC_009_CS, RFC 6455 section 5.5.2 ('an endpoint MUST send a Pong frame in response'), OCPP-J 1.6 section 5.

    Three WebSocket pings from the central system are each answered with a pong within the
    step timeout; the round trips are recorded (property ping_rtt_ms).
    """
    await pings(central_system, request.node.user_properties)


@pytest.mark.ocppj
@pytest.mark.tc("RPC_010_CS", "A frame over the size limit is handled without a crash")
async def test_rpc_010_cs_oversize_frame(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_010_CS, RFC 6455 section 7.4.1 (close code 1009 'message too big'), OCPP-J 1.6 section 4.2.3.

    A DataTransfer.req of ``extra.oversize_frame_bytes`` (default 2 MiB, over common receive
    limits): the charge point answers it, or closes the connection with 1009 (a close with
    another code, or silence, is a warning); either way it then serves a GetConfiguration,
    reconnecting if it closed (within timeouts.connect).
    """
    await oversize(central_system, sut, "DataTransfer", sentinel=("GetConfiguration", {"key": ["HeartbeatInterval"]}))


@pytest.mark.ocppj
@pytest.mark.tc("RPC_011_CS", "The charge point answers while its own CALL waits for the central system")
async def test_rpc_011_cs_slow_central_system(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_011_CS, OCPP-J 1.6 section 4.1.1 (Synchronicity, NOTE: CALLs of both sides may cross).

    The charge point's Authorize.req (an id tag presented) is held unanswered by the central
    system; meanwhile a GetConfiguration.req must be answered within the step timeout (the
    two directions are independent). Then the Authorize is answered Invalid (the invalid tag).
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.invalid
    await sut.act("present_id_tag", step="1", connector=cid, id_tag=tag)
    held = await _hold(cs, "Authorize", step="1-2 (Authorize.req, held unanswered)")
    try:
        await cs.call("GetConfiguration", {"key": ["HeartbeatInterval"]},
                      step="3 (GetConfiguration while the charge point's Authorize.req is unanswered)")
    finally:
        await cs.answer(held, {"idTagInfo": {"status": "Invalid"}})


async def _hold(cs: CentralSystem, action: str, *, step: str) -> Any:
    """Wait (bounded) for the SUT's next ``action`` CALL and keep it unanswered (the caller answers it)."""
    deadline = asyncio.get_running_loop().time() + cs.timeouts.step
    with probe_step(cs, step, "-", f"{action}.req"):
        while True:
            cs.check(step)
            for item in cs.inbox.items[cs.inbox.cursor:]:
                if item.action == action and not item.consumed and item.replied is None:
                    item.consumed = True  # claimed: no default reply
                    cs.inbox.cursor = cs.inbox.items.index(item) + 1
                    return item
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or not await cs.inbox.changed(remaining):
                raise StepTimeout(step, f"{action}.req did not arrive within {cs.timeouts.step:g}s")


@pytest.mark.ocppj
@pytest.mark.tc("RPC_012_CS", "After a quiet spell the charge point still answers")
async def test_rpc_012_cs_quiet_link(central_system: CentralSystem, sut: SutHandle) -> None:
    """RPC_012_CS, OCPP 1.6 spec 4.6 (Heartbeat), OCPP-J 1.6 section 5 (ping / keep-alive).

    The central system sends nothing for twice HeartbeatInterval (``extra.quiet_link_seconds``
    overrides; bounded by half the case's time limit), answering only what the charge point
    sends; then GetConfiguration must be answered. A charge point whose receiving side died
    on the quiet link fails here. A reconnect meanwhile is a warning.
    """
    cs = central_system
    keys = await get_configuration(cs, "before (GetConfiguration HeartbeatInterval)", "HeartbeatInterval")
    interval = int(keys.get("HeartbeatInterval", {}).get("value") or sut.config.heartbeat_interval)
    quiet = float(sut.config.extra.get("quiet_link_seconds", 2 * interval))
    quiet = min(quiet, cs.timeouts.test / 2)
    session = await cs.wait_connected("1")
    await cs.idle(quiet, step=f"1 (no CALL from the central system for {quiet:g}s)")
    await cs.call("GetConfiguration", {"key": ["HeartbeatInterval"]}, step="2 (GetConfiguration after the quiet spell)")
    if cs.session is not session:
        cs.warn("2", "the charge point reconnected during the quiet spell",
                "nothing in OCPP asks a charge point to drop a quiet but healthy connection")
