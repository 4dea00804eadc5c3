"""Security extension, central system under test (the harness is the charge point): passwords, profiles, TLS.

TC_073, TC_083, TC_085 .. TC_088_CSMS; the certificate, log and signed-firmware cases are in
``test_security_csms_certificates``. Everything is real: the harness charge point connects over
HTTP Basic auth and TLS (its client certificate at profile 3) with the run's certificates
(harness.sut; ``tls:`` of the SUT config).

Every case starts disconnected (the common state); a case whose prerequisite is a connection over
another security profile has the operator set the charge point's profile in the back-end first
(``cs_security_settings``; states_security.harness_over), and harness.common_state sets it back,
with the configured password, after the case (also after TC_073_CSMS gave a new password).

Readings taken (``checked: false`` entries read against the whitepaper and OCPP-J 1.6): TC_083_CSMS's
"before" states (CertificateInstalled, RenewChargePointCertificate) are met by the harness charge
point's configured root and certificate; TC_085_CSMS's first upgrade without credentials must be
refused in any way (HTTP 401 expected); TC_086_CSMS probes each whitepaper TLS 1.2 suite with its own
handshake and requires the two that fit the server certificate's key (ECDSA or RSA), the others are
warnings; the subject CN must be the endpoint's host name (not judged for an IP address, whose
certificate must name it in the SAN: the TLS handshake checks that); TC_087_CSMS first checks that a
connection without the client certificate is refused (the whitepaper's profile 3); TC_088_CSMS's
refusal may be an HTTP error or, as OCPP-J 1.6 section 3.2 says, a handshake without
Sec-WebSocket-Protocol that the central system closes at once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from harness.config import Secret
from harness.errors import ConnectionFailure, PayloadMismatch, StepFailure
from harness.pki import (
    OPENSSL_CIPHER_NAMES,
)
from harness.pki_certs import load_certificates
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import booted, operator_sends
from testcases.states_security import (
    EC_SUITES, RSA_SUITES, WHITEPAPER, certificate_problems, check_tls, fail_on, harness_over, profile_for,
)


# -- passwords and profiles ---------------------------------------------------------------------------------
@pytest.mark.security
@pytest.mark.tc("TC_073_CSMS", "Update Charge Point Password for HTTP Basic Authentication")
async def test_tc_073_csms_update_charge_point_password(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_073_CSMS, whitepaper use case A01 (profiles 1 and 2).

    The operator changes the password: ChangeConfiguration AuthorizationKey, whose value must be the hex of
    16 to 20 bytes; the harness charge point accepts, disconnects and must be let in with the new password.
    """
    await harness_over(charge_point, sut, (1, 2))
    await booted(charge_point, sut)
    problems: list[str] = []

    def judge(payload: dict[str, Any]) -> dict[str, str]:
        value = str(payload.get("value", ""))
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
            problems.append("the AuthorizationKey value is not a hex string")
        if raw and not 16 <= len(raw) <= 20:
            problems.append(f"the AuthorizationKey is {len(raw)} bytes ({len(value)} hex digits); it must be 16 to 20 "
                            "bytes (32 to 40 hex digits)")
        return {"status": "Rejected" if problems else "Accepted"}

    got = await operator_sends(charge_point, sut, "cs_update_password", "ChangeConfiguration", step="1-2 (ChangeConfiguration "
                               "AuthorizationKey)", reply=judge, params={}, key="AuthorizationKey")
    fail_on("1", problems, "whitepaper, configuration key AuthorizationKey")
    charge_point.authorization_key = Secret.from_hex(got.payload["value"])
    await charge_point.connect(step="3 (the charge point reconnects with the new password)")


