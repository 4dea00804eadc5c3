"""The Core TC_xxx_CSMS cases pass against the reference central system and fail, at the violated step, under its faults.

Each ``test_tc_<id>_fault_<fault>`` runs one case against the simulator with one named
fault (``python -m harness.simulators.central_system --list-faults``) and checks that the
case fails at the step the fault breaks, with words a vendor can act on. A fault whose
rule neither the catalog step nor the spec requires in one case is a warning there: the
case passes, and fails only with ``strict: true`` (the permitted alternatives themselves
are proven in ``test_variants_csms.py``).
"""

from __future__ import annotations

from conftest import sim_configs

CORE_CSMS = [
    "TC_001_CSMS", "TC_003_CSMS", "TC_004_1_CSMS", "TC_004_2_CSMS", "TC_005_1_CSMS", "TC_007_CSMS", "TC_061_CSMS",
    "TC_010_CSMS", "TC_011_1_CSMS", "TC_011_2_CSMS", "TC_012_CSMS", "TC_013_CSMS", "TC_014_CSMS", "TC_017_1_CSMS",
    "TC_017_2_CSMS", "TC_018_1_CSMS", "TC_019_1_CSMS", "TC_019_2_CSMS", "TC_021_CSMS", "TC_023_1_CSMS",
    "TC_023_2_CSMS", "TC_023_3_CSMS", "TC_024_CSMS", "TC_026_CSMS", "TC_028_CSMS", "TC_030_CSMS", "TC_031_CSMS",
    "TC_032_1_CSMS", "TC_037_1_CSMS", "TC_037_3_CSMS", "TC_039_CSMS", "TC_040_1_CSMS", "TC_040_2_CSMS", "TC_064_CSMS",
]

SCHEMA = "breaks the OCPP 1.6 schema"


def test_duplicate_transaction_ids_of_stopped_transactions_are_only_a_warning(run_case) -> None:
    """Errata 3.54 only RECOMMENDS unique ids: reuse after the stop warns (strict mode fails)."""
    run = run_case("TC_003_CSMS,TC_007_CSMS", "cs:duplicate_transaction_id")
    assert run.outcomes().get("passed") == 2, run.output[-4000:]
    assert "reuses the id of an earlier, stopped transaction" in run.output, run.output[-4000:]


# -- boot, heartbeat, reset, power loss ------------------------------------------------------------------
def test_tc_001_csms_fault_boot_interval_zero(run_case) -> None:
    run_case("TC_001_CSMS", "cs:boot_interval_zero").assert_failed_at("1-4 (BootNotification.conf)", "interval is 0")


def test_tc_013_csms_fault_reset_wrong_type(run_case) -> None:
    run_case("TC_013_CSMS", "cs:reset_wrong_type").assert_failed_at("1-2", "expected Reset.req with type='Hard'", "'Soft'")


def test_tc_013_csms_fault_boot_pending_after_reset(run_case) -> None:
    run_case("TC_013_CSMS", "cs:boot_pending_after_reset").assert_failed_at(
        "3-4 (BootNotification)", "$.status: expected 'Accepted', got 'Pending'")


def test_tc_014_csms_fault_reset_wrong_type(run_case) -> None:
    run_case("TC_014_CSMS", "cs:reset_wrong_type").assert_failed_at("1-2", "expected Reset.req with type='Soft'", "'Hard'")


def test_tc_014_csms_fault_boot_pending_after_reset(run_case) -> None:
    run_case("TC_014_CSMS", "cs:boot_pending_after_reset").assert_failed_at(
        "3-4 (BootNotification)", "$.status: expected 'Accepted', got 'Pending'")


def test_tc_032_1_csms_fault_boot_closes_transactions(run_case) -> None:
    run_case("TC_032_1_CSMS", "cs:boot_closes_transactions").assert_failed_at(
        "5-6", "StopTransaction.req was answered with CALLERROR PropertyConstraintViolation", "cannot refuse")


# -- sessions ------------------------------------------------------------------------------------------------
def test_tc_003_csms_fault_start_tx_no_transaction_id(run_case) -> None:
    run_case("TC_003_CSMS", "cs:start_tx_no_transaction_id").assert_failed_at(
        "5-6", f"StartTransaction.conf {SCHEMA}", "transactionId")


def test_tc_004_1_csms_fault_start_tx_no_transaction_id(run_case) -> None:
    run_case("TC_004_1_CSMS", "cs:start_tx_no_transaction_id").assert_failed_at(
        "1 (Charging 3-4: StartTransaction)", f"StartTransaction.conf {SCHEMA}", "transactionId")


