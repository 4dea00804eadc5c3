"""What both reference simulators share: fault and variant switches, the HTTP actuation API, an RPC peer.

The RPC peer (:class:`RpcPeer`) is the OCPP-J layer of both: it answers what a handler never
sees (unknown actions, wrong direction, schema violations, malformed CALLs, repeated unique
ids) the way OCPP-J 1.6 section 4.2.3 says, and breaks those rules on purpose under the
:data:`RPC_FAULTS` the harness's own cases (testcases/test_rpc_*.py) are proven with.

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
import functools
import json
import math
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Awaitable, Callable

import yaml
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from websockets.frames import Opcode

from .. import ocppj, schemas
from ..ocppj import Call, CallError, CallResult
from ..waits import within

__all__ = ["Faults", "Variants", "Switches", "add_switch_arguments", "switches_from", "list_switches", "Background",
           "ActuationServer", "RpcPeer", "RPC_FAULTS", "schema_error", "watch_stdin", "ready"]


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


class Background:
    """Work a simulator starts on its own and does not await (a retry, a cancel before expiry).

    Each task is kept until it ends (the event loop holds only weak references to tasks) and its
    failure is swallowed: the operator's command that started it has long returned.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                pass
        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


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


#: faults of the OCPP-J layer both simulators share (RpcPeer carries them out; each simulator lists them)
RPC_FAULTS = {
    "duplicate_id_processed_twice": "a CALL repeated with the same unique id is processed again (no memory of answered ids)",
    "error_codes_swapped": "NotImplemented and NotSupported swapped: an unknown action gets NotSupported, "
                           "a known unsupported one NotImplemented",
    "generic_error_codes": "every CALLERROR goes out with errorCode GenericError",
    "unknown_action_empty_result": "a CALL of an unknown action is answered with an empty CALLRESULT {}",
    "wrong_direction_accepted": "a CALL of an action only it may send (the wrong direction) is answered with an empty "
                                "CALLRESULT {}",
    "schema_not_checked": "a CALL that breaks the schema goes to the handler as it is (no CALLERROR for the violation)",
    "unique_id_max_32": "unique ids longer than 32 characters are refused with a CALLERROR (OCPP-J allows 36)",
    "long_unique_id_accepted": "a CALL whose unique id is longer than 36 characters is processed like any other",
    "unknown_reply_closes": "a CALLRESULT or CALLERROR for a unique id it never sent closes the connection",
    "reader_dies_on_bad_json": "a frame that is not JSON stops its reader for good: the connection stays open, "
                               "nothing more is answered",
    "pings_unanswered": "WebSocket pings are never answered with a pong",
    "deaf_after_quiet_spell": "after 1.5 heartbeat intervals without a CALL from the other side, CALLs are no longer "
                              "answered (a half-dead link)",
}

_KNOWN = schemas.ACTIONS
_RULE_CODES = {  # jsonschema rule -> OCPP-J 1.6 code, this simulator's own reading of the table
    "required": "ProtocolError",  # "Payload for Action is incomplete"
    "type": "TypeConstraintViolation", "maxLength": "TypeConstraintViolation", "minLength": "TypeConstraintViolation",
    "enum": "PropertyConstraintViolation", "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation", "pattern": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
    "minItems": "OccurenceConstraintViolation", "maxItems": "OccurenceConstraintViolation",
}
_ANSWERS_KEPT = 64  # answered unique ids remembered per connection (a repeated id gets the first answer again)
#: fault burst_drops_calls: CALLs less than this apart (seconds) are one burst; wide enough that a loaded
#: machine's back-to-back round trips still count as one
_BURST_GAP = 0.5


@functools.lru_cache(maxsize=None)
def _request_validator(action: str) -> Any:
    schema = json.loads(resources.files("ocpp.v16").joinpath("schemas", f"{action}.json").read_text(encoding="utf-8"))
    return validator_for(schema)(schema)  # no format checks: a simulator is lenient where the schema allows it


