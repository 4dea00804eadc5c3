"""The Reservation TC_xxx_CS cases pass against the reference charge point and its variants, and fail, at the
violated step, under its faults.

Each ``test_tc_<id>_fault_<fault>`` runs one case against the simulator with one named fault
(``python -m harness.simulators.charge_point --list-faults``) and checks that the case fails at
the step the fault breaks, with words a vendor can act on. TC_048_4_CS and TC_050_4_CS need a
charge point without the profile: they are skipped for the reference one (which has it) and
run against its variants ``no_reservation`` / ``reservation_not_implemented``.
"""

from __future__ import annotations

import pytest

from conftest import sim_configs

RESERVATION_CS = ["TC_046_1_CS", "TC_046_2_CS", "TC_047_CS", "TC_048_1_CS", "TC_048_2_CS", "TC_048_3_CS", "TC_049_CS",
                  "TC_050_1_CS", "TC_050_2_CS", "TC_050_3_CS", "TC_051_CS", "TC_052_CS", "TC_053_CS"]
WITHOUT_PROFILE = ["TC_048_4_CS", "TC_050_4_CS"]
#: the cases that start a transaction on a (formerly) reserved connector
CHARGING = ["TC_046_1_CS", "TC_046_2_CS", "TC_047_CS", "TC_049_CS", "TC_051_CS", "TC_053_CS"]

VARIANTS = [
    ("preparing_on_reserved_plug_in", ["TC_046_2_CS", "TC_049_CS"]),
    ("repeated_status", RESERVATION_CS),
    ("late_actuator", CHARGING + ["TC_048_1_CS", "TC_048_2_CS", "TC_050_1_CS", "TC_050_2_CS"]),
    ("suspended_ev_before_charging", CHARGING),
]



def _without_reservation(pytester: pytest.Pytester, variant: str = "no_reservation"):
    """Simulator configs of a charge point without the profile: its config and the simulator's variant say so."""
    return sim_configs(pytester.path, "cp", {"features": ["core", "smart_charging", "local_auth_list_management"],
                                             "simulator": {"variants": [variant]}})


