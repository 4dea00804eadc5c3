"""The Smart Charging and Local Auth List TC_xxx_CS cases pass against the reference charge point and fail,
at the violated step, under its faults.

Each ``test_tc_<id>_fault_<fault>`` runs one case against the simulator with one named
fault (``python -m harness.simulators.charge_point --list-faults``) and checks that the
case fails at the step the fault breaks, with words a vendor can act on.
"""

from __future__ import annotations

import pytest


SMART_CHARGING = ["TC_056_CS", "TC_057_CS", "TC_058_1_CS", "TC_058_2_CS", "TC_082_CS", "TC_066_CS", "TC_067_CS",
                  "TC_072_CS", "TC_059_CS", "TC_060_CS"]
LOCAL_LIST = ["TC_042_1_CS", "TC_042_2_CS", "TC_043_CS", "TC_043_1_CS", "TC_043_2_CS", "TC_043_3_CS", "TC_008_CS"]
COMPOSITE = "the composite schedule is not what the installed charging profiles give"


def test_all_smart_charging_and_local_list_cs_cases_pass_against_the_reference_charge_point(run_case) -> None:
    run = run_case(",".join(SMART_CHARGING + LOCAL_LIST))
    outcomes = {k: v for k, v in run.outcomes().items() if k != "deselected"}
    assert outcomes == {"passed": len(SMART_CHARGING + LOCAL_LIST)}, run.output[-6000:]


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


def test_tc_043_1_cs_fault_local_list_wrong_answer_when_unsupported(run_case) -> None:
    run_case("TC_043_1_CS", "cp:local_list_wrong_answer_when_unsupported").assert_failed_at(
        "2", "SendLocalList.conf status is 'Accepted' while the local list is disabled")


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
        "9", "Authorize.req for idTag", "in the local list it accepted", "LocalPreAuthorize")


def test_not_supported_cases_pass_against_a_charge_point_without_local_list(run_case, monkeypatch: pytest.MonkeyPatch) -> None:
    """TC_042_1_CS and TC_043_1_CS against the simulator without the feature (OCPP_SIM_CP_NO_LOCAL_LIST=1)."""
    monkeypatch.setenv("OCPP_SIM_CP_NO_LOCAL_LIST", "1")
    run = run_case("TC_042_1_CS,TC_043_1_CS")
    assert {k: v for k, v in run.outcomes().items() if k != "deselected"} == {"passed": 2}, run.output[-4000:]


def test_every_case_has_a_fault_test() -> None:
    names = [name for name in globals() if name.startswith("test_tc_") and "_fault_" in name]
    for tc in SMART_CHARGING + LOCAL_LIST:
        assert any(name.startswith(f"test_{tc.lower()}_fault_") for name in names), tc
