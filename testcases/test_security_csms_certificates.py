"""Security extension, central system under test: certificates, the security log and signed firmware.

TC_074_CSMS .. TC_081_CSMS beside the connection cases of ``test_security_csms`` (passwords,
profiles, TLS, subprotocol), with the same conventions: the harness charge point makes a new key
pair and a real CSR when asked, checks the chain the central system signs and reconnects with it,
answers GetInstalledCertificateIds with hash data of what is installed, uploads its security log to
the location GetLog names and downloads the firmware SignedUpdateFirmware names, verifying its
signature against the ManufacturerRootCertificate. Every case starts disconnected (the common
state); harness.common_state puts the security profile back after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.errors import PayloadMismatch, StepFailure
from harness.pki import (
    check_chain, make_csr, new_private_key, same_certificate, verify_firmware_signature,
)
from harness.pki_certs import load_certificates, write_private
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from harness.transfer_client import TransferError, download, redact_url, upload
from testcases.states_central_system import booted, operator_sends, status
from testcases.states_firmware import check_location
from testcases.states_security import CS_ROOT, MF_ROOT, cpo_name, fail_on, harness_over, profile_for



def _supports(sut: SutHandle, allowed: tuple[int, ...]) -> None:
    """Prerequisite "the Central System supports security profile ...": skip unless ``tls.profiles`` lists one."""
    profile_for(sut, allowed, -1)


async def _notify(cp: ChargePoint, action: str, state: str, *, step: str, request_id: int | None = None) -> None:
    payload: dict[str, Any] = {"status": state}
    if request_id is not None:
        payload["requestId"] = request_id
    await cp.call(action, payload, step=step)


async def _event(cp: ChargePoint, kind: str, *, step: str) -> None:
    """SecurityEventNotification ``kind``; the central system must answer it (an empty conf)."""
    await cp.call("SecurityEventNotification", {"type": kind, "timestamp": now_iso()}, step=step)


# -- certificates --------------------------------------------------------------------------------------------
def _chain_problems(cp: ChargePoint, chain: str, key: Any) -> list[str]:
    """The CertificateSigned chain: for the CSR's key, chaining up to an installed CentralSystemRootCertificate."""
    roots = [load_certificates(pem)[0] for pem in cp.certificates.get(CS_ROOT, [])]
    problems = check_chain(chain, roots)
    try:
        leaf = load_certificates(chain)[0]
    except ValueError:
        return problems
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(serialization.Encoding.DER, spki) != key.public_key().public_bytes(
            serialization.Encoding.DER, spki):
        problems.append("the certificate is not for the key of the CSR sent at step 3")
    return problems


async def _renewal(cp: ChargePoint, sut: SutHandle, *, accept: bool) -> tuple[str, Any, list[str]]:
    """Steps 1-6 of TC_074/TC_077: ExtendedTriggerMessage, SignCertificate (a new key's CSR), CertificateSigned
    (answered Accepted when ``accept`` and valid, else Rejected). Returns (chain, key, what is wrong with it)."""
    await booted(cp, sut)
    await operator_sends(cp, sut, "cs_extended_trigger_message", "ExtendedTriggerMessage", step="1-2 (ExtendedTriggerMessage "
                         "SignChargePointCertificate)", reply={"status": "Accepted"},
                         params={"requested_message": "SignChargePointCertificate"},
                         requestedMessage="SignChargePointCertificate")
    key = new_private_key(str(sut.config.extra.get("csr_key_type", "ec")))  # type: ignore[arg-type]
    csr = make_csr(sut.config.charge_point_id, cpo_name(sut), key)
    await cp.call("SignCertificate", {"csr": csr}, step="3-4 (SignCertificate)", expect={"status": "Accepted"})
    problems: list[str] = []

    def judge(payload: dict[str, Any]) -> dict[str, str]:
        problems.extend(_chain_problems(cp, payload["certificateChain"], key))
        return {"status": "Accepted" if accept and not problems else "Rejected"}

    got = await cp.expect("CertificateSigned", step="5-6 (CertificateSigned)", reply=judge)
    return got.payload["certificateChain"], key, problems


