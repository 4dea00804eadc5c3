"""What both impersonated sides share: the inbox, the test's trace, defects, calls, expectations.

A role outlives connections (a charge point reboots, a central system drops us);
expectations wait across reconnects. Per test, :meth:`Role.begin_test` gives a
fresh trace and inbox and :meth:`Role.end_test` reports what was left unraised.

Manual steps of the test (:attr:`Role.actuations`) run beside its expectations: a
failed one fails the next step that checks, the harness sends its own next CALL only
once they are done (so "do X, then send Y" keeps its order), and a step's timeout does
not run while the manual step it waits on is still queued.

:meth:`Role.warn` records what neither the catalog step nor the spec requires (a
SHOULD, a reading): a warning in the report, a failure only with ``strict: true``.

Every step (expect, expect_all, expect_none, call, idle) leaves a record in the test's
``trace.steps`` (:mod:`harness.steps`): what it expected, what arrived, when, its verdict.
"""

from __future__ import annotations

import asyncio
import time
import warnings as python_warnings
from dataclasses import dataclass
from typing import Any, Mapping

from .. import schemas
from ..actuators import Actuations
from ..config import SutConfig, Timeouts
from ..errors import ConnectionFailure, PayloadMismatch, ProtocolFailure, StepFailure, StepTimeout
from ..inbox import ErrorReply, Expectation, Inbox, Received, Reply
from ..matching import diff, mismatches
from ..ocppj import Call, CallError, ErrorCode
from ..session import Session
from ..steps import recorded
from ..trace import Entry, Trace
from ..waits import within

__all__ = ["Role", "CaseWarning"]

VALID_ERROR_CODES = frozenset(code.value for code in ErrorCode)


@dataclass(frozen=True)
class CaseWarning:
    """A check neither the catalog step nor the spec requires, and the reading behind it."""

    step: str
    text: str
    reading: str = ""


