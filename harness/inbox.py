"""The CALLs the SUT sent during a test, and expectations that consume them in order.

Semantics (the contract every test case relies on):

* Every CALL the SUT sends is appended to the inbox, across reconnects.
* An expectation looks only at CALLs after the last one consumed (the cursor), so
  steps are checked in the order the test lists them. Background CALLs the role
  answers at once (Heartbeat, StatusNotification, MeterValues, notifications)
  may sit between matches; they stay in the trace.
* A CALL of an expected action whose payload does not match fails the step at
  once when its answer depends on the test (it is *held*); held CALLs carry the
  reply the expectation gives. Background actions with other content are skipped,
  and reported as the closest candidates if the step times out.
* Steps the catalog marks "may be reversed" use one expectation group: the
  members may match in any order.
* A StatusNotification step (a pattern with connectorId and status) is about that
  connector: another status of it fails the step at once, unless it is a permitted
  intermediate on the way to the expected one (spec 4.9 table, see
  :func:`harness.models.connector_status.on_the_way`); ``exact=True`` turns that
  tolerance off where the catalog pins the exact sequence.
* A step's timeout counts from when it began waiting, or from when the manual step it
  waits on began, whichever is later (an operator still busy with the previous prompt
  cannot make the SUT late).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Union

from .errors import StepFailure, StepTimeout, UnexpectedMessage
from .matching import OneOf, diff, mismatches
from .models.connector_status import on_the_way
from .ocppj import Call
from .trace import Entry
from .waits import within

if TYPE_CHECKING:
    from .session import Session

__all__ = ["ErrorReply", "Received", "Expectation", "Inbox"]


@dataclass(frozen=True)
class ErrorReply:
    """Answer a CALL with a CALLERROR instead of a CALLRESULT."""

    code: str
    description: str = ""


Reply = Union[Mapping[str, Any], Callable[[dict[str, Any]], Mapping[str, Any]], ErrorReply, None]


@dataclass
class Received:
    """One CALL from the SUT and what became of it."""

    call: Call
    entry: Entry
    session: "Session"
    arrived: float = field(default_factory=time.monotonic)
    held: bool = True
    consumed: bool = False
    replied: Any = None  # the payload (or ErrorReply) we answered with
    replied_at: float | None = None
    by_default: bool = False

    @property
    def action(self) -> str:
        return self.call.action

    @property
    def payload(self) -> dict[str, Any]:
        return self.call.payload


@dataclass
class Expectation:
    """One message a step waits for: its action, a payload pattern and the reply to give."""

    action: str
    pattern: Mapping[str, Any] = field(default_factory=dict)
    reply: Reply = None
    #: pattern fields that say which message this is (e.g. connectorId): a message that
    #: agrees on them but not on the rest fails the step at once, even background traffic
    key: tuple[str, ...] = ()
    #: a message the expectation identifies but that does not match is skipped, not a failure,
    #: when this says so (a permitted intermediate status); set for StatusNotification steps
    tolerate: Callable[[dict[str, Any]], bool] | None = None
    #: a StatusNotification step that must see exactly its status next (the catalog pins the sequence)
    exact: bool = False

    def __post_init__(self) -> None:
        if self.action == "StatusNotification" and not self.key and {"connectorId", "status"} <= set(self.pattern):
            self.key = ("connectorId",)
            targets = _status_targets(self.pattern["status"])
            if targets and not self.exact and self.tolerate is None:
                connector = self.pattern["connectorId"]
                self.tolerate = lambda payload: on_the_way(connector, payload.get("status"), targets)

    def tolerates(self, received: "Received") -> bool:
        return self.tolerate is not None and self.tolerate(received.payload)

    def describe(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.pattern.items())
        return f"{self.action}.req" + (f" with {fields}" if fields else "")

    def matches(self, received: Received) -> bool:
        return received.action == self.action and not mismatches(self.pattern, received.payload)

    def identifies(self, received: Received) -> bool:
        """The message is the one this expectation is about (action and key fields agree)."""
        if received.action != self.action:
            return False
        return bool(self.key) and not mismatches({k: self.pattern[k] for k in self.key}, received.payload)


def _status_targets(value: Any) -> tuple[Any, ...]:
    """The statuses a pattern's status field accepts (empty for ANY, regex and predicates)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, OneOf) and all(isinstance(v, str) for v in value.values):
        return value.values
    return ()