def schema_error(action: str, payload: Any) -> tuple[str, str] | None:
    """(OCPP-J code, description) of the first schema violation of a request payload, or None."""
    error = best_match(_request_validator(action).iter_errors(payload))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "payload"
    return _RULE_CODES.get(str(error.validator), "FormationViolation"), f"{where}: {error.message}"[:255]


class RpcPeer:
    """OCPP-J over one websocket for a simulator: send CALLs, answer CALLs via ``handler``.

    The OCPP-J layer answers what the handler never sees (OCPP-J 1.6 section 4.2.3): an
    unknown action (NotImplemented), a known action in the wrong direction or one the
    simulator does not support (NotSupported: ``receives`` is the direction's action set,
    ``supported`` says which of them it handles), a payload that breaks the schema (the
    table's code), a malformed CALL it can address (harness.ocppj's code), a unique id over
    36 characters. A CALL repeated with an id it already answered gets the first answer
    again (it is not processed twice). ``faults``: the :data:`RPC_FAULTS` to break on
    purpose (plus ``blocks_while_call_outstanding`` and ``burst_drops_calls`` of the charge
    point); ``quiet_limit()``: seconds without a CALL after which ``deaf_after_quiet_spell``
    stops answering.
    """

    def __init__(self, ws: Any, handler: Callable[[Call], Awaitable[dict[str, Any] | CallError | None]], *,
                 call_timeout: float = 10, faults: Any = frozenset(), receives: frozenset[str] | None = None,
                 supported: Callable[[str], bool] | None = None,
                 quiet_limit: Callable[[], float] | None = None) -> None:
        self.ws = ws
        self.handler = handler
        self.call_timeout = call_timeout
        self.faults = faults
        self.receives = receives
        self.supported = supported
        self.quiet_limit = quiet_limit
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._ids = 0
        self._lock = asyncio.Lock()
        self._answers: OrderedDict[str, str | None] = OrderedDict()  # unique id -> answer text (None: being handled)
        self._last_call: float | None = None
        self._burst = (0.0, 0)  # (arrival of the last CALL, CALLs in the current burst)
        self.deaf = False
        self.first_frame = asyncio.Event()
        if "pings_unanswered" in faults:
            _drop_pongs(ws)

    @property
    def oversized(self) -> bool:
        """Whether this side closed the connection for a frame over its size limit (close 1009).

        Known from the moment the close frame is sent, before the reader ends: the other side
        may be back on a new connection first."""
        sent = getattr(getattr(self.ws, "protocol", None), "close_sent", None)
        return sent is not None and sent.code == 1009

    async def run(self) -> None:
        """Read until the connection ends."""
        try:
            async for raw in self.ws:
                self.first_frame.set()
                if not await self._receive(raw):
                    await asyncio.Event().wait()  # reader_dies_on_bad_json: never reads again
        finally:  # a CALL still waiting for its reply will not get one on this connection: fail it now
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the connection closed before the reply"))

    async def _receive(self, raw: str | bytes) -> bool:
        message = ocppj.parse(raw)
        if isinstance(message, ocppj.MalformedFrame):
            if message.kind == "not_json" and "reader_dies_on_bad_json" in self.faults:
                return False
            if message.kind == "unique_id_too_long" and "long_unique_id_accepted" in self.faults:
                _, uid, action, payload = json.loads(raw)
                message = Call(uid, action, payload)
            else:
                if message.answerable and message.unique_id is not None:
                    await self._send_error(message.unique_id, message.error_code.value, message.description)
                return True
        if isinstance(message, Call):
            self._on_call(message)
        else:
            future = self._pending.pop(message.unique_id, None)
            if future is not None and not future.done():
                future.set_result(message)
            elif future is None and "unknown_reply_closes" in self.faults:
                await self.ws.close(1002, "a reply to no CALL")
        return True

    def _on_call(self, call: Call) -> None:
        now = time.monotonic()
        limit = self.quiet_limit() if self.quiet_limit is not None else math.inf
        quiet = self._last_call is not None and now - self._last_call > limit
        self._last_call = now
        if quiet and "deaf_after_quiet_spell" in self.faults:
            self.deaf = True
        if self.deaf:
            return
        last, count = self._burst
        count = count + 1 if now - last < _BURST_GAP else 0
        self._burst = (now, count)
        if "burst_drops_calls" in self.faults and count and count % 25 == 0:
            return  # lost under load
        uid = call.unique_id
        if uid in self._answers and "duplicate_id_processed_twice" not in self.faults:
            answer = self._answers[uid]
            loop = asyncio.get_running_loop()
            if answer is None:  # OCPP-J 4.2.3: "an existing call with the same unique identifier is being handled"
                loop.create_task(self._send_error(uid, "GenericError", "a CALL with this unique id is being handled"))
            else:
                loop.create_task(self.send_raw(answer))  # answered already: the same answer, not a second processing
            return
        self._answers[uid] = None
        while len(self._answers) > _ANSWERS_KEPT:
            self._answers.popitem(last=False)
        asyncio.get_running_loop().create_task(self._answer(call))

    def _refusal(self, call: Call) -> CallResult | CallError | None:
        """What the OCPP-J layer answers in the handler's place (None: the handler answers)."""
        swapped = "error_codes_swapped" in self.faults
        uid, action = call.unique_id, call.action
        if "unique_id_max_32" in self.faults and len(uid) > 32:
            return CallError(uid, "TypeConstraintViolation", "unique id longer than 32 characters")
        if action not in _KNOWN:
            if "unknown_action_empty_result" in self.faults:
                return CallResult(uid, {})
            return CallError(uid, "NotSupported" if swapped else "NotImplemented", f"unknown action {action[:60]}")
        if self.receives is not None and action not in self.receives and "wrong_direction_accepted" in self.faults:
            return CallResult(uid, {})
        if (self.receives is not None and action not in self.receives) or \
                (self.supported is not None and not self.supported(action)):
            return CallError(uid, "NotImplemented" if swapped else "NotSupported", f"{action} is not supported here")
        if "schema_not_checked" not in self.faults:
            problem = schema_error(action, call.payload)
            if problem is not None:
                return CallError(uid, problem[0], problem[1])
        return None

    async def _answer(self, call: Call) -> None:
        message = self._refusal(call)
        if message is None:
            if "blocks_while_call_outstanding" in self.faults:
                async with self._lock:  # a stack that handles nothing while its own CALL waits for an answer
                    pass
            try:
                reply = await self.handler(call)
            except Exception as exc:
                reply = CallError(call.unique_id, "InternalError", f"{type(exc).__name__}: {exc}"[:255])
            if reply is None:  # a fault that stays silent
                self._answers.pop(call.unique_id, None)
                return
            message = reply if isinstance(reply, CallError) else CallResult(call.unique_id, reply)
        if isinstance(message, CallError):
            code = "GenericError" if "generic_error_codes" in self.faults else message.error_code
            message = CallError(call.unique_id, code, message.error_description, message.error_details)
        text = ocppj.serialize(message)
        if call.unique_id in self._answers:
            self._answers[call.unique_id] = text
        await self.send_raw(text)

    async def _send_error(self, uid: str, code: str, description: str) -> None:
        code = "GenericError" if "generic_error_codes" in self.faults else code
        await self.send_raw(ocppj.serialize(CallError(uid, code, description[:255])))

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


def _drop_pongs(ws: Any) -> None:
    """Fault pings_unanswered: the connection's protocol sends every frame but pongs."""
    protocol = getattr(ws, "protocol", None)
    if protocol is None:
        return
    send_frame = protocol.send_frame

    def without_pongs(frame: Any) -> None:
        if frame.opcode is not Opcode.PONG:
            send_frame(frame)
    protocol.send_frame = without_pongs


async def watch_stdin() -> None:
    """Return when stdin reaches EOF: the parent process is gone or wants us to stop."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.buffer.read)


def ready(**info: Any) -> None:
    print("READY " + " ".join(f"{k}={v}" for k, v in info.items()), flush=True)
