"""The Smart Charging and Local Auth List TC_xxx_CSMS cases pass against the reference central system
and fail, at the violated step, under its faults.

Each ``test_tc_<id>_fault_<fault>`` runs one case against the simulator with one named
fault (``python -m harness.simulators.central_system --list-faults``) and checks that the
case fails at the step the fault breaks, with words a vendor can act on. What used to be
the faults relative_with_start_schedule, not_supported_ignored and
failed_retried_as_differential is allowed by the catalog and the spec: those are variants
now (warnings), proven in ``test_variants_csms.py``.
"""

from __future__ import annotations

SC_LAL_CSMS = [
    "TC_056_CSMS", "TC_057_CSMS", "TC_066_CSMS", "TC_067_CSMS", "TC_059_CSMS",
    "TC_042_1_CSMS", "TC_042_2_CSMS", "TC_043_1_CSMS", "TC_043_3_CSMS", "TC_043_4_CSMS", "TC_043_5_CSMS",
]


# -- smart charging ----------------------------------------------------------------------------------------
def test_tc_056_csms_fault_unit_not_allowed(run_case) -> None:
    run_case("TC_056_CSMS", "cs:unit_not_allowed").assert_failed_at(
        "1-2", "SetChargingProfile.req", "chargingRateUnit W not in ChargingScheduleAllowedChargingRateUnit ['A']")


def test_tc_056_csms_fault_stack_level_too_high(run_case) -> None:
    run_case("TC_056_CSMS", "cs:stack_level_too_high").assert_failed_at(
        "1-2", "stackLevel 1000 outside 0..ChargeProfileMaxStackLevel=8")


def test_tc_056_csms_fault_cpmax_on_connector(run_case) -> None:
    run_case("TC_056_CSMS", "cs:cpmax_on_connector").assert_failed_at(
        "1-2", "ChargePointMaxProfile only allowed on connectorId 0, got 1")


def test_tc_057_csms_fault_txprofile_without_transaction_id(run_case) -> None:
    run_case("TC_057_CSMS", "cs:txprofile_without_transaction_id").assert_failed_at(
        "1-2", "$.csChargingProfiles.transactionId: missing")


def test_tc_057_csms_fault_txprofile_wrong_transaction_id(run_case) -> None:
    run_case("TC_057_CSMS", "cs:txprofile_wrong_transaction_id").assert_failed_at(
        "1-2", "$.csChargingProfiles.transactionId: expected", "!= running transaction")


def test_tc_066_csms_fault_composite_wrong_connector(run_case) -> None:
    run_case("TC_066_CSMS", "cs:composite_wrong_connector").assert_failed_at(
        "1-2", "expected GetCompositeSchedule.req with connectorId=1", "$.connectorId: expected 1, got 2")


def test_tc_067_csms_fault_clear_profile_wrong_id(run_case) -> None:
    run_case("TC_067_CSMS", "cs:clear_profile_wrong_id").assert_failed_at(
        "3-4", "expected ClearChargingProfile.req with id=")


def test_tc_067_csms_fault_stack_level_too_high(run_case) -> None:
    run_case("TC_067_CSMS", "cs:stack_level_too_high").assert_failed_at(
        "1-2 (profile 1)", "outside 0..ChargeProfileMaxStackLevel=8")


def test_tc_059_csms_fault_remote_start_profile_with_transaction_id(run_case) -> None:
    run_case("TC_059_CSMS", "cs:remote_start_profile_with_transaction_id").assert_failed_at(
        "1-2", "RemoteStartTransaction profile must not carry a transactionId")


# -- local authorization list ----------------------------------------------------------------------------------
def test_tc_042_1_csms_fault_get_local_list_version_not_sent(run_case) -> None:
    run_case("TC_042_1_CSMS", "cs:get_local_list_version_not_sent").assert_failed_at(
        "1-2", "expected GetLocalListVersion.req", "did not arrive")


def test_tc_042_2_csms_fault_get_local_list_version_not_sent(run_case) -> None:
    run_case("TC_042_2_CSMS", "cs:get_local_list_version_not_sent").assert_failed_at(
        "1-2", "expected GetLocalListVersion.req", "did not arrive")


def test_tc_043_1_csms_fault_entry_without_id_tag_info_in_full(run_case) -> None:
    run_case("TC_043_1_CSMS", "cs:entry_without_id_tag_info_in_full").assert_failed_at(
        "1-2", "entries without idTagInfo: ['VALID_TAG_1']", "spec 7.1: required in a Full list")


def test_tc_043_3_csms_fault_local_list_too_long(run_case) -> None:
    run_case("TC_043_3_CSMS", "cs:local_list_too_long").assert_failed_at(
        "1-2", "21 entries exceed the charge point's SendLocalListMaxLength 20")


def test_tc_043_4_csms_fault_entry_without_id_tag_info_in_full(run_case) -> None:
    run_case("TC_043_4_CSMS", "cs:entry_without_id_tag_info_in_full").assert_failed_at(
        "1-2", "entries without idTagInfo: ['VALID_TAG_1']")


def test_tc_043_4_csms_fault_local_list_too_long(run_case) -> None:
    run_case("TC_043_4_CSMS", "cs:local_list_too_long").assert_failed_at("1-2", "exceed the charge point's SendLocalListMaxLength")


def test_tc_043_5_csms_fault_differential_sent_as_full(run_case) -> None:
    run_case("TC_043_5_CSMS", "cs:differential_sent_as_full").assert_failed_at(
        "3-4", "updateType is Full; the step requires Differential")


def test_tc_043_5_csms_fault_local_list_version_not_increased(run_case) -> None:
    run_case("TC_043_5_CSMS", "cs:local_list_version_not_increased").assert_failed_at(
        "3-4", "is not higher than the charge point's current version")
