"""One OCPP-J connection: a single reader task, bounded CALLs, replies, and the trace.

Every frame in either direction is recorded in the test's trace before anything
else happens to it. Frames from the SUT are checked (framing, RPC rules, direction,
schema); each defect is answered the way OCPP-J prescribes (a CALLERROR with the
right code for a bad CALL) and handed to ``on_violation`` so the running step fails.
Well-formed CALLs from the SUT go to ``on_call``; the role decides how to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator, Protocol

from . import ocppj, schemas
from .errors import ConnectionFailure, ProtocolFailure, SchemaFailure, StepFailure, StepTimeout
from .ocppj import Call, CallError, CallResult, ErrorCode
from .trace import Entry, Trace
from .waits import within

__all__ = ["WebSocketLike", "Session", "RawReply", "Capture"]


class WebSocketLike(Protocol):
    """The part of a websockets connection a session uses (a test double can stand in)."""

    async def send(self, message: str) -> None: ...
    async def recv(self) -> str | bytes: ...
    async def close(self) -> None: ...


class Session:
    """A live connection to the SUT.

    Args:
        ws: the open WebSocket.
        name: label for the trace (e.g. the chargePointId and a connection number).
        trace: returns the trace frames are recorded in (the current test's).
        peer_actions: the actions the SUT may send us (the other role's direction table).
        on_call: receives each well-formed, schema-valid CALL with its trace entry.
        on_violation: receives each defect of the SUT as a StepFailure.
        on_closed: called once when the connection ends, with a description.
        strict: also fail on SHOULD-level rules (a second CALL while one is unanswered).
    """

    def __init__(
        self,
        ws: WebSocketLike,
        *,
        name: str,
        trace: Callable[[], Trace],
        peer_actions: frozenset[str],
        on_call: Callable[["Session", Call, Entry], Awaitable[None]],
        on_violation: Callable[[StepFailure], None],
        on_closed: Callable[["Session", str], None] | None = None,
        strict: bool = False,
    ) -> None:
        self.ws = ws
        self.name = name
        self._trace = trace
        self._peer_actions = peer_actions
        self._on_call = on_call
        self._on_violation = on_violation
        self._on_closed = on_closed
        self.strict = strict
        self.rpc = ocppj.RpcState()
        self._call_lock = asyncio.Lock()
        self._reply: asyncio.Future[CallResult | CallError] | None = None
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.last_received = 0.0  # monotonic time of the SUT's last frame
        self._reader: asyncio.Task[None] | None = None
        #: while set (see :meth:`capturing`), replies that answer no CALL of :meth:`call` are collected, not judged
        self.capture: Capture | None = None
        #: the close code the SUT sent (None: no close frame, or still open)
        self.close_code: int | None = None

    def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name=f"ocpp-reader-{self.name}")

    async def wait_closed(self) -> None:
        await self.closed.wait()

    async def _read_loop(self) -> None:
        reason = "closed"
        try:
            while True:
                raw = await self.ws.recv()
                self.last_received = time.monotonic()
                text = raw if isinstance(raw, str) else repr(raw)
                entry = self._trace().add("received", text, self.name)
                await self._handle(raw, entry)
        except asyncio.CancelledError:
            reason = "closed by the harness"
            raise
        except Exception as exc:  # ConnectionClosed and anything the library raises
            rcvd, sent = getattr(exc, "rcvd", None), getattr(exc, "sent", None)
            reason = f"connection ended: {type(exc).__name__}"
            if rcvd is not None:
                self.close_code = rcvd.code
                reason += f" (the SUT closed with code {rcvd.code}{': ' + rcvd.reason if rcvd.reason else ''})"
            elif sent is not None:  # e.g. 1009: the SUT sent a frame over the size limit
                reason += f" (the harness closed with code {sent.code}{': ' + sent.reason if sent.reason else ''})"
        finally:
            self.close_reason = reason
            self._trace().event(f"{self.name}: {reason}", self.name)
            if self._reply is not None and not self._reply.done():
                self._reply.set_exception(ConnectionFailure("", f"the connection ended while waiting for a reply: {reason}"))
            self.closed.set()
            if self.capture is not None:
                self.capture.notify()
            if self._on_closed:
                self._on_closed(self, reason)

    async def _handle(self, raw: str | bytes, entry: Entry) -> None:
        message = ocppj.parse(raw)
        if isinstance(message, ocppj.MalformedFrame) and self.capture is not None:
            echoed = _echoed_reply(message, raw)
            if echoed is not None:  # the SUT echoes the over-long or non-string unique id of a probe: its answer
                self.capture.add(RawReply(entry, echoed))
                self._trace().annotate(entry, "reply to a raw frame of the harness (it echoes the probe's unique id)")
                return
        if isinstance(message, ocppj.MalformedFrame):
            self._violation(ProtocolFailure("", f"malformed OCPP-J frame ({message.kind}): {message.description}", f"frame: {message.raw[:500]}"))
            if message.answerable and message.unique_id is not None:
                try:  # like reply_error: a failed send is traced, it never ends the reader
                    await self._send(CallError(message.unique_id, message.error_code, message.description[:255], {}))
                except Exception as exc:
                    self._trace().event(f"{self.name}: CALLERROR to a malformed frame not sent: {type(exc).__name__}",
                                        self.name)
            return
        if self.capture is not None and not isinstance(message, Call) and not self._answers_our_call(message):
            self.capture.add(RawReply(entry, message))  # a reply to a raw frame of the harness (harness.probes)
            self._trace().annotate(entry, "reply to a raw frame of the harness")
            return
        for v in self.rpc.receive(message):
            if v.kind == "concurrent_call" and not self.strict:
                # OCPP-J 4.1.1 says SHOULD NOT: reported in the trace, a failure only in strict mode.
                self._trace().event(f"{self.name}: warning: {v.description}", self.name)
            else:
                self._violation(ProtocolFailure("", v.description))
        if isinstance(message, Call):
            await self._handle_call(message, entry)
        elif self._reply is not None and not self._reply.done() and self.rpc.our_pending is None:
            self._reply.set_result(message)

    async def _handle_call(self, call: Call, entry: Entry) -> None:
        if call.action not in schemas.ACTIONS:
            self._violation(ProtocolFailure("", f"unknown action {call.action!r}; OCPP 1.6 has no such message"))
            await self.reply_error(call, ErrorCode.NOT_IMPLEMENTED, f"unknown action {call.action}")
            return
        if call.action not in self._peer_actions:
            self._violation(ProtocolFailure("", f"{call.action} was sent in the wrong direction; this side may not receive it"))
            await self.reply_error(call, ErrorCode.NOT_SUPPORTED, f"{call.action} is not accepted in this direction")
            return
        problems = schemas.validate(call.action, "request", call.payload)
        if problems:
            self._violation(SchemaFailure(
                "", f"{call.action}.req breaks the OCPP 1.6 schema",
                "\n".join(f"  - {p}" for p in problems) + f"\nframe: {entry.text[:500]}",
            ))
            await self.reply_error(call, problems[0].error_code, str(problems[0]))
            return
        await self._on_call(self, call, entry)

    def _violation(self, failure: StepFailure) -> None:
        self._on_violation(failure)

    async def _send(self, message: ocppj.Message, note: str = "") -> Entry:
        text = ocppj.serialize(message)
        entry = self._trace().add("sent", text, self.name, note)
        await self.ws.send(text)
        return entry

    async def reply(self, call: Call, payload: dict[str, Any], note: str = "") -> None:
        """Answer the SUT's CALL with a CALLRESULT."""
        self.rpc.replied(call.unique_id)
        try:
            await self._send(CallResult(call.unique_id, payload), note)
        except Exception as exc:
            self._trace().event(f"{self.name}: reply to {call.action} not sent: {type(exc).__name__}", self.name)

    async def reply_error(self, call: Call, code: ErrorCode | str, description: str, note: str = "") -> None:
        """Answer the SUT's CALL with a CALLERROR."""
        self.rpc.replied(call.unique_id)
        try:
            await self._send(CallError(call.unique_id, code, description[:255], {}), note)
        except Exception as exc:
            self._trace().event(f"{self.name}: CALLERROR to {call.action} not sent: {type(exc).__name__}", self.name)

    async def call(self, action: str, payload: dict[str, Any], *, timeout: float, step: str = "") -> CallResult | CallError:
        """Send a CALL and wait at most ``timeout`` seconds for its reply.

        The reply's payload is checked against the response schema; a violation, a
        timeout or a dropped connection raises a StepFailure naming ``step``.
        """
        async with self._call_lock:  # our side keeps to one outstanding CALL
            if self.closed.is_set():
                raise ConnectionFailure(step, f"cannot send {action}: the connection is closed ({self.close_reason})")
            call = self.rpc.new_call(action, payload)
            self._reply = asyncio.get_running_loop().create_future()
            try:
                await self._send(call)
                try:
                    reply = await within(self._reply, timeout)
                except asyncio.TimeoutError:
                    raise StepTimeout(step, f"no reply to {action}.req (unique id {call.unique_id}) within {timeout:g}s") from None
                except ConnectionFailure as exc:
                    raise ConnectionFailure(step, f"{action}.req unanswered: {exc.problem}") from None
            finally:
                self.rpc.abandon()
                self._reply = None
        if isinstance(reply, CallResult):
            problems = schemas.validate(action, "response", reply.payload)
            if problems:
                raise SchemaFailure(step, f"{action}.conf breaks the OCPP 1.6 schema",
                                    "\n".join(f"  - {p}" for p in problems) + f"\npayload: {reply.payload}")
        return reply

    async def drop(self, timeout: float = 3.0) -> None:
        """Drop the TCP connection without a WebSocket close frame, as a power cut or hard reset does."""
        transport = getattr(self.ws, "transport", None)
        if transport is None:  # a test double: the nearest thing is a close
            await self.close(timeout)
            return
        self._trace().event(f"{self.name}: TCP connection dropped without a close frame (power cut / hard reset)", self.name)
        transport.abort()
        if self._reader is not None:
            await asyncio.wait([self._reader], timeout=timeout)
            self._reader.cancel()

    async def close(self, timeout: float = 3.0) -> None:
        """Close the connection; bounded, and the reader task is always cancelled."""
        try:
            await within(self.ws.close(), timeout)
        except Exception:  # already closed, or the peer never answered the close
            pass
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait([self._reader], timeout=timeout)

    # -- raw frames (harness.probes): what the OCPP-J layer itself would never send ------------------------------
    def _answers_our_call(self, message: ocppj.Message) -> bool:
        pending = self.rpc.our_pending
        return pending is not None and pending.unique_id == message.unique_id

    @contextlib.contextmanager
    def capturing(self) -> Iterator["Capture"]:
        """While the block runs, replies that answer no CALL of :meth:`call` go to the yielded Capture.

        Outside it such a reply is a defect of the SUT (an unmatched reply); inside it, it is
        the SUT's answer to a frame the harness sent raw, for the probe to judge.
        """
        capture, previous = Capture(), self.capture
        self.capture = capture
        try:
            yield capture
        finally:
            self.capture = previous

    async def send_raw(self, frame: str | bytes, note: str = "raw frame of the harness (probe)") -> Entry:
        """Send ``frame`` as it is (a text frame, or a binary one for bytes), recorded in the trace first."""
        text = frame if isinstance(frame, str) else f"<binary frame, {len(frame)} bytes: {bytes(frame[:40])!r}>"
        entry = self._trace().add("sent", text if len(text) <= 2000 else text[:2000] + f"... <{len(text)} characters>",
                                  self.name, note)
        await self.ws.send(frame)
        return entry

    async def exchange_raw(self, frame: str | bytes, *, unique_id: str, timeout: float) -> "RawReply | None":
        """Send ``frame`` raw and wait at most ``timeout`` s for the SUT's reply carrying ``unique_id``.

        Keeps the harness's side to one outstanding CALL (the frame goes out under the same
        lock as :meth:`call`). Returns None when no such reply came, also when the connection
        ended meanwhile (see :attr:`closed`). Opens a capture for the exchange if none is open.
        """
        with contextlib.ExitStack() as stack:
            capture = self.capture or stack.enter_context(self.capturing())
            async with self._call_lock:
                start = len(capture.replies)
                if self.closed.is_set():
                    return None
                await self.send_raw(frame)
                return await capture.wait_for(lambda r: r.message.unique_id == unique_id, timeout, start=start,
                                              stop=self.closed.is_set)

    async def ping(self, timeout: float) -> float | None:
        """Send a WebSocket ping; the round trip in seconds, or None when no pong came within ``timeout``."""
        ping = getattr(self.ws, "ping", None)
        if ping is None:
            raise RuntimeError("this connection cannot send WebSocket pings")
        self._trace().event(f"{self.name}: WebSocket ping sent", self.name)
        began = time.monotonic()
        waiter = await ping()
        try:
            await within(waiter, timeout)
        except asyncio.TimeoutError:
            self._trace().event(f"{self.name}: no pong within {timeout:g}s", self.name)
            return None
        rtt = time.monotonic() - began
        self._trace().event(f"{self.name}: pong after {rtt * 1000:.1f} ms", self.name)
        return rtt


def _echoed_reply(frame: ocppj.MalformedFrame, raw: str | bytes) -> CallResult | CallError | None:
    """A reply that is malformed only because it echoes a probe's unique id (too long, or not a string)."""
    if frame.kind not in ("unique_id_too_long", "unique_id_not_string") or frame.message_type not in (3, 4):
        return None
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return None
    uid = str(data[1])
    if frame.message_type == 3 and len(data) == 3 and isinstance(data[2], dict):
        return CallResult(uid, data[2])
    if frame.message_type == 4 and len(data) == 5 and isinstance(data[2], str) and isinstance(data[3], str) \
            and isinstance(data[4], dict):
        return CallError(uid, data[2], data[3], data[4])
    return None


@dataclass
class RawReply:
    """A CALLRESULT or CALLERROR of the SUT that answered no CALL of :meth:`Session.call`."""

    entry: Entry
    message: CallResult | CallError
    arrived: float = field(default_factory=time.monotonic)


class Capture:
    """The replies collected while :meth:`Session.capturing` is open, in arrival order."""

    def __init__(self) -> None:
        self.replies: list[RawReply] = []
        self._changed = asyncio.Event()

    def add(self, reply: RawReply) -> None:
        self.replies.append(reply)
        self._changed.set()

    def notify(self) -> None:
        self._changed.set()

    async def wait_for(self, wanted: Callable[[RawReply], bool], timeout: float, *, start: int = 0,
                       stop: Callable[[], bool] = lambda: False) -> RawReply | None:
        """The first reply from index ``start`` on that is ``wanted``, waiting at most ``timeout`` s (None if none).

        Ends early (None) once ``stop()`` is true and nothing wanted has arrived.
        """
        deadline = time.monotonic() + timeout
        while True:
            for reply in self.replies[start:]:
                if wanted(reply):
                    return reply
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop():
                return None
            self._changed.clear()
            try:
                await within(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def settle(self, quiet: float, limit: float) -> None:
        """Return once no reply has arrived for ``quiet`` seconds, or after ``limit`` seconds (stragglers)."""
        deadline = time.monotonic() + limit
        while (remaining := deadline - time.monotonic()) > 0:
            self._changed.clear()
            try:
                await within(self._changed.wait(), min(quiet, remaining))
            except asyncio.TimeoutError:
                return
