"""The terminal's view of a case: a failure that reads like its report section, and live steps with ``-v``.

A failed case prints its id and title, the step it failed at with that step's catalog
text, what was expected and what arrived (the wrong fields marked ``»…«``), the failure
and its diff on pytest's red ``E`` lines, the manual steps, and the last frames; not the
harness's own traceback (``--tb=short`` / ``--tb=long`` add it; JUnit and the report's
developer part always keep it). :class:`CaseFailure` is that text as a pytest ``longrepr``.

With ``-v`` every step is printed as it finishes (:class:`LiveSteps`, an observer of
:mod:`harness.steps`), so an operator at a charger can follow a long case; ``-vv`` also
shows the harness's own setup and teardown steps.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..steps import Message, StepRecord, short_payload
from .catalog import CatalogCase, label_kind, step_numbers
from .model import Failure

__all__ = ["CaseFailure", "failure_lines", "payload_text", "LiveSteps", "LAST_FRAMES"]

LAST_FRAMES = 8
ROLE_NAMES = {"cp": "charge point", "cs": "central system"}
Line = tuple[str, dict[str, bool]]


def payload_text(value: Any, bad: Iterable[str] = (), path: str = "$") -> str:
    """Compact JSON of a payload with the values at ``bad`` paths marked ``»…«``."""
    bad = set(bad)
    if path in bad:
        return f"»{json.dumps(value, ensure_ascii=False)}«"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {payload_text(v, bad, f'{path}.{k}')}" for k, v in value.items()) + "}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:199] + "…"


def _message(m: Message) -> str:
    return f"{m.action} {payload_text(m.payload, m.bad)}" if m.payload not in (None, {}) else m.action


def _listed(head: str, messages: list[Message], note: str, markup: dict[str, bool]) -> list[Line]:
    """One message on the heading's line; several each on a line of their own."""
    if len(messages) == 1:
        return [(f"  {head} {_message(messages[0])}{note}", markup)]
    return [(f"  {head.rstrip()}{note}", {})] + [(f"    {_message(m)}", markup) for m in messages]


def failure_lines(*, tc_id: str, title: str, role: str, failure: Failure, message: str, phase: str,
                  record: StepRecord | None, spec: CatalogCase | None, frames: list[str],
                  actuations: list[str]) -> list[Line]:
    """The failure as terminal lines (text, markup); the ``E`` lines carry ``message`` (the exception's text)."""
    red, bold = {"red": True, "bold": True}, {"bold": True}
    out: list[Line] = [(f"{tc_id} — {title} ({ROLE_NAMES.get(role, role)} under test)", bold)]
    where = {"setup": "in its setup, before its steps (the SUT, the simulators or OCTT's common state could not be "
                      "set up: an error, not a verdict on the case's steps)",
             "teardown": "after its steps, while the harness restored the common state"}.get(phase, "")
    step = failure.step
    head = f"Failed at step {step}" if step else "Failed"
    out.append((head + (f" {where}" if where else ""), red))
    if spec is not None:
        for n in step_numbers(step):
            s = spec.step(n)
            if s is not None:
                out.append((f"  OCTT step {s.number}: {s.text}", {}))
        if label_kind(step) == "before" and spec.before:
            out.append(("  OCTT 'before': " + "; ".join(f"{k}: {v}" for k, v in spec.before.items()), {}))
    if record is not None:
        if record.kind == "call" and record.sent:
            out.extend(_listed("sent:    ", record.sent, "", {}))
        if record.expected:
            out.extend(_listed("expected:", record.expected, f" ({record.note})" if record.note else "", {}))
        if record.received:
            out.extend(_listed("received:", record.received, "", {"red": True}))
        elif record.kind in ("expect", "call"):
            out.append(("  received: nothing matching arrived", {}))
    out.extend((f"E   {line}", red) for line in message.splitlines() or [""])
    if actuations:
        out.append(("manual steps:", bold))
        out.extend((f"  {a}", {}) for a in actuations)
    if frames:
        out.append((f"last {len(frames)} frames:", bold))
        out.extend((f"  {f}", {}) for f in frames)
    return out


@dataclass
class _Crash:
    path: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}"


class CaseFailure:
    """A pytest ``longrepr``: the readable failure on the terminal, plus the traceback in JUnit (``str``)."""

    def __init__(self, lines: list[Line], traceback: str, crash: _Crash | tuple[str, int, str], show_traceback: str = "") -> None:
        self.lines = lines
        self.traceback = traceback
        self.reprcrash = crash if isinstance(crash, _Crash) else _Crash(*crash)
        self.show_traceback = show_traceback  # a traceback text the user asked for with --tb

    def toterminal(self, tw: Any) -> None:
        for text, markup in self.lines:
            tw.line(text, **markup)
        if self.show_traceback:
            tw.line("")
            tw.line("harness traceback (--tb):", bold=True)
            for line in self.show_traceback.splitlines():
                tw.line(line)
        else:
            tw.line("(the harness's traceback: junit.xml, the report's developer part, or --tb=short)", light=True)

    def __str__(self) -> str:
        text = "\n".join(t for t, _ in self.lines)
        return f"{text}\n\nharness traceback (for developers):\n{self.traceback}" if self.traceback else text


# -- live steps ----------------------------------------------------------------------------------------------
class LiveSteps:
    """Prints each finished step under the running test (``-v``); ``own`` also the harness's setup/teardown steps."""

    def __init__(self, config: Any, own: bool = False) -> None:
        self.config = config
        self.own = own
        self.heading = ""  # printed before the first step of a test (set by the plugin)

    def __call__(self, rec: StepRecord) -> None:
        if label_kind(rec.label) in ("setup", "teardown") and not self.own:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        mark = {"passed": "ok", "failed": "FAILED", "error": "ERROR", "aborted": "aborted"}.get(rec.verdict, rec.verdict)
        what = rec.note if rec.kind == "idle" else "; ".join(
            f"{m.action} {short_payload(m.payload, 48)}".rstrip() for m in (rec.received or rec.expected))
        width = getattr(getattr(reporter, "_tw", None), "fullwidth", 120) - 1
        line = f"    [{mark:>6}] +{rec.started:.2f}s {rec.label}" + (f": {what}" if what else "")
        line = line if len(line) <= width else line[: width - 1] + "…"
        try:
            with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
                reporter.ensure_newline()
                if self.heading:
                    reporter.write_line(f"    {self.heading}", bold=True)
                    self.heading = ""
                reporter.write_line(line, green=rec.verdict == "passed", red=rec.verdict != "passed")
                if rec.problem:
                    reporter.write_line(f"             {rec.problem}", red=True)
        except Exception:  # the live view must never disturb a case
            pass
