"""Building the report from a pytest run; the plugin's report hooks call these and nothing else.

* :func:`record_phase` (``pytest_runtest_makereport``): keeps each case's outcome over its
  phases; turns a failure's ``longrepr`` into :class:`harness.report.terminal.CaseFailure`;
  after the teardown phase builds the :class:`CaseRecord` from the role's trace, steps,
  warnings and manual steps, and attaches it to the teardown report (``report.ocpp_case``,
  plain JSON, so it also crosses from pytest-xdist workers), with the official id and title
  as JUnit properties.
* :func:`collect_case` (``pytest_runtest_logreport``): gathers those records.
* :func:`write_reports` (``pytest_sessionfinish``): writes evidence.json, then report.html
  (which shows the evidence's sha256).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from .. import __version__
from ..actuators import VOCABULARY
from ..errors import ConfigurationError, StepFailure
from .catalog import load_catalog
from .evidence import evidence_text
from .html import render_case
from .model import CaseRecord, Failure, RunRecord, SutRecord, frames_sha256, judge, readings_of, warnings_of
from .page import render_report
from .suts import known_secrets, scrub, sut_record
from .svg import SVG_CSS
from .terminal import LAST_FRAMES, CaseFailure, failure_lines

__all__ = ["record_phase", "collect_case", "write_reports", "begin_session", "report_path", "claim_report_path",
           "use_default_report_paths", "written_report"]

_progress_key = pytest.StashKey[dict[str, "_Progress"]]()
_cases_key = pytest.StashKey[list[dict[str, Any]]]()
_started_key = pytest.StashKey[str]()
_written_key = pytest.StashKey[Path]()


@dataclass
class _Progress:
    outcome: str = "passed"
    phase: str = ""
    skip_reason: str = ""
    failure: Failure | None = None
    traceback: str = ""
    duration: float = 0.0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _Collector:
    """Gathers the cases' records as their teardown reports arrive (also from pytest-xdist workers)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        collect_case(self.config, report)


def begin_session(config: pytest.Config) -> None:
    """Note the run's start and start collecting the cases' records."""
    config.stash[_started_key] = _now()
    if not config.pluginmanager.has_plugin("ocpp16-harness-report"):
        config.pluginmanager.register(_Collector(config), "ocpp16-harness-report")


# -- paths ---------------------------------------------------------------------------------------------------
def claim_report_path(config: pytest.Config) -> None:
    """Where the report goes: ``--ocpp-report``, else pytest-html's ``--html`` path (pytest-html's own developer
    view then moves beside it, as ``<name>.pytest-html.html``). Call before pytest-html configures itself."""
    html = getattr(config.option, "htmlpath", None)
    ours = getattr(config.option, "ocpp_report", None)
    if ours == "none":
        return
    if not ours and html:
        ours = html
    if not ours:
        return
    ours_path = (Path.cwd() / Path(ours).expanduser()).resolve()
    config.option.ocpp_report = str(ours_path)
    if html and (Path.cwd() / Path(html).expanduser()).resolve() == ours_path:
        config.option.htmlpath = str(ours_path.with_name(ours_path.stem + ".pytest-html.html"))


def use_default_report_paths(config: pytest.Config, directory: str = "reports") -> None:
    """A compliance run's defaults: the JUnit XML in ``directory`` (unless given), the report and evidence beside it."""
    root = Path(config.rootpath) / directory
    if getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(root / "junit.xml")
    if not getattr(config.option, "ocpp_report", None) and not getattr(config.option, "htmlpath", None):
        config.option.ocpp_report = str(Path(config.option.xmlpath).with_name("report.html"))
    claim_report_path(config)


def report_path(config: pytest.Config) -> Path | None:
    given = getattr(config.option, "ocpp_report", None)
    return Path(given) if given and given != "none" else None


def written_report(config: pytest.Config) -> Path | None:
    return config.stash.get(_written_key, None)


# -- per phase -----------------------------------------------------------------------------------------------
def _failure(excinfo: pytest.ExceptionInfo[BaseException] | None, report: pytest.TestReport) -> Failure:
    exc = excinfo.value if excinfo is not None else None
    if isinstance(exc, StepFailure):
        return Failure(exc.step, exc.problem, exc.detail, type(exc).__name__)
    if exc is not None:
        text = str(exc).strip() or type(exc).__name__
        head, _, rest = text.partition("\n")
        return Failure("", head, rest, type(exc).__name__)
    return Failure("", str(report.longreprtext).strip().splitlines()[-1] if report.longreprtext else "failed")


def _trace_of(role: Any, nodeid: str) -> Any:
    if role is None:
        return None
    for trace in (role.trace, role.last_trace):
        if trace.name == nodeid:
            return trace
    return None


