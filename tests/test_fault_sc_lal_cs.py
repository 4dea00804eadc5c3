"""The Smart Charging and Local Auth List TC_xxx_CS cases pass against the reference charge point and fail,
at the violated step, under its faults.

Each ``test_tc_<id>_fault_<fault>`` runs one case against the simulator with one named
fault (``python -m harness.simulators.charge_point --list-faults``) and checks that the
case fails at the step the fault breaks, with words a vendor can act on.
"""

from __future__ import annotations

import pytest

from conftest import sim_configs

SMART_CHARGING = ["TC_056_CS", "TC_057_CS", "TC_058_1_CS", "TC_058_2_CS", "TC_082_CS", "TC_066_CS", "TC_067_CS",
                  "TC_072_CS", "TC_059_CS", "TC_060_CS"]
LOCAL_LIST = ["TC_042_1_CS", "TC_042_2_CS", "TC_043_CS", "TC_043_1_CS", "TC_043_2_CS", "TC_043_3_CS", "TC_008_CS"]
COMPOSITE = "the composite schedule is not what the installed charging profiles give"


# -- smart charging ----------------------------------------------------------------------------------------
def test_tc_056_cs_fault_txdefault_ignored_without_transaction(run_case) -> None:
    run_case("TC_056_CS", "cp:txdefault_ignored_without_transaction").assert_failed_at(
        "3-4 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 32 A; the model has 6 A", "expected (model)")


def test_tc_057_cs_fault_composite_start_in_the_past(run_case) -> None:
    run_case("TC_057_CS", "cp:composite_start_in_the_past").assert_failed_at(
        "3-4 (GetCompositeSchedule)", "the composite schedule starts -6", "<Configured max time deviation>")


def test_tc_058_1_cs_fault_txprofile_accepted_without_transaction(run_case) -> None:
    run_case("TC_058_1_CS", "cp:txprofile_accepted_without_transaction").assert_failed_at(
        "2", "SetChargingProfile.conf status is 'Accepted' for a TxProfile while no transaction runs")


def test_tc_058_2_cs_fault_wrong_transaction_id_accepted(run_case) -> None:
    run_case("TC_058_2_CS", "cp:wrong_transaction_id_accepted").assert_failed_at(
        "1-2", "SetChargingProfile", "expected 'Rejected', got 'Accepted'")


def test_tc_082_cs_fault_txdefault_ignored_during_transaction(run_case) -> None:
    run_case("TC_082_CS", "cp:txdefault_ignored_during_transaction").assert_failed_at(
        "3-4 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 32 A; the model has 6 A")


def test_tc_066_cs_fault_txdefault_beats_txprofile(run_case) -> None:
    run_case("TC_066_CS", "cp:txdefault_beats_txprofile").assert_failed_at(
        "1-2 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 6 A (3 phases); the model has 8 A",
        "A14 TxProfile vs TxDefault")


def test_tc_066_cs_fault_cpmax_not_capping(run_case) -> None:
    run_case("TC_066_CS", "cp:cpmax_not_capping").assert_failed_at(
        "1-2 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 11 A (3 phases); the model has 10 A")


def test_tc_067_cs_fault_profile_kept_after_clear(run_case) -> None:
    run_case("TC_067_CS", "cp:profile_kept_after_clear").assert_failed_at(
        "3-4 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 6 A (3 phases); the model has 7 A")


def test_tc_067_cs_fault_cpmax_not_capping(run_case) -> None:
    run_case("TC_067_CS", "cp:cpmax_not_capping").assert_failed_at(
        "7-8 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 32 A; the model has 11 A")


def test_tc_072_cs_fault_stack_level_ignored(run_case) -> None:
    run_case("TC_072_CS", "cp:stack_level_ignored").assert_failed_at(
        "1-2 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 6 A (3 phases); the model has 7 A",
        "A4 stack validity")


def test_tc_059_cs_fault_remote_start_profile_ignored(run_case) -> None:
    run_case("TC_059_CS", "cp:remote_start_profile_ignored").assert_failed_at(
        "2-3 (GetCompositeSchedule)", COMPOSITE, "the charge point reports 32 A; the model has 6 A")