@pytest.mark.parametrize(("variant", "cases"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_every_reservation_case_a_variant_touches_passes_against_it(run_case, variant: str, cases: list[str]) -> None:
    run = run_case(",".join(cases), variants=(f"cp:{variant}",))
    assert run.verdicts() == {"passed": len(cases)}, run.output[-6000:]


def test_tc_049_cs_without_reserved_status_is_a_warning_and_fails_strict(run_case, pytester: pytest.Pytester) -> None:
    """Variant zero_reservation_no_reserved_status: R10 leaves it open, so TC_049_CS passes with a warning ..."""
    run = run_case("TC_049_CS", variants=("cp:zero_reservation_no_reserved_status",))
    assert run.verdicts() == {"passed": 1}, run.output[-6000:]
    assert "did not report Reserved for the connectorId 0 reservation" in run.output
    # ... and fails with strict: true, at the step.
    run_case("TC_049_CS", variants=("cp:zero_reservation_no_reserved_status",),
             config_dir=sim_configs(pytester.path, "cp", {"strict": True})).assert_failed_at(
        "3-4", "did not report Reserved", "strict: true")


@pytest.mark.parametrize("variant", ["no_reservation", "reservation_not_implemented"])
def test_not_supported_cases_pass_against_a_charge_point_without_reservation(run_case, pytester: pytest.Pytester,
                                                                              variant: str) -> None:
    """TC_048_4_CS and TC_050_4_CS: Rejected, or (a warning) CALLERROR NotImplemented; the other cases are skipped."""
    run = run_case(",".join(WITHOUT_PROFILE + ["TC_046_1_CS"]), config_dir=_without_reservation(pytester, variant))
    assert run.verdicts() == {"passed": 2, "skipped": 1}, run.output[-6000:]


# -- reservation of a connector ----------------------------------------------------------------------------------
def test_tc_046_1_cs_fault_reserved_status_missing(run_case) -> None:
    run_case("TC_046_1_CS", "cp:reserved_status_missing").assert_failed_at(
        "3-4", "expected StatusNotification.req with connectorId=1, status='Reserved'", "it did not arrive")


def test_tc_046_1_cs_fault_reservation_ignored_by_local_start(run_case) -> None:
    run_case("TC_046_1_CS", "cp:reservation_ignored_by_local_start").assert_failed_at(
        "5 (a card other than the reserved idTag: refused)", "StatusNotification.req (Preparing) for idTag 'VALID_TAG_2'",
        "which a reservation for another idTag holds: it must refuse to charge")


def test_tc_046_1_cs_fault_reservation_id_missing(run_case) -> None:
    run_case("TC_046_1_CS", "cp:reservation_id_missing").assert_failed_at(
        "9-12", "StartTransaction on connector 1 for idTag 'VALID_TAG_1' uses reservation", "but lacks its reservationId")


def test_tc_046_2_cs_fault_reservation_id_missing(run_case) -> None:
    run_case("TC_046_2_CS", "cp:reservation_id_missing").assert_failed_at(
        "5 (Charging) 11-14", "uses reservation", "but lacks its reservationId", "4.8")


def test_tc_047_cs_fault_expiry_not_honoured(run_case) -> None:
    run_case("TC_047_CS", "cp:expiry_not_honoured").assert_failed_at(
        "5-6", "expected StatusNotification.req with connectorId=1, status='Available'", "it did not arrive")


def test_tc_048_1_cs_fault_reserve_now_always_accepted(run_case) -> None:
    run_case("TC_048_1_CS", "cp:reserve_now_always_accepted").assert_failed_at(
        "1-2", "ReserveNow.conf status is 'Accepted'; expected 'Faulted'", "the connector or the charge point is Faulted")


def test_tc_048_2_cs_fault_reserve_now_always_accepted(run_case) -> None:
    run_case("TC_048_2_CS", "cp:reserve_now_always_accepted").assert_failed_at(
        "1-2", "ReserveNow.conf status is 'Accepted'; expected 'Occupied'", "the connector is in use")


def test_tc_048_3_cs_fault_reserve_now_always_accepted(run_case) -> None:
    run_case("TC_048_3_CS", "cp:reserve_now_always_accepted").assert_failed_at(
        "1-2", "ReserveNow.conf status is 'Accepted'; expected 'Unavailable'")


def test_tc_048_4_cs_fault_reserve_now_always_accepted(run_case, pytester: pytest.Pytester) -> None:
    run_case("TC_048_4_CS", "cp:reserve_now_always_accepted", config_dir=_without_reservation(pytester)).assert_failed_at(
        "2", "ReserveNow.conf status is 'Accepted'; a charge point without the Reservation profile answers 'Rejected'")


# -- reservation of the charge point (connectorId 0) ---------------------------------------------------------------
def test_tc_049_cs_fault_connector_zero_rejected(run_case) -> None:
    run_case("TC_049_CS", "cp:connector_zero_rejected").assert_failed_at(
        "1-2", "ReserveNow.conf status is 'Rejected'; expected 'Accepted'")


def test_tc_049_cs_fault_reservation_id_missing(run_case) -> None:
    run_case("TC_049_CS", "cp:reservation_id_missing").assert_failed_at(
        "5 (Charging on the reserved connector) 11-14", "uses reservation", "but lacks its reservationId")


def test_tc_050_1_cs_fault_reserve_now_always_accepted(run_case) -> None:
    run_case("TC_050_1_CS", "cp:reserve_now_always_accepted").assert_failed_at(
        "1-2", "ReserveNow.conf status is 'Accepted'; expected 'Faulted'", "statuses the harness saw: {0: 'Faulted'")


def test_tc_050_2_cs_fault_reserve_now_always_accepted(run_case) -> None:
    run_case("TC_050_2_CS", "cp:reserve_now_always_accepted").assert_failed_at(
        "1-2", "ReserveNow.conf status is 'Accepted'; expected 'Occupied'")


def test_tc_050_3_cs_fault_reserve_now_always_accepted(run_case) -> None:
    run_case("TC_050_3_CS", "cp:reserve_now_always_accepted").assert_failed_at(
        "1-2", "ReserveNow.conf status is 'Accepted'; expected 'Unavailable'")


def test_tc_050_4_cs_fault_reserve_now_always_accepted(run_case, pytester: pytest.Pytester) -> None:
    run_case("TC_050_4_CS", "cp:reserve_now_always_accepted", config_dir=_without_reservation(pytester)).assert_failed_at(
        "2", "a charge point without the Reservation profile answers 'Rejected'")


# -- cancel, parentIdTag -------------------------------------------------------------------------------------------
def test_tc_051_cs_fault_cancel_not_applied(run_case) -> None:
    run_case("TC_051_CS", "cp:cancel_not_applied").assert_failed_at(
        "3-4", "expected StatusNotification.req with connectorId=1, status='Available'", "it did not arrive")


def test_tc_052_cs_fault_cancel_unknown_accepted(run_case) -> None:
    run_case("TC_052_CS", "cp:cancel_unknown_accepted").assert_failed_at(
        "1-2", "CancelReservation.conf status is 'Accepted'; expected 'Rejected'", "holds no reservation with this id")


def test_tc_053_cs_fault_parent_id_tag_ignored(run_case) -> None:
    run_case("TC_053_CS", "cp:parent_id_tag_ignored").assert_failed_at(
        "5 (Authorized with <Configured Valid IdTag 2>) 1-4", "expected Authorize.req with idTag='VALID_TAG_2'")


def test_tc_053_cs_fault_reservation_id_missing(run_case) -> None:
    run_case("TC_053_CS", "cp:reservation_id_missing").assert_failed_at(
        "7-10", "StartTransaction on connector 1 for idTag 'VALID_TAG_2' uses reservation", "but lacks its reservationId")


def test_every_case_has_a_fault_test() -> None:
    names = [name for name in globals() if name.startswith("test_tc_") and "_fault_" in name]
    for tc in RESERVATION_CS + WITHOUT_PROFILE:
        assert any(name.startswith(f"test_{tc.lower()}_fault_") for name in names), tc
