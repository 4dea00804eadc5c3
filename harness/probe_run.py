"""Driving the probes of :mod:`harness.probes` and judging what came back: verdicts, steps, figures.

:mod:`harness.probes` builds the frames (pure data); this module is the other half, kept
apart so each has one job:

* :func:`judge` turns the SUT's answer (a CallResult, a CallError or None) into a
  :class:`Verdict` (pass / warn / fail) with a sentence a vendor can act on (pure, no I/O);
* :func:`probe_step` records a raw probe as one step of the case, and :func:`run_probe`, the
  one async helper, drives a role's live session (it opens no socket): it sends a probe and a
  valid CALL after it, judges both and records the step;
* :func:`latency_summary`: the latency figures of the load cases (pure).
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from .errors import ProtocolFailure, StepFailure
from .ocppj import CallError, CallResult
from .probes import Probe
from .steps import Message, StepRecord

__all__ = ["Verdict", "describe", "judge", "latency_summary", "probe_step", "run_probe", "SENTINELS", "as_message"]


# -- verdicts -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    level: str  # "pass" | "warn" | "fail"
    text: str
    reading: str = ""

    @property
    def ok(self) -> bool:
        return self.level != "fail"


def describe(reply: CallResult | CallError | None) -> str:
    if reply is None:
        return "no answer"
    if isinstance(reply, CallResult):
        return f"a CALLRESULT {json.dumps(reply.payload, separators=(',', ':'))[:120]}"
    return f"CALLERROR {reply.error_code}" + (f" ({reply.error_description[:80]!r})" if reply.error_description else "")


def judge(probe: Probe, reply: CallResult | CallError | None) -> Verdict:
    """The verdict on the SUT's answer to ``probe`` (None: it sent none within the wait)."""
    e = probe.expect
    got = describe(reply)
    wanted = " or ".join(sorted(e.exact)) or "no answer"
    if reply is None:
        level = e.silence
        missing = "" if level == "pass" else f"; expected CALLERROR {wanted} ({probe.rule})"
        return Verdict(level, f"{probe.what}: {got}{missing}",
                       "" if level != "warn" else f"{probe.rule}; a receiver may also drop a frame it cannot process")
    if isinstance(reply, CallResult):
        level = e.result
        return Verdict(level, f"{probe.what}: answered with {got}; it was processed as a valid CALL, expected CALLERROR "
                              f"{wanted} ({probe.rule})", e.reading if level == "warn" else "")
    code = reply.error_code
    if code in e.exact:
        return Verdict("pass", f"{probe.what}: CALLERROR {code}, as {probe.rule} gives")
    if code in e.readings:
        return Verdict("warn", f"{probe.what}: CALLERROR {code}; {probe.rule} gives {wanted}", e.reading)
    return Verdict(e.other, f"{probe.what}: CALLERROR {code}; expected {wanted} ({probe.rule})"
                            + (f"; {e.reading}" if e.reading and e.other != "fail" else ""),
                   e.reading if e.other == "warn" else "")


# -- figures -------------------------------------------------------------------------------------------------
def latency_summary(samples: Sequence[float]) -> dict[str, float]:
    """count, mean, p50, p95, p99 and max of latencies in seconds, as milliseconds (nearest-rank percentiles)."""
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    return {"count": len(ordered), "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2), "p50_ms": round(rank(50), 2),
            "p95_ms": round(rank(95), 2), "p99_ms": round(rank(99), 2), "max_ms": round(ordered[-1] * 1000, 2)}


