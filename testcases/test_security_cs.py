"""Security extension, charge point under test (the harness is the central system): passwords, profiles, TLS.

TC_073_CS, TC_083_CS .. TC_087_CS; the certificate, log and signed-firmware cases are in
``test_security_cs_certificates``. Everything is real: HTTP Basic auth is checked before the
upgrade (HTTP 401 otherwise), TLS is TLS 1.2 or higher with the whitepaper's suites and the run's
certificates (harness.sut generates a PKI per run unless ``tls:`` names the vendor's files).

The harness listens for every security profile on its own port; a case whose prerequisite is a
connection over another profile than the current one moves the charge point there with the manual
step ``set_security_profile`` (states_security.connected_over); harness.common_state moves it back,
and puts back a changed AuthorizationKey, after the case. Cases whose prerequisite is only that the
charge point *supports* a profile run over the current connection.

Readings taken (catalog entries marked ``checked: false`` read against the whitepaper): TC_085's
key length is 16-20 bytes (32-40 hex digits; the catalog's "20 to 40 hex characters" is the weaker
form); TC_086/TC_087 judge the TLS 1.2 suites by what the charge point offered (both ECDHE-ECDSA or both
RSA suites), the key size, serial number and CN of the certificate presented (TC_087: the charge
point's serial number, ``extra.charge_point_serial``, default its id). TC_086 first checks, as the
whitepaper requires, that the charge point refuses an expired server certificate (with a generated
PKI).
"""

from __future__ import annotations

import time

import pytest

from harness.errors import PayloadMismatch, StepFailure
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import boot_statuses, get_configuration
from testcases.states_security import (
    CS_ROOT, certificate_problems, check_tls, connected_over, fail_on, profile_for, require_material, serial_number,
    signed_certificate, wait_reconnection,
)

NEW_KEY = "4F43415F4F4354545F61646D696E5F74657374"  # "OCA_OCTT_admin_test" hex encoded (catalog TC_073 step 1)


async def _reset(cs: CentralSystem, step: str) -> int:
    """Reusable state "The Charge Point is triggered to reset": Reset Soft; returns the connection mark before it."""
    mark = len(cs.connections)
    await cs.call("Reset", {"type": "Soft"}, step=f"{step} (the charge point is triggered to reset: Reset)",
                  expect={"status": "Accepted"})
    return mark


