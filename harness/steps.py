"""The record of each step of a test case: what it expected, what arrived, when, and its verdict.

The roles' step methods (``expect_all``, which ``expect`` goes through, ``expect_none``,
``call``, ``idle``) are wrapped with :func:`recorded`. Each call appends one
:class:`StepRecord` to the running test's ``trace.steps`` before it waits, and completes
it when the step returns or raises; the step itself runs exactly as it would unwrapped
(the record reads its arguments and its result, and never catches what it raises).

A record keeps plain JSON values only (payloads redacted as the trace redacts frames;
payload patterns with their matchers written as ``‹description›``), so the report and
the evidence file are built from records without the objects that made them. Every
finished step goes to the callbacks registered with :func:`observe` (the plugin's live
view with ``-v``).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from .errors import StepFailure
from .matching import mismatches
from .trace import redact

__all__ = ["Message", "StepRecord", "recorded", "observe", "jsonable", "short_payload", "leaf_paths"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
#: called with every finished step, in the thread the step ran in; see :func:`observe`
_observers: list[Callable[["StepRecord"], None]] = []

#: step kinds, as the report names them
KINDS = {
    "expect": "the SUT sends",
    "expect_none": "the SUT must not send",
    "call": "the harness sends",
    "idle": "the harness waits",
}


@dataclass
class Message:
    """A message a step expected, received or sent: its name, payload (or pattern) and which fields it judged.

    ``ok`` and ``bad`` are JSON paths (``$.idTagInfo.status``) the step checked and found
    right, or wrong; ``"$"`` in ``bad`` marks the whole message as the problem.
    """

    action: str
    payload: Any = None
    ok: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)


@dataclass
class StepRecord:
    """One step of a case, as it ran. Times are seconds since the test's trace began."""

    label: str
    kind: str
    expected: list[Message] = field(default_factory=list)
    received: list[Message] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    note: str = ""
    started: float = 0.0
    ended: float | None = None
    wall: str = ""
    #: running | passed | failed (the SUT broke the step) | error (a harness or configuration problem) | aborted
    verdict: str = "running"
    failed_step: str = ""  # the label the failure carries (a defect may be reported under another step)
    problem: str = ""
    detail: str = ""
    frames: tuple[int, int] = (0, 0)  # [first, end) indices of the trace entries made while the step ran

    @property
    def duration(self) -> float:
        return max(0.0, (self.ended if self.ended is not None else self.started) - self.started)

    def summary(self) -> str:
        """One line: label, verdict, the messages, the time (the live ``-v`` line)."""
        what = "; ".join(f"{m.action} {short_payload(m.payload, 60)}".rstrip() for m in (self.received or self.expected))
        if self.kind == "idle":
            what = self.note
        text = f"{self.label}: {self.verdict}" + (f" - {what}" if what else "") + f" [+{self.started:.2f}s, {self.duration:.2f}s]"
        return text + (f"\n      {self.problem}" if self.problem else "")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["frames"] = list(self.frames)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "StepRecord":
        values = dict(data)
        for key in ("expected", "received", "sent"):
            values[key] = [Message(**m) for m in values.get(key, [])]
        values["frames"] = tuple(values.get("frames", (0, 0)))
        return cls(**values)


# -- values --------------------------------------------------------------------------------------------------
_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """``value`` with every matcher (ANY, OneOf, Regex, Where, a callable) replaced by ``‹its description›``."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if callable(value) and not hasattr(value, "__dataclass_fields__"):
        return "‹computed by the harness›"
    return f"‹{value!r}›"


def _redacted(payload: Any) -> Any:
    """A payload with the secrets :func:`harness.trace.redact` hides in frames hidden the same way."""
    if not isinstance(payload, Mapping):
        return payload
    text = json.dumps([payload], ensure_ascii=False, separators=(",", ":"), default=repr)
    safe = redact(text)
    return payload if safe is text else json.loads(safe)[0]


def leaf_paths(pattern: Any, path: str = "$") -> list[str]:
    """The JSON paths of a pattern's leaves (the fields a step checks)."""
    if not isinstance(pattern, Mapping):
        return [path]
    out: list[str] = []
    for key, value in pattern.items():
        out.extend(leaf_paths(value, f"{path}.{key}") if isinstance(value, Mapping) and value else [f"{path}.{key}"])
    return out


