"""The FirmwareManagement TC_xxx_CSMS cases fail, at the violated step, under the reference central system's faults,
and pass under its variants.

The harness charge point transfers for real from and to the locations the simulator sends
(its own FTP and HTTP servers), so a location that does not work as the case needs is what
fails a case, not a flag.
"""

from __future__ import annotations

import pytest

from conftest import sim_configs

CASES = ["TC_044_1_CSMS", "TC_044_2_CSMS", "TC_044_3_CSMS", "TC_045_1_CSMS", "TC_045_2_CSMS"]
SCHEMA = "breaks the OCPP 1.6 schema"


def fault(tc_id: str, name: str, step: str, phrases: list[str]) -> tuple[str, str, str, list[str]]:
    """One fault test: ``tc_id`` run with simulator fault ``name`` must fail at ``step`` saying ``phrases``."""
    return tc_id, name, step, phrases


FAULTS = [
    fault("TC_044_1_CSMS", "update_firmware_location_not_url", "1", ["UpdateFirmware.req location 'firmware-",
                                                                     "is not a URL a charge point can transfer with"]),
    fault("TC_044_1_CSMS", "update_firmware_file_missing", "5", ["could not download the firmware from ftp://ocpp:***@",
                                                                 "550 No such file"]),
    fault("TC_044_2_CSMS", "update_firmware_no_retrieve_date", "1-2", [f"UpdateFirmware.req {SCHEMA}", "retrieveDate"]),
    fault("TC_044_3_CSMS", "update_firmware_file_missing", "5", ["could not download the firmware", "TC_044_3_CSMS needs"]),
    fault("TC_045_1_CSMS", "diagnostics_location_refuses", "5", ["could not upload its diagnostics to ftp://ocpp:***@",
                                                                 "/readonly/"]),
    fault("TC_045_2_CSMS", "get_diagnostics_location_not_url", "1", ["GetDiagnostics.req location 'upload/'",
                                                                     "is not a URL"]),
]


def test_every_firmware_csms_case_has_a_fault() -> None:
    assert {tc for tc, *_ in FAULTS} == set(CASES)


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULTS,
                         ids=[f"{tc.lower()}-fault-{name}" for tc, name, *_ in FAULTS])
def test_firmware_csms_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str,
                                                        phrases: list[str]) -> None:
    run_case(tc_id, f"cs:{fault}").assert_failed_at(step, *phrases)



VARIANTS = [
    ("transfers_over_http", CASES),
    ("retrieve_date_ahead", ["TC_044_1_CSMS", "TC_044_3_CSMS"]),  # the harness charge point waits for retrieveDate
    ("transfer_retries", ["TC_044_2_CSMS", "TC_045_2_CSMS"]),  # it retries the failing transfer as asked
    ("diagnostics_time_window", ["TC_045_1_CSMS"]),
]


@pytest.mark.parametrize(("variant", "cases"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_every_firmware_csms_case_a_variant_touches_passes_against_it(run_case, variant: str, cases: list[str]) -> None:
    run_case(",".join(cases), variants=(f"cs:{variant}",)).assert_only_passed(len(cases))


@pytest.mark.parametrize("how", ["post", "multipart"])
def test_diagnostics_uploaded_by_http_post_pass(run_case, pytester: pytest.Pytester, how: str) -> None:
    """``extra.http_upload``: the harness charge point uploads with POST (raw or multipart) where a back-end wants it."""
    config_dir = sim_configs(pytester.path, "cs", {"extra": {"http_upload": how}})
    run_case("TC_045_1_CSMS,TC_045_2_CSMS", config_dir=config_dir, variants=("cs:transfers_over_http",)).assert_only_passed(2)
