"""The Core TC_xxx_CS cases fail, at the violated step, under the reference charge point's faults.

That every case passes against the reference charge point is the compliance run itself
(``pytest testcases``, also in CI); the cases a variant touches pass in test_variants_cs.

Each row names a case, a fault of the simulator (``--list-faults``), the step the case
must fail at and phrases of the failure a vendor reads.
"""

from __future__ import annotations

import pytest

from conftest import CaseRun, sim_configs

CASES = [
    "TC_001_CS", "TC_002_CS", "TC_003_CS", "TC_004_1_CS", "TC_004_2_CS", "TC_068_CS", "TC_069_CS", "TC_005_1_CS",
    "TC_005_2_CS", "TC_005_3_CS", "TC_007_CS", "TC_061_CS", "TC_010_CS", "TC_011_1_CS", "TC_011_2_CS", "TC_012_CS",
    "TC_026_CS", "TC_027_CS", "TC_028_CS", "TC_013_CS", "TC_014_CS", "TC_015_CS", "TC_016_CS", "TC_017_1_CS",
    "TC_017_2_CS", "TC_018_1_CS", "TC_018_2_CS", "TC_030_CS", "TC_031_CS", "TC_019_CS", "TC_021_CS", "TC_040_1_CS",
    "TC_040_2_CS", "TC_023_CS", "TC_024_CS", "TC_062_CS", "TC_070_CS", "TC_071_CS", "TC_041_CS", "TC_032_1_CS",
    "TC_032_2_CS", "TC_034_CS", "TC_036_CS", "TC_037_1_CS", "TC_037_2_CS", "TC_037_3_CS", "TC_038_CS", "TC_039_CS",
]
FIXED_CABLE_ONLY = {"TC_017_2_CS", "TC_018_2_CS"}  # the reference charge point has a locking connector

def fault(tc_id: str, name: str, step: str, phrases: list[str]) -> tuple[str, str, str, list[str]]:
    """One fault test: ``tc_id`` run with simulator fault ``name`` must fail at ``step`` saying ``phrases``."""
    return tc_id, name, step, phrases


