"""TC_001 in both roles passes against the simulators and fails, at the right step, under each fault."""

from __future__ import annotations

import hashlib
import json

import pytest


@pytest.mark.parametrize(("fault", "step", "phrases"), [
    ("no_retry_after_rejected", "3", ["expected BootNotification.req", "did not arrive"]),
    ("boot_retry_too_early", "3", ["too early", "SHALL NOT send"]),
    ("invalid_boot_notification", "1-2", ["breaks the OCPP 1.6 schema", "$.chargePointVendor", "maxLength"]),
    ("no_connector_zero_status", "5-6", ["connectorId=0", "did not arrive"]),
    ("boot_status_unavailable", "5-6", ["'Available'", "'Unavailable'"]),
    ("heartbeat_interval_doubled", "7", ["the first Heartbeat.req came"]),
    ("no_heartbeat", "7-8", ["Heartbeat.req", "did not arrive"]),
])
def test_tc_001_cs_fault_fails_at_the_violated_step(run_case, fault: str, step: str, phrases: list[str]) -> None:
    run_case("TC_001_CS", f"cp:{fault}").assert_failed_at(step, *phrases)


@pytest.mark.parametrize(("fault", "step", "phrases"), [
    ("boot_rejected", "1-4 (BootNotification)", ["$.status: expected 'Accepted', got 'Rejected'"]),
    ("boot_interval_zero", "1-4 (BootNotification.conf)", ["interval is 0"]),
    ("boot_time_not_rfc3339", "1-4 (BootNotification)", ["breaks the OCPP 1.6 schema", "$.currentTime", "date-time"]),
    ("boot_time_wrong", "1-4 (BootNotification.conf)", ["away from the harness clock"]),
    ("status_callerror", "1-4 (StatusNotification connector 0)", ["CALLERROR InternalError"]),
    ("heartbeat_no_reply", "5-6 (Heartbeat #1)", ["no reply to Heartbeat.req"]),
])
def test_tc_001_csms_fault_fails_at_the_violated_step(run_case, fault: str, step: str, phrases: list[str]) -> None:
    run_case("TC_001_CSMS", f"cs:{fault}").assert_failed_at(step, *phrases)


def test_the_report_shows_every_frame_and_the_identity_of_the_charge_point(run_case) -> None:
    """With --html the compliance report takes that path; pytest-html's own view goes beside it."""
    run = run_case("TC_001_CS", report=True)
    assert run.outcomes().get("passed") == 1, run.output[-4000:]
    page = (run.path / "report.html").read_text()
    assert "TC_001_CS — Cold Boot Charge Point" in page and "BootNotification.req" in page and "SimVendor" in page
    assert page.count("<svg") >= 1 and "frames and events</summary>" in page
    assert '<td>Core</td><td>charge point</td><td>yes</td><td class="n-passed">1</td>' in page  # the profile matrix
    evidence = json.loads((run.path / "evidence.json").read_text())
    body = {k: v for k, v in evidence.items() if k != "sha256"}
    assert evidence["sha256"] == hashlib.sha256(json.dumps(body, indent=1, sort_keys=True).encode()).hexdigest()
    assert evidence["sha256"] in page  # the HTML names the evidence it belongs to
    assert evidence["verdicts"] == {"TC_001_CS": "passed"}
    (case,) = evidence["cases"]
    assert [f["direction"] for f in case["frames"]].count("received") >= 6
    assert case["frames_sha256"] in page and case["verdicts"] == {"spec": "passed", "octt": "passed",
                                                                  "spec_reason": "", "octt_reason": ""}
    assert "TC_001_CS" in (run.path / "report.pytest-html.html").read_text()  # pytest-html's developer view
