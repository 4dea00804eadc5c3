"""Security extension, charge point under test (the harness is the central system): TC_073_CS .. TC_087_CS.

Everything is real: HTTP Basic auth is checked before the upgrade (HTTP 401 otherwise), TLS is
TLS 1.2 or higher with the whitepaper's suites and the run's certificates (harness.sut generates
a PKI per run unless ``tls:`` names the vendor's files), CSRs are checked and signed, certificate
hash data is recalculated, the security log really reaches the harness's upload server and the
firmware really carries a signature by the signing certificate.

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
PKI). TC_075_x install, with a generated PKI, a root CA made for the case (the run's roots are
installed already, so installing them again would prove nothing). TC_076 deletes a second CentralSystemRootCertificate the case installs itself ("Root 2"), so the
root the charge point's TLS depends on stays. TC_077's invalid certificate is one for the CSR's key
issued by a CA the charge point does not trust. TC_080 expects the event FirmwareUpdated (the type
the CSMS-side case names).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from harness.errors import PayloadMismatch, StepFailure
from harness.inbox import Expectation
from harness.pki import certificate_hash_data, check_csr, sign_csr, sign_firmware
from harness.pki_certs import Credential, load_certificates
from harness.roles.central_system import CentralSystem, now_iso
from harness.sut import SutHandle
from testcases.states_charge_point import boot_statuses, configure, get_configuration
from testcases.states_firmware import (
    Notification, check_download, check_upload, file_transfer_protocol, publish_firmware, transfer_evidence,
    transfer_servers, transfer_timeout,
)
from testcases.states_security import (
    certificate_problems, check_tls, connected_over, cpo_name, expired_root, fail_on, hash_data_problems,
    log_status, make_root, profile_for, request_id_problems, security_event, serial_number, signed_firmware_status,
    untrusted_ca, wait_reconnection,
)

NEW_KEY = "4F43415F4F4354545F61646D696E5F74657374"  # "OCA_OCTT_admin_test" hex encoded (catalog TC_073 step 1)
CS_ROOT, MF_ROOT = "CentralSystemRootCertificate", "ManufacturerRootCertificate"
_request_ids = itertools.count(7301)


def _supports(sut: SutHandle, allowed: tuple[int, ...]) -> None:
    """Prerequisite "the Charge Point supports security profile ...": skip unless ``tls.profiles`` lists one."""
    profile_for(sut, allowed, -1)


def _material(sut: SutHandle, what: str, value: Any) -> Any:
    if value is None:
        pytest.skip(f"prerequisite not met: the harness has no {what} (tls: of the SUT config)")
    return value


async def _reset(cs: CentralSystem, step: str) -> int:
    """Reusable state "The Charge Point is triggered to reset": Reset Soft; returns the connection mark before it."""
    mark = len(cs.connections)
    await cs.call("Reset", {"type": "Soft"}, step=f"{step} (the charge point is triggered to reset: Reset)",
                  expect={"status": "Accepted"})
    return mark


async def _signed_certificate(cs: CentralSystem, sut: SutHandle, *, step: str, ca: Credential, check: bool) -> tuple[str, str]:
    """ExtendedTriggerMessage SignChargePointCertificate, SignCertificate (CSR checked when ``check``), then
    CertificateSigned with a chain ``ca`` signs: (csr, chain). Labels are ``step`` plus the catalog's numbers."""
    await cs.call("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"},
                  step=f"{step}1-2 (ExtendedTriggerMessage SignChargePointCertificate)", expect={"status": "Accepted"})
    problems: list[str] = []

    def judge(payload: dict[str, Any]) -> dict[str, str]:
        problems.extend(check_csr(payload["csr"], serial_number(sut), org=cpo_name(sut)) if check else [])
        return {"status": "Rejected" if problems else "Accepted"}

    got = await cs.expect("SignCertificate", step=f"{step}3-4 (SignCertificate.req with a CSR)", reply=judge)
    fail_on(f"{step}3", problems, "whitepaper use case A02: a PKCS#10 CSR, subject O = CpoName, CN = the charge "
                                   "point's serial number; RSA >= 2048 bits or EC >= 224 bits")
    return got.payload["csr"], sign_csr(got.payload["csr"], ca)


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
@pytest.mark.tc("TC_074_CS", "Update Charge Point Certificate by request of Central System")
async def test_tc_074_cs_update_charge_point_certificate(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_074_CS, whitepaper use case A02 (security profile 3).

    Before: CpoName is the configured vendor name. ExtendedTriggerMessage SignChargePointCertificate;
    the CSR must be PKCS#10 with O = CpoName, CN = the serial number, a strong key; the harness's CA
    signs it; CertificateSigned is Accepted and the charge point reconnects presenting that certificate.
    """
    cs = central_system
    ca = _material(sut, "CA key to sign the CSR (tls.ca_key)", sut.security and sut.security.ca)
    await connected_over(cs, sut, (3,))
    await configure(cs, sut, "before (CpoName)", {"CpoName": cpo_name(sut)}, optional=("CpoName",))
    _, chain = await _signed_certificate(cs, sut, step="", ca=ca, check=True)
    mark = len(cs.connections)
    await cs.call("CertificateSigned", {"certificateChain": chain}, step="5-6 (CertificateSigned)",
                  expect={"status": "Accepted"})
    connection = await wait_reconnection(cs, mark, step="7 (the charge point reconnects with the new certificate)",
                                         profile=3)
    presented = connection.handshake.tls.peer_certificate_pem if connection.handshake.tls else None
    issued = load_certificates(chain)[0]
    if not presented or load_certificates(presented)[0] != issued:
        shown = load_certificates(presented)[0] if presented else None
        raise PayloadMismatch("7", "the charge point reconnected, but not with the certificate signed at step 5",
                              f"signed at step 5: serial {issued.serial_number:x}; presented: "
                              + (f"{shown.subject.rfc4514_string()} serial {shown.serial_number:x}" if shown else "none"))


async def _install_and_list(cs: CentralSystem, kind: str, pem: str) -> None:
    """TC_075_x steps 1-4: InstallCertificate Accepted, then GetInstalledCertificateIds names it (own calculation)."""
    await cs.call("InstallCertificate", {"certificateType": kind, "certificate": pem}, step=f"1-2 (InstallCertificate {kind})",
                  expect={"status": "Accepted"})
    reply = await cs.call("GetInstalledCertificateIds", {"certificateType": kind}, step="3-4 (GetInstalledCertificateIds)",
                          expect={"status": "Accepted"})
    fail_on("4", hash_data_problems(reply.get("certificateHashData", []), pem, present=True,  # type: ignore[union-attr]
                                    what="the certificate installed at step 1"),
            "whitepaper: CertificateHashDataType (issuerNameHash, issuerKeyHash, serialNumber; RFC 6960 CertID)")


def _store_certificate(sut: SutHandle, configured: str | None, name: str) -> str:
    """<Certificate from the store>: the vendor's file; with a generated PKI a root made for the case (the run's own
    roots are installed at the simulator already, and installing them again would prove nothing)."""
    material = _material(sut, "certificate store (tls:)", sut.security)
    if material.pki is None:
        return _material(sut, f"{name} file", configured)  # type: ignore[no-any-return]
    return make_root(f"OpenOCTT {name} (store)")[1]


@pytest.mark.security
@pytest.mark.tc("TC_075_1_CS", "Install a certificate on the Charge Point - ManufacturerRootCertificate")
async def test_tc_075_1_cs_install_manufacturer_root_certificate(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_075_1_CS, whitepaper use case M05/M03: the store's ManufacturerRootCertificate is installed and listed
    (tls.manufacturer_root; with a generated PKI a root CA made for the case)."""
    _supports(sut, (2, 3))
    pem = _store_certificate(sut, sut.security and sut.security.manufacturer_root_pem, "Manufacturer Root CA")
    await _install_and_list(central_system, MF_ROOT, pem)


