"""Report additions: each test's frame trace (text and HTML), the SUT identity, the evidence file.

The HTML report (pytest-html, self-contained) shows under every test the frames in
order with time, direction and connection, and the summary a feature profile x SUT role
matrix of verdicts; the JUnit XML carries the same
trace as a text section; ``evidence.json`` beside the report holds every frame of
every test and the sha256 of its own content, for a certification body.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path
from typing import Any

import pytest

from . import __version__
from .trace import Trace, redact

__all__ = ["attach_trace", "html_summary", "write_evidence", "use_default_report_paths"]

_traces_key = pytest.StashKey[dict[str, dict[str, Any]]]()


def _trace_html(trace: Trace) -> str:
    rows = []
    for e in trace.entries:
        arrow = {"sent": "harness &rarr; SUT", "received": "SUT &rarr; harness", "event": "&mdash;"}[e.direction]
        cls = {"sent": "ocpp-sent", "received": "ocpp-received", "event": "ocpp-event"}[e.direction]
        note = f"<br><em>{html.escape(e.note)}</em>" if e.note else ""
        rows.append(
            f'<tr class="{cls}"><td>{e.monotonic - trace.t0:.3f}s</td><td>{html.escape(e.wall.isoformat(timespec="milliseconds"))}</td>'
            f"<td>{arrow}</td><td>{html.escape(e.connection)}</td><td><code>{html.escape(redact(e.text))}</code>{note}</td></tr>"
        )
    return (
        '<details open><summary>OCPP frames</summary><style>.ocpp-trace td{padding:1px 6px;vertical-align:top;font-size:12px}'
        ".ocpp-sent{background:#eef5ff}.ocpp-received{background:#f3fff0}.ocpp-event{color:#777}</style>"
        '<table class="ocpp-trace"><tr><th>t</th><th>wall clock (UTC)</th><th>direction</th><th>connection</th><th>frame</th></tr>'
        + "".join(rows) + "</table></details>"
    )


def attach_trace(item: pytest.Item, report: pytest.TestReport, role: Any) -> None:
    """Put the test's trace into the report: a text section and a pytest-html extra."""
    trace: Trace = role.last_trace if role.last_trace.name == item.nodeid else role.trace
    text = trace.render()
    report.sections.append(("OCPP frames", text))
    report.user_properties.append(("ocpp_frames", text))  # JUnit XML carries the trace as a property
    try:
        from pytest_html import extras
    except ImportError:  # pragma: no cover - pytest-html is a dependency
        pass
    else:
        report.extras = [*getattr(report, "extras", []), extras.html(_trace_html(trace))]
    store = item.config.stash.setdefault(_traces_key, {})
    store[item.nodeid] = {"outcome": report.outcome, "frames": trace.as_json()}


_verdicts_key = pytest.StashKey[dict[str, dict[str, Any]]]()
_ROLE_NAMES = {"cp": "charge point", "cs": "central system"}


def record_verdict(config: pytest.Config, nodeid: str, tc_id: str, role: str, profiles: list[str],
                   report: pytest.TestReport) -> None:
    """Keep each test case's verdict over its phases (a failure in any phase wins)."""
    verdicts = config.stash.setdefault(_verdicts_key, {})
    entry = verdicts.setdefault(nodeid, {"tc": tc_id, "role": role, "profiles": profiles, "outcome": "passed"})
    if report.failed:
        entry["outcome"] = "failed"
    elif report.skipped and entry["outcome"] != "failed":
        entry["outcome"] = "skipped"


def profile_matrix(config: pytest.Config) -> str:
    """Feature profile x SUT role: how many cases passed, failed, were skipped."""
    verdicts = config.stash.get(_verdicts_key, {})
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for v in verdicts.values():
        for profile in v["profiles"] or ["(none)"]:
            cell = counts.setdefault((profile, v["role"]), {"passed": 0, "failed": 0, "skipped": 0})
            cell[v["outcome"]] += 1
    if not counts:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(profile)}</td><td>{_ROLE_NAMES.get(role, role)}</td>"
        f"<td>{c['passed']}</td><td>{c['failed']}</td><td>{c['skipped']}</td></tr>"
        for (profile, role), c in sorted(counts.items()))
    return ('<table class="ocpp-matrix"><tr><th>feature profile</th><th>system under test</th><th>passed</th>'
            f"<th>failed</th><th>skipped</th></tr>{rows}</table>")


def html_summary(provider: Any, config: pytest.Config | None = None) -> list[str]:
    ident = provider.sut_identity
    lines = [f"<p>Harness: ocpp16-harness {html.escape(__version__)}, OCPP 1.6-J. {html.escape(provider.describe())}.</p>"]
    if ident:
        fields = ("chargePointVendor", "chargePointModel", "firmwareVersion", "chargePointSerialNumber")
        lines.append("<p>Charge point under test (from BootNotification): " + ", ".join(
            f"{f} <b>{html.escape(str(ident[f]))}</b>" for f in fields if f in ident) + "</p>")
    cs = provider.configs.get("cs")
    if cs is not None:
        lines.append(f"<p>Central system under test: <b>{html.escape(cs.name or cs.endpoint)}</b></p>")
    if config is not None and (matrix := profile_matrix(config)):
        lines.append(matrix)
    return lines


def write_evidence(session: pytest.Session) -> None:
    """Write evidence.json next to the HTML report (when there is one)."""
    traces = session.config.stash.get(_traces_key, None)
    html_path = getattr(session.config.option, "htmlpath", None)
    if not traces or not html_path or not session.config.pluginmanager.hasplugin("html"):
        return
    verdicts = {v["tc"]: v["outcome"] for v in session.config.stash.get(_verdicts_key, {}).values()}
    body = {"harness_version": __version__, "ocpp_version": "1.6-J", "verdicts": verdicts, "tests": traces}
    text = json.dumps(body, indent=1, sort_keys=True)
    path = Path(html_path).with_name("evidence.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sha256": hashlib.sha256(text.encode()).hexdigest(), **body}, indent=1, sort_keys=True))


def use_default_report_paths(config: pytest.Config, directory: str = "reports") -> None:
    """Default a compliance run's HTML (self-contained) and JUnit outputs into ``directory``."""
    root = Path(config.rootpath) / directory
    if getattr(config.option, "htmlpath", None) is None:
        config.option.htmlpath = str(root / "report.html")
        config.option.self_contained_html = True
    if getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(root / "junit.xml")
