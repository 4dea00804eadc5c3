"""The security TC_xxx_CS cases fail, at the violated step, under the reference charge point's faults, and pass under
its variants (paths the whitepaper and the catalog permit).

Everything is real: the simulator connects with HTTP Basic auth and TLS to the harness's listeners (one per security
profile), signs nothing it should not, and its defects show up as refused handshakes, wrong certificates, uploads
that never arrived or statuses out of order, never as a flag.
"""

from __future__ import annotations

import pytest

CASES = ["TC_073_CS", "TC_074_CS", "TC_075_1_CS", "TC_075_2_CS", "TC_076_CS", "TC_077_CS", "TC_078_CS", "TC_079_CS",
         "TC_080_CS", "TC_081_CS", "TC_083_CS", "TC_084_CS", "TC_085_CS", "TC_086_CS", "TC_087_CS"]


def fault(tc_id: str, name: str, step: str, phrases: list[str]) -> tuple[str, str, str, list[str]]:
    """One fault test: ``tc_id`` run with simulator fault ``name`` must fail at ``step`` saying ``phrases``."""
    return tc_id, name, step, phrases


FAULTS = [
    fault("TC_073_CS", "authorization_key_not_applied", "3", ["did not connect over security profile 1",
                                                              "basic-auth password is wrong"]),
    fault("TC_073_CS", "authorization_key_readable", "after 3", ["returns the value of AuthorizationKey", "write-only"]),
    fault("TC_074_CS", "no_reconnect_with_new_certificate", "7", ["did not connect over security profile 3"]),
    fault("TC_075_1_CS", "manufacturer_root_not_installed", "4", ["does not include the certificate installed at step 1"]),
    fault("TC_075_2_CS", "certificate_hash_wrong", "4", ["does not include the certificate installed at step 1",
                                                         "issuerKeyHash"]),
    fault("TC_076_CS", "delete_certificate_not_removed", "6", ["still includes the certificate deleted at step 3"]),
    fault("TC_077_CS", "certificate_signed_unchecked", "5-6", ["expected 'Rejected', got 'Accepted'"]),
    fault("TC_078_CS", "expired_root_accepted", "1-2", ["expected 'Rejected', got 'Accepted'"]),
    fault("TC_079_CS", "security_log_not_uploaded", "5", ["reported Uploaded, but no complete upload to ftp://ocpp:***@"]),
    fault("TC_080_CS", "signed_firmware_no_security_event", "11-18", ["SecurityEventNotification.req with type='FirmwareUpdated'"]),
    fault("TC_081_CS", "signed_firmware_installed_despite_bad_signature", "7-8", ["status='InvalidSignature'",
                                                                                 "got 'SignatureVerified'"]),
    fault("TC_083_CS", "security_profile_upgrade_ignored", "5", ["did not connect over security profile 2"]),
    fault("TC_084_CS", "security_profile_downgrade_accepted", "1-2", ["expected 'Rejected', got 'Accepted'"]),
    fault("TC_085_CS", "authorization_key_lost_on_reboot", "1", ["did not connect over security profile 1",
                                                                 "no Authorization header"]),
    fault("TC_086_CS", "server_certificate_not_verified", "before 1", ["connected although the harness presented an "
                                                                       "expired server certificate"]),
    fault("TC_086_CS", "tls_one_cipher_only", "2", ["offers ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256']",
                                                    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]),
    fault("TC_087_CS", "client_certificate_lost_on_reboot", "3", ["did not connect over security profile 3",
                                                                  "no client certificate"]),
    fault("TC_087_CS", "tls_one_cipher_only", "4", ["offers ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256']"]),
]


def test_every_security_cs_case_has_a_fault() -> None:
    assert {tc for tc, *_ in FAULTS} == set(CASES)


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULTS,
                         ids=[f"{tc.lower()}-fault-{name}" for tc, name, *_ in FAULTS])
def test_security_cs_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str, phrases: list[str]) -> None:
    run = run_case(tc_id, f"cp:{fault}")
    run.assert_failed_at(step, *phrases)
    assert "OCA_OCTT_admin_test" not in run.output  # the new key never shows in clear



VARIANTS = [
    ("security_event_before_reconnect", ["TC_073_CS", "TC_083_CS"]),  # the event before vs after the reconnect
    ("security_profile_reboot_required", ["TC_083_CS"]),  # RebootRequired: the catalog's steps 3-8 (Reset Hard)
    ("csr_rsa_key", ["TC_074_CS", "TC_077_CS"]),  # an RSA 2048 key in the CSR
    ("certificate_hash_sha384", ["TC_075_1_CS", "TC_075_2_CS", "TC_076_CS"]),
    ("signed_firmware_install_rebooting", ["TC_080_CS"]),
]


@pytest.mark.parametrize(("variant", "cases"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_every_security_cs_case_a_variant_touches_passes_against_it(run_case, variant: str, cases: list[str]) -> None:
    run_case(",".join(cases), variants=(f"cp:{variant}",)).assert_only_passed(len(cases))
