"""The security TC_xxx_CSMS cases fail, at the violated step, under the reference central system's faults, and pass
under its variants.

The central system simulator admits charge points by their security profile for real (HTTP Basic auth, TLS, client
certificates), signs CSRs with its CA and signs firmware with its signing certificate; its defects show up as
refused or accepted handshakes, chains the harness charge point cannot use, uploads that fail or signatures that do
not verify.
"""

from __future__ import annotations

import pytest

CASES = ["TC_073_CSMS", "TC_074_CSMS", "TC_075_1_CSMS", "TC_075_2_CSMS", "TC_076_CSMS", "TC_077_CSMS", "TC_078_CSMS",
         "TC_079_CSMS", "TC_080_CSMS", "TC_081_CSMS", "TC_083_CSMS", "TC_085_CSMS", "TC_086_CSMS", "TC_087_CSMS",
         "TC_088_CSMS"]


def fault(tc_id: str, name: str, step: str, phrases: list[str]) -> tuple[str, str, str, list[str]]:
    """One fault test: ``tc_id`` run with simulator fault ``name`` must fail at ``step`` saying ``phrases``."""
    return tc_id, name, step, phrases


FAULTS = [
    fault("TC_073_CSMS", "password_change_not_applied", "3", ["HTTP 401 Unauthorized", "the password sent for"]),
    fault("TC_073_CSMS", "authorization_key_too_short", "1", ["the AuthorizationKey is 8 bytes (16 hex digits)"]),
    fault("TC_074_CSMS", "certificate_signed_not_sent", "5-6", ["CertificateSigned.req"]),
    fault("TC_074_CSMS", "certificate_signed_wrong_key", "5", ["not for the key of the CSR sent at step 3"]),
    fault("TC_075_1_CSMS", "install_certificate_not_a_root", "1", ["is not a root CA certificate"]),
    fault("TC_075_2_CSMS", "install_certificate_not_a_root", "1", ["is not a root CA certificate"]),
    fault("TC_076_CSMS", "delete_certificate_wrong_hash", "3", ["does not name Root 2"]),
    fault("TC_077_CSMS", "security_event_callerror", "7-8", ["CALLERROR NotImplemented"]),
    fault("TC_078_CSMS", "security_event_callerror", "3-4", ["CALLERROR NotImplemented"]),
    fault("TC_079_CSMS", "get_log_location_refuses", "5", ["could not upload its security log to ftp://ocpp:***@"]),
    fault("TC_080_CSMS", "signed_firmware_bad_signature", "7", ["the firmware's signature does not verify"]),
    fault("TC_081_CSMS", "signed_firmware_status_no_answer", "3-4", ["SignedFirmwareStatusNotification"]),
    fault("TC_083_CSMS", "downgrade_allowed", "12", ["accepted a connection over the old security profile 1"]),
    fault("TC_085_CSMS", "basic_auth_not_required", "2", ["upgraded a connection that carried no Authorization header"]),
    fault("TC_086_CSMS", "server_certificate_expired", "1-6", ["certificate expired"]),
    fault("TC_087_CSMS", "client_certificate_not_required", "before 1", ["presented no client certificate"]),
    fault("TC_088_CSMS", "no_subprotocol_accepted", "2", ["offered only ocpp0.1", "the connection stayed open"]),
]


def test_every_security_csms_case_has_a_fault() -> None:
    assert {tc for tc, *_ in FAULTS} == set(CASES)


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULTS,
                         ids=[f"{tc.lower()}-fault-{name}" for tc, name, *_ in FAULTS])
def test_security_csms_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str,
                                                        phrases: list[str]) -> None:
    run_case(tc_id, f"cs:{fault}").assert_failed_at(step, *phrases)



VARIANTS = [
    ("chain_with_root", ["TC_074_CSMS", "TC_077_CSMS"]),  # CertificateSigned with or without the root
    ("rsa_server_key", ["TC_086_CSMS", "TC_087_CSMS"]),  # an RSA server certificate: the TLS_RSA_* suites
    ("late_actuator", ["TC_073_CSMS", "TC_076_CSMS", "TC_079_CSMS"]),  # the operator's screen answers late
]


@pytest.mark.parametrize(("variant", "cases"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_every_security_csms_case_a_variant_touches_passes_against_it(run_case, variant: str, cases: list[str]) -> None:
    run_case(",".join(cases), variants=(f"cs:{variant}",)).assert_only_passed(len(cases))