class Role:
    """Base of CentralSystem and ChargePoint. Subclasses set the direction tables and defaults."""

    #: actions the SUT may send to this role
    peer_actions: frozenset[str] = frozenset()
    #: of those, the ones answered at once with a fixed reply (background traffic)
    background_actions: frozenset[str] = frozenset()

    def __init__(self, config: SutConfig) -> None:
        self.config = config
        self.trace = Trace("startup")
        self.last_trace = self.trace
        self.inbox = Inbox()
        self.session: Session | None = None
        self.violations: list[StepFailure] = []
        self.warnings: list[CaseWarning] = []
        self.actuations: Actuations | None = None
        #: true except while a case's steps run (between cases, while the common state is
        #: established or restored): no step will claim the SUT's CALLs then, so they get the
        #: default reply at once
        self.housekeeping = True
        self._raised = 0
        self._connected = asyncio.Event()

    # -- test lifecycle -------------------------------------------------------------------
    async def begin_test(self, name: str) -> Trace:
        """Start a test: frames that arrived since the last test open its trace."""
        self.trace = Trace(name, entries=list(self.trace.entries) if self.trace.name == "between tests" else [])
        self.inbox.clear()
        self.violations.clear()
        self.warnings = []
        self._raised = 0
        return self.trace

    async def end_test(self) -> list[StepFailure]:
        """Finish a test: return defects the test did not see, start the between-tests trace."""
        unraised = self.violations[self._raised:]
        self.last_trace = self.trace
        self.trace = Trace("between tests")
        return unraised

    # -- defects --------------------------------------------------------------------------
    def record_violation(self, failure: StepFailure) -> None:
        self.violations.append(failure)
        self.trace.event(f"SUT defect: {failure.problem}")
        self.inbox.notify()

    def check(self, step: str) -> None:
        """Raise the first SUT defect recorded since the last check, labelled with ``step``; or a failed manual step."""
        if self._raised < len(self.violations):
            failure = self.violations[self._raised]
            self._raised += 1
            raise type(failure)(step, failure.problem, failure.detail)
        failed = self.actuations.unreported_failure() if self.actuations is not None else None
        if failed is not None:
            raise failed

    def unraised(self) -> list[StepFailure]:
        """SUT defects recorded in this test that no step has raised (reported after the last step)."""
        return self.violations[self._raised:]

    def warn(self, step: str, text: str, reading: str = "") -> None:
        """A check neither the catalog step nor the spec requires: a warning, a failure only with ``strict: true``."""
        if self.config.strict:
            raise StepFailure(step, f"{text} (a failure because the SUT config sets strict: true)", reading)
        self.warnings.append(CaseWarning(step, text, reading))
        self.trace.event(f"warning (step {step}): {text}" + (f" [reading: {reading}]" if reading else ""))
        python_warnings.warn(f"Step {step}: {text}", UserWarning, stacklevel=2)

    async def actuations_done(self, step: str) -> None:
        """Wait until the manual steps started so far have finished (each is bounded by its actuator's timeout)."""
        if self.actuations is None:
            return
        pending = [a.task for a in self.actuations.pending]
        if pending:
            await asyncio.wait(pending)
        self.check(step)

    def _deadline_base(self) -> float | None:
        return self.actuations.deadline_base() if self.actuations is not None else 0.0

    # -- incoming CALLs ---------------------------------------------------------------------
    def default_reply(self, call: Call) -> Mapping[str, Any] | ErrorReply:
        raise NotImplementedError

    async def on_call(self, session: Session, call: Call, entry: Entry) -> None:
        held = call.action not in self.background_actions and not self.housekeeping
        received = Received(call, entry, session, held=held)
        if held:
            loop = asyncio.get_running_loop()
            loop.call_later(self.timeouts.unsolicited_reply, lambda: loop.create_task(self._answer_unclaimed(received)))
        else:
            await self._send_reply(received, self.default_reply(call), by_default=True)
        self.inbox.add(received)

    async def _answer_unclaimed(self, received: Received) -> None:
        if received.replied is None and not received.consumed:
            await self._send_reply(received, self.default_reply(received.call), by_default=True,
                                   note=f"no step claimed it within {self.timeouts.unsolicited_reply:g}s: default reply")

    async def answer(self, received: Received, reply: Reply) -> None:
        """Reply to a held CALL a step matched (``None`` = the role's default reply)."""
        if received.replied is not None:
            if reply is not None and received.by_default:
                raise StepFailure(
                    "", f"{received.action}.req was answered by default before this step claimed it; "
                    f"raise timeouts.unsolicited_reply (now {self.timeouts.unsolicited_reply:g}s)")
            return
        if callable(reply):
            reply = reply(received.payload)
        await self._send_reply(received, self.default_reply(received.call) if reply is None else reply, by_default=reply is None)

    async def _send_reply(self, received: Received, reply: Mapping[str, Any] | ErrorReply, *, by_default: bool, note: str = "") -> None:
        received.replied, received.by_default = reply, by_default
        received.replied_at = time.monotonic()
        if isinstance(reply, ErrorReply):
            await received.session.reply_error(received.call, reply.code, reply.description, note)
            return
        payload = dict(reply)
        problems = schemas.validate(received.action, "response", payload)
        if problems:  # a harness bug or a test author's mistake, never the SUT's
            raise RuntimeError(f"harness reply to {received.action} breaks the schema: {problems}")
        await received.session.reply(received.call, payload, note)
        self.replied(received.call, payload)

    def replied(self, call: Call, payload: Mapping[str, Any]) -> None:
        """A CALL of the SUT was answered with ``payload`` (a hook for what the role learns from its own answers)."""

    # -- the step vocabulary ---------------------------------------------------------------------
    async def expect(self, action: str, *, step: str, reply: Reply = None, timeout: float | None = None,
                     **pattern: Any) -> Received:
        """Wait for the SUT's next ``action`` CALL matching ``pattern``, then answer it with ``reply``."""
        (got,) = await self.expect_all(Expectation(action, pattern, reply), step=step, timeout=timeout)
        return got

    @recorded("expect")
    async def expect_all(self, *expectations: Expectation, step: str, timeout: float | None = None,
                         ordered: bool = False) -> list[Received]:
        """Wait for every expectation; any order unless ``ordered`` (catalog: 'may be reversed')."""
        try:
            return await self.inbox.wait_for(
                list(expectations), step=step, timeout=timeout or self.timeouts.step,
                answer=self.answer, check=lambda: self.check(step), ordered=ordered,
                deadline_base=self._deadline_base,
            )
        except StepTimeout as exc:
            session = self.session
            if session is None or not session.closed.is_set():
                raise
            # Silence because the connection is gone: say so, it is the first thing a vendor needs.
            raise StepTimeout(exc.step, exc.problem,
                              f"{exc.detail}\nthe connection to the SUT is closed: {session.close_reason}") from None

    @recorded("expect_none")
    async def expect_none(self, action: str, *, step: str, within: float, **pattern: Any) -> None:
        """Fail if the SUT sends ``action`` (matching ``pattern``) within ``within`` seconds."""
        await self.inbox.wait_none(Expectation(action, pattern), step=step, within=within, check=lambda: self.check(step),
                                   deadline_base=self._deadline_base)

    @recorded("call")
    async def call(self, action: str, payload: Mapping[str, Any], *, step: str, expect: Mapping[str, Any] | None = None,
                   allow_error: bool = False, timeout: float | None = None) -> dict[str, Any] | CallError:
        """Send a CALL to the SUT and return its reply's payload.

        ``expect`` is a pattern the reply must match. A CALLERROR fails the step
        unless ``allow_error`` (then the CallError is returned for the test to judge).
        """
        await self.actuations_done(step)
        problems = schemas.validate(action, "request", dict(payload))
        if problems:
            raise RuntimeError(f"harness {action}.req breaks the schema: {problems}")
        session = await self.wait_connected(step)
        reply = await session.call(action, dict(payload), timeout=timeout or self.timeouts.call, step=step)
        self.check(step)
        if isinstance(reply, CallError):
            if reply.error_code not in VALID_ERROR_CODES:
                raise ProtocolFailure(step, f"CALLERROR code {reply.error_code!r} is not an OCPP-J 1.6 error code",
                                      f"valid codes: {sorted(VALID_ERROR_CODES)}")
            if allow_error:
                return reply
            raise PayloadMismatch(step, f"{action}.req was answered with CALLERROR {reply.error_code}: {reply.error_description!r}",
                                  f"details: {reply.error_details}")
        if expect:
            wrong = mismatches(expect, reply.payload)
            if wrong:
                raise PayloadMismatch(step, f"{action}.conf does not carry what the step requires",
                                      "\n".join(f"  - {m}" for m in wrong) + f"\ndiff (expected -> received):\n{diff(expect, reply.payload)}")
        return reply.payload

    @recorded("idle")
    async def idle(self, seconds: float, *, step: str) -> None:
        """Let ``seconds`` pass (a spec timer of the impersonated side), failing at once on a SUT defect."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.check(step)
            await self.inbox.changed(remaining)
        self.check(step)

    async def wait_connected(self, step: str, timeout: float | None = None) -> Session:
        """The live session, waiting (bounded) for the SUT to connect if it is not."""
        if self.session is None or self.session.closed.is_set():
            self._connected.clear()
            limit = timeout or self.timeouts.connect
            try:
                await within(self._connected.wait(), limit)
            except asyncio.TimeoutError:
                self.check(step)
                raise ConnectionFailure(step, f"no OCPP connection with the SUT within {limit:g}s") from None
        assert self.session is not None
        return self.session

    def new_session(self, ws: Any, name: str) -> Session:
        session = Session(
            ws, name=name, trace=lambda: self.trace, peer_actions=self.peer_actions,
            on_call=self.on_call, on_violation=self.record_violation, on_closed=self._closed,
            strict=self.config.strict,
        )
        self.session = session
        self._connected.set()
        self.trace.event(f"{name}: connected", name)
        session.start()
        return session

    def _closed(self, session: Session, reason: str) -> None:
        if self.session is session:
            self._connected.clear()
        self.inbox.notify()

    @property
    def timeouts(self) -> Timeouts:
        """The bounds on every wait, from the current SUT config."""
        return self.config.timeouts

