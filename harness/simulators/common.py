"""What both reference simulators share: fault and variant switches, the HTTP actuation API, an RPC peer.

A **fault** makes a simulator break one rule on purpose (a test case must fail at its
step); a **variant** makes it take another path the spec or the OCTT document permits
(the test cases it touches must still pass). Both are named switches: ``--fault NAME``,
``--variant NAME``, ``--list-faults``, ``--list-variants``, or the ``simulator:`` section of
the simulator's config file (``--config PATH``: ``variants: [...]``, ``options: {...}``).

A simulator is a separate process. It prints one line ``READY key=value ...`` on
stdout when it listens, exits when its stdin closes (so it never outlives the test
run that started it), and takes manual steps as ``POST /act/<name>`` with a JSON
body on a loopback HTTP port. ``GET /state`` returns its state as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import yaml

from .. import ocppj
from ..ocppj import Call, CallError, CallResult
from ..waits import within

__all__ = ["Faults", "Variants", "Switches", "add_switch_arguments", "switches_from", "list_switches", "ActuationServer",
           "RpcPeer", "watch_stdin", "ready"]


@dataclass(frozen=True)
class Switches:
    """Named switches of one kind (faults or variants); ``options`` are their settings (from the config)."""

    catalog: dict[str, str]
    enabled: frozenset[str] = frozenset()
    kind: str = "fault"
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __contains__(self, name: str) -> bool:
        return name in self.enabled

    def option(self, name: str, default: Any) -> Any:
        return self.options.get(name, default)

    def listing(self) -> str:
        width = max(map(len, self.catalog), default=0)
        return "\n".join(f"{name:<{width}}  {text}" for name, text in sorted(self.catalog.items()))

    def check(self) -> None:
        unknown = self.enabled - set(self.catalog)
        if unknown:
            raise SystemExit(f"unknown {self.kind}(s) {sorted(unknown)}; see --list-{self.kind}s")


Faults = Switches  # a defect on purpose: the case guarding the rule must fail


def Variants(catalog: dict[str, str], enabled: frozenset[str] = frozenset(),  # noqa: N802 - reads like the class
             options: dict[str, Any] | None = None) -> Switches:
    """Permitted alternatives: the cases they touch must pass."""
    return Switches(catalog, enabled, "variant", dict(options or {}))


def add_switch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--fault``, ``--variant``, ``--list-faults``, ``--list-variants`` and ``--config`` of a simulator."""
    parser.add_argument("--fault", action="append", default=[], help="switch on a named fault (repeatable)")
    parser.add_argument("--variant", action="append", default=[], help="switch on a named variant (repeatable)")
    parser.add_argument("--list-faults", action="store_true")
    parser.add_argument("--list-variants", action="store_true")
    parser.add_argument("--config", help="the simulator's config file: its 'simulator:' section names variants and options")


def switches_from(args: argparse.Namespace, faults: dict[str, str], variants: dict[str, str]) -> tuple[Switches, Switches]:
    """The faults and variants a simulator runs with: the command line's and its config file's ``simulator:`` section."""
    section: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            section = (yaml.safe_load(f) or {}).get("simulator") or {}
    chosen_faults = Switches(faults, frozenset(args.fault) | frozenset(section.get("faults") or []))
    chosen_variants = Variants(variants, frozenset(args.variant) | frozenset(section.get("variants") or []),
                               section.get("options") or {})
    chosen_faults.check()
    chosen_variants.check()
    return chosen_faults, chosen_variants


def list_switches(args: argparse.Namespace, faults: dict[str, str], variants: dict[str, str]) -> bool:
    """Print the catalogue asked for (``--list-faults`` / ``--list-variants``); True when one was."""
    if args.list_faults:
        print(Switches(faults).listing())
    if args.list_variants:
        print(Variants(variants).listing())
    return bool(args.list_faults or args.list_variants)


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