def short_payload(payload: Any, limit: int = 80) -> str:
    """``key=value, ...`` of a payload's fields (nested ones dotted, lists counted), cut to ``limit`` characters."""
    parts: list[str] = []

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif isinstance(value, list):
            parts.append(f"{prefix}=[{len(value)} item{'s' if len(value) != 1 else ''}]")
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=repr)
            parts.append(f"{prefix}={text[:32] + '…' if len(text) > 33 else text}" if prefix else text)

    walk(payload, "")
    text = ", ".join(parts)
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def _judged(action: str, pattern: Mapping[str, Any] | None, payload: Any) -> Message:
    """A message that arrived, with the fields ``pattern`` checks marked right or wrong."""
    if not pattern:
        return Message(action, _redacted(payload))
    wrong = mismatches(pattern, payload)
    bad = [m.path for m in wrong]
    return Message(action, _redacted(payload), [p for p in leaf_paths(pattern) if p not in bad], bad)


def _now_since(trace: Any) -> float:
    return round(time.monotonic() - trace.t0, 6)


# -- recording ------------------------------------------------------------------------------------------------
def _begin(kind: str, role: Any, params: Mapping[str, Any]) -> StepRecord:
    trace = role.trace
    rec = StepRecord(label=str(params.get("step", "")), kind=kind, started=_now_since(trace),
                     wall=datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    rec.frames = (len(trace.entries), len(trace.entries))
    if kind == "expect":
        group = params.get("expectations", ())
        rec.expected = [Message(f"{e.action}.req", jsonable(_redacted(dict(e.pattern)))) for e in group]
        if len(group) > 1:
            rec.note = "in this order" if params.get("ordered") else "in any order"
    elif kind == "expect_none":
        rec.expected = [Message(f"{params['action']}.req", jsonable(_redacted(dict(params.get("pattern") or {}))))]
        rec.note = f"must not arrive within {params['within']:g}s"
    elif kind == "call":
        action = params["action"]
        rec.sent = [Message(f"{action}.req", _redacted(jsonable(dict(params["payload"]))))]
        rec.expected = [Message(f"{action}.conf", jsonable(dict(params.get("expect") or {})))]
        if params.get("allow_error"):
            rec.note = "a CALLERROR is a permitted answer"
    elif kind == "idle":
        rec.note = f"the harness lets {params['seconds']:g}s pass"
    trace.steps.append(rec)
    return rec


def _reply_message(action: str, reply: Any) -> Message | None:
    if reply is None:
        return None
    if isinstance(reply, Mapping):
        return Message(f"{action}.conf", _redacted(jsonable(dict(reply))))
    code = getattr(reply, "code", None) or getattr(reply, "error_code", None)
    return Message("CALLERROR", {"errorCode": code, "errorDescription": getattr(reply, "description", "")
                                 or getattr(reply, "error_description", "")}, bad=["$"])


def _passed(rec: StepRecord, params: Mapping[str, Any], result: Any) -> None:
    if rec.kind == "expect":
        for exp, got in zip(params.get("expectations", ()), result or []):
            rec.received.append(_judged(f"{got.action}.req", exp.pattern, got.payload))
            reply = _reply_message(got.action, got.replied)
            if reply is not None:
                rec.sent.append(reply)
    elif rec.kind == "call":
        if hasattr(result, "error_code"):
            rec.received.append(Message("CALLERROR", {"errorCode": result.error_code,
                                                      "errorDescription": result.error_description,
                                                      "errorDetails": result.error_details}))
        else:
            rec.received.append(_judged(f"{params['action']}.conf", params.get("expect"), result))
    rec.verdict = "passed"


def _failed(rec: StepRecord, role: Any, trace: Any, params: Mapping[str, Any], exc: BaseException) -> None:
    if isinstance(exc, StepFailure):
        rec.verdict, rec.failed_step, rec.problem, rec.detail = "failed", exc.step, exc.problem, exc.detail
    elif isinstance(exc, asyncio.CancelledError):
        rec.verdict, rec.problem = "aborted", "the step was cancelled (the case's time limit ran out, or it ended)"
    else:
        rec.verdict, rec.problem = "error", f"{type(exc).__name__}: {exc}"
    try:
        rec.received = _candidates(rec, role, trace, params)
    except Exception:  # the record is evidence, never a reason for a second failure
        rec.received = []


def _candidates(rec: StepRecord, role: Any, trace: Any, params: Mapping[str, Any]) -> list[Message]:
    """What arrived that the failed step judged: the closest CALL of each expected action, or the reply."""
    if rec.kind in ("expect", "expect_none"):
        inbox = getattr(role, "inbox", None)
        if inbox is None:
            return []
        window = inbox.items[inbox.cursor:]
        group = params.get("expectations") or ()
        if rec.kind == "expect_none":
            from .inbox import (
                Expectation,  # only to judge the failure, never on the way of a step
            )

            forbidden = Expectation(params["action"], dict(params.get("pattern") or {}))
            hits = [r for r in window if forbidden.matches(r)]
            return [Message(f"{hits[-1].action}.req", _redacted(hits[-1].payload), bad=["$"])] if hits else []
        out = []
        for exp in group:
            matched = [r for r in window if r.consumed and exp.matches(r)]
            if matched:
                out.append(_judged(f"{exp.action}.req", exp.pattern, matched[0].payload))
                continue
            open_ = [r for r in window if not r.consumed]
            same = [r for r in open_ if exp.identifies(r)] or [r for r in open_ if r.action == exp.action]
            if same:
                out.append(_judged(f"{exp.action}.req", exp.pattern, same[-1].payload))
        return out
    if rec.kind == "call":
        for entry in reversed(trace.entries[rec.frames[0]:]):
            if entry.direction != "received":
                continue
            try:
                frame = json.loads(entry.text)
            except ValueError:
                continue
            if isinstance(frame, list) and frame and frame[0] == 3 and len(frame) >= 3:
                return [_judged(f"{params['action']}.conf", params.get("expect"), frame[2])]
            if isinstance(frame, list) and frame and frame[0] == 4:
                return [Message("CALLERROR", {"errorCode": frame[2] if len(frame) > 2 else None,
                                              "errorDescription": frame[3] if len(frame) > 3 else None}, bad=["$"])]
    return []


def recorded(kind: str) -> Callable[[F], F]:
    """Wrap a role's step method of ``kind`` (see :data:`KINDS`) so each call leaves a :class:`StepRecord`.

    The record is appended to ``self.trace.steps`` when the step begins and completed
    when it returns (``passed``) or raises (``failed`` for a StepFailure, ``aborted`` when
    cancelled, ``error`` otherwise); the exception propagates unchanged.
    """

    def wrap(method: F) -> F:
        signature = inspect.signature(method)

        @functools.wraps(method)
        async def step(self: Any, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # a failure's traceback shows the step method, not this wrapper
            trace = self.trace
            try:
                params = dict(signature.bind(self, *args, **kwargs).arguments)
                rec: StepRecord | None = _begin(kind, self, params)
            except Exception:  # a record that cannot be made never changes the step (the call below says why)
                rec = None
            try:
                result = await method(self, *args, **kwargs)
            except BaseException as exc:
                if rec is not None:
                    _failed(rec, self, trace, params, exc)
                    _finish(rec, trace)
                raise
            if rec is not None:
                try:
                    _passed(rec, params, result)
                except Exception:
                    rec.verdict = "passed"
                _finish(rec, trace)
            return result

        return step  # type: ignore[return-value]

    return wrap


def observe(callback: Callable[[StepRecord], None]) -> Callable[[], None]:
    """Call ``callback(record)`` after every step from now on; returns the function that stops it.

    A callback must be quick and must not raise (what it raises is dropped): it runs on the
    harness's event loop, between a step and the next.
    """
    _observers.append(callback)
    return lambda: _observers.remove(callback) if callback in _observers else None


def _finish(rec: StepRecord, trace: Any) -> None:
    rec.ended = _now_since(trace)
    rec.frames = (rec.frames[0], len(trace.entries))
    for callback in list(_observers):
        try:
            callback(rec)
        except Exception:  # an observer never changes a step
            pass