def test_tc_060_cs_fault_remote_start_any_purpose_accepted(run_case) -> None:
    run_case("TC_060_CS", "cp:remote_start_any_purpose_accepted").assert_failed_at(
        "2", "RemoteStartTransaction.conf status is 'Accepted'", "TxDefaultProfile")


# -- local authorization list ------------------------------------------------------------------------------
def test_tc_042_1_cs_fault_local_list_wrong_answer_when_unsupported(run_case) -> None:
    run_case("TC_042_1_CS", "cp:local_list_wrong_answer_when_unsupported").assert_failed_at(
        "2", "listVersion is 0 while the local list is disabled; expected -1")


def test_tc_042_2_cs_fault_empty_list_version_reported(run_case) -> None:
    run_case("TC_042_2_CS", "cp:empty_list_version_reported").assert_failed_at(
        "3-4", "listVersion is 1; expected 0")


def test_tc_043_cs_fault_differential_update_failed(run_case) -> None:
    run_case("TC_043_CS", "cp:differential_update_failed").assert_failed_at(
        "3-4", "SendLocalList", "expected 'Accepted', got 'Failed'")


def test_tc_043_1_cs_fault_send_local_list_accepted_when_unsupported(run_case, pytester: pytest.Pytester) -> None:
    run_case("TC_043_1_CS", "cp:send_local_list_accepted_when_unsupported",
             config_dir=_without_local_list(pytester)).assert_failed_at(
        "2", "SendLocalList.conf status is 'Accepted'")


def test_tc_043_2_cs_fault_local_list_version_not_stored(run_case) -> None:
    run_case("TC_043_2_CS", "cp:local_list_version_not_stored").assert_failed_at(
        "3-4", "listVersion is 0; expected 2")


def test_tc_043_2_cs_fault_version_mismatch_not_detected(run_case) -> None:
    run_case("TC_043_2_CS", "cp:version_mismatch_not_detected").assert_failed_at(
        "9-10", "expected 'VersionMismatch', got 'Accepted'")


def test_tc_043_3_cs_fault_oversized_local_list_accepted(run_case) -> None:
    run_case("TC_043_3_CS", "cp:oversized_local_list_accepted").assert_failed_at(
        "1-2", "expected 'Failed', got 'Accepted'")


def test_tc_008_cs_fault_authorize_sent_despite_local_list(run_case) -> None:
    run_case("TC_008_CS", "cp:authorize_sent_despite_local_list").assert_failed_at(
        "9", "must not send Authorize.req", "LocalPreAuthorize is true")


def _without_local_list(pytester: pytest.Pytester):
    """Simulator configs of a charge point without the profile: its config and the simulator's variant say so."""
    return sim_configs(pytester.path, "cp", {"features": ["core", "smart_charging"],
                                             "simulator": {"variants": ["no_local_list"]}})


def test_not_supported_cases_pass_against_a_charge_point_without_local_list(run_case, pytester: pytest.Pytester) -> None:
    """TC_042_1_CS and TC_043_1_CS against the simulator's variant without the feature."""
    run = run_case("TC_042_1_CS,TC_043_1_CS", config_dir=_without_local_list(pytester))
    assert {k: v for k, v in run.outcomes().items() if k != "deselected"} == {"passed": 2}, run.output[-4000:]


def test_tc_043_1_cs_is_skipped_for_a_charge_point_with_the_profile(run_case) -> None:
    """Its prerequisite is a charge point without the profile: never forced on one that has it."""
    run = run_case("TC_043_1_CS", extra_args=("-rs",))
    assert run.outcomes().get("skipped") == 1, run.output[-3000:]
    assert "supports the LocalAuthListManagement profile" in run.output


def test_every_case_has_a_fault_test() -> None:
    names = [name for name in globals() if name.startswith("test_tc_") and "_fault_" in name]
    for tc in SMART_CHARGING + LOCAL_LIST:
        assert any(name.startswith(f"test_{tc.lower()}_fault_") for name in names), tc
