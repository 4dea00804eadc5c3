"""The compliance report as one self-contained HTML page: pure functions of a :class:`RunRecord`.

Layout (each part for a reader at a test lab):

* **cover** - harness and OCPP version, each SUT's identity, role, the run's start and end,
  what it ran against, the evidence file's sha256, the configuration used (redacted) with
  its sha256 and the feature profiles it claims;
* **profile matrix** - feature profile x SUT role: passed / failed / error / skipped / not
  run (catalog cases this run did not run);
* **summary** - every case with both verdicts, the failed step or the skip reason, linked;
* **warnings** - every warning of every case (SHOULDs, connection warnings, readings);
* **one section per case** - verdicts first, then the OCTT steps as a table (catalog text,
  expected, received with the difference marked, time, verdict), the message sequence
  diagram (inline SVG), warnings and readings, the frame log (collapsed), and a collapsed
  "for developers" part with the Python traceback.

No JavaScript: the filters are checkboxes and CSS ``:has()``; closed ``<details>`` stay out
of print; ``@media print`` starts each case on a new page and wraps every table cell.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any, Iterable, Mapping

from ..steps import KINDS, Message, StepRecord
from .catalog import MARKER_PROFILES, PROFILE_MARKERS, Catalog, CatalogCase, CatalogStep
from .model import CaseRecord, Row, RunRecord, SutRecord, step_rows
from .svg import SVG_CSS, sequence_diagrams

__all__ = ["render_report", "render_case", "payload_html", "profile_matrix", "CSS"]

ROLE_NAMES = {"cp": "charge point", "cs": "central system"}
OWN = "harness's own cases (beyond OCTT)"

CSS = """
:root{--ok:#1e7b34;--bad:#b00020;--warn:#a15c00;--skip:#666;--line:#d6dae0;--soft:#f5f7fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1b1f24;margin:0 auto;max-width:1280px;padding:16px 24px}
h1{font-size:26px;margin:8px 0 2px}h2{font-size:19px;margin:0 0 6px}h3{font-size:15px;margin:16px 0 6px}
code,pre,.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);border:1px solid var(--line);padding:6px 8px;margin:4px 0}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}
td code{overflow-wrap:anywhere}
th{background:#eef1f5;font-weight:600}
table.kv{table-layout:fixed}.kv th{width:220px;background:var(--soft)}.kv td{overflow-wrap:anywhere}
pre.config{column-count:3;column-gap:18px;font-size:11px}
.subtitle{color:#445;margin:0 0 12px;font-size:16px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:700;font-size:12px;color:#fff;white-space:nowrap}
.b-passed{background:var(--ok)}.b-failed{background:var(--bad)}.b-error{background:#6a1b9a}.b-skipped,.b-not-run{background:var(--skip)}
.b-concern,.b-passed-with-warnings{background:var(--warn)}.b-not-reached{background:#999}.b-aborted{background:#6a1b9a}
.b-done{background:var(--ok)}.b-pending,.b-cancelled{background:#999}.b-{background:#bbb}
.case{border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:18px 0}
.case.v-failed{border-left:6px solid var(--bad)}.case.v-error{border-left:6px solid #6a1b9a}
.case.v-passed{border-left:6px solid var(--ok)}.case.v-skipped{border-left:6px solid var(--skip)}
.case{content-visibility:auto;contain-intrinsic-size:auto 1600px}
.meta{color:#556;font-size:12.5px;margin:2px 0 8px}
.axes{display:flex;gap:24px;flex-wrap:wrap;margin:6px 0}.axes div{min-width:280px;flex:1}
.why{color:#445;font-size:12.5px}
.failure{background:#fff1f2;border:1px solid #f3b5bc;border-radius:4px;padding:8px 10px;margin:8px 0}
.skip{background:#f4f4f4;border:1px solid var(--line);border-radius:4px;padding:8px 10px;margin:8px 0}
table.steps{table-layout:fixed;font-size:12.5px}
table.steps col.c-n{width:10%}table.steps col.c-cat{width:23%}table.steps col.c-exp{width:22%}
table.steps col.c-rec{width:28%}table.steps col.c-t{width:7%}table.steps col.c-v{width:10%}
tr.failing>td{background:#fff1f2}tr.own>td{color:#667;background:#fafafa}tr.unchecked>td{color:#778}
tr.detail>td{background:#fff8f8}
table.steps .badge{font-size:11px;padding:1px 6px;white-space:normal;text-align:center}
.lbl{display:block;color:#667;font-size:11px}
.cat-note{font-style:italic;color:#555}.cat-check{color:#1f3f7a}
.msg{margin:0 0 3px}.act{font-weight:600}.sent{color:#1f5fa8}.recv{color:#2a7a2a}
mark.bad{background:#ffd0d5;color:#8a0010;font-weight:700;padding:0 2px;border-radius:2px}
.okv{background:#ddf3e2;border-radius:2px;padding:0 1px}
.k{color:#555}.matcher{font-style:italic;color:#6a4a9a}
.diagram{overflow-x:auto}svg.msd{max-width:100%;height:auto;display:block;margin:4px 0;border:1px solid var(--line);background:#fff}
.filters{position:sticky;top:0;background:#fffffff0;border-bottom:1px solid var(--line);padding:6px 0;z-index:2;margin:12px 0}
.filters label{margin-right:14px;white-space:nowrap}
details>summary{cursor:pointer;color:#345}
details.dev{margin-top:10px}details.dev pre{max-height:480px;overflow:auto}
table.frames{font-size:11.5px;table-layout:fixed}table.frames col.c-i{width:4%}table.frames col.c-t{width:8%}
table.frames col.c-d{width:11%}table.frames col.c-f{width:77%}
.muted{color:#778}.small{font-size:12px}
.before{background:var(--soft);border:1px solid var(--line);padding:4px 8px;margin:0 0 6px}
table.matrix{table-layout:fixed}table.matrix th,table.matrix td{overflow-wrap:normal}
table.matrix td:nth-child(n+4){text-align:right}table.summary td:first-child{white-space:nowrap}
body:has(#f-passed:not(:checked)) .v-passed,body:has(#f-failed:not(:checked)) .v-failed,
body:has(#f-error:not(:checked)) .v-error,body:has(#f-skipped:not(:checked)) .v-skipped,
body:has(#f-cp:not(:checked)) .r-cp,body:has(#f-cs:not(:checked)) .r-cs,
body:has(#f-concern:checked) .plain{display:none}
@page{size:A4;margin:12mm 10mm}
@media print{
 body{max-width:none;padding:0;font-size:10pt}
 .filters,.noprint{display:none}
 .case{break-before:page;border:none;border-left:none!important;padding:0;margin:0;content-visibility:visible}
 #matrix{break-before:page}
 tr,svg.msd,.failure,.axes{break-inside:avoid}
 h2,h3{break-after:avoid}
 .badge,table.steps .badge{font-size:7pt;padding:0 3px;white-space:normal;text-align:center}
 table.steps,table.frames{font-size:8pt}
 pre.config{column-count:3;font-size:7pt}
 thead{display:table-header-group}
 a{color:inherit;text-decoration:none}
 .diagram{overflow:visible}svg.msd{width:100%;height:auto}
 pre{white-space:pre-wrap}
}
"""


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


# -- the run -----------------------------------------------------------------------------------------------
def _profile_key(case: CaseRecord, catalog: Catalog | None) -> str:
    spec = catalog.get(case.tc_id) if catalog else None
    if spec is not None:
        return spec.profile
    for marker in case.profiles:
        if marker in MARKER_PROFILES:
            return MARKER_PROFILES[marker]
    return OWN


def profile_matrix(run: RunRecord, catalog: Catalog | None) -> list[tuple[str, str, dict[str, int]]]:
    """(profile, SUT role, counts) rows; counts has passed, failed, error, skipped, not run and catalog."""
    cells: dict[tuple[str, str], dict[str, int]] = {}
    ran: set[str] = set()
    for case in run.cases:
        ran.add(case.tc_id)
        cell = cells.setdefault((_profile_key(case, catalog), case.role), {})
        cell[case.outcome] = cell.get(case.outcome, 0) + 1
    roles = sorted({s.role for s in run.suts} | {c.role for c in run.cases})
    if catalog is not None:
        for profile in PROFILE_MARKERS:
            for role in roles:
                ids = catalog.ids(profile, "CP" if role == "cp" else "CS")
                if not ids:
                    continue
                cell = cells.setdefault((profile, role), {})
                cell["catalog"] = len(ids)
                cell["not run"] = len([i for i in ids if i not in ran])
    order = list(PROFILE_MARKERS) + [OWN]
    return [(p, r, cells[(p, r)]) for p, r in sorted(cells, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1]))]


def _matrix_html(run: RunRecord, catalog: Catalog | None) -> str:
    rows = []
    for profile, role, c in profile_matrix(run, catalog):
        claimed = any(s.role == role and PROFILE_MARKERS.get(profile, "") in s.features for s in run.suts)
        cells = "".join(f'<td class="n-{k.replace(" ", "-")}">{c.get(k, 0) or ""}</td>'
                        for k in ("passed", "failed", "error", "skipped", "not run"))
        rows.append(f"<tr><td>{escape(profile)}</td><td>{ROLE_NAMES.get(role, role)}</td>"
                    f"<td>{'yes' if claimed else ('—' if profile == OWN else 'no')}</td>{cells}"
                    f"<td>{c.get('catalog', '') or ''}</td></tr>")
    return ('<section id="matrix"><h2>Feature profiles x verdicts</h2><table class="matrix"><colgroup>'
            '<col style="width:25%"><col style="width:14%"><col style="width:10%">' + '<col style="width:8.5%">' * 6
            + "</colgroup><thead><tr><th>Feature profile</th><th>SUT role</th><th>Claimed in config</th><th>Passed</th><th>Failed</th>"
            "<th>Error</th><th>Skipped</th><th>Not run</th><th>Cases in catalog</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            '<p class="small muted">Not run: catalog cases of the profile this run did not run (not selected, or not yet '
            "implemented by the harness). Error: the case could not run (setup or configuration), no verdict on the SUT.</p>"
            "</section>")


def _sut_html(sut: SutRecord) -> str:
    ident = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in sut.identity.items())
    import yaml

    config = yaml.safe_dump(sut.config, sort_keys=False, allow_unicode=True, width=110)
    what = ("Charge point under test (identity from its BootNotification)" if sut.role == "cp"
            else "Central system under test")
    return (f'<div class="sut"><h3>{escape(what)}: {escape(sut.name)}</h3><table class="kv">{ident}'
            f"<tr><th>Feature profiles claimed</th><td>{escape(', '.join(MARKER_PROFILES.get(f, f) for f in sut.features))}</td></tr>"
            f"<tr><th>Security profile</th><td>{sut.security_profile}</td></tr>"
            f"<tr><th>Configuration</th><td>{escape(sut.config_source or '—')}</td></tr>"
            f'<tr><th>Configuration sha256</th><td class="mono">{escape(sut.config_sha256)}</td></tr></table>'
            '<details open><summary>Configuration used (secrets shown as ***)</summary><pre class="config">'
            f"{escape(config)}</pre></details></div>")


def _cover(run: RunRecord, catalog: Catalog | None) -> str:
    counts = {k: sum(1 for c in run.cases if c.outcome == k) for k in ("passed", "failed", "error", "skipped")}
    names = " and ".join(escape(s.name or ROLE_NAMES.get(s.role, s.role)) for s in run.suts) or "no SUT"
    roles = ", ".join(ROLE_NAMES.get(s.role, s.role) for s in run.suts)
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    return (f'<header class="cover"><h1>OCPP 1.6-J compliance report</h1><p class="subtitle">{names} — '
            f"{len(run.cases)} test cases: {escape(summary)}</p><table class=\"kv\">"
            f"<tr><th>Harness</th><td>ocpp16-harness {escape(run.harness_version)}</td></tr>"
            f"<tr><th>Protocol</th><td>OCPP {escape(run.ocpp_version)} (JSON over WebSocket), test cases of the OCTT "
            "test case document</td></tr>"
            f"<tr><th>SUT role</th><td>{escape(roles)}</td></tr>"
            f"<tr><th>Run</th><td>{escape(run.started)} — {escape(run.finished)}</td></tr>"
            f"<tr><th>Run against</th><td>{escape(run.description)}</td></tr>"
            f'<tr><th>Evidence (evidence.json) sha256</th><td class="mono">{escape(run.evidence_sha256 or "—")}</td></tr>'
            f"<tr><th>Test case catalog</th><td class=\"small\">{escape(run.catalog_source)}</td></tr></table>"
            + "".join(_sut_html(s) for s in run.suts) + "</header>")


def _summary(run: RunRecord) -> str:
    rows = []
    for c in run.cases:
        note = (f"step {c.failure.step}: {c.failure.problem}" if c.failure and c.failure.step
                else c.failure.problem if c.failure else c.skip_reason if c.outcome == "skipped" else "")
        if len(note) > 220:
            note = note[:219] + "…"
        plain = "" if (c.verdicts.differ or c.warnings or c.readings) else " plain"
        rows.append(f'<tr class="v-{c.outcome} r-{c.role}{plain}"><td><a href="#{escape(c.anchor)}">{escape(c.tc_id)}</a></td>'
                    f"<td>{escape(c.title)}</td><td>{ROLE_NAMES.get(c.role, c.role)}</td><td>{_badge(c.verdicts.spec)}</td>"
                    f"<td>{_badge(c.verdicts.octt)}</td><td class=\"small\">{escape(note)}</td></tr>")
    return ('<section id="summary"><h2>Test cases</h2><table class="summary"><thead><tr><th style="width:13%">Id</th>'
            '<th style="width:23%">Title</th><th style="width:10%">SUT</th><th style="width:11%">Spec conformance</th>'
            '<th style="width:11%">OCTT compatibility</th><th>Failed step / reason</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></section>")


def _warnings_summary(run: RunRecord) -> str:
    rows = [f'<tr class="v-{c.outcome} r-{c.role}"><td><a href="#{escape(c.anchor)}">{escape(c.tc_id)}</a></td>'
            f"<td>{escape(w.get('step', ''))}</td><td>{escape(w.get('text', ''))}</td><td class=\"small\">"
            f"{escape(w.get('reading', ''))}</td></tr>" for c in run.cases for w in c.warnings]
    readings = [c for c in run.cases if c.readings]
    text = (f"<p>{len(rows)} warning{'s' if len(rows) != 1 else ''} in "
            f"{len({c.tc_id for c in run.cases if c.warnings})} cases; {len(readings)} cases rest on a reading of an "
            "open point of the spec (shown in each case). A warning is a check neither the catalog step nor the spec "
            "requires (a SHOULD, a reading): a failure only with <code>strict: true</code>.</p>")
    table = ('<table class="small"><thead><tr><th style="width:11%">Case</th><th style="width:12%">Step</th>'
             f"<th>Warning</th><th style=\"width:34%\">Reading / rule</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
             if rows else "")
    return f'<section id="warnings"><h2>Warnings</h2>{text}{table}</section>'


def _filters(run: RunRecord) -> str:
    boxes = "".join(f'<label><input type="checkbox" id="f-{k}" checked> {k} ({n})</label>'
                    for k in ("failed", "error", "passed", "skipped")
                    if (n := sum(1 for c in run.cases if c.outcome == k)) or k in ("failed", "passed"))
    roles = "".join(f'<label><input type="checkbox" id="f-{r}" checked> {ROLE_NAMES[r]} under test</label>'
                    for r in ("cp", "cs") if any(c.role == r for c in run.cases))
    return (f'<nav class="filters noprint">Show: {boxes} {roles} <label><input type="checkbox" id="f-concern"> only '
            "cases with warnings, readings or differing verdicts</label></nav>")


def render_report(run: RunRecord, catalog: Catalog | None) -> str:
    """The whole report page."""
    sut_names = {s.role: s.name for s in run.suts}
    cases = "".join(render_case(c, catalog.get(c.tc_id) if catalog else None, sut_names.get(c.role, ""))
                    for c in run.cases)
    title = "OCPP 1.6-J compliance report — " + ", ".join(s.name or s.role for s in run.suts)
    footer = (f'<footer class="small muted"><p>Step texts: {escape(run.catalog_source)}. The catalog text is quoted verbatim '
              "(CC BY-ND 4.0).</p></footer>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{CSS}{SVG_CSS}</style></head><body>{_cover(run, catalog)}{_matrix_html(run, catalog)}{_filters(run)}"
            f"{_summary(run)}{_warnings_summary(run)}<main>{cases}</main>{footer}</body></html>")
