"""What the harness's checks cost per message, as a ratio to a raw websockets round trip.

    python -m pytest benchmarks/bench_rpc_roundtrip.py --benchmark-only

Three measurements in the same run, on loopback:
* baseline: a raw ``websockets`` text round trip (send a CALL frame, receive an echo);
* ``ocppj`` framing + schema validation alone, without I/O;
* a full harness ``CentralSystem.call`` (framing, schema checks both ways, trace) against
  an echoing charge point.
Read the harness figures as multiples of the baseline; no assertion is made on time.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from harness import ocppj, schemas
from harness.config import SutConfig, Timeouts
from harness.roles.central_system import CentralSystem

FRAME = [2, "1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "30"}]
ROUNDS = 200


class _Loop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 60))


@pytest.fixture(scope="module")
def loop() -> Any:
    runner = _Loop()
    yield runner
    runner.loop.close()


async def _answering_charge_point(url: str, stop: asyncio.Event) -> None:
    async with connect(url, subprotocols=["ocpp1.6"], proxy=None) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 1)
            except (asyncio.TimeoutError, Exception):
                break
            frame = json.loads(raw)
            await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))


def test_baseline_raw_websockets_round_trip(benchmark: Any, loop: _Loop) -> None:
    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def setup() -> Any:
        server = await serve(echo, "127.0.0.1", 0)
        port = next(iter(server.sockets)).getsockname()[1]
        client = await connect(f"ws://127.0.0.1:{port}", proxy=None)
        return server, client

    server, client = loop.run(setup())
    text = json.dumps(FRAME)

    async def rounds() -> None:
        for _ in range(ROUNDS):
            await client.send(text)
            await client.recv()

    benchmark.pedantic(lambda: loop.run(rounds()), rounds=5, iterations=1)
    loop.run(client.close())
    server.close()
    loop.run(server.wait_closed())


def test_framing_and_schema_validation_without_io(benchmark: Any) -> None:
    text = json.dumps(FRAME)

    def rounds() -> None:
        for _ in range(ROUNDS):
            message = ocppj.parse(text)
            assert isinstance(message, ocppj.Call)
            schemas.validate(message.action, "request", message.payload)
            schemas.validate(message.action, "response", {"status": "Accepted"})
            ocppj.serialize(ocppj.CallResult(message.unique_id, {"status": "Accepted"}))

    benchmark.pedantic(rounds, rounds=5, iterations=1)


def test_harness_call_round_trip(benchmark: Any, loop: _Loop) -> None:
    config = SutConfig(sut="cp", charge_point_id="CP_1", listen_port=0, timeouts=Timeouts(call=5, connect=5))
    cs = CentralSystem(config)
    stop = asyncio.Event()

    async def setup() -> Any:
        await cs.start()
        await cs.begin_test("bench")
        task = asyncio.ensure_future(_answering_charge_point(f"{cs.url}/CP_1", stop))
        await cs.wait_connected("bench", 5)
        return task

    peer = loop.run(setup())

    async def rounds() -> None:
        for _ in range(ROUNDS):
            await cs.call("ChangeConfiguration", FRAME[3], step="bench")
        cs.trace.entries.clear()  # keep memory flat across benchmark rounds

    benchmark.pedantic(lambda: loop.run(rounds()), rounds=5, iterations=1)
    stop.set()
    loop.run(cs.stop())
    loop.run(asyncio.wait({peer}, timeout=3))