FAULTS = [
    fault("TC_002_CS", "boot_retry_too_early", "7", ["too early", "Pending"]),
    fault("TC_003_CS", "no_preparing_on_plug_in", "1-2", ["status='Preparing'", "did not arrive"]),
    fault("TC_003_CS", "invalid_start_timestamp", "5-8", ["StartTransaction.req breaks the OCPP 1.6 schema", "timestamp"]),
    fault("TC_004_1_CS", "no_start_after_plug_in", "3-6", ["StartTransaction.req", "did not arrive"]),
    fault("TC_004_2_CS", "ignore_connection_timeout", "2-3", ["status='Available'", "did not arrive"]),
    fault("TC_068_CS", "stop_with_any_tag", "1", ["must not send StopTransaction.req"]),
    fault("TC_069_CS", "ignore_parent_id_tag", "3-6", ["StopTransaction.req", "did not arrive"]),
    fault("TC_005_1_CS", "ev_disconnect_reason_local", "1", ["reason is 'Local'", "EVDisconnected"]),
    fault("TC_005_2_CS", "ev_disconnect_reason_local", "1", ["reason is 'Local'", "EVDisconnected"]),
    fault("TC_005_3_CS", "ev_disconnect_always_stops", "1-2", ["SuspendedEV", "got 'Finishing'"]),
    fault("TC_005_3_CS", "ev_disconnect_to_preparing", "1-2", ["forbidden status", "Charging -> Preparing"]),
    fault("TC_007_CS", "cached_id_not_started", "5-8", ["StartTransaction.req", "did not arrive"]),
    fault("TC_061_CS", "clear_cache_rejected", "5-6", ["expected 'Accepted', got 'Rejected'"]),
    fault("TC_010_CS", "remote_start_rejected", "1", ["RemoteStartTransaction.conf", "got 'Rejected'"]),
    fault("TC_011_1_CS", "remote_start_rejected", "3-4", ["RemoteStartTransaction.conf", "got 'Rejected'"]),
    fault("TC_011_2_CS", "ignore_connection_timeout", "9-10", ["status='Available'", "did not arrive"]),
    fault("TC_012_CS", "remote_stop_reason_local", "3", ["reason is 'Local'", "Remote"]),
    fault("TC_026_CS", "remote_start_always_accepted", "1-2", ["expected 'Rejected', got 'Accepted'"]),
    fault("TC_027_CS", "remote_start_always_accepted", "2", ["'Accepted' for connectorId 0"]),
    fault("TC_028_CS", "remote_stop_always_accepted", "1-2", ["expected 'Rejected', got 'Accepted'"]),
    fault("TC_013_CS", "availability_not_persistent", "9-10", ["reported Available", "never reached 'Unavailable'"]),
    fault("TC_014_CS", "availability_not_persistent", "9-10", ["reported Available", "never reached 'Unavailable'"]),
    fault("TC_015_CS", "reset_reason_swapped", "3", ["reason is 'SoftReset'", "HardReset"]),
    fault("TC_016_CS", "reset_reason_swapped", "3", ["reason is 'HardReset'", "SoftReset"]),
    fault("TC_017_1_CS", "unlock_not_supported", "1-2", ["expected 'Unlocked', got 'NotSupported'"]),
    fault("TC_018_1_CS", "unlock_stop_reason_local", "3", ["reason is 'Local'", "UnlockCommand"]),
    fault("TC_030_CS", "unlock_failure_ignored", "1-2", ["expected 'UnlockFailed', got 'Unlocked'"]),
    fault("TC_031_CS", "unlock_unknown_connector_failed", "1-2", ["expected 'NotSupported', got 'UnlockFailed'"]),
    fault("TC_019_CS", "wrong_key_accessibility", "4", ["HeartbeatInterval is reported read-only", "RW"]),
    fault("TC_021_CS", "change_configuration_not_applied", "3-4", ["$.configurationKey", "value"]),
    fault("TC_040_1_CS", "unknown_key_rejected", "1-2", ["expected 'NotSupported', got 'Rejected'"]),
    fault("TC_040_2_CS", "accept_invalid_value", "2", ["'Accepted' for the invalid value -1"]),
    fault("TC_023_CS", "start_despite_invalid", "4", ["must not send StartTransaction.req"]),
    fault("TC_024_CS", "lock_failure_not_reported", "9-10", ["ConnectorLockFailure", "did not arrive"]),
    fault("TC_062_CS", "data_transfer_no_answer", "1-2", ["DataTransfer"]),
    fault("TC_070_CS", "sample_interval_doubled", "3", ["MeterValues.req (Sample.Periodic) due by now arrived"]),
    fault("TC_071_CS", "clock_values_not_aligned", "3", ["off the clock-aligned boundary"]),
    fault("TC_041_CS", "charge_while_faulted", "3", ["must not send StartTransaction.req"]),
    fault("TC_032_1_CS", "power_loss_reason_local", "1", ["reason is 'Local'", "PowerLoss"]),
    fault("TC_032_2_CS", "power_cut_stop_wrong_transaction_id", "5", ["was never issued by the central system"]),
    fault("TC_034_CS", "availability_not_persistent", "7-8", ["reported Available", "never reached 'Unavailable'"]),
    # the field check on every frame names the reversed replay first: the register falls
    fault("TC_036_CS", "offline_meter_values_reversed", "1-2", ["fell from", "MUST increase monotonically"]),
    fault("TC_037_1_CS", "offline_start_lost", "1-4", ["StartTransaction.req", "did not arrive"]),
    fault("TC_037_2_CS", "ignore_invalid_id", "5-6", ["status='SuspendedEVSE'", "did not arrive"]),
    fault("TC_037_3_CS", "ignore_invalid_id", "5-8", ["StopTransaction.req", "did not arrive"]),
    fault("TC_038_CS", "offline_stop_lost", "1-4", ["StopTransaction.req", "did not arrive"]),
    fault("TC_039_CS", "offline_start_lost", "1-2", ["StartTransaction.req", "did not arrive"]),
]


def test_every_core_cs_case_has_a_fault() -> None:
    assert {tc for tc, *_ in FAULTS} | {"TC_001_CS"} | FIXED_CABLE_ONLY == set(CASES)


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULTS,
                         ids=[f"{tc.lower()}-fault-{fault}" for tc, fault, *_ in FAULTS])
def test_core_cs_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str, phrases: list[str]) -> None:
    run_case(tc_id, f"cp:{fault}").assert_failed_at(step, *phrases)


# -- the fixed-cable cases, against the simulator's fixed-cable variant -----------------------------------
def _run_fixed_cable(run_case, pytester: pytest.Pytester, tc_id: str, *faults: str) -> CaseRun:
    """Against the simulator's variant fixed_cable; the SUT config says so too (extra.fixed_cable)."""
    config_dir = sim_configs(pytester.path, "cp", {"extra": {"fixed_cable": True}, "simulator": {"variants": ["fixed_cable"]}})
    return run_case(tc_id, *(f"cp:{fault}" for fault in faults), config_dir=config_dir)


def test_fixed_cable_cases_pass_against_a_fixed_cable_charge_point(run_case, pytester) -> None:
    run = _run_fixed_cable(run_case, pytester, ",".join(sorted(FIXED_CABLE_ONLY)))
    assert {k: v for k, v in run.outcomes().items() if k != "deselected"} == {"passed": 2}, run.output[-4000:]


@pytest.mark.parametrize("tc_id", [
    pytest.param("TC_017_2_CS", id="tc_017_2_cs-fault-unlock_fixed_cable"),
    pytest.param("TC_018_2_CS", id="tc_018_2_cs-fault-unlock_fixed_cable"),
])
def test_fixed_cable_case_fault_fails_at_the_violated_step(run_case, pytester, tc_id: str) -> None:
    _run_fixed_cable(run_case, pytester, tc_id, "unlock_fixed_cable").assert_failed_at(
        "1-2", "expected 'NotSupported', got 'Unlocked'")
