"""What the compliance report of a full suite costs: its size, the time to render it, the time Chromium takes to open it.

Run:
    python -m pytest benchmarks/bench_report.py --benchmark-only

The run is synthetic but shaped like a real one: every case of the OCTT catalog (179), each
with the harness's setup and teardown frames, two frames per catalog step and background
heartbeats (10 to 60 frames), one case in ten failing, one in twenty skipped, warnings and
smart charging readings. Every figure is read against a baseline measured in the same run
(pytest-benchmark's parenthesised columns, one group per question):

* ``render``: :func:`harness.report.page.render_report` against ``json.dumps`` of the same
  run record (the evidence file: the least work that writes down the same facts);
* ``chromium``: Chromium opening the report (request to load event) against Chromium
  opening the evidence JSON inside a bare ``<pre>`` (the same facts, no layout to speak of)
  and an empty page (the browser's own cost);
* sizes (bytes of the report, of the evidence, and their ratio) are in ``extra_info``.

No timed assertions: results depend on the machine.
"""

from __future__ import annotations

import html
import json
import random
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.report.browser import Chromium, find_chromium
from harness.report.catalog import PROFILE_MARKERS, load_catalog
from harness.report.evidence import evidence_text
from harness.report.model import (
    CaseRecord,
    Failure,
    RunRecord,
    SutRecord,
    frames_sha256,
    judge,
)
from harness.report.page import render_report
from harness.steps import Message, StepRecord

ROUNDS = 3


def _frame(t: float, direction: str, frame: list[Any] | str) -> dict[str, Any]:
    return {"direction": direction, "text": frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":")),
            "wall": "2026-01-01T00:00:00+00:00", "t": round(t, 3), "connection": "SIM_CP_1#1", "note": ""}


def _case(spec: Any, rnd: random.Random) -> CaseRecord:
    role = "cp" if spec.sut == "CP" else "cs"
    outcome = "failed" if rnd.random() < 0.1 else "skipped" if rnd.random() < 0.05 else "passed"
    frames: list[dict[str, Any]] = []
    steps: list[StepRecord] = []
    t = 0.0
    for n, action in enumerate(("GetConfiguration", "ClearCache", "ClearChargingProfile", "GetLocalListVersion")):
        frames += [_frame(t, "sent", [2, str(n), action, {}]), _frame(t + 0.003, "received", [3, str(n), {"status": "Accepted"}])]
        steps.append(StepRecord(f"setup (OCTT common state): {action}", "call", [Message(f"{action}.conf", {})],
                                [Message(f"{action}.conf", {"status": "Accepted"})], [Message(f"{action}.req", {})],
                                started=t, ended=t + 0.003, verdict="passed", frames=(len(frames) - 2, len(frames))))
        t += 0.01
    if outcome == "skipped":
        frames, steps = [], []
    numbered = [s for s in spec.steps if s.number is not None][: 28]
    for s in numbered[::2] if outcome != "skipped" else []:
        payload = {"connectorId": 1, "status": rnd.choice(["Preparing", "Charging", "Available"]), "errorCode": "NoError",
                   "timestamp": "2026-01-01T00:00:00Z", "info": "x" * rnd.randint(0, 40)}
        first = len(frames)
        frames += [_frame(t, "received", [2, f"m{s.number}", "StatusNotification", payload]),
                   _frame(t + 0.002, "sent", [3, f"m{s.number}", {}])]
        for _ in range(rnd.randint(0, 6)):  # heartbeats and meter values meanwhile
            t += 0.3
            frames += [_frame(t, "received", [2, f"h{len(frames)}", "Heartbeat", {}]),
                       _frame(t, "sent", [3, f"h{len(frames)}", {"currentTime": "2026-01-01T00:00:00Z"}])]
        label = f"{s.number}-{s.number + 1} (StatusNotification)"
        steps.append(StepRecord(label, "expect", [Message("StatusNotification.req", {"connectorId": 1, "status": payload["status"]})],
                                [Message("StatusNotification.req", payload, ["$.connectorId", "$.status"])],
                                [Message("StatusNotification.conf", {})], started=t, ended=t + 0.05, verdict="passed",
                                frames=(first, len(frames))))
        t += 0.5
    failure = None
    if outcome == "failed" and steps:
        last = steps[-1]
        last.verdict, last.problem = "failed", "expected StatusNotification.req with status='Charging', but the SUT sent other content"
        last.detail = "  - $.status: expected 'Charging', got 'Available'\ndiff (expected -> received):\nValue of root['status'] changed"
        last.received[0].bad, last.failed_step = ["$.status"], last.label
        failure = Failure(last.label, last.problem, last.detail, "UnexpectedMessage")
    warnings = [{"step": "2", "text": "a SHOULD the SUT did not follow", "reading": "spec 4.3", "source": "check"}] \
        if rnd.random() < 0.05 else []
    readings = [{"key": "A14 TxProfile vs TxDefault", "value": "whole transaction", "step": "1-2", "octt": "whole transaction",
                 "agrees": True}] if spec.profile == "SmartCharging" else []
    case = CaseRecord(nodeid=f"testcases/test_x.py::test_{spec.id.lower()}", tc_id=spec.id, title=spec.title, role=role,
                      profiles=[PROFILE_MARKERS.get(spec.profile, "core")], outcome=outcome, phase="call",
                      skip_reason="prerequisite not met: the SUT config does not list the profile" if outcome == "skipped" else "",
                      failure=failure, steps=steps, frames=frames[:60], warnings=warnings, readings=readings,
                      started="2026-01-01T00:00:00+00:00", duration=round(t, 2),
                      traceback="Traceback (most recent call last):\n  ...\nAssertionError" if failure else "")
    case.frames_sha256 = frames_sha256(case.frames)
    case.verdicts = judge(outcome, failure, warnings, readings, case.skip_reason)
    return case