def test_tc_004_2_csms_fault_status_preparing_to_available_callerror(run_case) -> None:
    run_case("TC_004_2_CSMS", "cs:status_preparing_to_available_callerror").assert_failed_at(
        "3-4", "StatusNotification.req was answered with CALLERROR InternalError")


def test_tc_005_1_csms_fault_stop_tx_callerror(run_case) -> None:
    run_case("TC_005_1_CSMS", "cs:stop_tx_callerror").assert_failed_at(
        "3-4", "StopTransaction.req was answered with CALLERROR InternalError", "cannot refuse")


def test_tc_007_csms_fault_start_tx_requires_authorize(run_case) -> None:
    run_case("TC_007_CSMS", "cs:start_tx_requires_authorize").assert_failed_at(
        "3-4", "idTagInfo.status must be Accepted, got 'Invalid'")


def test_tc_011_2_csms_fault_status_preparing_to_available_callerror(run_case) -> None:
    run_case("TC_011_2_CSMS", "cs:status_preparing_to_available_callerror").assert_failed_at(
        "7-8", "StatusNotification.req was answered with CALLERROR InternalError")


def test_tc_018_1_csms_fault_stop_tx_callerror(run_case) -> None:
    run_case("TC_018_1_CSMS", "cs:stop_tx_callerror").assert_failed_at(
        "5-6", "StopTransaction.req was answered with CALLERROR InternalError")


def test_tc_024_csms_fault_status_lock_failure_callerror(run_case) -> None:
    run_case("TC_024_CSMS", "cs:status_lock_failure_callerror").assert_failed_at(
        "3-4", "StatusNotification.req was answered with CALLERROR PropertyConstraintViolation")


# -- authorization -------------------------------------------------------------------------------------------
def test_tc_023_1_csms_fault_authorize_accepts_invalid(run_case) -> None:
    run_case("TC_023_1_CSMS", "cs:authorize_accepts_invalid").assert_failed_at(
        "1-2", "idTagInfo.status must be Invalid, got 'Accepted'")


def test_tc_023_2_csms_fault_expired_tag_accepted(run_case) -> None:
    run_case("TC_023_2_CSMS", "cs:expired_tag_accepted").assert_failed_at(
        "1-2", "idTagInfo.status must be Expired, got 'Accepted'")


def test_tc_023_3_csms_fault_blocked_tag_accepted(run_case) -> None:
    run_case("TC_023_3_CSMS", "cs:blocked_tag_accepted").assert_failed_at(
        "1-2", "idTagInfo.status must be Blocked, got 'Accepted'")


# -- offline ---------------------------------------------------------------------------------------------------
def test_tc_037_1_csms_fault_rejects_offline_old_timestamps(run_case) -> None:
    run_case("TC_037_1_CSMS", "cs:rejects_offline_old_timestamps").assert_failed_at(
        "1-2", "StartTransaction.req was answered with CALLERROR PropertyConstraintViolation")


def test_tc_037_3_csms_fault_start_tx_accepts_invalid(run_case) -> None:
    run_case("TC_037_3_CSMS", "cs:start_tx_accepts_invalid").assert_failed_at(
        "1-2", "idTagInfo.status must be Invalid, got 'Accepted'")


def test_tc_039_csms_fault_rejects_offline_old_timestamps(run_case) -> None:
    run_case("TC_039_CSMS", "cs:rejects_offline_old_timestamps").assert_failed_at(
        "1-2", "StartTransaction.req was answered with CALLERROR PropertyConstraintViolation")


# -- remote actions ----------------------------------------------------------------------------------------------
def test_tc_010_csms_fault_remote_start_missing_id_tag(run_case) -> None:
    run_case("TC_010_CSMS", "cs:remote_start_missing_id_tag").assert_failed_at(
        "3-4", f"RemoteStartTransaction.req {SCHEMA}", "idTag")


def test_tc_011_1_csms_fault_remote_start_missing_id_tag(run_case) -> None:
    run_case("TC_011_1_CSMS", "cs:remote_start_missing_id_tag").assert_failed_at(
        "1-2", f"RemoteStartTransaction.req {SCHEMA}", "idTag")


def test_tc_026_csms_fault_remote_start_missing_id_tag(run_case) -> None:
    run_case("TC_026_CSMS", "cs:remote_start_missing_id_tag").assert_failed_at(
        "1-2", f"RemoteStartTransaction.req {SCHEMA}", "idTag")


def test_tc_012_csms_fault_remote_stop_wrong_transaction_id(run_case) -> None:
    run_case("TC_012_CSMS", "cs:remote_stop_wrong_transaction_id").assert_failed_at(
        "1-2", "expected RemoteStopTransaction.req with transactionId=", "$.transactionId")