@pytest.mark.security
@pytest.mark.tc("TC_074_CSMS", "Update Charge Point Certificate by request of Central System")
async def test_tc_074_csms_update_charge_point_certificate(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_074_CSMS, whitepaper use case A02 (profile 3): the operator triggers the renewal; the central system signs
    the harness's CSR (a chain to its root, for the CSR's key); the harness reconnects with the new certificate."""
    cp = charge_point
    await harness_over(cp, sut, (3,))
    chain, key, problems = await _renewal(cp, sut, accept=True)
    fail_on("5", problems, "whitepaper use case A02: the central system's CA signs the charge point's CSR")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    directory = sut.security.directory  # type: ignore[union-attr]
    cp.identity = (write_private(directory / f"harness-cp-{stamp}.pem", chain.encode()),
                   write_private(directory / f"harness-cp-{stamp}.key", key.private_bytes(
                       serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))
    await cp.connect(step="7 (the charge point reconnects with the new certificate)")


@pytest.mark.security
@pytest.mark.tc("TC_077_CSMS", "Invalid ChargePointCertificate Security Event")
async def test_tc_077_csms_invalid_charge_point_certificate_security_event(charge_point: ChargePoint,
                                                                          sut: SutHandle) -> None:
    """TC_077_CSMS, whitepaper use cases A02 and N: the central system signs the CSR; the harness rejects the
    certificate (as the OCTT does) and reports InvalidChargePointCertificate, which the central system answers."""
    cp = charge_point
    _supports(sut, (3,))
    _, _, problems = await _renewal(cp, sut, accept=False)
    fail_on("5", problems, "catalog step 5: the certificate is <Signed ChargePointCertificate>")
    await _event(cp, "InvalidChargePointCertificate", step="7-8 (SecurityEventNotification InvalidChargePointCertificate)")


def _root_problems(pem: str) -> list[str]:
    """An InstallCertificate certificate: PEM X.509, a self-signed CA certificate (a root)."""
    try:
        cert = load_certificates(pem)[0]
    except ValueError as exc:
        return [f"the certificate is not PEM X.509 ({exc})"]
    problems = check_chain(pem, [cert])
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if cert.issuer != cert.subject or not is_ca or problems:
        return [f"the certificate {cert.subject.rfc4514_string()} is not a root CA certificate (self-signed, CA)"] + problems
    return []


async def _install(cp: ChargePoint, sut: SutHandle, kind: str, *, step: str, certificate: str = "configured",
                   answer: str = "Accepted") -> str:
    problems: list[str] = []

    def judge(payload: dict[str, Any]) -> dict[str, Any]:
        problems.extend(_root_problems(payload["certificate"]))
        return cp.certificate_reply("InstallCertificate", payload) if answer == "Accepted" and not problems else \
            {"status": "Rejected"}

    got = await operator_sends(cp, sut, "cs_install_certificate", "InstallCertificate", step=step, reply=judge,
                               params={"certificate_type": kind, "certificate": certificate}, certificateType=kind)
    fail_on(step.split(" ")[0].split("-")[0], problems, "catalog: this case must be executed with a Root CA certificate")
    return str(got.payload["certificate"])


async def _list(cp: ChargePoint, sut: SutHandle, kind: str, *, step: str) -> list[dict[str, str]]:
    algorithm = str(sut.config.extra.get("hash_algorithm", "SHA256"))
    data = cp.hash_data(kind, algorithm)
    await operator_sends(cp, sut, "cs_get_installed_certificate_ids", "GetInstalledCertificateIds", step=step,
                         reply={"status": "Accepted", "certificateHashData": data} if data else {"status": "NotFound"},
                         params={"certificate_type": kind}, certificateType=kind)
    return data


@pytest.mark.security
@pytest.mark.tc("TC_075_1_CSMS", "Install a certificate on the Charge Point - ManufacturerRootCertificate")
async def test_tc_075_1_csms_install_manufacturer_root_certificate(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_075_1_CSMS, whitepaper use cases M05, M03: InstallCertificate of a root CA as ManufacturerRootCertificate,
    then GetInstalledCertificateIds of that type (answered with the hash data of what is installed)."""
    _supports(sut, (2, 3))
    await booted(charge_point, sut)
    await _install(charge_point, sut, MF_ROOT, step="1-2 (InstallCertificate ManufacturerRootCertificate)")
    await _list(charge_point, sut, MF_ROOT, step="3-4 (GetInstalledCertificateIds)")


