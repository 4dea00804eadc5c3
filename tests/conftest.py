"""Shared helpers of the harness's own tests."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
TESTCASES = ROOT / "testcases"


class CaseRun:
    """The outcome of running one compliance test case in a separate pytest process."""

    def __init__(self, result: pytest.RunResult, path: Path) -> None:
        self.result = result
        self.path = path  # where the run wrote its report files
        self.output = result.stdout.str() + result.stderr.str()

    def outcomes(self) -> dict[str, int]:
        return self.result.parseoutcomes()

    def verdicts(self) -> dict[str, int]:
        """How many cases passed, failed, were skipped ... (deselected cases and warnings are no verdicts)."""
        return {k: v for k, v in self.outcomes().items() if k not in ("deselected", "warnings", "warning")}

    def assert_only_passed(self, count: int) -> None:
        assert self.verdicts() == {"passed": count}, self.output[-6000:]

    def failures_by_case(self) -> dict[str, str]:
        """Official id -> the failure text of each failed case of the run (from its JUnit XML)."""
        import xml.etree.ElementTree as ET

        found: dict[str, str] = {}
        for case in ET.parse(self.path / "junit.xml").getroot().iter("testcase"):
            failure = case.find("failure")
            match = re.match(r"test_((?:tc|rpc)_\d{3}(?:_\d+)?_(?:csms|cs))", case.get("name", ""))
            if failure is not None and match:
                found[match.group(1).upper()] = (failure.get("message") or "") + "\n" + (failure.text or "")
        return found

    def assert_case_failed_at(self, tc_id: str, step: str, *phrases: str) -> None:
        """In a run of several cases, ``tc_id`` failed at ``step`` saying ``phrases``."""
        text = self.failures_by_case().get(tc_id)
        assert text is not None, f"{tc_id} did not fail:\n{self.output[-4000:]}"
        assert re.search(rf"Step {re.escape(step)}(?![\w-])", text), f"{tc_id} does not fail at step {step}:\n{text}"
        for phrase in phrases:
            assert phrase in text, f"{tc_id}: {phrase!r} not in\n{text}"

    def failure(self) -> str:
        """The failure text pytest printed (the 'E   ' lines), joined."""
        return "\n".join(line[4:] for line in self.output.splitlines() if line.startswith("E   "))

    def assert_failed_at(self, step: str, *phrases: str) -> None:
        outcomes = self.outcomes()
        assert outcomes.get("failed") == 1 and not outcomes.get("passed"), self.output[-4000:]
        text = self.failure()
        assert re.search(rf"Step {re.escape(step)}(?![\w-])", text), f"failure does not name step {step}:\n{text}\n{self.output[-3000:]}"
        for phrase in phrases:
            assert phrase in text, f"{phrase!r} not in failure:\n{text}"


@pytest.fixture
def run_case(pytester: pytest.Pytester):
    """Run official test cases against the simulators, optionally with faults switched on (a pytest run of its own,
    in this process; OCPP_HARNESS_SUBPROCESS=1 runs it in a separate interpreter)."""

    def run(tc_id: str, *faults: str, step_timeout: float = 4.0, report: bool = False,
            config_dir: Path | None = None, variants: tuple[str, ...] = (), extra_args: tuple[str, ...] = ()) -> CaseRun:
        """``faults`` / ``variants``: ``cp:NAME`` or ``cs:NAME`` switches of the simulators;
        ``config_dir``: simulator configs other than fixtures/ (see :func:`sim_configs`)."""
        args = [str(TESTCASES), "--ocpp-tc", tc_id, "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                "--ocpp-sim-config-dir", str(config_dir or ROOT / "fixtures"), "--ocpp-step-timeout", str(step_timeout),
                f"--junitxml={pytester.path / 'junit.xml'}"]
        if report:
            args.append(f"--html={pytester.path / 'report.html'}")
        else:  # half the CPU of a run is plugins and a report a fault run does not use: leave them out
            args += ["-p", "no:html", "-p", "no:metadata", "-p", "no:benchmark", "-p", "no:xdist", "-p", "no:hypothesispytest",
                     "--ocpp-report", "none"]
        # a run in this process finds the harness imported already: that is expected, not worth a warning
        args += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        for fault in faults:
            args += ["--ocpp-sim-fault", fault]
        for variant in variants:
            args += ["--ocpp-sim-variant", variant]
        args += list(extra_args)
        if os.environ.get("OCPP_HARNESS_SUBPROCESS"):  # fully isolated, at three times the CPU
            return CaseRun(pytester.runpytest_subprocess(*args, timeout=600), pytester.path)
        # In this process: no new interpreter and no re-import of pytest, the harness and its libraries for each
        # run (a fault test is mostly that); the simulators still run as processes of their own.
        return CaseRun(pytester.runpytest_inprocess(*args), pytester.path)

    return run


def sim_configs(directory: Path, role: str, changes: dict) -> Path:
    """A copy of fixtures/ in ``directory`` whose simulator config of ``role`` (cp or cs) has ``changes``
    merged in (one level deep for mappings: e.g. {"extra": {"fixed_cable": True}, "simulator": {...}})."""
    import shutil

    import yaml

    target = directory / "sim_fixtures"
    if not target.exists():
        shutil.copytree(ROOT / "fixtures", target)
    path = target / ("simulator_charge_point.yaml" if role == "cp" else "simulator_central_system.yaml")
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data))
    return target