def test_tc_028_csms_fault_remote_stop_not_sent(run_case) -> None:
    run_case("TC_028_CSMS", "cs:remote_stop_not_sent").assert_failed_at(
        "1-2", "expected RemoteStopTransaction.req", "did not arrive")


def test_tc_028_csms_remote_stop_of_another_transaction_is_a_warning_and_fails_strict(run_case, pytester) -> None:
    """TC_028 names no transaction and Rejected answers an unknown id too: a warning (TC_012, which needs
    Accepted, still fails above)."""
    run = run_case("TC_028_CSMS", "cs:remote_stop_wrong_transaction_id")
    assert run.outcomes().get("passed") == 1, run.output[-4000:]
    assert "RemoteStopTransaction.req names transactionId" in run.output, run.output[-4000:]
    run_case("TC_028_CSMS", "cs:remote_stop_wrong_transaction_id",
             config_dir=sim_configs(pytester.path, "cs", {"strict": True})).assert_failed_at(
        "1-2", "RemoteStopTransaction.req names transactionId", "the operator asked to stop the running transaction",
        "strict: true")


def test_tc_061_csms_fault_clear_cache_not_sent(run_case) -> None:
    run_case("TC_061_CSMS", "cs:clear_cache_not_sent").assert_failed_at("1-2", "expected ClearCache.req", "did not arrive")


# -- unlock ------------------------------------------------------------------------------------------------------
# The catalog names no connector: another one than the operator asked for is a warning (variant
# unlock_other_connector); connectorId 0 breaks spec 6.53 (connectorId > 0) in every unlock case.
def test_tc_017_1_csms_fault_unlock_connector_zero(run_case) -> None:
    run_case("TC_017_1_CSMS", "cs:unlock_connector_zero").assert_failed_at(
        "1-2", "UnlockConnector.req names connectorId 0", "a connector of the charge point")


def test_tc_017_2_csms_fault_unlock_connector_zero(run_case) -> None:
    run_case("TC_017_2_CSMS", "cs:unlock_connector_zero").assert_failed_at(
        "1-2", "UnlockConnector.req names connectorId 0", "a connectorId > 0")


def test_tc_018_1_csms_fault_unlock_connector_zero(run_case) -> None:
    run_case("TC_018_1_CSMS", "cs:unlock_connector_zero").assert_failed_at(
        "1-2", "UnlockConnector.req names connectorId 0", "the connector of the running transaction")


def test_tc_030_csms_fault_unlock_connector_zero(run_case) -> None:
    run_case("TC_030_CSMS", "cs:unlock_connector_zero").assert_failed_at(
        "1-2", "UnlockConnector.req names connectorId 0", "a connector of the charge point")


def test_tc_031_csms_fault_unlock_connector_zero(run_case) -> None:
    run_case("TC_031_CSMS", "cs:unlock_connector_zero").assert_failed_at(
        "1-2", "UnlockConnector.req names connectorId 0", "an unknown connector")


# -- configuration -----------------------------------------------------------------------------------------------
def test_tc_019_1_csms_fault_get_configuration_empty_key_string(run_case) -> None:
    run_case("TC_019_1_CSMS", "cs:get_configuration_empty_key_string").assert_failed_at(
        "1-2", "asks for keys ['']", "absent or empty")


def test_tc_019_2_csms_fault_get_configuration_ignores_keys(run_case) -> None:
    run_case("TC_019_2_CSMS", "cs:get_configuration_ignores_keys").assert_failed_at(
        "1-2", "expected GetConfiguration.req with key=['SupportedFeatureProfiles']", "$.key: missing")


def test_tc_021_csms_fault_change_configuration_value_not_string(run_case) -> None:
    run_case("TC_021_CSMS", "cs:change_configuration_value_not_string").assert_failed_at(
        "1-2", f"ChangeConfiguration.req {SCHEMA}", "$.value")


def test_tc_040_1_csms_fault_change_configuration_only_known_keys(run_case) -> None:
    run_case("TC_040_1_CSMS", "cs:change_configuration_only_known_keys").assert_failed_at(
        "1-2", "expected ChangeConfiguration.req", "did not arrive", "unknown configuration key 'Testing'")


def test_tc_040_2_csms_fault_change_configuration_validates_values(run_case) -> None:
    run_case("TC_040_2_CSMS", "cs:change_configuration_validates_values").assert_failed_at(
        "1-2", "expected ChangeConfiguration.req with key='MeterValueSampleInterval', value='-1'", "did not arrive",
        "must not be negative")


# -- data transfer -----------------------------------------------------------------------------------------------
def test_tc_064_csms_fault_data_transfer_wrong_status(run_case) -> None:
    run_case("TC_064_CSMS", "cs:data_transfer_wrong_status").assert_failed_at(
        "1-2", f"DataTransfer.conf {SCHEMA}", "NotKnown")
