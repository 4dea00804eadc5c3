"""The report's data model: one :class:`CaseRecord` per test case, one :class:`RunRecord` per run.

Records hold plain values only (str, numbers, lists, dicts), so a record is its own JSON
(``to_json`` / ``from_json``): the evidence file is the run record, and the HTML is a pure
function of it. Everything a record holds is already redacted (frames by
:func:`harness.trace.redact`, configurations by :mod:`harness.report.suts`).

Two verdict axes (:func:`judge`):

* **spec conformance** - did the SUT meet OCPP 1.6 where the case checks it: the case's
  outcome; a passed case with warnings (SHOULDs the SUT did not follow) says so;
* **OCTT compatibility** - would the official tool, as its test case document reads, judge
  it the same: a *concern* where the case passed on a check beyond the catalog and the spec
  (a warning) or on a reading of an open point that differs from the one OCTT's cases take.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable, Mapping

from ..steps import StepRecord
from .catalog import CatalogCase, label_kind, step_numbers

__all__ = [
    "CaseRecord", "RunRecord", "SutRecord", "Verdicts", "Failure", "Row",
    "judge", "readings_of", "warnings_of", "frames_sha256", "step_rows", "parse_frame", "octt_readings",
    "VERDICTS",
]

#: outcome words, worst first (the order of the summary and the filters)
VERDICTS = ("failed", "error", "passed", "skipped")


@dataclass
class Failure:
    """Why a case did not pass: the step it names, the problem, the detail (diff, what arrived)."""

    step: str
    problem: str
    detail: str = ""
    kind: str = ""  # the failure's class: StepTimeout, PayloadMismatch, CommonStateError ...


@dataclass
class Verdicts:
    spec: str = "passed"  # passed | passed with warnings | failed | error | skipped
    octt: str = "passed"  # passed | concern | failed | error | skipped
    spec_reason: str = ""
    octt_reason: str = ""

    @property
    def differ(self) -> bool:
        return self.spec.split()[0] != self.octt.split()[0] or self.spec != self.octt


@dataclass
class CaseRecord:
    """Everything the report says about one test case."""

    nodeid: str
    tc_id: str
    title: str
    role: str  # the SUT's role: cp (TC_xxx_CS) or cs (TC_xxx_CSMS)
    profiles: list[str] = field(default_factory=list)  # feature profile markers
    outcome: str = "passed"  # passed | failed | error | skipped
    phase: str = ""  # setup | call | teardown: where the outcome was decided
    skip_reason: str = ""
    failure: Failure | None = None
    verdicts: Verdicts = field(default_factory=Verdicts)
    steps: list[StepRecord] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)  # harness.trace.Trace.as_json()
    actuations: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    readings: list[dict[str, Any]] = field(default_factory=list)
    started: str = ""  # wall clock (UTC, ISO 8601) of the first frame or the case's start
    duration: float = 0.0
    frames_sha256: str = ""
    traceback: str = ""  # for developers only (collapsed in the report)

    @property
    def anchor(self) -> str:
        return self.tc_id

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["steps"] = [s.to_json() for s in self.steps]
        data["failure"] = asdict(self.failure) if self.failure else None
        data["verdicts"] = asdict(self.verdicts)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "CaseRecord":
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["steps"] = [StepRecord.from_json(s) for s in data.get("steps", [])]
        values["failure"] = Failure(**data["failure"]) if data.get("failure") else None
        values["verdicts"] = Verdicts(**data.get("verdicts", {}))
        return cls(**values)


@dataclass
class SutRecord:
    """One system under test as the run used it (``role`` cp or cs)."""

    role: str
    name: str = ""
    identity: dict[str, Any] = field(default_factory=dict)  # BootNotification fields, or the endpoint
    config: dict[str, Any] = field(default_factory=dict)  # redacted
    config_sha256: str = ""
    config_source: str = ""
    features: list[str] = field(default_factory=list)
    security_profile: int = 0


@dataclass
class RunRecord:
    harness_version: str
    ocpp_version: str = "1.6-J"
    started: str = ""
    finished: str = ""
    description: str = ""  # which SUTs, simulators, faults, variants
    suts: list[SutRecord] = field(default_factory=list)
    cases: list[CaseRecord] = field(default_factory=list)
    catalog_source: str = ""
    evidence_sha256: str = ""  # set once the evidence file is written (not part of the evidence itself)

    def to_json(self) -> dict[str, Any]:
        return {
            "harness_version": self.harness_version, "ocpp_version": self.ocpp_version,
            "started": self.started, "finished": self.finished, "description": self.description,
            "suts": [asdict(s) for s in self.suts], "cases": [c.to_json() for c in self.cases],
            "catalog_source": self.catalog_source,
            "verdicts": {c.tc_id: c.outcome for c in self.cases},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RunRecord":
        return cls(
            harness_version=data.get("harness_version", ""), ocpp_version=data.get("ocpp_version", "1.6-J"),
            started=data.get("started", ""), finished=data.get("finished", ""),
            description=data.get("description", ""),
            suts=[SutRecord(**s) for s in data.get("suts", [])],
            cases=[CaseRecord.from_json(c) for c in data.get("cases", [])],
            catalog_source=data.get("catalog_source", ""), evidence_sha256=data.get("sha256", ""),
        )


# -- frames ----------------------------------------------------------------------------------------------
def frames_sha256(frames: list[dict[str, Any]]) -> str:
    """sha256 over a case's frame log: its JSON (sorted keys, no spaces, UTF-8), as the evidence file holds it."""
    text = json.dumps(frames, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_frame(text: str) -> tuple[int | None, str, str, Any]:
    """(message type 2/3/4 or None, message id, action or error code, payload) of an OCPP-J frame text."""
    try:
        frame = json.loads(text)
    except ValueError:
        return None, "", "", text
    if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in (2, 3, 4):
        return None, "", "", frame
    if frame[0] == 2:
        return 2, str(frame[1]), str(frame[2]), frame[3] if len(frame) > 3 else None
    if frame[0] == 3:
        return 3, str(frame[1]), "", frame[2]
    return 4, str(frame[1]), str(frame[2]), {"errorDescription": frame[3] if len(frame) > 3 else "",
                                             "errorDetails": frame[4] if len(frame) > 4 else {}}


# -- warnings and readings ---------------------------------------------------------------------------------
_CONCURRENCY = re.compile(r"^(?P<conn>[^:]+): warning: (?P<text>.+)$", re.S)
_OUTSIDE = re.compile(r"^(?P<step>(?:setup|teardown)[^:]*): SUT defect outside the case's steps: (?P<text>.+)$", re.S)
_READINGS = re.compile(r"^step (?P<step>.+?): .*?readings: (?P<list>.+)$", re.S)
_PAIR = re.compile(r"(A\d+ [^=,]+?)=(.+?)(?=, A\d+ [^=,]+?=|$)", re.S)


def warnings_of(role_warnings: Iterable[Any], frames: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The case's warnings: its checks beyond the catalog and spec (``role.warnings``), the connection's
    SHOULD-level warnings (a second CALL while one is unanswered), defects seen while setting up or restoring."""
    out = [{"step": w.step, "text": w.text, "reading": w.reading, "source": "check"} for w in role_warnings]
    for f in frames:
        if f.get("direction") != "event":
            continue
        text = str(f.get("text", ""))
        if m := _CONCURRENCY.match(text):
            out.append({"step": "(any)", "text": m["text"], "source": "connection",
                        "reading": "OCPP-J 4.1.1: a side SHOULD NOT send a CALL while its last one is unanswered"})
        elif m := _OUTSIDE.match(text):
            out.append({"step": m["step"], "text": m["text"], "source": "setup",
                        "reading": "seen while the harness set up or restored the common state: not this case's verdict"})
    return out


def octt_readings() -> dict[str, str]:
    """Open points of the spec (shared/smart_charging.md section 4) where OCTT's cases take a reading: key -> reading."""
    from enum import Enum

    from ..models.composite_schedule import Readings

    base = Readings()
    described = base.describe()
    out: dict[str, str] = {}
    for f in fields(base):
        value = getattr(base, f.name)
        if not isinstance(value, Enum):
            continue
        octt = [m.value for m in type(value) if "OCTT" in str(m.value)]
        key = next((k for k, v in described.items() if v == value.value), None)
        if octt and key:
            out[key] = octt[0]
    return out


def readings_of(frames: list[dict[str, Any]], failure: Failure | None) -> list[dict[str, Any]]:
    """Readings of open points a case's verdict rests on (the smart charging model's), with OCTT's where known."""
    found: dict[str, tuple[str, str]] = {}
    for f in frames:
        if f.get("direction") == "event" and (m := _READINGS.match(str(f.get("text", "")))):
            for key, value in _PAIR.findall(m["list"]):
                found[key.strip()] = (value.strip(), m["step"])
    if failure is not None and "model readings used for the expected side:" in failure.detail:
        block = failure.detail.split("model readings used for the expected side:", 1)[1]
        for line in block.splitlines():
            key, sep, value = line.strip().partition(": ")
            if sep and re.match(r"A\d+ ", key):
                found[key] = (value.strip(), failure.step)
    if not found:
        return []
    octt = octt_readings()
    return [{"key": key, "value": value, "step": step, "octt": octt.get(key),
             "agrees": None if key not in octt else value == octt[key]}
            for key, (value, step) in sorted(found.items(), key=lambda kv: int(re.findall(r"\d+", kv[0])[0]))]


def judge(outcome: str, failure: Failure | None, warnings: list[dict[str, str]],
          readings: list[dict[str, Any]], skip_reason: str = "", phase: str = "") -> Verdicts:
    """The case's verdict on both axes (see the module docstring)."""
    if outcome == "skipped":
        return Verdicts("skipped", "skipped", skip_reason, skip_reason)
    if outcome == "error":
        problem = failure.problem if failure else "a harness or configuration error"
        why = (f"its steps passed, but the common state could not be restored after it: {problem}" if phase == "teardown"
               else f"the case could not run: {problem}")
        return Verdicts("error", "error", why, why)
    if outcome == "failed":
        why = f"step {failure.step}: {failure.problem}" if failure and failure.step else (failure.problem if failure else "")
        if failure and "a failure because the SUT config sets strict: true" in failure.problem:
            return Verdicts("failed", "failed", why + " (a check beyond the catalog and the spec; strict mode)",
                            "a check OCTT's catalog does not make failed it (strict: true); its steps after that did not run")
        return Verdicts("failed", "failed", why, why)
    checks = [w for w in warnings if w.get("source") != "setup"]
    differing = [r for r in readings if r.get("agrees") is False]
    spec = "passed with warnings" if checks else "passed"
    spec_reason = "; ".join(f"step {w['step']}: {w['text']}" for w in checks)
    concerns = [f"a check beyond the catalog warned (step {w['step']}): {w['text']}" for w in checks]
    concerns += [f"reading {r['key']}: the harness took '{r['value']}', OCTT's cases take '{r['octt']}'" for r in differing]
    if concerns:
        return Verdicts(spec, "concern", spec_reason, "; ".join(concerns))
    agreed = [r["key"] for r in readings if r.get("agrees")]
    return Verdicts(spec, "passed", spec_reason,
                    f"on the readings OCTT's cases take ({', '.join(agreed)})" if agreed else "")


# -- the step table ------------------------------------------------------------------------------------------
@dataclass
class Row:
    """One row of a case's step table."""

    kind: str  # catalog | setup | teardown | before | after | harness | manual | unchecked | failure | group
    label: str = ""
    numbers: list[int] = field(default_factory=list)
    verdict: str = ""
    t: float | None = None
    duration: float | None = None
    step: StepRecord | None = None
    actuation: dict[str, Any] | None = None
    failing: bool = False  # the step the case failed at
    note: str = ""
    children: list["Row"] = field(default_factory=list)  # a setup / teardown group's rows


def _is_failing(case: CaseRecord, rec: StepRecord) -> bool:
    if case.failure is None or rec.verdict not in ("failed", "error"):
        return False
    return case.failure.step in (rec.label, rec.failed_step) or not case.failure.step


def step_rows(case: CaseRecord, spec: CatalogCase | None) -> list[Row]:
    """The rows of a case's step table, in the order things happened.

    Recorded steps and manual steps in time order; the harness's own setup and teardown
    steps folded into one group row each; a failure no recorded step carries (a check the
    case made itself) as a row of its own; catalog steps no row names, where they belong,
    as "not reached" after a failure or "no separate check" otherwise.
    """
    items: list[tuple[float, int, Row]] = []
    # a failed manual step fails the step that checks next; the manual step is the one to show as failing
    failing_found = any(a.get("outcome") == "failed" and case.failure is not None and a.get("step") == case.failure.step
                        for a in case.actuations)
    for i, rec in enumerate(case.steps):
        kind = label_kind(rec.label)
        failing = not failing_found and _is_failing(case, rec)
        failing_found = failing_found or failing
        items.append((rec.started, i, Row(kind, rec.label, step_numbers(rec.label), rec.verdict, rec.started,
                                          rec.duration, step=rec, failing=failing)))
    for j, act in enumerate(case.actuations):
        t = act.get("t")
        label = str(act.get("step", ""))
        if t is not None:  # a step already waiting when the manual step began was asked for after it: list it first
            waiting = [r.started for r in case.steps if r.started <= t < (r.ended if r.ended is not None else 1e18)]
            t_key = min(waiting) - 1e-9 if waiting else t
        items.append((t_key if t is not None else float("inf"), len(case.steps) + j,
                      Row("manual", label, step_numbers(label), act.get("outcome", ""), t, act.get("duration"),
                          actuation=act, failing=act.get("outcome") == "failed" and case.failure is not None
                          and case.failure.step == label)))
    items.sort(key=lambda x: (x[0], x[1]))
    rows = [r for _, _, r in items]
    failing_found = failing_found or any(r.failing for r in rows)
    if case.outcome in ("failed", "error") and case.failure is not None and not failing_found:
        end = max([r.t + (r.duration or 0) for r in rows if r.t is not None] or [0.0])
        rows.append(Row("failure" if case.outcome == "failed" else label_kind(case.failure.step) if case.failure.step else "harness",
                        case.failure.step, step_numbers(case.failure.step), case.outcome, end, None, failing=True))
        if rows[-1].kind in ("setup", "teardown"):
            rows[-1].failing = True
    rows = _fold(rows, "setup") if rows else rows
    rows = _fold(rows, "teardown")
    return _with_unchecked(rows, case, spec)


def _fold(rows: list[Row], kind: str) -> list[Row]:
    out: list[Row] = []
    for row in rows:
        if row.kind == kind and out and out[-1].kind == "group" and out[-1].label == kind:
            out[-1].children.append(row)
        elif row.kind == kind:
            out.append(Row("group", kind, children=[row], t=row.t))
        else:
            out.append(row)
    for group in out:
        if group.kind == "group" and group.label == kind:
            kids = group.children
            worst = next((v for v in ("failed", "error", "aborted") if any(k.verdict == v for k in kids)), "passed")
            group.verdict = worst
            group.failing = any(k.failing for k in kids)
            ends = [k.t + (k.duration or 0) for k in kids if k.t is not None]
            group.duration = (max(ends) - group.t) if ends and group.t is not None else None
    return out


def _with_unchecked(rows: list[Row], case: CaseRecord, spec: CatalogCase | None) -> list[Row]:
    if spec is None:
        return rows
    named = {n for r in rows for n in r.numbers}
    missing = [s for s in spec.steps if s.number is not None and s.number not in named]
    if not missing:
        return rows
    fail_at = next((i for i, r in enumerate(rows) if r.failing), None)
    out: list[Row] = []
    pending = list(missing)

    def emit(upto: float, position: int) -> None:
        while pending and pending[0].number is not None and pending[0].number < upto:
            s = pending.pop(0)
            reached = not (case.outcome in ("failed", "error") and fail_at is not None and position > fail_at)
            if case.outcome == "skipped":
                verdict, note = "not run", ""
            elif not reached:
                verdict, note = "not reached", "the case stopped at the failed step"
            elif s.actor == spec.tool_actor and " responds " in f" {s.text} ":
                verdict, note = "", "the harness's answer: sent with the step before"
            else:
                verdict, note = "", "no separate check"
            out.append(Row("unchecked", "", [s.number], verdict, note=note))

    for i, row in enumerate(rows):
        if row.kind == "group" and row.label == "teardown":
            emit(float("inf"), i)
        elif row.numbers:
            emit(min(row.numbers), i)
        out.append(row)
    emit(float("inf"), len(rows))
    return out