class Inbox:
    """Ordered store of SUT CALLs with a cursor; wakes waiters when a CALL arrives."""

    def __init__(self) -> None:
        self.items: list[Received] = []
        self.cursor = 0
        self._changed = asyncio.Event()

    def clear(self) -> None:
        self.items.clear()
        self.cursor = 0

    def add(self, received: Received) -> None:
        self.items.append(received)
        self.notify()

    def notify(self) -> None:
        self._changed.set()

    async def changed(self, timeout: float) -> bool:
        """Wait until something arrives (or ``timeout``); True when it did."""
        self._changed.clear()
        try:
            await within(self._changed.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def wait_for(
        self,
        expectations: list[Expectation],
        *,
        step: str,
        timeout: float,
        answer: Callable[[Received, Reply], Any],
        check: Callable[[], None],
        ordered: bool = False,
        deadline_base: Callable[[], float | None] = lambda: 0.0,
    ) -> list[Received]:
        """Consume one CALL per expectation (any order unless ``ordered``), or fail.

        ``answer(received, reply)`` is awaited for each held CALL as soon as it is
        matched; ``check()`` raises any SUT defect recorded meanwhile. The timeout counts
        from the later of now and ``deadline_base()`` (None: not yet, the clock is paused).
        """
        found: dict[int, Received] = {}
        last_index = -1
        began = time.monotonic()
        scanned = self.cursor
        while True:
            check()
            while scanned < len(self.items):
                item = self.items[scanned]
                scanned += 1
                if item.consumed:
                    continue
                open_ = [i for i in range(len(expectations)) if i not in found]
                if ordered:
                    open_ = open_[:1]
                hit = next((i for i in open_ if expectations[i].matches(item)), None)
                if hit is not None:
                    item.consumed = True
                    found[hit] = item
                    last_index = max(last_index, scanned - 1)
                    if item.held:
                        try:
                            await answer(item, expectations[hit].reply)
                        except StepFailure as exc:
                            raise type(exc)(exc.step or step, exc.problem, exc.detail) from None
                    continue
                same = [expectations[i] for i in open_ if expectations[i].action == item.action]
                keyed = [e for e in same if e.identifies(item)]
                if keyed and any(e.tolerates(item) for e in keyed):
                    continue  # a permitted intermediate status: the connector may still get there
                if keyed or (same and item.held and not any(e.key for e in same)):
                    exp = (keyed or same)[0]
                    raise UnexpectedMessage(
                        step, f"expected {exp.describe()}, but the SUT sent {item.action}.req with other content",
                        "\n".join(f"  - {m}" for m in mismatches(exp.pattern, item.payload))
                        + f"\ndiff (expected -> received):\n{diff(exp.pattern, item.payload)}",
                    )
            if len(found) == len(expectations):
                self.cursor = last_index + 1
                return [found[i] for i in range(len(expectations))]
            base = deadline_base()
            if base is None:  # the manual step this one waits on has not begun: the clock is paused
                await self.changed(timeout)
                continue
            remaining = max(began, base) + timeout - time.monotonic()
            if remaining <= 0 or not await self.changed(remaining):
                check()
                if deadline_base() is None:
                    continue
                raise self._timeout(expectations, found, step, timeout)

    def _timeout(self, expectations: list[Expectation], found: dict[int, Received], step: str, timeout: float) -> StepTimeout:
        missing = [e for i, e in enumerate(expectations) if i not in found]
        seen = [r for r in self.items[self.cursor:] if not r.consumed]
        lines = [f"  - {r.action}.req {r.payload}" for r in seen[-10:]] or ["  (nothing)"]
        closest = ""
        for exp in missing:
            same = [r for r in seen if exp.identifies(r)] or [r for r in seen if r.action == exp.action]
            if same:
                closest += f"\nclosest {exp.action}.req, diff (expected -> received):\n{diff(exp.pattern, same[-1].payload)}"
            if exp.tolerate is not None and any(exp.identifies(r) for r in seen):
                statuses = " -> ".join(str(r.payload.get("status")) for r in seen if exp.identifies(r))
                closest += (f"\nconnector {exp.pattern['connectorId']} reported {statuses}: on the way (spec 4.9), "
                            f"but it never reached {exp.pattern['status']!r}")
        what = "; ".join(e.describe() for e in missing)
        return StepTimeout(
            step, f"expected {what} within {timeout:g}s; it did not arrive",
            "received meanwhile:\n" + "\n".join(lines) + closest,
        )

    async def wait_none(self, expectation: Expectation, *, step: str, within: float, check: Callable[[], None],
                        deadline_base: Callable[[], float | None] = lambda: 0.0) -> None:
        """Fail if a CALL matching ``expectation`` arrives within ``within`` seconds (the spec's own wait).

        The window ends ``within`` after the later of now and ``deadline_base()`` (the manual step before it).
        """
        began = time.monotonic()
        scanned = self.cursor
        while True:
            check()
            for item in self.items[scanned:]:
                if expectation.matches(item):
                    raise UnexpectedMessage(step, f"the SUT must not send {expectation.describe()} here, but it did",
                                            f"payload: {item.payload}")
            scanned = len(self.items)
            base = deadline_base()
            remaining = within if base is None else max(began, base) + within - time.monotonic()
            if remaining <= 0 or not await self.changed(remaining):
                check()
                if deadline_base() is None:
                    continue
                if max(began, deadline_base() or 0.0) + within <= time.monotonic():
                    return

    def find(self, predicate: Callable[[Received], bool]) -> list[Received]:
        return [r for r in self.items if predicate(r)]
