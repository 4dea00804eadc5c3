"""Permitted behaviour passes: every TC_xxx_CS case a variant of the reference charge point touches passes against it.

A variant (``python -m harness.simulators.charge_point --list-variants``) is a path OCPP 1.6
or the OCTT document permits that the default simulator does not take. A harness that
failed one would judge by a reading the spec does not make (issue "Verdicts a vendor can
trust"). Beside them: one failed case does not fail the next (its state is restored), and
a case that cannot reach OCTT's common state is a setup error, not a failure.
"""

from __future__ import annotations

import pytest

from conftest import sim_configs

#: cases with a transaction started and stopped online
TRANSACTIONS = ["TC_003_CS", "TC_004_1_CS", "TC_068_CS", "TC_069_CS", "TC_005_1_CS", "TC_005_2_CS", "TC_005_3_CS",
                "TC_007_CS", "TC_010_CS", "TC_011_1_CS", "TC_012_CS", "TC_026_CS", "TC_028_CS", "TC_015_CS", "TC_016_CS",
                "TC_018_1_CS", "TC_032_1_CS", "TC_032_2_CS", "TC_057_CS", "TC_066_CS", "TC_008_CS"]
#: cases that stop a transaction
STOPS = ["TC_068_CS", "TC_069_CS", "TC_005_1_CS", "TC_005_2_CS", "TC_005_3_CS", "TC_012_CS", "TC_015_CS", "TC_016_CS",
         "TC_018_1_CS", "TC_032_1_CS", "TC_032_2_CS", "TC_037_3_CS", "TC_038_CS", "TC_039_CS"]
#: cases that go offline with transaction messages queued
OFFLINE = ["TC_036_CS", "TC_037_1_CS", "TC_037_2_CS", "TC_037_3_CS", "TC_038_CS", "TC_039_CS"]
#: cases whose Before section sets a key the variant answers RebootRequired / NotSupported for
CONFIGURED = ["TC_005_1_CS", "TC_005_2_CS", "TC_005_3_CS", "TC_023_CS", "TC_037_1_CS", "TC_037_2_CS", "TC_037_3_CS",
              "TC_039_CS"]
#: every charge-point case with a manual step whose reaction a step claims
ACTUATED = ["TC_003_CS", "TC_004_1_CS", "TC_004_2_CS", "TC_023_CS", "TC_024_CS", "TC_061_CS", "TC_068_CS", "TC_069_CS",
            "TC_005_1_CS", "TC_030_CS", "TC_041_CS", "TC_034_CS", "TC_032_1_CS", "TC_037_1_CS", "TC_038_CS", "TC_039_CS",
            "TC_036_CS", "TC_008_CS"]

#: every smart-charging case of a charge point under test, and the case that asks in W
SMART = ["TC_056_CS", "TC_057_CS", "TC_058_1_CS", "TC_058_2_CS", "TC_082_CS", "TC_066_CS", "TC_067_CS", "TC_072_CS",
         "TC_059_CS", "TC_060_CS", "RPC_017_CS"]

VARIANTS = [
    ("suspended_ev_before_charging", TRANSACTIONS),
    ("suspended_ev_before_finishing", TRANSACTIONS),
    ("repeated_status", TRANSACTIONS + ["TC_001_CS", "TC_013_CS", "TC_034_CS", "TC_041_CS", "TC_024_CS"]),
    ("finishing_before_stop", STOPS),
    ("status_before_offline_replay", OFFLINE),
    # TC_010 leaves the tag in the cache; with LocalPreAuthorize on, TC_003/TC_061/TC_023 need the common state's empty cache
    ("authorize_from_cache", ["TC_010_CS", "TC_003_CS", "TC_061_CS", "TC_023_CS", "TC_007_CS", "TC_069_CS"]),
    ("late_actuator", ACTUATED),
    ("reboot_required", CONFIGURED),
    ("optional_keys_missing", CONFIGURED),
]



@pytest.mark.parametrize(("variant", "cases"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_every_case_a_variant_touches_passes_against_it(run_case, variant: str, cases: list[str]) -> None:
    run_case(",".join(cases), variants=(f"cp:{variant}",)).assert_only_passed(len(cases))


@pytest.mark.parametrize(("variant", "extra"), [
    ("decimal_limits", {"charge_point_max_limit": 31.7}),  # its own maximum is 31.7 A, and its config says so
    ("power_only", {"charging_rate_unit": "W"}),  # schedules in W only, and its config asks in W
], ids=["decimal_limits", "power_only"])
def test_another_kind_of_smart_charger_passes_every_smart_charging_case_when_configured_as_it_is(
        run_case, pytester: pytest.Pytester, variant: str, extra: dict) -> None:
    config_dir = sim_configs(pytester.path, "cp", {"extra": extra, "simulator": {"variants": [variant]}})
    run_case(",".join(SMART), config_dir=config_dir).assert_only_passed(len(SMART))


def test_a_unit_the_charge_point_does_not_allow_is_a_setup_error_before_the_first_step(run_case) -> None:
    """Class 6: the config asks in A, the charge point allows only Power: named in setup, not Rejected mid-case."""
    run = run_case("TC_056_CS,TC_066_CS", variants=("cp:power_only",))
    outcomes = run.outcomes()
    assert outcomes.get("errors", outcomes.get("error")) == 2 and not outcomes.get("failed"), run.output[-6000:]
    assert "ChargingScheduleAllowedChargingRateUnit is 'Power'" in run.output
    assert "set extra.charging_rate_unit to W" in run.output
    assert '"SetChargingProfile"' not in run.output  # before the first step: no profile was sent


def test_a_slow_operator_fails_no_case(run_case, pytester: pytest.Pytester) -> None:
    """The actuation API answers later than the step timeout and the hold time of unclaimed CALLs (3 s).

    The operator's confirmation is late, the charge point has long reacted: the steps must
    claim its CALLs anyway and count their timeouts from when the manual step began. (The
    same code path as a 30 s operator, with a delay the suite can afford.)
    """
    config_dir = sim_configs(pytester.path, "cp", {"simulator": {"variants": ["slow_operator"],
                                                                 "options": {"slow_operator_delay": 4.5}}})
    cases = ["TC_003_CS", "TC_023_CS", "TC_069_CS", "TC_038_CS"]
    run = run_case(",".join(cases), config_dir=config_dir, step_timeout=4.0, extra_args=("--ocpp-test-timeout", "240"))
    run.assert_only_passed(len(cases))


def test_a_failed_case_leaves_nothing_behind_for_the_next(run_case) -> None:
    """TC_005_3_CS fails mid-transaction (a forbidden status); the cases after it still start from the common state."""
    run = run_case("TC_005_3_CS,TC_003_CS,TC_068_CS", "cp:ev_disconnect_to_preparing")
    outcomes = {k: v for k, v in run.outcomes().items() if k != "deselected"}
    assert outcomes == {"failed": 1, "passed": 2}, run.output[-6000:]
    assert "FAILED" in run.output and "test_tc_005_3_cs" in run.output


def test_a_case_that_cannot_reach_the_common_state_is_an_error_not_a_failure(run_case) -> None:
    """A charge point that never leaves Faulted after a case cannot give the next one its start: a setup error."""
    run = run_case("TC_041_CS,TC_003_CS", "cp:fault_never_clears")
    outcomes = run.outcomes()
    assert outcomes.get("errors", outcomes.get("error")) and not outcomes.get("failed"), run.output[-6000:]
    assert "common state" in run.output
