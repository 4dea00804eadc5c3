"""The report as a person sees it: a small real run, opened in headless Chromium, printed, searched for secrets.

One run against the simulators gives a passing case (TC_001_CSMS), a failing one
(TC_003_CS, the charge point never reports Preparing), a skipped one (TC_046_1_CS: the
charge point's config does not claim Reservation), one with a warning (TC_064_CSMS: the
central system accepts a DataTransfer of an unknown vendor) and one resting on readings of
open points (TC_056_CS). The configs carry secrets (a basic-auth password, a bearer token
in an actuator's headers, an API token): none may appear in the HTML, the JSON or the JUnit
XML. Chromium is the Debian package ``chromium`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import sim_configs
from harness.report.browser import Chromium, find_chromium
from harness.report.evidence import verify_evidence

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="needs chromium (apt-get install -y chromium)")

PASSWORD = "Sup3r-Secret-Pa55word"
BEARER = "Bearer tok-9f8e7d6c5b4a"
API_TOKEN = "api-0123456789-secret"
CASES = {"TC_001_CSMS": "passed", "TC_003_CS": "failed", "TC_046_1_CS": "skipped", "TC_064_CSMS": "passed",
         "TC_056_CS": "passed"}


def _configs(directory: Path) -> Path:
    features = ["core", "smart_charging", "local_auth_list_management", "firmware_management", "remote_trigger"]
    sim_configs(directory, "cp", {"features": features, "extra": {"api_token": API_TOKEN}})
    return sim_configs(directory, "cs", {
        "basic_auth_password": PASSWORD,
        "simulator": {"variants": ["data_transfer_accepted"]},
        "actuators": {"default": {"http": {"url": "{actuation}/act/{action}", "method": "POST",
                                           "headers": {"Authorization": BEARER}}}},
    })


def test_a_small_run_gives_a_report_a_person_can_read_print_and_trust(run_case, pytester: pytest.Pytester,
                                                                      tmp_path: Path) -> None:
    run = run_case(",".join(CASES), "cp:no_preparing_on_plug_in", config_dir=_configs(pytester.path), report=True)
    outcomes = {k: v for k, v in run.outcomes().items() if k not in ("deselected", "warnings", "warning")}
    assert outcomes == {"passed": 3, "failed": 1, "skipped": 1}, run.output[-6000:]
    report, evidence_path, junit = run.path / "report.html", run.path / "evidence.json", run.path / "junit.xml"

    # -- no secret anywhere ------------------------------------------------------------------------------
    for path in (report, evidence_path, junit):
        text = path.read_text()
        for secret in (PASSWORD, BEARER, "tok-9f8e7d6c5b4a", API_TOKEN):
            assert secret not in text, f"{secret!r} in {path.name}"
    evidence = json.loads(evidence_path.read_text())
    assert verify_evidence(evidence) == []
    sut = {s["role"]: s for s in evidence["suts"]}
    assert sut["cs"]["config"]["basic_auth_password"] == "***"
    assert sut["cs"]["config"]["actuators"]["default"]["http"]["headers"]["Authorization"] == "***"

    # -- JUnit carries the official ids and titles ---------------------------------------------------------
    props = {tc.get("name"): {p.get("name"): p.get("value") for p in tc.iter("property")}
             for tc in ET.parse(junit).getroot().iter("testcase")}
    by_id = {p["ocpp_tc_id"]: p for p in props.values()}
    assert set(by_id) == set(CASES)
    assert by_id["TC_003_CS"]["ocpp_tc_title"] == "Regular Charging Session - Plugin First"
    assert by_id["TC_003_CS"]["ocpp_failed_step"] == "1-2 (StatusNotification Preparing)"
    assert by_id["TC_064_CSMS"]["ocpp_verdict_octt"] == "concern"

    with Chromium(width=1300, height=1000) as browser:
        browser.open(report.as_uri())
        browser.render_all()  # as a reader scrolling through it (off-screen cases are laid out on demand)
        _check_the_page(browser, evidence)
        _check_the_filters(browser)
        shot = browser.screenshot(tmp_path / "report_case.png", selector="#TC_003_CS")
        assert shot.stat().st_size > 10_000
        browser.emulate_print()
        browser.evaluate("document.querySelector('body').offsetHeight")  # lay out for print
        clipped = browser.evaluate("""[...document.querySelectorAll('body *')]
            .filter(e => !(e instanceof SVGElement) || e.tagName == 'svg')
            .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + (e.className.baseVal ?? e.className) + ': ' + e.textContent.slice(0, 40))""")
        assert clipped == [], f"wider than a printed page: {clipped}"
        pdf = browser.pdf(tmp_path / "report.pdf")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages >= 2 + len(CASES)  # the cover, the matrix and summary, then a page (or more) per case


def _check_the_page(browser: Chromium, evidence: dict) -> None:
    sections = browser.evaluate("[...document.querySelectorAll('section.case')].map(s => [s.id, s.dataset.verdict,"
                                " s.querySelectorAll('svg.msd').length, s.querySelector('h2').textContent])")
    assert {s[0]: s[1] for s in sections} == CASES
    assert all(s[2] >= 1 for s in sections), "every case has its sequence diagram"
    assert "TC_003_CS — Regular Charging Session - Plugin First" in {s[0]: s[3] for s in sections}["TC_003_CS"]
    visible = browser.evaluate("document.body.innerText")
    # the failed case names its step, what was expected and that nothing arrived, and the diagram marks the step
    failing = browser.evaluate("""(() => {const s = document.getElementById('TC_003_CS');
        const row = s.querySelector('table.steps tr.failing');
        return [row.cells[0].innerText, row.cells[2].innerText, row.cells[3].innerText, row.cells[5].innerText,
                s.querySelector('.failure').innerText, [...s.querySelectorAll('svg text')].map(t => t.textContent)]})()""")
    assert failing[0].startswith("1-2") and "StatusNotification.req" in failing[1]
    assert "nothing matching arrived" in failing[2] and failing[3] == "FAILED"
    assert "Failed at step 1-2 (StatusNotification Preparing)" in failing[4]
    assert any(t.startswith("FAILED at step 1-2") for t in failing[5])
    assert any(t.startswith("manual step plug_in") for t in failing[5])
    # no traceback unless a developer opens their part
    assert "Traceback" not in visible and "harness/roles" not in visible and "harness/inbox.py" not in visible
    dev = browser.evaluate("document.querySelector('#TC_003_CS details.dev').textContent")
    assert "harness/" in dev and not browser.evaluate("document.querySelector('#TC_003_CS details.dev').open")
    # a skip names the prerequisite, a warning shows on both verdict axes, readings with OCTT's
    assert "Not run: a prerequisite is not met" in browser.evaluate("document.getElementById('TC_046_1_CS').innerText")
    warned = browser.evaluate("document.getElementById('TC_064_CSMS').innerText")
    assert "OCTT compatibility: CONCERN" in warned and "unknown vendor" in warned
    readings = browser.evaluate("document.getElementById('TC_056_CS').innerText")
    assert "A2 no transaction" in readings and "OCTT's reading" in readings
    # the cover: identity, configuration and its hash, the evidence's hash, the matrix
    assert "SimVendor" in visible and evidence["sha256"] in visible
    assert all(s["config_sha256"] in visible for s in evidence["suts"])
    matrix = browser.evaluate("[...document.querySelectorAll('table.matrix tbody tr')].map(r => r.innerText.split('\\t'))")
    core_cp = next(r for r in matrix if r[0] == "Core" and r[1] == "charge point")
    assert core_cp[4] == "1"  # failed
    assert next(r for r in matrix if r[0] == "Reservation" and r[1] == "charge point")[2] == "no"  # not claimed


def _check_the_filters(browser: Chromium) -> None:
    shown = "[...document.querySelectorAll('section.case')].filter(s => getComputedStyle(s).display != 'none').map(s => s.id)"
    assert len(browser.evaluate(shown)) == len(CASES)
    browser.evaluate("document.getElementById('f-passed').click()")
    assert sorted(browser.evaluate(shown)) == ["TC_003_CS", "TC_046_1_CS"]
    browser.evaluate("document.getElementById('f-passed').click()")