@pytest.mark.security
@pytest.mark.tc("TC_083_CSMS", "Upgrade Charge Point Security Profile - Accepted")
async def test_tc_083_csms_upgrade_security_profile(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_083_CSMS (2025-11 edition, checked: false), whitepaper use case A05.

    Over profile 1 or 2 the operator raises the profile: ChangeConfiguration SecurityProfile one higher,
    then Reset Hard; the charge point reconnects over the higher profile and boots; a later connection
    over the old profile must be refused (no downgrade).
    """
    cp = charge_point
    profile = await harness_over(cp, sut, (1, 2))
    target = profile + 1
    profile_for(sut, (target,), -1)
    await booted(cp, sut)
    await operator_sends(cp, sut, "cs_change_security_profile", "ChangeConfiguration", step="1-2 (ChangeConfiguration "
                         f"SecurityProfile {target})", reply={"status": "Accepted"}, params={"profile": target},
                         key="SecurityProfile", value=str(target))
    await operator_sends(cp, sut, "cs_reset", "Reset", step="3-4 (Reset Hard)", reply={"status": "Accepted"},
                         params={"type": "Hard"}, type="Hard")
    cp.profile = target
    await cp.connect(step=f"5-6 (the charge point reconnects over security profile {target})")
    await booted(cp, sut, boot_step="7-8", status_step="9-10")
    try:
        await cp.connect(step="11", profile=profile)
    except ConnectionFailure:
        return  # refused, as it must be
    finally:
        await cp.disconnect()
    raise StepFailure("12", f"the central system accepted a connection over the old security profile {profile} after "
                            f"moving the charge point to {target}", "whitepaper: the security profile is only ever raised")


@pytest.mark.security
@pytest.mark.tc("TC_085_CSMS", "Basic Authentication - Valid username/password combination")
async def test_tc_085_csms_basic_authentication(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_085_CSMS (checked: false; steps 1-2 from the 2025-11 edition), profiles 1 and 2.

    An upgrade without the Authorization header must be refused; with the right credentials it is
    upgraded, then BootNotification and the statuses are answered.
    """
    cp = charge_point
    await harness_over(cp, sut, (1, 2))
    try:
        await cp.connect(step="1", basic_auth=False)
    except ConnectionFailure:
        pass  # refused, as it must be
    else:
        await cp.disconnect()
        raise StepFailure("2", "the central system upgraded a connection that carried no Authorization header",
                          f"security profile {cp.profile}: HTTP Basic auth is required ({WHITEPAPER})")
    await cp.connect(step="3-4 (HTTP upgrade with valid credentials)")
    await booted(cp, sut, boot_step="5-6", status_step="7-8")


async def _tls_checks(cp: ChargePoint, sut: SutHandle, step: str) -> None:
    """TC_086/TC_087: TLS 1.2 or higher; each whitepaper suite probed; those fitting the server key are required."""
    tls = cp.tls
    fail_on(step, check_tls(step, tls.version if tls else "", None, peer="central system"))
    cert = load_certificates(tls.peer_certificate_pem)[0] if tls and tls.peer_certificate_pem else None
    rsa = cert is not None and isinstance(cert.public_key(), RSAPublicKey)
    required = RSA_SUITES if rsa else EC_SUITES
    refused = []
    for suite, name in OPENSSL_CIPHER_NAMES.items():
        problem = await cp.probe_cipher(name)
        if problem is not None and suite in required:
            raise PayloadMismatch(step, f"the central system does not negotiate {suite} with its "
                                        f"{'RSA' if rsa else 'ECDSA'} certificate: {problem}", WHITEPAPER)
        if problem is not None:
            refused.append(suite)
    if refused:
        cp.warn(step, f"the central system does not negotiate {' and '.join(refused)}", "catalog TC_086/TC_087_CSMS "
                "lists all four suites; one server certificate fits only the ECDSA or only the RSA ones")


# -- TLS ----------------------------------------------------------------------------------------------------
@pytest.mark.security
@pytest.mark.tc("TC_086_CSMS", "TLS - server-side certificate - Valid certificate")
async def test_tc_086_csms_tls_server_side_certificate(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_086_CSMS (checked: false), whitepaper part "Secure connection setup", profiles 2 and 3.

    The TLS handshake with the configured server certificate (verified against the CentralSystemRootCertificate
    and the host name): TLS 1.2 or higher, the whitepaper's suites, a key of at least 2048 (RSA) / 224 (EC) bits,
    a serial number, subject CN = the endpoint's host name; the upgrade (Basic auth over profile 2), the boot.
    """
    cp = charge_point
    await harness_over(cp, sut, (2, 3))
    await cp.connect(step="1-6 (TLS handshake with the server certificate, HTTP upgrade)")
    host = urlsplit(cp.endpoint_for(cp.profile)).hostname or ""
    is_ip = host.replace(".", "").isdigit() or ":" in host
    fail_on("2", certificate_problems(cp.tls.peer_certificate_pem if cp.tls else None, what="central system",
                                      common_name=None if is_ip else host, fqdn=True))
    await _tls_checks(cp, sut, "2")
    await booted(cp, sut, boot_step="7-8", status_step="9-10")


@pytest.mark.security
@pytest.mark.tc("TC_087_CSMS", "TLS - Client-side certificate - valid certificate")
async def test_tc_087_csms_tls_client_side_certificate(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_087_CSMS (checked: false), whitepaper part "Secure connection setup", profile 3.

    Before: without the client certificate the connection must be refused (profile 3 is mutual TLS).
    Then the handshake with it: TLS 1.2 or higher, the whitepaper's suites; the upgrade and the boot.
    """
    cp = charge_point
    await harness_over(cp, sut, (3,))
    try:
        await cp.connect(step="before 1", client_certificate=False)
    except ConnectionFailure:
        pass
    else:
        await cp.disconnect()
        raise StepFailure("before 1 (without a client certificate the connection is refused)",
                          "the central system accepted a charge point at security profile 3 that presented no client "
                          "certificate", WHITEPAPER + ": profile 3 authenticates the charge point by its certificate")
    await cp.connect(step="1-6 (TLS handshake with the client certificate, HTTP upgrade)")
    await _tls_checks(cp, sut, "3")
    await booted(cp, sut, boot_step="7-8", status_step="9-10")


@pytest.mark.security
@pytest.mark.tc("TC_088_CSMS", "WebSocket Subprotocol negotiation")
async def test_tc_088_csms_websocket_subprotocol_negotiation(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_088_CSMS (2025-11 edition, checked: false), OCPP-J 1.6 section 3.1.2 / 3.2.

    Offering only ``ocpp0.1`` gets no working connection (an HTTP refusal, or the handshake without the
    header closed at once); offering ``ocpp0.1, ocpp1.6`` is upgraded with ``Sec-WebSocket-Protocol: ocpp1.6``.
    """
    cp = charge_point
    open_, selected, said = await cp.probe_upgrade(["ocpp0.1"])
    if open_ or selected is not None:
        raise StepFailure("2", f"offered only ocpp0.1, the central system {said}",
                          "OCPP-J 1.6: a central system that agrees to none of the offered subprotocols completes the "
                          "handshake without Sec-WebSocket-Protocol and closes the connection at once (or refuses it)")
    open_, selected, said = await cp.probe_upgrade(["ocpp0.1", "ocpp1.6"])
    if selected != "ocpp1.6":
        raise StepFailure("4", f"offered ocpp0.1 and ocpp1.6, the central system {said}",
                          "the response must carry Sec-WebSocket-Protocol: ocpp1.6")
