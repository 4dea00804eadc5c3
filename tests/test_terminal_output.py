"""On the terminal a failing case reads like its report section; ``-v`` shows each step as it finishes."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from _pytest._io import TerminalWriter

from conftest import sim_configs
from harness.report.terminal import CaseFailure

FILE_LINE = re.compile(r"\S+\.py:\d+")  # a traceback entry: the harness's code, not the vendor's concern


def _failure_section(output: str) -> str:
    return output[output.index("= FAILURES ="):output.index("short test summary info")]


def test_a_failing_case_reads_like_its_report_section_and_v_shows_the_steps_live(run_case) -> None:
    run = run_case("TC_003_CS,TC_001_CSMS", "cp:no_preparing_on_plug_in", extra_args=("-v",))
    outcomes = {k: v for k, v in run.outcomes().items() if k not in ("deselected", "warnings", "warning")}
    assert outcomes == {"failed": 1, "passed": 1}, run.output[-6000:]
    assert run.failure().startswith("Step 1-2 (StatusNotification Preparing): expected StatusNotification.req")
    section = _failure_section(run.output)
    for line in ("TC_003_CS — Regular Charging Session - Plugin First (charge point under test)",
                 "Failed at step 1-2 (StatusNotification Preparing)",
                 "  OCTT step 1: CP sends StatusNotification.req [EV driver plugs in the cable.] => status is Preparing",
                 "  OCTT step 2: CS responds StatusNotification.conf",
                 '  expected: StatusNotification.req {"connectorId": 1, "status": "Preparing"}',
                 "  received: nothing matching arrived",
                 "last 8 frames:"):
        assert line in section.splitlines(), f"{line!r} missing:\n{section}"
    assert re.search(r"^  plug_in \{'connector': 1\} at \+[\d.]+s: done$", section, re.M), section
    assert not FILE_LINE.search(section) and "Traceback" not in section, section
    # -v: every step of the case as it finishes (the harness's setup only with -vv)
    assert re.search(r"^    TC_001_CSMS — Cold Boot Charge Point$", run.output, re.M)
    assert re.search(r"^    \[    ok\] \+[\d.]+s 1-4 \(BootNotification\): BootNotification\.conf status=Acc", run.output, re.M)
    assert re.search(r"^    \[FAILED\] \+[\d.]+s 1-2 \(StatusNotification Preparing\): StatusNotification\.req", run.output, re.M)
    assert "setup (OCTT common state)" not in run.output.split("= FAILURES =")[0]
    # JUnit keeps the harness's traceback for developers, and the id and title
    case = next(tc for tc in ET.parse(run.path / "junit.xml").getroot().iter("testcase") if "tc_003" in tc.get("name"))
    failure = case.find("failure")
    assert failure.get("message").startswith("Step 1-2 (StatusNotification Preparing): expected StatusNotification.req")
    assert "harness traceback (for developers)" in failure.text and FILE_LINE.search(failure.text)
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["ocpp_tc_id"] == "TC_003_CS" and props["ocpp_tc_title"] == "Regular Charging Session - Plugin First"


def test_a_failed_manual_step_is_its_message_not_the_actuators_traceback(run_case, pytester: pytest.Pytester) -> None:
    config_dir = sim_configs(pytester.path, "cp", {"actuators": {"plug_in": {"shell": "echo the cable is jammed >&2; exit 3"}}})
    run = run_case("TC_003_CS", config_dir=config_dir)
    run.assert_failed_at("1", "manual step 'plug_in': command exited with 3", "the cable is jammed")
    section = _failure_section(run.output)
    assert not FILE_LINE.search(section) and "actuators.py" not in section, section
    assert re.search(r"^  plug_in \{'connector': 1\} at \+[\d.]+s: failed \(manual step 'plug_in': command exited with 3\)$",
                     section, re.M), section
    assert "received:" not in section  # the manual step failed, not what the step after it waited for
    assert len(section.splitlines()) < 30


def test_tb_asks_for_the_harness_traceback_on_the_terminal() -> None:
    failure = CaseFailure([("E   Step 1: boom", {"red": True})], "harness/x.py:1: in f", ("t.py", 3, "Step 1: boom"),
                          show_traceback="harness/x.py:1: in f\n    raise")
    out = io.StringIO()
    failure.toterminal(TerminalWriter(out))
    assert "harness traceback (--tb):" in out.getvalue() and "harness/x.py:1" in out.getvalue()
    assert str(failure).endswith("harness traceback (for developers):\nharness/x.py:1: in f")
    assert str(failure.reprcrash) == "t.py:3: Step 1: boom"