@pytest.mark.security
@pytest.mark.tc("TC_075_2_CSMS", "Install a certificate on the Charge Point - CentralSystemRootCertificate")
async def test_tc_075_2_csms_install_central_system_root_certificate(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_075_2_CSMS, whitepaper use cases M05, M03: as TC_075_1_CSMS for the CentralSystemRootCertificate."""
    _supports(sut, (2, 3))
    await booted(charge_point, sut)
    await _install(charge_point, sut, CS_ROOT, step="1-2 (InstallCertificate CentralSystemRootCertificate)")
    await _list(charge_point, sut, CS_ROOT, step="3-4 (GetInstalledCertificateIds)")


@pytest.mark.security
@pytest.mark.tc("TC_076_CSMS", "Delete a specific certificate from the Charge Point")
async def test_tc_076_csms_delete_a_specific_certificate(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_076_CSMS, whitepaper use case M04.

    Before: the operator installs a second CentralSystemRootCertificate (Root 2). GetInstalledCertificateIds is
    answered with the configured hashAlgorithm (``extra.hash_algorithm``, SHA256); DeleteCertificate must name
    Root 2 in that algorithm, with the fields the harness calculates itself.
    """
    cp = charge_point
    await booted(cp, sut)
    root2 = await _install(cp, sut, CS_ROOT, step="before (install Root 2)", certificate="other")
    algorithm = str(sut.config.extra.get("hash_algorithm", "SHA256"))
    await _list(cp, sut, CS_ROOT, step="1-2 (GetInstalledCertificateIds)")
    problems: list[str] = []
    own = next((d for pem, d in zip(cp.certificates.get(CS_ROOT, []), cp.hash_data(CS_ROOT, algorithm)) if pem == root2),
               None)

    def judge(payload: dict[str, Any]) -> dict[str, Any]:
        data = payload["certificateHashData"]
        if data.get("hashAlgorithm") != algorithm:
            problems.append(f"hashAlgorithm is {data.get('hashAlgorithm')!r}; step 2 reported {algorithm}")
        elif own is None or not same_certificate(data, own):
            problems.append(f"certificateHashData {data} does not name Root 2; the harness calculates {own}")
        return {"status": "Failed"} if problems else cp.certificate_reply("DeleteCertificate", payload)

    await operator_sends(cp, sut, "cs_delete_certificate", "DeleteCertificate", step="3-4 (DeleteCertificate Root 2)",
                         reply=judge, params={"certificate_type": CS_ROOT})
    fail_on("3", problems, "whitepaper: CertificateHashDataType (RFC 6960 CertID reading, harness.pki)")


@pytest.mark.security
@pytest.mark.tc("TC_078_CSMS", "Invalid CentralSystemCertificate Security Event")
async def test_tc_078_csms_invalid_central_system_certificate_security_event(charge_point: ChargePoint,
                                                                              sut: SutHandle) -> None:
    """TC_078_CSMS, whitepaper use cases M05 and N: the harness rejects the certificate the operator installs (as the
    OCTT does with any) and reports InvalidCentralSystemCertificate; the central system answers it."""
    cp = charge_point
    _supports(sut, (2, 3))
    await booted(cp, sut)
    await _install(cp, sut, CS_ROOT, step="1-2 (InstallCertificate CentralSystemRootCertificate)", answer="Rejected")
    await _event(cp, "InvalidCentralSystemCertificate", step="3-4 (SecurityEventNotification InvalidCentralSystemCertificate)")


# -- log and firmware ------------------------------------------------------------------------------------------
@pytest.mark.security
@pytest.mark.tc("TC_079_CSMS", "Get Security Log")
async def test_tc_079_csms_get_security_log(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_079_CSMS, whitepaper use case N01: GetLog SecurityLog with a URL; the harness uploads its security log
    there for real and reports Uploading and Uploaded with the requestId; the central system answers both."""
    cp = charge_point
    await booted(cp, sut)
    name = f"SecurityLog-{sut.config.charge_point_id}-{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.log"
    got = await operator_sends(cp, sut, "cs_get_log", "GetLog", step="1-2 (GetLog SecurityLog)",
                               reply={"status": "Accepted", "filename": name}, params={"log_type": "SecurityLog"},
                               logType="SecurityLog")
    location, request_id = got.payload["log"]["remoteLocation"], got.payload["requestId"]
    check_location(location, step="1", what="GetLog.req log.remoteLocation")
    await _notify(cp, "LogStatusNotification", "Uploading", step="3-4 (LogStatusNotification Uploading)", request_id=request_id)
    data = f"{now_iso()} StartupOfTheDevice\n{now_iso()} security log of {sut.config.charge_point_id} (harness)\n".encode()
    try:
        await upload(location, data, timeout=sut.config.timeouts.step, filename=name, directory=True)
    except TransferError as exc:
        raise StepFailure("5", f"the harness charge point could not upload its security log to {redact_url(location)}: "
                               f"{exc.reason}", "TC_079_CSMS needs a location that accepts the upload") from None
    await _notify(cp, "LogStatusNotification", "Uploaded", step="5-6 (LogStatusNotification Uploaded)", request_id=request_id)


async def _signed_download(cp: ChargePoint, sut: SutHandle, signature: str) -> tuple[dict[str, Any], bytes, int]:
    """Steps 1-6 of TC_080/TC_081_CSMS: SignedUpdateFirmware (its signing certificate checked against the
    ManufacturerRootCertificate), Downloading, the real download, Downloaded."""
    problems: list[str] = []
    roots = [load_certificates(pem)[0] for pem in cp.certificates.get(MF_ROOT, [])]

    def judge(payload: dict[str, Any]) -> dict[str, str]:
        signing = str(payload["firmware"]["signingCertificate"])
        problems.extend(check_chain(signing, roots) if "BEGIN" in signing else ["the signing certificate is not PEM"])
        return {"status": "InvalidCertificate" if problems else "Accepted"}

    got = await operator_sends(cp, sut, "cs_signed_update_firmware", "SignedUpdateFirmware", step="1-2 (SignedUpdateFirmware)",
                               reply=judge, params={"signature": signature})
    fail_on("1", problems, "whitepaper use case L01: the signing certificate chains up to the ManufacturerRootCertificate")
    request, request_id = got.payload, int(got.payload["requestId"])
    check_location(request["firmware"]["location"], step="1", what="SignedUpdateFirmware.req firmware.location")
    await _notify(cp, "SignedFirmwareStatusNotification", "Downloading", step="3-4 (Downloading)", request_id=request_id)
    try:
        data = await download(request["firmware"]["location"], timeout=sut.config.timeouts.step)
    except TransferError as exc:
        raise StepFailure("5", f"the harness charge point could not download the firmware from "
                               f"{redact_url(request['firmware']['location'])}: {exc.reason}") from None
    await _notify(cp, "SignedFirmwareStatusNotification", "Downloaded", step="5-6 (Downloaded)", request_id=request_id)
    return request, data, request_id


@pytest.mark.security
@pytest.mark.tc("TC_080_CSMS", "Secure Firmware Update")
async def test_tc_080_csms_secure_firmware_update(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_080_CSMS, whitepaper use case L01.

    A firmware whose signature verifies (against the signing certificate, which chains up to the
    ManufacturerRootCertificate): Downloading, Downloaded (connectors Unavailable meanwhile), SignatureVerified,
    Installing, InstallRebooting, the reboot (BootNotification, StatusNotification Available), SecurityEventNotification
    FirmwareUpdated and Installed; the central system answers every message.
    """
    cp = charge_point
    if "firmware_management" not in sut.config.features:
        pytest.skip("prerequisite not met: the SUT config does not list feature profile 'firmware_management'")
    await booted(cp, sut)
    request, data, request_id = await _signed_download(cp, sut, "valid")
    for connector in range(sut.connectors + 1):
        await status(cp, connector, "Unavailable", step=f"3-9 (StatusNotification connector {connector} Unavailable)")
    problem = verify_firmware_signature(data, request["firmware"]["signature"], request["firmware"]["signingCertificate"])
    if problem is not None:
        raise PayloadMismatch("7", f"the firmware's signature does not verify: {problem}", "TC_080_CSMS needs a valid "
                                   "signature (operator: cs_signed_update_firmware signature=valid)")
    for step, state in (("7-8", "SignatureVerified"), ("9-10", "Installing"), ("11-12", "InstallRebooting")):
        await _notify(cp, "SignedFirmwareStatusNotification", state, step=f"{step} ({state})", request_id=request_id)
    await cp.connect(step="13 (the charge point reboots into the new firmware)")
    await booted(cp, sut, boot_step="13-14", status_step="17-18")
    await _event(cp, "FirmwareUpdated", step="15-16 (SecurityEventNotification FirmwareUpdated)")
    await _notify(cp, "SignedFirmwareStatusNotification", "Installed", step="19-20 (Installed)", request_id=request_id)


@pytest.mark.security
@pytest.mark.tc("TC_081_CSMS", "Secure Firmware Update - Invalid Signature")
async def test_tc_081_csms_secure_firmware_update_invalid_signature(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_081_CSMS, whitepaper use case L01: a firmware with an invalid signature; the harness downloads it, finds the
    signature does not verify and reports InvalidSignature; the central system answers every notification."""
    cp = charge_point
    if "firmware_management" not in sut.config.features:
        pytest.skip("prerequisite not met: the SUT config does not list feature profile 'firmware_management'")
    await booted(cp, sut)
    request, data, request_id = await _signed_download(cp, sut, "invalid")
    if verify_firmware_signature(data, request["firmware"]["signature"], request["firmware"]["signingCertificate"]) is None:
        raise StepFailure("7", "the firmware's signature verifies; TC_081_CSMS needs an invalid one",
                          "operator: cs_signed_update_firmware signature=invalid")
    await _notify(cp, "SignedFirmwareStatusNotification", "InvalidSignature", step="7-8 (InvalidSignature)",
                  request_id=request_id)