def _actuations(role: Any, trace: Any) -> list[dict[str, Any]]:
    acts = getattr(getattr(role, "actuations", None), "started", None) or []
    out = []
    for a in acts:
        try:
            exc = a.failure()
            outcome = ("failed" if exc is not None else "done" if a.task.done() and not a.task.cancelled()
                       else "cancelled" if a.task.done() else "pending")
        except Exception:  # pragma: no cover - a task in an odd state is still evidence of the step
            exc, outcome = None, "unknown"
        params = {k: v for k, v in dict(a.params).items()}
        template = VOCABULARY.get(a.action, a.action)
        try:
            text = template.format(**params)
        except (KeyError, IndexError, ValueError):
            text = template
        out.append({"action": a.action, "step": a.step, "params": params, "text": text, "outcome": outcome,
                    "t": None if a.started is None or trace is None else round(a.started - trace.t0, 6),
                    "problem": getattr(exc, "problem", None) or (str(exc) if exc is not None else "")})
    return out


def _secrets(provider: Any) -> set[str]:
    configs = list(getattr(provider, "configs", {}).values())
    if getattr(provider, "user_config", None) is not None:
        configs.append(provider.user_config)
    # the run's own security material too: a basic-auth password generated for the simulators is in no config
    run_secrets = [(m.password, m.key_password) for m in getattr(provider, "security", {}).values()]
    return known_secrets([*configs, *run_secrets])


def record_phase(item: pytest.Item, call: pytest.CallInfo[Any], report: pytest.TestReport, *, tc: tuple[str, str],
                 sut_role: str, profiles: list[str], role: Any, provider: Any) -> None:
    """Fold one phase's report into the case; after the teardown, attach the finished record to the report."""
    progress = item.config.stash.setdefault(_progress_key, {})
    p = progress.setdefault(item.nodeid, _Progress())
    p.duration += report.duration
    if report.skipped and p.outcome == "passed":
        p.outcome, p.phase = "skipped", report.when
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        p.skip_reason = reason.removeprefix("Skipped: ")
    if report.failed:
        failure = _failure(call.excinfo, report)
        if p.outcome != "failed":
            p.outcome = "failed" if report.when == "call" else "error"
            p.phase, p.failure = report.when, failure
        dev = ""
        if call.excinfo is not None:  # rendered once: a traceback through the harness's layers is costly to render
            _from_the_case_down(call.excinfo, item)
            dev = str(call.excinfo.getrepr(style="short", funcargs=False, showlocals=False))
            p.traceback += (f"\n-- {report.when} --\n" if p.traceback else "") + dev
        _readable_longrepr(item, call, report, tc, sut_role, failure, role, provider, dev)
    if report.when != "teardown":
        return
    case = _build(item, tc, sut_role, profiles, role, progress.pop(item.nodeid))
    secrets = _secrets(provider)
    report.ocpp_case = json.loads(scrub(json.dumps(case.to_json()), secrets))  # type: ignore[attr-defined]
    props = [("ocpp_tc_id", case.tc_id), ("ocpp_tc_title", case.title), ("ocpp_sut_role", case.role),
             ("ocpp_profiles", ",".join(case.profiles)), ("ocpp_verdict", case.outcome),
             ("ocpp_verdict_spec", case.verdicts.spec), ("ocpp_verdict_octt", case.verdicts.octt),
             ("ocpp_frames_sha256", case.frames_sha256)]
    if case.failure is not None and case.failure.step:
        props.append(("ocpp_failed_step", case.failure.step))
    report.user_properties.extend((k, scrub(str(v), secrets)) for k, v in props)
    if getattr(item.config.option, "htmlpath", None) and item.config.pluginmanager.hasplugin("html"):
        try:
            from pytest_html import extras
        except ImportError:  # pragma: no cover - pytest-html is a dependency
            return
        section = scrub(f"<style>{SVG_CSS}</style>" + render_case(case, load_catalog().get(case.tc_id)), secrets)
        report.extras = [*getattr(report, "extras", []), extras.html(section)]  # type: ignore[attr-defined]


def _from_the_case_down(excinfo: pytest.ExceptionInfo[BaseException], item: pytest.Item) -> None:
    """Cut the traceback to the case's own frame and below: pytest's and pluggy's frames above it, and the harness's
    loop thread that ran it, say nothing to a developer and cost a source parse each to render."""
    function = getattr(item, "obj", None)
    code = getattr(function, "__code__", None)
    if code is None:
        return
    cut = excinfo.traceback.cut(path=code.co_filename, firstlineno=code.co_firstlineno - 1)  # pytest counts from 0
    if len(cut) < len(excinfo.traceback):
        excinfo.traceback = cut


def _build(item: pytest.Item, tc: tuple[str, str], sut_role: str, profiles: list[str], role: Any,
           p: _Progress) -> CaseRecord:
    trace = _trace_of(role, item.nodeid)
    frames = trace.as_json() if trace is not None else []
    steps = list(trace.steps) if trace is not None else []
    warnings = warnings_of(getattr(role, "warnings", []) if trace is not None else [], frames)
    readings = readings_of(frames, p.failure)
    spec = load_catalog().get(tc[0])
    title = tc[1] or (spec.title if spec else "")
    started = frames[0]["wall"] if frames else _now()
    case = CaseRecord(nodeid=item.nodeid, tc_id=tc[0], title=title, role=sut_role, profiles=profiles,
                      outcome=p.outcome, phase=p.phase, skip_reason=p.skip_reason, failure=p.failure, steps=steps,
                      frames=frames, actuations=_actuations(role, trace) if trace is not None else [],
                      warnings=warnings, readings=readings, started=started, duration=round(p.duration, 3),
                      frames_sha256=frames_sha256(frames), traceback=p.traceback)
    case.verdicts = judge(case.outcome, case.failure, warnings, readings, case.skip_reason, case.phase)
    return case