@pytest.mark.security
@pytest.mark.tc("TC_075_2_CS", "Install a certificate on the Charge Point - CentralSystemRootCertificate")
async def test_tc_075_2_cs_install_central_system_root_certificate(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_075_2_CS, whitepaper use case M05/M03: the store's CentralSystemRootCertificate is installed and listed
    (tls.ca; with a generated PKI a root CA made for the case)."""
    _supports(sut, (2, 3))
    pem = _store_certificate(sut, sut.security and sut.security.root_pem, "Central System Root CA")
    await _install_and_list(central_system, CS_ROOT, pem)


@pytest.mark.security
@pytest.mark.tc("TC_076_CS", "Delete a specific certificate from the Charge Point")
async def test_tc_076_cs_delete_a_specific_certificate(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_076_CS, whitepaper use case M04.

    Before (CertificateInstalled): a second CentralSystemRootCertificate ("Root 2", made for the case)
    is installed. DeleteCertificate with its hash data (the hashAlgorithm the charge point used at step
    2) is Accepted, and GetInstalledCertificateIds no longer names it.
    """
    cs = central_system
    _supports(sut, (2, 3))
    root2, pem = make_root("OpenOCTT Root 2 (TC_076)")
    reply = await cs.call("GetInstalledCertificateIds", {"certificateType": CS_ROOT},
                          step="before (CertificateInstalled 1-2: GetInstalledCertificateIds)")
    if reply.get("status") != "Accepted":  # type: ignore[union-attr]
        cs.warn("before", f"GetInstalledCertificateIds answered {reply.get('status')}", "memory state CertificateInstalled: "  # type: ignore[union-attr]
                "status should be Accepted")
    await cs.call("InstallCertificate", {"certificateType": CS_ROOT, "certificate": pem},
                  step="before (CertificateInstalled 3-4: InstallCertificate Root 2)", expect={"status": "Accepted"})
    listed = await cs.call("GetInstalledCertificateIds", {"certificateType": CS_ROOT}, step="1-2 (GetInstalledCertificateIds)")
    entries = listed.get("certificateHashData") or []  # type: ignore[union-attr]
    ours = [e for e in entries if not hash_data_problems([e], root2, present=True, what="")]
    algorithm = (ours or entries or [{"hashAlgorithm": "SHA256"}])[0]["hashAlgorithm"]
    await cs.call("DeleteCertificate", {"certificateHashData": certificate_hash_data(root2, root2, algorithm)},
                  step="3-4 (DeleteCertificate Root 2)", expect={"status": "Accepted"})
    after = await cs.call("GetInstalledCertificateIds", {"certificateType": CS_ROOT}, step="5-6 (GetInstalledCertificateIds)")
    fail_on("6", hash_data_problems(after.get("certificateHashData") or [], root2, present=False,  # type: ignore[union-attr]
                                    what="the certificate deleted at step 3"))


@pytest.mark.security
@pytest.mark.tc("TC_077_CS", "Invalid ChargePointCertificate Security Event")
async def test_tc_077_cs_invalid_charge_point_certificate_security_event(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_077_CS, whitepaper use cases A02 and N (security events).

    After the CSR (steps 1-4), CertificateSigned carries an invalid certificate: one for the CSR's
    key, issued by a CA the charge point does not trust. It is Rejected, and the charge point sends
    SecurityEventNotification InvalidChargePointCertificate.
    """
    cs = central_system
    _supports(sut, (3,))
    await configure(cs, sut, "before (CpoName)", {"CpoName": cpo_name(sut)}, optional=("CpoName",))
    unknown = untrusted_ca(_material(sut, "directory for keys", sut.security).directory)
    _, chain = await _signed_certificate(cs, sut, step="", ca=unknown, check=False)
    await cs.call("CertificateSigned", {"certificateChain": chain}, step="5-6 (CertificateSigned: an invalid certificate)",
                  expect={"status": "Rejected"})
    await cs.expect_all(security_event("InvalidChargePointCertificate"),
                        step="7-8 (SecurityEventNotification InvalidChargePointCertificate)")


@pytest.mark.security
@pytest.mark.tc("TC_078_CS", "Invalid CentralSystemCertificate Security Event")
async def test_tc_078_cs_invalid_central_system_certificate_security_event(central_system: CentralSystem,
                                                                            sut: SutHandle) -> None:
    """TC_078_CS, whitepaper use cases M05 and N: an expired root CA as CentralSystemRootCertificate is Rejected,
    and the charge point sends SecurityEventNotification InvalidCentralSystemCertificate."""
    cs = central_system
    _supports(sut, (2, 3))
    await cs.call("InstallCertificate", {"certificateType": CS_ROOT, "certificate": expired_root()},
                  step="1-2 (InstallCertificate: an expired certificate)", expect={"status": "Rejected"})
    await cs.expect_all(security_event("InvalidCentralSystemCertificate"),
                        step="3-4 (SecurityEventNotification InvalidCentralSystemCertificate)")


@pytest.mark.security
@pytest.mark.tc("TC_079_CS", "Get Security Log")
async def test_tc_079_cs_get_security_log(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_079_CS, whitepaper use case N01: GetLog SecurityLog to an upload directory of the harness's server;
    LogStatusNotification Uploading, a complete non-empty file really arrives, then Uploaded (with the requestId)."""
    cs = central_system
    _supports(sut, (0, 1, 2, 3))
    request_id = next(_request_ids)
    async with transfer_servers(sut) as servers:
        protocol = await file_transfer_protocol(cs, sut, step="before")
        location = servers.upload_url(protocol)
        since = servers.record.mark()
        reply = await cs.call("GetLog", {"logType": "SecurityLog", "requestId": request_id, "log": {"remoteLocation": location}},
                              step="1-2 (GetLog SecurityLog)", expect={"status": "Accepted"})
        async with transfer_evidence(servers, location, since):
            (uploading,) = await cs.expect_all(log_status("Uploading"), step="3-4 (LogStatusNotification Uploading)")
            (uploaded,) = await cs.expect_all(log_status("Uploaded", "Uploading"), step="5-6 (LogStatusNotification Uploaded)",
                                              timeout=transfer_timeout(sut))
            await check_upload(cs, servers, location, reply.get("filename"), step="5", since=since)  # type: ignore[union-attr]
    fail_on("5", request_id_problems(uploading, request_id, "LogStatusNotification Uploading")
            + request_id_problems(uploaded, request_id, "LogStatusNotification Uploaded"))


async def _signed_update(cs: CentralSystem, sut: SutHandle, servers: Any, *, valid: bool) -> tuple[Any, int, int]:
    """Steps 1-6 of TC_080/TC_081: SignedUpdateFirmware (a real signature, or one over other bytes), Downloading,
    the download and Downloaded. Returns (the published firmware, the requestId, the transfer mark)."""
    signer = _material(sut, "firmware signing certificate and key (tls.signing_cert, tls.signing_key)",
                       sut.security and sut.security.signer)
    protocol = await file_transfer_protocol(cs, sut, step="before")
    firmware = publish_firmware(servers, sut, protocol)
    signature = sign_firmware(firmware.data if valid else b"not this firmware: " + firmware.data, signer)
    request_id = next(_request_ids)
    since = servers.record.mark()
    await cs.call("SignedUpdateFirmware", {"requestId": request_id, "firmware": {
        "location": firmware.url, "retrieveDateTime": now_iso(), "signingCertificate": signer.cert_pem,
        "signature": signature}}, step="1-2 (SignedUpdateFirmware)" + ("" if valid else ": an invalid signature"),
        expect={"status": "Accepted"})
    async with transfer_evidence(servers, firmware.url, since):
        await cs.expect_all(signed_firmware_status("Downloading"), step="3-4 (SignedFirmwareStatusNotification Downloading)")
        await cs.expect_all(signed_firmware_status("Downloaded", "Downloading"),
                            step="5-6 (SignedFirmwareStatusNotification Downloaded)", timeout=transfer_timeout(sut))
        await check_download(cs, servers, firmware, step="5", since=since)
    return firmware, request_id, since


def _request_ids_of(cs: CentralSystem, start: int, request_id: int) -> None:
    """Every SignedFirmwareStatusNotification since ``start`` names the request (missing: a warning)."""
    notes = [r for r in cs.inbox.items[start:] if r.action == "SignedFirmwareStatusNotification"]
    fail_on("3-18", [p for r in notes for p in request_id_problems(r, request_id, f"SignedFirmwareStatusNotification "
                                                                                 f"{r.payload['status']}")])
    if any("requestId" not in r.payload for r in notes):
        cs.warn("3-18", "a SignedFirmwareStatusNotification carries no requestId", "whitepaper: requestId is the "
                "SignedUpdateFirmware.req's, except for a triggered notification; the schema makes it optional")


@pytest.mark.security
@pytest.mark.tc("TC_080_CS", "Secure Firmware Update")
async def test_tc_080_cs_secure_firmware_update(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_080_CS, whitepaper use case L01.

    SignedUpdateFirmware with a firmware on the harness's server signed by the signing certificate:
    Downloading, a complete download, Downloaded, SignatureVerified, Installing (InstallRebooting
    tolerated), then in any order the reboot's BootNotification, SecurityEventNotification
    FirmwareUpdated, every connector Available and Installed.
    """
    cs = central_system
    if "firmware_management" not in sut.config.features:
        pytest.skip("prerequisite not met: the SUT config does not list feature profile 'firmware_management'")
    start = len(cs.inbox.items)
    async with transfer_servers(sut) as servers:
        firmware, request_id, since = await _signed_update(cs, sut, servers, valid=True)
        async with transfer_evidence(servers, firmware.url, since):
            await cs.expect_all(signed_firmware_status("SignatureVerified", "Downloaded"),
                                step="7-8 (SignedFirmwareStatusNotification SignatureVerified)")
            await cs.expect_all(signed_firmware_status("Installing", "SignatureVerified"),
                                step="9-10 (SignedFirmwareStatusNotification Installing)")
            installed = Notification("SignedFirmwareStatusNotification", {"status": "Installed"},
                                     tolerate=lambda p: p.get("status") in ("Installing", "InstallRebooting"))
            await cs.expect_all(Expectation("BootNotification"), security_event("FirmwareUpdated"), *boot_statuses(sut),
                                installed, step="11-18 (BootNotification, SecurityEventNotification FirmwareUpdated, "
                                                "StatusNotification Available, Installed; any order)",
                                timeout=transfer_timeout(sut) + cs.timeouts.connect)
    _request_ids_of(cs, start, request_id)


@pytest.mark.security
@pytest.mark.tc("TC_081_CS", "Secure Firmware Update - Invalid Signature")
async def test_tc_081_cs_secure_firmware_update_invalid_signature(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_081_CS, whitepaper use case L01: the signature is a real one over other bytes; after the download the
    charge point reports InvalidSignature (never SignatureVerified or Installing)."""
    cs = central_system
    if "firmware_management" not in sut.config.features:
        pytest.skip("prerequisite not met: the SUT config does not list feature profile 'firmware_management'")
    start = len(cs.inbox.items)
    async with transfer_servers(sut) as servers:
        _, request_id, _ = await _signed_update(cs, sut, servers, valid=False)
        await cs.expect_all(signed_firmware_status("InvalidSignature", "Downloaded"),
                            step="7-8 (SignedFirmwareStatusNotification InvalidSignature)")
    _request_ids_of(cs, start, request_id)


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
        root = _material(sut, "CentralSystemRootCertificate", sut.security).root_pem
        await cs.call("GetInstalledCertificateIds", {"certificateType": CS_ROOT}, step="before (CertificateInstalled 1-2)")
        await cs.call("InstallCertificate", {"certificateType": CS_ROOT, "certificate": root},
                      step="before (CertificateInstalled 3-4)", expect={"status": "Accepted"})
    else:
        ca = _material(sut, "CA key to sign the CSR (tls.ca_key)", sut.security and sut.security.ca)
        _, chain = await _signed_certificate(cs, sut, step="before (RenewChargePointCertificate) ", ca=ca, check=False)
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
