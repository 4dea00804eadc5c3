"""The compliance report as one self-contained HTML page: pure functions of a :class:`RunRecord`.

Layout (each part for a reader at a test lab):

* **cover** - harness and OCPP version, each SUT's identity, role, the run's start and end,
  what it ran against, the evidence file's sha256, the configuration used (redacted) with
  its sha256 and the feature profiles it claims;
* **profile matrix** - feature profile x SUT role: passed / failed / error / skipped / not
  run (catalog cases this run did not run);
* **summary** - every case with both verdicts, the failed step or the skip reason, linked;
* **warnings** - every warning of every case (SHOULDs, connection warnings, readings);
* **one section per case** - :func:`harness.report.html.render_case`.

No JavaScript: the filters are checkboxes and CSS ``:has()``; closed ``<details>`` stay out
of print; ``@media print`` starts each case on a new page and wraps every table cell.
"""

from __future__ import annotations

from html import escape

from .catalog import MARKER_PROFILES, PROFILE_MARKERS, Catalog
from .html import OWN, ROLE_NAMES, _badge, render_case
from .model import CaseRecord, RunRecord, SutRecord
from .svg import SVG_CSS

__all__ = ["render_report", "profile_matrix", "CSS"]

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
