"""The Reservation TC_xxx_CSMS cases pass against the reference central system and its variants, and fail, at the
violated step, under its faults.

Each ``test_tc_<id>_fault_<fault>`` runs one case against the simulator with one named fault
(``python -m harness.simulators.central_system --list-faults``) and checks that the case fails at
the step the fault breaks, with words a vendor can act on.
"""

from __future__ import annotations

import pytest

from conftest import sim_configs

RESERVATION_CSMS = ["TC_046_CSMS", "TC_047_CSMS", "TC_048_1_CSMS", "TC_048_2_CSMS", "TC_048_3_CSMS", "TC_048_4_CSMS",
                    "TC_049_CSMS", "TC_051_CSMS", "TC_052_CSMS", "TC_053_CSMS"]
#: permitted paths of the reference central system, and the cases each touches
VARIANTS = [
    ("reserve_now_with_parent_id_tag", RESERVATION_CSMS),
    ("own_reservation_ids", ["TC_046_CSMS", "TC_051_CSMS", "TC_052_CSMS", "TC_053_CSMS"]),
    ("cancel_before_expiry", ["TC_047_CSMS"]),
    ("late_actuator", RESERVATION_CSMS),
]
CONNECTOR = "expected ReserveNow.req with connectorId="



@pytest.mark.parametrize(("variant", "cases"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_every_reservation_case_a_variant_touches_passes_against_it(run_case, variant: str, cases: list[str]) -> None:
    run = run_case(",".join(cases), variants=(f"cs:{variant}",))
    assert run.verdicts() == {"passed": len(cases)}, run.output[-6000:]


def test_tc_047_csms_cancel_before_expiry_is_a_warning_and_fails_strict(run_case, pytester: pytest.Pytester) -> None:
    """A central system may cancel a reservation at any time (spec 5.1); the case expects it to expire."""
    run_case("TC_047_CSMS", variants=("cs:cancel_before_expiry",),
             config_dir=sim_configs(pytester.path, "cs", {"strict": True})).assert_failed_at(
        "5", "cancelled reservation", "before its expiryDate", "strict: true")


# -- reservation of a connector ----------------------------------------------------------------------------------
def test_tc_046_csms_fault_reserve_now_wrong_connector(run_case) -> None:
    run_case("TC_046_CSMS", "cs:reserve_now_wrong_connector").assert_failed_at(
        "1-2", CONNECTOR + "1", "$.connectorId: expected 1, got 2")


def test_tc_047_csms_fault_reserve_now_expiry_in_past(run_case) -> None:
    run_case("TC_047_CSMS", "cs:reserve_now_expiry_in_past").assert_failed_at(
        "1-2", "is not after the current time", "a charge point answers Rejected")


def test_tc_047_csms_fault_reserve_now_expiry_ignored(run_case) -> None:
    run_case("TC_047_CSMS", "cs:reserve_now_expiry_ignored").assert_failed_at(
        "1-2", "off the current time + 2s (<Configured Expiry Date Offset>)", "timeouts.clock_deviation")


def test_tc_048_1_csms_fault_reserve_now_missing_id_tag(run_case) -> None:
    run_case("TC_048_1_CSMS", "cs:reserve_now_missing_id_tag").assert_failed_at(
        "1-2", "ReserveNow.req breaks the OCPP 1.6 schema", "'idTag' is a required property")


def test_tc_048_2_csms_fault_reserve_now_wrong_connector(run_case) -> None:
    run_case("TC_048_2_CSMS", "cs:reserve_now_wrong_connector").assert_failed_at(
        "3-4", CONNECTOR + "1", "$.connectorId: expected 1, got 2")


def test_tc_048_3_csms_fault_reserve_now_wrong_connector(run_case) -> None:
    run_case("TC_048_3_CSMS", "cs:reserve_now_wrong_connector").assert_failed_at(
        "5-6", CONNECTOR + "1", "$.connectorId: expected 1, got 2")


def test_tc_048_4_csms_fault_reserve_now_missing_id_tag(run_case) -> None:
    run_case("TC_048_4_CSMS", "cs:reserve_now_missing_id_tag").assert_failed_at(
        "1-2", "ReserveNow.req breaks the OCPP 1.6 schema")


# -- reservation of the charge point, cancel, parentIdTag -----------------------------------------------------------
def test_tc_049_csms_fault_reserve_now_wrong_connector(run_case) -> None:
    run_case("TC_049_CSMS", "cs:reserve_now_wrong_connector").assert_failed_at(
        "1-2", CONNECTOR + "0", "$.connectorId: expected 0, got 1")


def test_tc_051_csms_fault_cancel_reservation_wrong_id(run_case) -> None:
    run_case("TC_051_CSMS", "cs:cancel_reservation_wrong_id").assert_failed_at(
        "5-6", "expected CancelReservation.req with reservationId=", "$.reservationId: expected")


def test_tc_052_csms_fault_cancel_reservation_latest(run_case) -> None:
    run_case("TC_052_CSMS", "cs:cancel_reservation_latest").assert_failed_at(
        "5-6", "a reservationId other than", "(step 1's)")


def test_tc_053_csms_fault_reserve_now_without_parent_id_tag(run_case) -> None:
    run_case("TC_053_CSMS", "cs:reserve_now_without_parent_id_tag").assert_failed_at(
        "1-2", "parentIdTag='PARENT_TAG' (case-insensitive)", "$.parentIdTag: missing")


def test_every_case_has_a_fault_test() -> None:
    names = [name for name in globals() if name.startswith("test_tc_") and "_fault_" in name]
    for tc in RESERVATION_CSMS:
        assert any(name.startswith(f"test_{tc.lower()}_fault_") for name in names), tc