@pytest.fixture(scope="module")
def run() -> RunRecord:
    rnd = random.Random(16)
    catalog = load_catalog()
    suts = [SutRecord(role="cp", name="reference charge point simulator", identity={"chargePointVendor": "SimVendor"},
                      config={"sut": "cp", "features": ["core"]}, config_sha256="0" * 64, features=["core"]),
            SutRecord(role="cs", name="reference central system simulator", identity={"endpoint": "ws://127.0.0.1/ocpp"},
                      config={"sut": "cs"}, config_sha256="1" * 64, features=["core"])]
    return RunRecord(harness_version="bench", started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:10:00+00:00",
                     description="synthetic full suite", suts=suts, cases=[_case(c, rnd) for c in catalog.cases.values()],
                     catalog_source=catalog.source)


@pytest.fixture(scope="module")
def pages(run: RunRecord, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("report")
    evidence, _ = evidence_text(run)
    report = render_report(run, load_catalog())
    paths = {"report": directory / "report.html", "evidence_pre": directory / "evidence.html",
             "empty": directory / "empty.html", "evidence": directory / "evidence.json"}
    paths["report"].write_text(report, encoding="utf-8")
    paths["evidence"].write_text(evidence, encoding="utf-8")
    paths["evidence_pre"].write_text(f"<!DOCTYPE html><meta charset=utf-8><pre>{html.escape(evidence)}</pre>", encoding="utf-8")
    paths["empty"].write_text("<!DOCTYPE html><meta charset=utf-8><title>empty</title>", encoding="utf-8")
    return paths


def _sizes(pages: dict[str, Path], run: RunRecord) -> dict[str, Any]:
    report, evidence = pages["report"].stat().st_size, pages["evidence"].stat().st_size
    return {"cases": len(run.cases), "frames": sum(len(c.frames) for c in run.cases), "report_bytes": report,
            "evidence_bytes": evidence, "report_to_evidence": round(report / evidence, 2)}


@pytest.mark.benchmark(group="render")
def test_baseline_render_json_dumps_of_the_run(benchmark: Any, run: RunRecord) -> None:
    benchmark(lambda: json.dumps(run.to_json(), indent=1, sort_keys=True))


@pytest.mark.benchmark(group="render")
def test_render_the_full_suite_report(benchmark: Any, run: RunRecord, pages: dict[str, Path]) -> None:
    catalog = load_catalog()
    benchmark.extra_info.update(_sizes(pages, run))
    benchmark.pedantic(lambda: render_report(run, catalog), rounds=ROUNDS, iterations=1)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    if find_chromium() is None:
        pytest.skip("needs chromium (apt-get install -y chromium)")
    with Chromium(width=1300, height=900) as browser:
        browser.open("about:blank")
        yield browser


@pytest.mark.benchmark(group="chromium")
def test_baseline_chromium_opens_an_empty_page(benchmark: Any, chromium: Chromium, pages: dict[str, Path]) -> None:
    benchmark.pedantic(lambda: chromium.open(pages["empty"].as_uri()), rounds=ROUNDS, iterations=1)


@pytest.mark.benchmark(group="chromium")
def test_baseline_chromium_opens_the_evidence_as_plain_text(benchmark: Any, chromium: Chromium,
                                                           pages: dict[str, Path]) -> None:
    benchmark.extra_info["bytes"] = pages["evidence_pre"].stat().st_size
    benchmark.pedantic(lambda: chromium.open(pages["evidence_pre"].as_uri()), rounds=ROUNDS, iterations=1)


@pytest.mark.benchmark(group="chromium")
def test_chromium_opens_the_full_suite_report(benchmark: Any, chromium: Chromium, pages: dict[str, Path],
                                             run: RunRecord) -> None:
    benchmark.extra_info.update(_sizes(pages, run))
    benchmark.pedantic(lambda: chromium.open(pages["report"].as_uri()), rounds=ROUNDS, iterations=1)
    benchmark.extra_info["sections"] = chromium.evaluate("document.querySelectorAll('section.case').length")
