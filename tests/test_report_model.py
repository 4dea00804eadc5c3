"""The report's pieces without pytest or a browser: step records, the catalog, verdicts, rendering, evidence, secrets."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timezone
from importlib import resources
from types import SimpleNamespace

import pytest
from test_session import central_system, run

from harness.config import IdTags, Secret, SutConfig
from harness.errors import PayloadMismatch, StepTimeout, UnexpectedMessage
from harness.matching import OneOf
from harness.report import collect
from harness.report.catalog import label_kind, load_catalog, step_numbers
from harness.report.evidence import evidence_text, verify_evidence
from harness.report.html import payload_html, render_case
from harness.report.model import (
    CaseRecord,
    Failure,
    RunRecord,
    SutRecord,
    frames_sha256,
    judge,
    octt_readings,
    readings_of,
    step_rows,
    warnings_of,
)
from harness.report.page import render_report
from harness.report.suts import known_secrets, redacted_config, scrub, sut_record
from harness.report.svg import HEAD, ROW, ROWS_PER_SVG, sequence_diagrams
from harness.report.terminal import failure_lines, payload_text
from harness.steps import Message, StepRecord

STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


# -- the catalog -------------------------------------------------------------------------------------------
def test_the_catalog_ships_with_the_package_verbatim_with_its_source_and_licence() -> None:
    text = resources.files("harness").joinpath("data/octt16_catalog.yaml").read_text(encoding="utf-8")
    assert text.startswith("# OCPP 1.6 OCTT compliance test case catalog")
    assert "CC BY-ND 4.0" in text.splitlines()[1]
    catalog = load_catalog()
    assert catalog.get("TC_066_CS").title == "Get Composite Schedule"
    assert catalog.get("TC_003_CS").step(5).note == "Step 5 and step 7 may be reversed."
    assert catalog.get("TC_001_CS").step(4).check.startswith("The status is Accepted")
    assert len(catalog.cases) > 170 and "CC BY-ND" in catalog.source


@pytest.mark.parametrize(("label", "numbers", "kind"), [
    ("3-4 (StartTransaction)", [3, 4], "catalog"),
    ("7", [7], "catalog"),
    ("5-8 (StartTransaction.req, StatusNotification Charging)", [5, 6, 7, 8], "catalog"),
    ("setup (OCTT common state): baseline configuration (GetConfiguration)", [], "setup"),
    ("teardown (restore the common state) (unplug)", [], "teardown"),
    ("before (Charging)", [], "before"),
    ("after (Available)", [], "after"),
    ("(any)", [], "harness"),
])
def test_a_step_label_maps_to_catalog_steps_by_its_number_prefix(label: str, numbers: list[int], kind: str) -> None:
    assert step_numbers(label) == numbers
    assert label_kind(label) == kind


# -- step records ------------------------------------------------------------------------------------------
def test_every_step_leaves_a_record_and_raises_exactly_what_it_raised_before() -> None:
    async def scenario() -> list[StepRecord]:
        cs, ws = await central_system(step=0.4)
        ws.sut_send([2, "a", "Authorize", {"idTag": "T1"}])
        await cs.expect("Authorize", step="3-4 (Authorize)", idTag="T1", reply={"idTagInfo": {"status": "Accepted"}})
        ws.sut_send([2, "b", "StatusNotification", STATUS])
        with pytest.raises(StepTimeout, match=r"Step 5: expected StatusNotification.req"):
            await cs.expect("StatusNotification", step="5", connectorId=1, status=OneOf("Charging"))

        async def sut_answers(payload: dict) -> None:
            frame = await ws.sut_recv()
            while frame[0] != 2:
                frame = await ws.sut_recv()
            ws.sut_send([3, frame[1], payload])

        answer = asyncio.ensure_future(sut_answers({"status": "Rejected"}))
        with pytest.raises(PayloadMismatch, match="ChangeConfiguration.conf does not carry"):
            await cs.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": "0123456789abcdef"}, step="7-8",
                          expect={"status": "Accepted"})
        await answer
        await cs.expect_none("StartTransaction", step="9", within=0.05)
        await cs.idle(0.05, step="10")
        return cs.trace.steps

    steps = run(scenario())
    assert [(s.label, s.kind, s.verdict) for s in steps] == [
        ("3-4 (Authorize)", "expect", "passed"), ("5", "expect", "failed"), ("7-8", "call", "failed"),
        ("9", "expect_none", "passed"), ("10", "idle", "passed")]
    authorize, status, change, *_ = steps
    assert authorize.received[0].payload == {"idTag": "T1"} and authorize.received[0].ok == ["$.idTag"]
    assert authorize.sent[0].action == "Authorize.conf" and authorize.frames[1] > authorize.frames[0]
    # the closest candidate of a failed step is kept, with the wrong field marked
    assert status.received[0].payload == STATUS and status.received[0].bad == ["$.status"]
    assert status.expected[0].payload == {"connectorId": 1, "status": "‹one of ['Charging']›"}
    assert status.problem.startswith("expected StatusNotification.req") and status.failed_step == "5"
    assert change.received[0].bad == ["$.status"]
    assert change.sent[0].payload == {"key": "AuthorizationKey", "value": "***"}  # redacted like the trace
    assert "0123456789abcdef" not in json.dumps([s.to_json() for s in steps])
    assert StepRecord.from_json(json.loads(json.dumps(change.to_json()))) == change


def test_a_step_that_fails_on_a_wrong_message_records_that_message() -> None:
    async def scenario() -> StepRecord:
        cs, ws = await central_system(step=2)
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        ws.sut_send([2, "a", "StartTransaction", {"connectorId": 2, "idTag": "T", "meterStart": 0, "timestamp": now}])
        with pytest.raises(UnexpectedMessage):
            await cs.expect("StartTransaction", step="5-6", connectorId=1)
        return cs.trace.steps[-1]

    rec = run(scenario())
    assert rec.verdict == "failed" and rec.received[0].bad == ["$.connectorId"]


# -- the model ---------------------------------------------------------------------------------------------
def _frame(t: float, direction: str, frame: list | str, note: str = "") -> dict:
    text = frame if isinstance(frame, str) else json.dumps(frame)
    return {"direction": direction, "text": text, "wall": "2026-01-01T00:00:00+00:00", "t": t, "connection": "CP#1",
            "note": note}


def _step(label: str, kind: str, started: float, ended: float, verdict: str = "passed", frames: tuple = (0, 0),
          **more: object) -> StepRecord:
    return StepRecord(label=label, kind=kind, started=started, ended=ended, verdict=verdict, frames=frames, **more)


def failing_case() -> CaseRecord:
    """TC_003_CS failing at 1-2: setup, a manual step, the failed step; 3-8 never reached."""
    frames = [_frame(0.0, "sent", [2, "1", "ClearCache", {}]), _frame(0.01, "received", [3, "1", {"status": "Accepted"}]),
              _frame(1.0, "received", [2, "a", "StatusNotification", STATUS]),
              _frame(1.0, "sent", [3, "a", {}]), _frame(2.0, "event", "CP#1: connection ended: closed")]
    steps = [_step("setup (OCTT common state): empty authorization cache (ClearCache)", "call", 0.0, 0.01, frames=(0, 2),
                   sent=[Message("ClearCache.req", {})], received=[Message("ClearCache.conf", {"status": "Accepted"})]),
             _step("1-2 (StatusNotification Preparing)", "expect", 0.5, 4.5, "failed", (2, 5),
                   expected=[Message("StatusNotification.req", {"connectorId": 1, "status": "Preparing"})],
                   received=[Message("StatusNotification.req", STATUS, ["$.connectorId"], ["$.status"])],
                   failed_step="1-2 (StatusNotification Preparing)", problem="expected StatusNotification.req ...",
                   detail="  - $.status: expected 'Preparing', got 'Available'")]
    failure = Failure("1-2 (StatusNotification Preparing)", "expected StatusNotification.req ...",
                      "  - $.status: expected 'Preparing', got 'Available'", "UnexpectedMessage")
    case = CaseRecord(nodeid="testcases/x.py::test_tc_003_cs", tc_id="TC_003_CS",
                      title="Regular Charging Session - Plugin First", role="cp", profiles=["core"], outcome="failed",
                      phase="call", failure=failure, steps=steps, frames=frames,
                      actuations=[{"action": "plug_in", "step": "1", "params": {"connector": 1}, "t": 0.6,
                                   "outcome": "done", "problem": "", "text": "Plug the EV cable into connector 1."}],
                      traceback="Traceback (most recent call last):\n  File \"harness/actuators.py\", line 1\nAssertionError")
    case.frames_sha256 = frames_sha256(frames)
    case.verdicts = judge(case.outcome, failure, [], [])
    return case


def test_the_step_table_follows_the_catalog_and_says_what_was_not_reached() -> None:
    case = failing_case()
    rows = step_rows(case, load_catalog().get("TC_003_CS"))
    assert [(r.kind, r.numbers, r.verdict) for r in rows] == [
        ("group", [], "passed"),  # the harness's setup, folded
        ("manual", [1], "done"),  # asked for before the step that waits for its effect
        ("catalog", [1, 2], "failed"),
        *[("unchecked", [n], "not reached") for n in range(3, 9)],
    ]
    assert rows[2].failing and not rows[1].failing


def test_a_failure_no_recorded_step_carries_gets_a_row_of_its_own() -> None:
    case = failing_case()
    case.steps = case.steps[:1]
    case.failure = Failure("3", "the BootNotification after Rejected came 1.2s early", "section 4.2", "PayloadMismatch")
    rows = step_rows(case, load_catalog().get("TC_003_CS"))
    failure_row = next(r for r in rows if r.failing)
    assert failure_row.kind == "failure" and failure_row.numbers == [3]
    assert [r.verdict for r in rows if r.numbers in ([1], [2])] == ["done", ""]  # before the failure: no separate check


def test_verdicts_on_both_axes() -> None:
    warning = {"step": "2", "text": "accepted an unknown vendorId", "reading": "catalog allows it", "source": "check"}
    assert judge("passed", None, [], []).octt == "passed"
    with_warning = judge("passed", None, [warning], [])
    assert (with_warning.spec, with_warning.octt) == ("passed with warnings", "concern") and with_warning.differ
    a14 = {"key": "A14 TxProfile vs TxDefault", "value": "per instant", "octt": "whole transaction", "agrees": False}
    reading = judge("passed", None, [], [a14])
    assert (reading.spec, reading.octt) == ("passed", "concern") and "A14" in reading.octt_reason
    agreed = judge("passed", None, [], [{**a14, "value": "whole transaction", "agrees": True}])
    assert agreed.octt == "passed" and "A14" in agreed.octt_reason
    strict = judge("failed", Failure("2", "x (a failure because the SUT config sets strict: true)"), [], [])
    assert strict.spec == "failed" and "strict" in strict.octt_reason
    assert judge("error", Failure("", "common state"), [], [], phase="teardown").spec_reason.startswith("its steps passed")
    assert judge("skipped", None, [], [], "no reservation").octt == "skipped"


def test_readings_come_from_the_trace_and_from_a_failure_and_are_compared_with_octts() -> None:
    octt = octt_readings()
    assert {"A14 TxProfile vs TxDefault", "A2 no transaction", "A4 stack validity"} <= set(octt)
    event = _frame(3.0, "event", "step 1-2 (GetCompositeSchedule): composite schedule matches the model; readings: "
                                 f"A2 no transaction={octt['A2 no transaction']}, A14 TxProfile vs TxDefault=per instant, "
                                 "A12 time zone=UTC, no DST")
    found = {r["key"]: r for r in readings_of([event], None)}
    assert found["A2 no transaction"]["agrees"] is True
    assert found["A14 TxProfile vs TxDefault"]["agrees"] is False
    assert found["A12 time zone"]["value"] == "UTC, no DST" and found["A12 time zone"]["agrees"] is None
    failure = Failure("1-2", "the composite schedule is not ...", "table\nmodel readings used for the expected side:\n"
                      f"  A4 stack validity: {octt['A4 stack validity']}")
    assert readings_of([], failure)[0]["agrees"] is True


def test_connection_warnings_and_defects_outside_the_steps_are_listed() -> None:
    frames = [_frame(1, "event", "CP#1: warning: a second CALL while one is unanswered"),
              _frame(2, "event", "setup (OCTT common state): SUT defect outside the case's steps: bad status")]
    assert [w["source"] for w in warnings_of([], frames)] == ["connection", "setup"]


# -- rendering ---------------------------------------------------------------------------------------------
def test_a_case_section_names_the_step_marks_the_difference_and_hides_the_traceback() -> None:
    html = render_case(failing_case(), load_catalog().get("TC_003_CS"))
    assert 'id="TC_003_CS"' in html and "TC_003_CS — Regular Charging Session - Plugin First" in html
    assert "Failed at step 1-2 (StatusNotification Preparing)" in html
    assert '<mark class="bad">&quot;Available&quot;</mark>' in html
    assert html.count("<svg") == 1 and "NOT REACHED" in html
    dev = re.search(r'<details class="dev noprint">(.*?)</details>', html, re.S)
    assert dev and "harness/actuators.py" in dev.group(1)
    assert "harness/actuators.py" not in html.replace(dev.group(0), "")  # only in the collapsed developer part


def test_the_diagram_stays_legible_for_sixty_frames() -> None:
    case = failing_case()
    case.frames = [_frame(i * 0.5, "received" if i % 2 else "sent",
                          [2, str(i), "MeterValues", {"connectorId": 1, "meterValue": [{"sampledValue": [{"value": "1"}]}]}]
                          if i % 2 == 0 else [3, str(i - 1), {}]) for i in range(60)]
    case.steps, case.actuations, case.failure, case.outcome = [], [], None, "passed"
    svgs = sequence_diagrams(case)
    assert len(svgs) == 2  # cut so that every part fits a printed page
    for svg in svgs:
        rows = svg.count('<path class="a ')  # one arrow per frame
        height = int(re.search(r'viewBox="0 0 \d+ (\d+)"', svg).group(1))
        assert rows <= ROWS_PER_SVG and height == HEAD + ROW * rows + 8  # one fixed-height row per frame
        assert all(len(t) <= 100 for t in re.findall(r"<text[^>]*>(.*?)</text>", svg))  # no label runs off the page
    assert sum(s.count("MeterValues.req") for s in svgs) == 30 and sum(s.count("MeterValues.conf") for s in svgs) == 30


def test_payloads_mark_right_and_wrong_fields() -> None:
    html = payload_html({"idTagInfo": {"status": "Blocked"}, "x": 1}, ok=["$.x"], bad=["$.idTagInfo.status"])
    assert '<mark class="bad">&quot;Blocked&quot;</mark>' in html and '<span class="okv">1</span>' in html
    assert payload_text({"status": "Available"}, ["$.status"]) == '{"status": »"Available"«}'


def test_the_terminal_failure_keeps_the_failure_text_on_e_lines() -> None:
    case = failing_case()
    lines = failure_lines(tc_id="TC_003_CS", title=case.title, role="cp", failure=case.failure,
                          message="Step 1-2 (StatusNotification Preparing): expected ...\n  - $.status: ...",
                          phase="", record=case.steps[1], spec=load_catalog().get("TC_003_CS"),
                          frames=["0.1s frame"], actuations=["plug_in {'connector': 1}: done"])
    text = [t for t, _ in lines]
    assert text[0].startswith("TC_003_CS — Regular Charging Session") and text[1] == "Failed at step 1-2 (StatusNotification Preparing)"
    assert "  OCTT step 1: CP sends StatusNotification.req [EV driver plugs in the cable.] => status is Preparing" in text
    assert [t for t in text if t.startswith("E   ")] == ["E   Step 1-2 (StatusNotification Preparing): expected ...",
                                                         "E     - $.status: ..."]
    assert any(t.startswith("  received: StatusNotification.req") and "»\"Available\"«" in t for t in text)


# -- evidence and secrets ----------------------------------------------------------------------------------
def _config() -> SutConfig:
    return SutConfig(sut="cs", charge_point_id="CP", name="lab CSMS", endpoint="wss://user:hunter2hunter2@csms.example/ocpp",
                     basic_auth_password=Secret("pa55-w0rd-xyz"), id_tags=IdTags(),
                     actuators={"default": {"http": {"url": "http://lab/{action}",
                                                     "headers": {"Authorization": "Bearer tok-123456"}}}},
                     extra={"api_token": "tok-abcdef", "authorization_cache": True})


def test_the_configuration_is_shown_with_every_secret_masked() -> None:
    config = _config()
    plain = json.dumps(redacted_config(config))
    for secret in ("pa55-w0rd-xyz", "hunter2hunter2", "tok-123456", "tok-abcdef"):
        assert secret not in plain
    assert known_secrets([config]) == {"pa55-w0rd-xyz", "hunter2hunter2", "Bearer tok-123456", "tok-abcdef"}
    assert '"authorization_cache": true' in plain  # a flag is not a secret
    assert scrub("sent pa55-w0rd-xyz", known_secrets([config])) == "sent ***"
    record = sut_record("cs", config, None)
    assert record.identity["endpoint"] == "wss://user:***@csms.example/ocpp" and len(record.config_sha256) == 64


def test_a_password_the_run_generated_for_the_simulators_is_scrubbed_like_a_configured_one() -> None:
    """With no password configured, harness/sut.py makes one per run; it is in no config, yet never in the report."""
    material = SimpleNamespace(password=Secret("5f0c9a2e41d7b3866e"), key_password=Secret("k3y-pa55"))
    provider = SimpleNamespace(configs={"cp": _config()}, user_config=None, security={"cp": material})
    found = collect._secrets(provider)
    assert {"5f0c9a2e41d7b3866e", "k3y-pa55", "pa55-w0rd-xyz"} <= found
    assert scrub("Basic auth 5f0c9a2e41d7b3866e", found) == "Basic auth ***"


def test_the_evidence_hash_checks_out_and_the_html_is_a_function_of_the_evidence() -> None:
    case = failing_case()
    case.steps[1].received[0].payload = {"status": "Available", "connectorId": 1, "errorCode": "NoError"}  # not sorted
    run_record = RunRecord(harness_version="0", started="s", finished="f", description="d",
                           suts=[SutRecord(role="cp", name="sim", identity={"chargePointVendor": "V"})], cases=[case],
                           catalog_source=load_catalog().source)
    text, digest = evidence_text(run_record, secrets=["Regular Charging"])
    data = json.loads(text)
    assert data["sha256"] == digest and verify_evidence(data) == []
    assert "Regular Charging" not in text  # scrubbed before hashing
    data["cases"][0]["frames"][0]["text"] = "[]"
    assert len(verify_evidence(data)) == 2  # the file's hash and the case's frame hash
    again = RunRecord.from_json(json.loads(evidence_text(run_record)[0]))
    run_record.evidence_sha256 = again.evidence_sha256
    assert render_report(again, load_catalog()) == render_report(run_record, load_catalog())