@pytest.mark.security
@pytest.mark.tc("TC_073_CS", "Update Charge Point Password for HTTP Basic Authentication")
async def test_tc_073_cs_update_charge_point_password(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_073_CS, whitepaper use case A01 (security profiles 1 and 2).

    ChangeConfiguration AuthorizationKey "OCA_OCTT_admin_test" (hex) is Accepted; the harness's
    listener then takes only that password, and the charge point must reconnect with it. Beyond the
    catalog, as the whitepaper requires: AuthorizationKey is write-only (GetConfiguration must not
    return its value).
    """
    cs = central_system
    profile = await connected_over(cs, sut, (1, 2))
    mark = len(cs.connections)
    await cs.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": NEW_KEY},
                  step="1-2 (ChangeConfiguration AuthorizationKey)", expect={"status": "Accepted"})
    await wait_reconnection(cs, mark, step="3 (the charge point reconnects with the new password)", profile=profile)
    # every key: a charge point may leave a write-only key out of a list, or name it unknown
    keys = await get_configuration(cs, "after 3 (GetConfiguration: AuthorizationKey is write-only)")
    if "value" in keys.get("AuthorizationKey", {}):
        raise PayloadMismatch("after 3", "GetConfiguration.conf returns the value of AuthorizationKey (shown as *** "
                                         "here); the key is write-only", "whitepaper, configuration key AuthorizationKey")


@pytest.mark.security
@pytest.mark.tc("TC_083_CS", "Upgrade security profile")
async def test_tc_083_cs_upgrade_security_profile(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_083_CS, whitepaper use case A05.

    Connected over profile 1 (before: CertificateInstalled) or 2 (before: RenewChargePointCertificate),
    ChangeConfiguration SecurityProfile one higher is Accepted or RebootRequired. The charge point must
    then connect over the higher profile: by itself, or (steps 3-8, RebootRequired or no reconnect
    within the connect timeout) after Reset Hard, with BootNotification and every connector Available.
    """
    cs = central_system
    profile = await connected_over(cs, sut, (1, 2))
    target = profile + 1
    profile_for(sut, (target,), -1)  # the higher profile must be supported too
    if profile == 1:
        root = require_material(sut, "CentralSystemRootCertificate", sut.security).root_pem
        await cs.call("GetInstalledCertificateIds", {"certificateType": CS_ROOT}, step="before (CertificateInstalled 1-2)")
        await cs.call("InstallCertificate", {"certificateType": CS_ROOT, "certificate": root},
                      step="before (CertificateInstalled 3-4)", expect={"status": "Accepted"})
    else:
        ca = require_material(sut, "CA key to sign the CSR (tls.ca_key)", sut.security and sut.security.ca)
        _, chain = await signed_certificate(cs, sut, step="before (RenewChargePointCertificate) ", ca=ca, check=False)
        await cs.call("CertificateSigned", {"certificateChain": chain}, step="before (RenewChargePointCertificate 5-6)",
                      expect={"status": "Accepted"})
    mark = len(cs.connections)
    reply = await cs.call("ChangeConfiguration", {"key": "SecurityProfile", "value": str(target)},
                          step=f"1-2 (ChangeConfiguration SecurityProfile {target})")
    status = reply["status"]  # type: ignore[index]
    if status not in ("Accepted", "RebootRequired"):
        raise PayloadMismatch("2", f"ChangeConfiguration.conf status is {status!r}; it should be Accepted or RebootRequired")
    if status == "Accepted" and await cs.wait_connection(mark, cs.timeouts.connect, target) is not None:
        return  # it reconnected over the higher profile by itself: steps 3-8 are not executed
    mark = len(cs.connections)
    await cs.call("Reset", {"type": "Hard"}, step="3-4 (Reset Hard)", expect={"status": "Accepted"})
    await wait_reconnection(cs, mark, step=f"5 (the charge point reconnects over security profile {target})", profile=target)
    await cs.expect("BootNotification", step="5-6 (BootNotification)")
    await cs.expect_all(*boot_statuses(sut), step="7-8 (StatusNotification Available, every connector and 0)")


@pytest.mark.security
@pytest.mark.tc("TC_084_CS", "Downgrade security profile - Rejected")
async def test_tc_084_cs_downgrade_security_profile_rejected(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_084_CS, whitepaper use case A05: connected over profile 2 or 3, SecurityProfile one lower is Rejected."""
    cs = central_system
    profile = await connected_over(cs, sut, (2, 3))
    await cs.call("ChangeConfiguration", {"key": "SecurityProfile", "value": str(profile - 1)},
                  step=f"1-2 (ChangeConfiguration SecurityProfile {profile - 1})", expect={"status": "Rejected"})


@pytest.mark.security
@pytest.mark.tc("TC_085_CS", "Basic Authentication - Valid username/password combination")
async def test_tc_085_cs_basic_authentication_valid_credentials(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_085_CS (checked: false), whitepaper part "Secure connection setup", profiles 1 and 2.

    After a reset the upgrade request must carry ``Authorization: Basic base64(<id>:<key>)`` with the id
    of the URL and the configured key (the harness's listener refuses anything else with HTTP 401,
    and that refusal is the failure); the key must be 16-20 bytes. Then BootNotification and the statuses.
    """
    cs = central_system
    profile = await connected_over(cs, sut, (1, 2))
    mark = await _reset(cs, "before")
    connection = await wait_reconnection(cs, mark, step="1 (HTTP upgrade with the Authorization header)", profile=profile)
    key = cs.password.reveal_bytes() if cs.password is not None else b""
    if not 16 <= len(key) <= 20:
        raise PayloadMismatch("1", f"the authorization key is {len(key)} bytes ({2 * len(key)} hex digits); it must be "
                                   "16 to 20 bytes (32 to 40 hex digits)", "whitepaper: AuthorizationKey")
    if connection.handshake.auth_user != sut.config.charge_point_id:
        raise PayloadMismatch("1", f"the basic-auth username is {connection.handshake.auth_user!r}, not the "
                                   f"chargePointId {sut.config.charge_point_id!r} of the URL")
    await cs.expect("BootNotification", step="3-4 (BootNotification)")
    await cs.expect_all(*boot_statuses(sut), step="5-6 (StatusNotification, every connector and 0)")


async def _refused_expired_certificate(cs: CentralSystem, sut: SutHandle, profile: int) -> int:
    """Beyond the catalog, as the whitepaper requires: with an expired server certificate the charge point refuses the
    TLS handshake. The listener serves it while the charge point resets; returns the connection mark of the reset."""
    pki = sut.security.pki if sut.security is not None else None
    context = cs.tls_contexts.get(profile)
    if pki is None or context is None:
        return await _reset(cs, "before 1")  # a vendor's own files: no expired certificate to serve
    step = "before 1 (with an expired server certificate the charge point refuses the TLS handshake)"
    attempts, limit = cs.tls_attempts.get(profile, 0), cs.timeouts.connect + cs.timeouts.step
    context.load_cert_chain(pki.expired_server.chain_path, pki.expired_server.key_path)
    try:
        mark = await _reset(cs, "before 1")
        deadline = time.monotonic() + limit
        while cs.tls_attempts.get(profile, 0) == attempts:  # its first TLS handshake after the reset
            if not await cs.inbox.changed(max(0.0, deadline - time.monotonic())):
                raise StepFailure(step, f"the charge point began no TLS handshake within {limit:g}s after the reset")
        # a charge point that accepts the certificate is connected well within the timing tolerance
        if await cs.wait_connection(mark, cs.timeouts.timing_tolerance, profile) is not None:
            raise StepFailure(step, "the charge point connected although the harness presented an expired server "
                                    f"certificate ({pki.expired_server.subject})", "whitepaper: the charge point verifies "
                                    "the central system's certificate and terminates the connection if it is not valid")
    finally:
        context.load_cert_chain(pki.server.chain_path, pki.server.key_path)
    return mark


@pytest.mark.security
@pytest.mark.tc("TC_086_CS", "TLS - server-side certificate - Valid certificate")
async def test_tc_086_cs_tls_server_side_certificate(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_086_CS (checked: false), whitepaper part "Secure connection setup", profiles 2 and 3.

    Before: an expired server certificate is refused (generated PKI only). After the reset, the TLS
    handshake with the configured server certificate: TLS 1.2 or higher, and the charge point offers
    both ECDHE-ECDSA or both RSA suites of the whitepaper; over profile 2 the upgrade carries the
    right Basic auth (the listener checks it). Then BootNotification and the statuses.
    """
    cs = central_system
    profile = await connected_over(cs, sut, (2, 3))
    mark = await _refused_expired_certificate(cs, sut, profile)
    connection = await wait_reconnection(cs, mark, step="1-6 (TLS handshake and HTTP upgrade)", profile=profile)
    tls = connection.handshake.tls
    fail_on("2", check_tls("2", tls.version if tls else "", connection.shared_ciphers, peer="charge point"))
    await cs.expect("BootNotification", step="7-8 (BootNotification)")
    await cs.expect_all(*boot_statuses(sut), step="9-10 (StatusNotification, every connector and 0)")


@pytest.mark.security
@pytest.mark.tc("TC_087_CS", "TLS - Client-side certificate - valid certificate")
async def test_tc_087_cs_tls_client_side_certificate(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_087_CS (checked: false), whitepaper part "Secure connection setup", profile 3.

    After the reset the charge point presents its certificate (verified by the listener against the
    CentralSystemRootCertificate): TLS 1.2 or higher, the whitepaper's suites offered, a key of at least
    2048 (RSA) / 224 (EC) bits, a serial number, subject CN = the serial number. Then the boot.
    """
    cs = central_system
    await connected_over(cs, sut, (3,))
    mark = await _reset(cs, "before")
    connection = await wait_reconnection(cs, mark, step="3 (the charge point sends its certificate)", profile=3)
    tls = connection.handshake.tls
    problems = check_tls("4", tls.version if tls else "", connection.shared_ciphers, peer="charge point")
    problems += certificate_problems(tls.peer_certificate_pem if tls else None, what="charge point",
                                     common_name=serial_number(sut))
    fail_on("4", problems)
    await cs.expect("BootNotification", step="7-8 (BootNotification)")
    await cs.expect_all(*boot_statuses(sut), step="9-10 (StatusNotification, every connector and 0)")