# -- the record of a probe step ------------------------------------------------------------------------------------
@contextmanager
def probe_step(role: Any, label: str, sent: str, expected: str) -> Iterator[StepRecord]:
    """Record a raw probe as one step of the case (kind "call": the harness sends), completed when the block ends.

    The caller adds what arrived to ``record.received``; a StepFailure raised in the block
    fails the step (and propagates), anything else marks it an error.
    """
    trace = role.trace
    record = StepRecord(label=label, kind="call", sent=[Message(sent)], expected=[Message(expected)],
                        started=round(time.monotonic() - trace.t0, 6),
                        wall=datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    record.frames = (len(trace.entries), len(trace.entries))
    trace.steps.append(record)
    try:
        yield record
    except AssertionError as exc:
        record.verdict, record.failed_step = "failed", getattr(exc, "step", label)
        record.problem, record.detail = getattr(exc, "problem", str(exc)), getattr(exc, "detail", "")
        raise
    except BaseException as exc:
        record.verdict, record.problem = "error", f"{type(exc).__name__}: {exc}"
        raise
    else:
        record.verdict = "passed"
    finally:
        record.ended = round(time.monotonic() - trace.t0, 6)
        record.frames = (record.frames[0], len(trace.entries))


# -- driving a probe (the one async helper: it uses a role's live session, it opens no socket) -------------------
SENTINELS = {"cp": ("GetConfiguration", {"key": ["HeartbeatInterval"]}), "cs": ("Heartbeat", {})}


async def run_probe(role: Any, probe: Probe, *, step: str, sut_role: str) -> Verdict:
    """Send ``probe`` raw on the role's session, then a valid CALL (the sentinel); judge both.

    An addressable probe waits (timeouts.call) for the answer carrying its id; for one the
    SUT cannot address, whatever reply arrives before the sentinel's answer is its answer.
    The sentinel shows the SUT still serves the connection: no answer to it fails the step
    (the probe broke the SUT). A connection the SUT closed counts as ``expect.close`` says,
    and the SUT must then serve a new one (the role waits for or opens it).
    Returns the verdict (a warning is recorded with :meth:`Role.warn`); a failure raises.
    """
    session = await role.wait_connected(step)
    action, payload = SENTINELS[sut_role]
    frame = probe.frame
    shown = frame if isinstance(frame, str) else f"<binary frame {bytes(frame)!r}>"
    expected = ("CALLERROR " + " or ".join(sorted(probe.expect.exact))) if probe.expect.exact else "no answer"
    with probe_step(role, step, shown[:300], expected) as record:
        with session.capturing() as capture:
            answer = None
            if probe.unique_id is not None:
                answer = await session.exchange_raw(frame, unique_id=probe.unique_id, timeout=role.timeouts.call)
            else:
                await session.send_raw(frame)
            alive: StepFailure | None = None
            if not session.closed.is_set():
                try:
                    await session.call(action, dict(payload), timeout=role.timeouts.call, step=step)
                except StepFailure as exc:
                    alive = exc
            await capture.settle(0.2, 1.0)  # an answer may trail the sentinel's
            if answer is None and probe.unique_id is None and capture.replies:
                answer = capture.replies[0]
        reply = answer.message if answer is not None else None
        verdict = judge(probe, reply)
        if reply is not None:
            record.received.append(as_message(reply))
        if verdict.level == "fail":
            raise ProtocolFailure(step, verdict.text, f"frame sent: {shown[:300]}")
        if session.closed.is_set():
            text = f"the SUT closed the connection after {probe.what} ({session.close_reason})"
            if probe.expect.close == "fail":
                raise ProtocolFailure(step, text, f"{probe.rule}; frame sent: {shown[:300]}")
            if probe.expect.close == "warn":
                role.warn(step, text, "OCPP-J 1.6 names no reaction that ends the connection; a peer that closes "
                                      "must be reconnected (the charge point's job) and loses what was in flight")
            await role.call(action, dict(payload), step=f"{step}: the SUT answers again on a new connection")
        elif alive is not None:
            raise ProtocolFailure(step, f"after {probe.what} the SUT no longer answers a valid {action}.req: "
                                        f"{alive.problem}", f"{probe.rule}; frame sent: {shown[:300]}")
        if verdict.level == "warn":
            role.warn(step, verdict.text, verdict.reading)
        role.check(step)
        return verdict


def as_message(reply: CallResult | CallError) -> Message:
    if isinstance(reply, CallResult):
        return Message("CALLRESULT", reply.payload)
    return Message("CALLERROR", {"errorCode": reply.error_code, "errorDescription": reply.error_description,
                                 "errorDetails": reply.error_details})
