"""The pytest plugin: options, markers, selection by role and id, and its guard rails."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from conftest import ROOT, TESTCASES


def test_the_options_and_markers_are_registered_by_the_entry_point(pytester: pytest.Pytester) -> None:
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    for option in ("--ocpp-sut", "--ocpp-config", "--ocpp-tc", "--ocpp-step-timeout", "--ocpp-sim-fault"):
        assert option in help_text
    markers = pytester.runpytest_subprocess("--markers").stdout.str()
    for marker in ("core", "firmware_management", "local_auth_list_management", "reservation",
                   "smart_charging", "remote_trigger", "security", "tc(id, title)"):
        assert f"@pytest.mark.{marker}" in markers


TC_NAME = re.compile(r"^test_(tc_\d{3}(?:_\d+)?_(?:csms|cs))_")


def collected_ids(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest_subprocess(str(TESTCASES), "--rootdir", str(ROOT), "--collect-only", "-q", *args)
    names = [line.split("::", 1)[1] for line in result.stdout.lines if "::test_tc_" in line]
    return [TC_NAME.match(name).group(1) for name in names]  # type: ignore[union-attr]


@pytest.mark.parametrize(("args", "role", "only"), [
    (["--ocpp-sut", "cp"], "cs", None),
    (["--ocpp-sut", "cs"], "csms", None),
    (["--ocpp-tc", "TC_001_CSMS,TC_001_CS"], None, {"tc_001_csms", "tc_001_cs"}),
    (["--ocpp-config", str(ROOT / "fixtures" / "example_central_system.yaml")], "csms", None),
])
def test_cases_of_the_other_role_or_other_ids_are_deselected(pytester: pytest.Pytester, args: list[str],
                                                             role: str | None, only: set[str] | None) -> None:
    everything = collected_ids(pytester)
    kept = collected_ids(pytester, *args)
    assert kept and len(kept) < len(everything)
    if role is not None:  # exactly the cases of that role are kept
        assert sorted(kept) == sorted(i for i in everything if i.rsplit("_", 1)[1] == role)
    if only is not None:
        assert set(kept) == only


def test_a_wrong_tc_id_or_test_name_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="""
        import pytest

        @pytest.mark.tc("TC_1_CS", "nope")
        async def test_tc_1_cs(): ...
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is neither an official OCTT 1.6 test case id" in result.stderr.str()


def test_a_config_that_contradicts_the_sut_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(str(TESTCASES), "--rootdir", str(ROOT), "--collect-only",
                                           "--ocpp-sut", "cp", "--ocpp-config",
                                           str(ROOT / "fixtures" / "example_central_system.yaml"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "contradicts" in result.stderr.str()


def test_a_feature_profile_the_sut_lacks_is_skipped_with_the_reason(pytester: pytest.Pytester) -> None:
    config_dir = pytester.path / "configs"  # a charge point that lists only Core
    shutil.copytree(ROOT / "fixtures", config_dir)
    sim = config_dir / "simulator_charge_point.yaml"
    sim.write_text(yaml.safe_dump({**yaml.safe_load(sim.read_text()), "features": ["core"]}))
    pytester.makeconftest("")
    pytester.makepyfile(test_sc="""
        import pytest

        @pytest.mark.smart_charging
        @pytest.mark.tc("TC_056_CS", "Central Smart Charging - TxDefaultProfile")
        async def test_tc_056_cs(central_system, sut):
            raise AssertionError("must not run")
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "--ocpp-sim-config-dir", str(config_dir))
    result.assert_outcomes(skipped=1)
    assert "does not list feature profile 'smart_charging'" in result.stdout.str()


def test_a_not_supported_case_runs_on_a_sut_without_the_profile(pytester: pytest.Pytester) -> None:
    config_dir = pytester.path / "configs"
    shutil.copytree(ROOT / "fixtures", config_dir)
    sim = config_dir / "simulator_charge_point.yaml"
    sim.write_text(yaml.safe_dump({**yaml.safe_load(sim.read_text()), "features": ["core"]}))
    pytester.makeconftest("")
    pytester.makepyfile(test_ns="""
        import pytest

        @pytest.mark.local_auth_list_management
        @pytest.mark.also_without_profile
        @pytest.mark.tc("TC_042_1_CS", "Get Local List Version (not supported)")
        async def test_tc_042_1_cs(sut):
            assert "local_auth_list_management" not in sut.config.features
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ocpp-sim-config-dir", str(config_dir))
    result.assert_outcomes(passed=1)
