"""One case of the compliance report in HTML: pure functions of a :class:`CaseRecord`.

A case's section (:func:`render_case`), for a reader at a test lab: verdicts first, then the
OCTT steps as a table (catalog text, expected, received with the difference marked, time,
verdict), the message sequence diagram (inline SVG), warnings and readings, the frame log
(collapsed), and a collapsed "for developers" part with the Python traceback. The page
around the cases (cover, matrix, summary, stylesheet) is :mod:`harness.report.page`.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any, Iterable, Mapping

from ..steps import KINDS, Message, StepRecord
from .catalog import MARKER_PROFILES, CatalogCase, CatalogStep
from .model import CaseRecord, Row, step_rows
from .svg import sequence_diagrams

__all__ = ["render_case", "payload_html"]

ROLE_NAMES = {"cp": "charge point", "cs": "central system"}
OWN = "harness's own cases (beyond OCTT)"


def _badge(verdict: str, text: str | None = None) -> str:
    cls = "b-" + (verdict or "").replace(" ", "-")
    return f'<span class="badge {cls}">{escape((text or verdict or "—").upper())}</span>'


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


# -- payloads ----------------------------------------------------------------------------------------------
def payload_html(value: Any, ok: Iterable[str] = (), bad: Iterable[str] = (), path: str = "$", limit: int = 14) -> str:
    """A payload as compact JSON: fields the step found right on green, wrong ones marked red."""
    ok, bad = set(ok), set(bad)
    inner = _value_html(value, ok, bad, path, limit)
    return f'<mark class="bad">{inner}</mark>' if path in bad and not isinstance(value, Mapping) else inner


def _value_html(value: Any, ok: set[str], bad: set[str], path: str, limit: int) -> str:
    if isinstance(value, Mapping):
        items = []
        for k, v in value.items():
            p = f"{path}.{k}"
            inner = _value_html(v, ok, bad, p, limit)
            if p in bad:
                inner = f'<mark class="bad">{inner}</mark>'
            elif p in ok and not isinstance(v, Mapping):
                inner = f'<span class="okv">{inner}</span>'
            items.append(f"{escape(json.dumps(str(k)))}: {inner}")
        text = "{" + ", ".join(items) + "}"
        return f'<mark class="bad">{text}</mark>' if path == "$" and path in bad else text
    if isinstance(value, list):
        shown = [_value_html(v, ok, bad, f"{path}[{i}]", limit) for i, v in enumerate(value[:limit])]
        more = f", <em>… {len(value) - limit} more</em>" if len(value) > limit else ""
        return "[" + ", ".join(shown) + more + "]"
    if isinstance(value, str) and value.startswith("‹") and value.endswith("›"):
        return f'<span class="matcher">{escape(value)}</span>'
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > 300:
        text = text[:299] + "…"
    return escape(text)


def _messages(messages: list[Message], cls: str, empty: str = "") -> str:
    if not messages:
        return f'<span class="muted">{escape(empty)}</span>' if empty else ""
    out = []
    for m in messages:
        payload = "" if m.payload in (None, {}) and not m.bad else \
            f" <code>{payload_html(m.payload, m.ok, m.bad)}</code>"
        out.append(f'<div class="msg"><span class="act {cls}">{escape(m.action)}</span>{payload}</div>')
    return "".join(out)


# -- the step table ----------------------------------------------------------------------------------------
def _catalog_text(step: CatalogStep) -> str:
    text = escape(step.text)
    head, _, check = text.partition("=&gt;")
    head = re.sub(r"\[(.*?)\]", r'<span class="cat-note">[\1]</span>', head)
    check_html = f' <span class="cat-check">&rArr; {check.strip()}</span>' if check else ""
    return f"<div><b>{step.number}.</b> {head.strip()}{check_html}</div>"


def _catalog_cell(row: Row, spec: CatalogCase | None) -> str:
    if row.kind == "group":
        return ("OCTT common state (test case document 1.3), established by the harness" if row.label == "setup"
                else "the harness restores the common state")
    if row.kind in ("before", "after"):
        return (f'<span class="muted">catalog "{row.kind}" state'
                + (" (see above the table)" if row.kind == "before" and spec is not None and spec.before else "") + "</span>")
    if spec is None or not row.numbers:
        return '<span class="muted">the harness\'s own check</span>' if row.kind in ("harness", "failure") else ""
    return "".join(_catalog_text(s) for n in row.numbers if (s := spec.step(n)) is not None)


def _step_expected(rec: StepRecord) -> str:
    verb = KINDS.get(rec.kind, rec.kind)
    if rec.kind == "call":
        body = _messages(rec.sent, "sent")
        expect = rec.expected[0] if rec.expected else None
        if expect is not None and expect.payload:
            body += f'<div class="muted small">and expects</div>{_messages([expect], "recv")}'
        elif expect is not None:
            body += f'<div class="muted small">and expects {escape(expect.action)}</div>'
    elif rec.kind == "idle":
        body = ""
    else:
        body = _messages(rec.expected, "recv")
    note = f'<div class="muted small">{escape(rec.note)}</div>' if rec.note else ""
    return f'<div class="muted small">{escape(verb)}</div>{body}{note}'


def _step_received(rec: StepRecord) -> str:
    if rec.kind == "expect":
        empty = "nothing matching arrived" if rec.verdict != "passed" else ""
        body = _messages(rec.received, "recv", empty)
        if rec.sent:
            body += f'<div class="muted small">answered</div>{_messages(rec.sent, "sent")}'
        return body
    if rec.kind == "call":
        return _messages(rec.received, "recv", "no reply" if rec.verdict != "passed" else "")
    if rec.kind == "expect_none":
        return _messages(rec.received, "recv", "nothing (as required)" if rec.verdict == "passed" else "")
    return ""


def _row_html(row: Row, spec: CatalogCase | None, case: CaseRecord) -> str:
    classes = [f"k-{row.kind}"]
    if row.failing:
        classes.append("failing")
    if row.kind in ("group",) or row.kind in ("setup", "teardown"):
        classes.append("own")
    if row.kind == "unchecked":
        classes.append("unchecked")
    number = "-".join(str(n) for n in (row.numbers[:1] + row.numbers[-1:] if len(row.numbers) > 1 else row.numbers))
    label = "" if row.kind in ("unchecked", "group") else row.label
    first = f"{escape(number) or '—'}" + (f'<span class="lbl">{escape(label)}</span>' if label and label != number else "")
    if row.kind == "group":
        first = f'<span class="lbl">{escape(row.label)}</span>'
    time = "" if row.t is None else f"+{row.t:.2f} s" + (f'<span class="lbl">{_dur(row.duration)}</span>' if row.duration else "")
    if row.kind == "group":
        inner = "".join(f"<li>{escape(k.label)}: {escape(_child_summary(k))} {_badge(k.verdict)}</li>" for k in row.children)
        opened = " open" if row.failing else ""
        expected = (f'<details{opened}><summary>{len(row.children)} harness step{"s" if len(row.children) != 1 else ""}'
                    f"</summary><ul class=\"small\">{inner}</ul></details>")
        received = ""
    elif row.step is not None:
        expected, received = _step_expected(row.step), _step_received(row.step)
    elif row.actuation is not None:
        act = row.actuation
        expected = (f'<div class="muted small">manual step</div><b>{escape(str(act.get("action")))}</b>'
                    f'<div>{escape(str(act.get("text", "")))}</div>')
        received = escape(str(act.get("problem") or ("done" if act.get("outcome") == "done" else act.get("outcome", ""))))
    elif row.kind == "failure":
        expected = '<span class="muted">a check the case makes on what arrived</span>'
        received = ""
    else:
        expected, received = f'<span class="muted">{escape(row.note)}</span>', ""
    verdict = _badge(row.verdict) if row.verdict else '<span class="muted">—</span>'
    html_row = (f'<tr class="{" ".join(classes)}"><td>{first}</td><td>{_catalog_cell(row, spec)}</td><td>{expected}</td>'
                f"<td>{received}</td><td>{time}</td><td>{verdict}</td></tr>")
    if row.failing and case.failure is not None:
        rec = row.step
        problem = rec.problem if rec is not None and rec.problem else case.failure.problem
        detail = rec.detail if rec is not None and rec.problem else case.failure.detail
        html_row += (f'<tr class="detail failing"><td></td><td colspan="5"><b>{escape(problem)}</b>'
                     + (f"<pre>{escape(detail)}</pre>" if detail else "") + "</td></tr>")
    return html_row


def _child_summary(row: Row) -> str:
    if row.step is not None:
        msgs = row.step.sent if row.step.kind == "call" else row.step.expected
        return ", ".join(m.action for m in msgs) or row.step.note
    if row.actuation is not None:
        return f"manual step {row.actuation.get('action')}"
    return row.note


def _steps_table(case: CaseRecord, spec: CatalogCase | None) -> str:
    rows = step_rows(case, spec)
    if not rows:
        return '<p class="muted">No step ran.</p>'
    body = "".join(_row_html(r, spec, case) for r in rows)
    return ('<table class="steps"><colgroup><col class="c-n"><col class="c-cat"><col class="c-exp"><col class="c-rec">'
            '<col class="c-t"><col class="c-v"></colgroup><thead><tr><th>Step</th><th>OCTT step (catalog)</th>'
            f"<th>Expected</th><th>Received</th><th>Time</th><th>Verdict</th></tr></thead><tbody>{body}</tbody></table>")


# -- a case ------------------------------------------------------------------------------------------------
def _profile_of(case: CaseRecord, spec: CatalogCase | None) -> str:
    if spec is not None:
        return spec.profile
    names = [MARKER_PROFILES.get(p, p) for p in case.profiles]
    return ", ".join(names) or OWN


def render_case(case: CaseRecord, spec: CatalogCase | None, sut_name: str = "") -> str:
    """One case's section: verdicts, steps, diagram, warnings and readings, frames, developer details."""
    v = case.verdicts
    title = case.title or (spec.title if spec else "")
    plain = "" if (v.differ or case.warnings or case.readings) else " plain"
    head = (f'<section class="case v-{case.outcome} r-{case.role}{plain}" id="{escape(case.anchor)}" '
            f'data-verdict="{case.outcome}">'
            f"<h2>{_badge(case.outcome)} {escape(case.tc_id)} — {escape(title)}</h2>"
            f'<p class="meta">{escape(ROLE_NAMES.get(case.role, case.role))} under test · profile '
            f"{escape(_profile_of(case, spec))} · started {escape(case.started or '—')} · {_dur(case.duration)} · "
            f'{len(case.frames)} frames, sha256 <span class="mono">{escape(case.frames_sha256)}</span></p>')
    axes = (f'<div class="axes"><div>Spec conformance: {_badge(v.spec)}'
            + (f'<div class="why">{escape(v.spec_reason)}</div>' if v.spec_reason and v.spec != "failed" else "")
            + f'</div><div>OCTT compatibility: {_badge(v.octt)}'
            + (f'<div class="why">{escape(v.octt_reason)}</div>' if v.octt_reason and v.octt != "failed" else "")
            + "</div></div>")
    parts = [head, axes]
    if case.outcome in ("failed", "error") and case.failure is not None:
        f = case.failure
        where = f"at step {escape(f.step)}" if f.step else ""
        phase = {"setup": " in its setup, before its steps (an error, not a verdict on the case's steps)",
                 "teardown": " after its steps, while the harness restored the common state"}.get(case.phase, "")
        parts.append(f'<div class="failure"><b>{"Failed" if case.outcome == "failed" else "Could not run"} {where}'
                     f"{escape(phase)}:</b> {escape(f.problem)}</div>")
    if case.outcome == "skipped":
        prereq = f'<div class="small">Catalog prerequisite: {escape(spec.prerequisite)}</div>' if spec and spec.prerequisite else ""
        parts.append(f'<div class="skip"><b>Not run: a prerequisite is not met.</b> {escape(case.skip_reason)}{prereq}</div>')
    if case.outcome != "skipped" or case.steps:
        before = "".join(f"<div><b>{escape(k)}:</b> {escape(v)}</div>" for k, v in spec.before.items()) if spec else ""
        parts.append("<h3>Steps</h3>" + (f'<div class="before small"><b>Before</b> (the catalog\'s start state of this '
                                         f"case, set up in the rows marked before):{before}</div>" if before else "")
                     + _steps_table(case, spec))
    svgs = "".join(sequence_diagrams(case, sut_name))  # every case: if only to say nothing was exchanged
    parts.append(f'<h3>Message sequence</h3><div class="diagram">{svgs}</div>')
    if case.warnings:
        items = "".join(f"<tr><td>{escape(w.get('step', ''))}</td><td>{escape(w.get('text', ''))}</td>"
                        f"<td>{escape(w.get('reading', ''))}</td></tr>" for w in case.warnings)
        parts.append("<h3>Warnings</h3><table class=\"small\"><thead><tr><th style=\"width:12%\">Step</th><th>Warning</th>"
                     f'<th style="width:38%">Reading / rule</th></tr></thead><tbody>{items}</tbody></table>')
    if case.readings:
        items = "".join(
            f"<tr><td>{escape(r['key'])}</td><td>{escape(str(r['value']))}</td><td>{escape(str(r.get('octt') or '—'))}</td>"
            f"<td>{'yes' if r.get('agrees') else ('no' if r.get('agrees') is False else 'OCTT takes none')}</td></tr>"
            for r in case.readings)
        parts.append('<h3>Readings of open points</h3><table class="small"><thead><tr><th>Open point</th>'
                     "<th>Reading the verdict rests on</th><th>OCTT's reading</th><th>Same?</th></tr></thead>"
                     f"<tbody>{items}</tbody></table>")
    if case.frames:
        rows = "".join(
            f"<tr><td>{i}</td><td>+{float(f.get('t', 0)):.3f}</td><td>{_direction(f)}</td>"
            f"<td><code>{escape(str(f.get('text', '')))}</code>"
            + (f" <em>[{escape(str(f.get('note')))}]</em>" if f.get("note") else "") + "</td></tr>"
            for i, f in enumerate(case.frames))
        parts.append(f'<details class="frames"><summary>All {len(case.frames)} frames and events</summary>'
                     '<table class="frames"><colgroup><col class="c-i"><col class="c-t"><col class="c-d"><col class="c-f">'
                     f"</colgroup><thead><tr><th>#</th><th>t (s)</th><th>direction</th><th>frame</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table></details>")
    dev = f"test {case.nodeid}" + (f", {case.phase} phase" if case.phase else "")
    parts.append(f'<details class="dev noprint"><summary>For developers</summary><p class="small mono">{escape(dev)}</p>'
                 + (f"<pre>{escape(case.traceback)}</pre>" if case.traceback else "") + "</details>")
    parts.append("</section>")
    return "".join(parts)


def _direction(frame: Mapping[str, Any]) -> str:
    return {"sent": "harness &rarr; SUT", "received": "SUT &rarr; harness", "event": "event"}.get(
        str(frame.get("direction")), escape(str(frame.get("direction"))))