def _readable_longrepr(item: pytest.Item, call: pytest.CallInfo[Any], report: pytest.TestReport, tc: tuple[str, str],
                       sut_role: str, failure: Failure, role: Any, provider: Any, dev: str) -> None:
    """Replace pytest's traceback with the case's failure as its report section tells it (the E lines unchanged)."""
    if call.excinfo is None:
        return
    trace = _trace_of(role, item.nodeid)
    steps = list(trace.steps) if trace is not None else []
    actuations = _actuations(role, trace) if trace is not None else []
    failed = [s for s in steps if s.verdict in ("failed", "error") and failure.step in (s.label, s.failed_step)]
    manual = any(a["outcome"] == "failed" and a["step"] == failure.step for a in actuations)
    record = failed[-1] if failed and not manual else None  # a failed manual step is its own story
    frames = [e.render(trace.t0) for e in trace.entries[-LAST_FRAMES:]] if trace is not None else []
    acts = [f"{a['action']} {a['params']} at +{a['t']:.2f}s: {a['outcome']}" + (f" ({a['problem']})" if a["problem"] else "")
            if a["t"] is not None else f"{a['action']} {a['params']}: {a['outcome']}" for a in actuations]
    spec = load_catalog().get(tc[0])
    message = str(call.excinfo.value) or type(call.excinfo.value).__name__
    if not isinstance(call.excinfo.value, (AssertionError, StepFailure)):
        message = f"{type(call.excinfo.value).__name__}: {message}"
    lines = failure_lines(tc_id=tc[0], title=tc[1] or (spec.title if spec else ""), role=sut_role, failure=failure,
                          message=message, phase=report.when if report.when != "call" else "", record=record,
                          spec=spec, frames=frames, actuations=acts)
    secrets = _secrets(provider)
    lines = [(scrub(text, secrets), markup) for text, markup in lines]
    style = item.config.getoption("tbstyle", "auto")
    shown = str(call.excinfo.getrepr(style=style, funcargs=False)) if style in ("long", "short", "native") else ""
    path, lineno = item.location[0], (item.location[1] or 0) + 1
    report.longrepr = CaseFailure(lines, scrub(dev, secrets), (path, lineno, scrub(message.splitlines()[0], secrets)),
                                  scrub(shown, secrets))


# -- per session ---------------------------------------------------------------------------------------------
def collect_case(config: pytest.Config, report: pytest.TestReport) -> None:
    case = getattr(report, "ocpp_case", None)
    if case is not None:
        config.stash.setdefault(_cases_key, []).append(case)


def _run_record(config: pytest.Config, provider: Any) -> RunRecord:
    cases = [CaseRecord.from_json(c) for c in config.stash.get(_cases_key, [])]
    roles = sorted({c.role for c in cases} or set(getattr(provider, "roles", ())))
    suts = []
    for role in roles:
        if provider.user_config is not None:
            source = str(config.getoption("ocpp_config"))
        else:
            from ..sut import SIM_CONFIG

            source = f"{provider.sim_dir / SIM_CONFIG[role]} (reference simulator)"
        try:
            cfg = provider.configs.get(role) or provider.declared_config(role)
        except ConfigurationError as exc:  # the cases say so too (as errors); the report must still be written
            suts.append(SutRecord(role=role, name=f"(configuration not readable: {exc})", config_source=source))
            continue
        identity = provider.sut_identity if role == "cp" else None
        suts.append(sut_record(role, cfg, identity, source))
    try:
        description = provider.describe()
    except ConfigurationError as exc:
        description = f"the SUT configuration cannot be read: {exc}"
    return RunRecord(harness_version=__version__, started=config.stash.get(_started_key, ""), finished=_now(),
                     description=description, suts=suts, cases=cases, catalog_source=load_catalog().source)


def write_reports(session: pytest.Session, provider: Any) -> Path | None:
    """Write evidence.json and the report next to each other (nothing when there is no path or no case)."""
    config = session.config
    path = report_path(config)
    if path is None or hasattr(config, "workerinput") or not config.stash.get(_cases_key, None):
        return None
    run = _run_record(config, provider)
    secrets = _secrets(provider)
    evidence, digest = evidence_text(run, secrets)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_name("evidence.json").write_text(evidence, encoding="utf-8")
    run.evidence_sha256 = digest
    path.write_text(scrub(render_report(run, load_catalog()), secrets), encoding="utf-8")
    config.stash[_written_key] = path
    return path
