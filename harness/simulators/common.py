"""What both reference simulators share: fault switches, the HTTP actuation API, an RPC peer.

A simulator is a separate process. It prints one line ``READY key=value ...`` on
stdout when it listens, exits when its stdin closes (so it never outlives the test
run that started it), and takes manual steps as ``POST /act/<name>`` with a JSON
body on a loopback HTTP port. ``GET /state`` returns its state as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from .. import ocppj
from ..ocppj import Call, CallError, CallResult
from ..waits import within

__all__ = ["Faults", "ActuationServer", "RpcPeer", "watch_stdin", "ready"]


@dataclass(frozen=True)
class Faults:
    """Named fault switches; each one makes the simulator break one rule on purpose."""

    catalog: dict[str, str]
    enabled: frozenset[str] = frozenset()

    def __contains__(self, name: str) -> bool:
        return name in self.enabled

    def listing(self) -> str:
        width = max(map(len, self.catalog))
        return "\n".join(f"{name:<{width}}  {text}" for name, text in sorted(self.catalog.items()))

    def check(self) -> None:
        unknown = self.enabled - set(self.catalog)
        if unknown:
            raise SystemExit(f"unknown fault(s) {sorted(unknown)}; see --list-faults")


Handler = Callable[[str, dict[str, Any]], Awaitable[Any]]


class ActuationServer:
    """A minimal HTTP/1.1 server on loopback: POST /act/<name>, GET /state."""

    def __init__(self, act: Handler, state: Callable[[], dict[str, Any]]) -> None:
        self._act = act
        self._state = state
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, host, port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await within(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await within(reader.readexactly(length), 10) if length else b""
            if method == "GET" and path == "/state":
                status, result = 200, self._state()
            elif method == "POST" and path.startswith("/act/"):
                params = json.loads(body) if body else {}
                try:
                    status, result = 200, {"ok": True, "result": await self._act(path[5:], params)}
                except KeyError as exc:
                    status, result = 404, {"ok": False, "error": f"unknown action {exc}"}
                except Exception as exc:  # report, never crash the simulator
                    status, result = 500, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            else:
                status, result = 404, {"ok": False, "error": f"no route {method} {path}"}
        except Exception as exc:
            status, result = 400, {"ok": False, "error": f"bad request: {exc}"}
        data = json.dumps(result, default=str).encode()
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                     "Connection: close\r\n\r\n".encode() + data)
        try:
            await writer.drain()
        finally:
            writer.close()


class RpcPeer:
    """OCPP-J over one websocket for a simulator: send CALLs, answer CALLs via ``handler``."""

    def __init__(self, ws: Any, handler: Callable[[Call], Awaitable[dict[str, Any] | CallError | None]], *, call_timeout: float = 10) -> None:
        self.ws = ws
        self.handler = handler
        self.call_timeout = call_timeout
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._ids = 0
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Read until the connection ends."""
        async for raw in self.ws:
            message = ocppj.parse(raw)
            if isinstance(message, Call):
                asyncio.get_running_loop().create_task(self._answer(message))
            elif isinstance(message, (CallResult, CallError)):
                future = self._pending.pop(message.unique_id, None)
                if future is not None and not future.done():
                    future.set_result(message)

    async def _answer(self, call: Call) -> None:
        try:
            reply = await self.handler(call)
        except Exception as exc:
            reply = CallError(call.unique_id, "InternalError", f"{type(exc).__name__}: {exc}"[:255])
        if reply is None:  # a fault that stays silent
            return
        message = reply if isinstance(reply, CallError) else CallResult(call.unique_id, reply)
        if isinstance(message, CallError) and not message.unique_id:
            message = CallError(call.unique_id, message.error_code, message.error_description, message.error_details)
        await self.send_raw(ocppj.serialize(message))

    async def send_raw(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except Exception:  # the connection went away; the lifecycle loop notices
            pass

    async def call(self, action: str, payload: dict[str, Any]) -> CallResult | CallError:
        """Send a CALL and wait (bounded) for its reply; one at a time."""
        async with self._lock:
            self._ids += 1
            uid = str(self._ids)
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._pending[uid] = future
            await self.ws.send(ocppj.serialize(Call(uid, action, payload)))
            try:
                return await within(future, self.call_timeout)
            finally:
                self._pending.pop(uid, None)


async def watch_stdin() -> None:
    """Return when stdin reaches EOF: the parent process is gone or wants us to stop."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.buffer.read)


def ready(**info: Any) -> None:
    print("READY " + " ".join(f"{k}={v}" for k, v in info.items()), flush=True)
