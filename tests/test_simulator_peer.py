"""The simulators' OCPP-J layer (harness/simulators/common.py RpcPeer) on a loopback connection."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from harness.simulators.common import RpcPeer


def test_a_call_pending_when_the_connection_closes_fails_at_once_not_after_the_call_timeout() -> None:
    """A reply cannot come on a closed connection: the waiting CALL fails when the reader ends.

    Found under CI load: the reference charge point sent a StatusNotification, was power
    cycled before the reply, and its outbox then waited the whole call timeout on the old
    connection while the new one's statuses queued behind it (TC_034_CS teardown timed out).
    """
    async def silent_then_close(ws: ServerConnection) -> None:
        await ws.recv()  # the CALL; never answered
        await ws.close()

    async def scenario() -> type[BaseException] | None:
        async def no_calls(_: Any) -> None:
            return None
        async with serve(silent_then_close, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}") as ws:
                peer = RpcPeer(ws, no_calls, call_timeout=30)
                reader = asyncio.create_task(peer.run())
                try:
                    await peer.call("Heartbeat", {})
                    raised = None
                except Exception as exc:  # noqa: BLE001 - the kind is what the test reports
                    raised = type(exc)
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                return raised

    # bounded below the 30 s call timeout: a CALL that waits for it ends the scenario with TimeoutError
    assert asyncio.run(asyncio.wait_for(scenario(), 20)) is ConnectionError
