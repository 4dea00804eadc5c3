"""Security extension, charge point under test: certificates, the security log and signed firmware.

TC_074_CS .. TC_081_CS beside the connection cases of ``test_security_cs`` (passwords, profiles,
TLS), with the same conventions and readings (see there): CSRs are checked and signed by the
harness's CA, certificate hash data is recalculated, the security log really reaches the harness's
upload server and the firmware really carries a signature by the signing certificate. TC_075_x
install, with a generated PKI, a root CA made for the case (the run's roots are installed already);
TC_076 deletes a second CentralSystemRootCertificate the case installs itself ("Root 2"), so the
root the charge point's TLS depends on stays; TC_077's invalid certificate is one for the CSR's key
issued by a CA the charge point does not trust; TC_080 expects the event FirmwareUpdated.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from harness.errors import PayloadMismatch
from harness.inbox import Expectation
from harness.pki import certificate_hash_data, sign_firmware
from harness.pki_certs import load_certificates
from harness.roles.central_system import CentralSystem, now_iso
from harness.sut import SutHandle
from testcases.states_charge_point import boot_statuses, configure
from testcases.states_firmware import (
    Notification, check_download, check_upload, file_transfer_protocol, publish_firmware, transfer_evidence,
    transfer_servers, transfer_timeout,
)
from testcases.states_security import (
    CS_ROOT, MF_ROOT, connected_over, cpo_name, expired_root, fail_on, hash_data_problems, log_status, make_root,
    profile_for, request_id_problems, require_material, security_event, signed_certificate, signed_firmware_status,
    untrusted_ca, wait_reconnection,
)

_request_ids = itertools.count(7301)


def _supports(sut: SutHandle, allowed: tuple[int, ...]) -> None:
    """Prerequisite "the Charge Point supports security profile ...": skip unless ``tls.profiles`` lists one."""
    profile_for(sut, allowed, -1)


@pytest.mark.security
@pytest.mark.tc("TC_074_CS", "Update Charge Point Certificate by request of Central System")
async def test_tc_074_cs_update_charge_point_certificate(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_074_CS, whitepaper use case A02 (security profile 3).

    Before: CpoName is the configured vendor name. ExtendedTriggerMessage SignChargePointCertificate;
    the CSR must be PKCS#10 with O = CpoName, CN = the serial number, a strong key; the harness's CA
    signs it; CertificateSigned is Accepted and the charge point reconnects presenting that certificate.
    """
    cs = central_system
    ca = require_material(sut, "CA key to sign the CSR (tls.ca_key)", sut.security and sut.security.ca)
    await connected_over(cs, sut, (3,))
    await configure(cs, sut, "before (CpoName)", {"CpoName": cpo_name(sut)}, optional=("CpoName",))
    _, chain = await signed_certificate(cs, sut, step="", ca=ca, check=True)
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
    material = require_material(sut, "certificate store (tls:)", sut.security)
    if material.pki is None:
        return require_material(sut, f"{name} file", configured)  # type: ignore[no-any-return]
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
    unknown = untrusted_ca(require_material(sut, "directory for keys", sut.security).directory)
    _, chain = await signed_certificate(cs, sut, step="", ca=unknown, check=False)
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
    signer = require_material(sut, "firmware signing certificate and key (tls.signing_cert, tls.signing_key)",
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
