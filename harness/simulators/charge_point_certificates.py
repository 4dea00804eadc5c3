"""Certificates, security log and signed firmware of the reference charge point ("Improved security for OCPP 1.6-J").

Split from charge_point_security (security profiles, AuthorizationKey, security events) so that each module
has one job: this one holds what the central system does with certificates and files; SecurityMixin sets up
the state it reads (the installed roots, the charge point's identity, the security log) and sends its events.

Certificates: InstallCertificate takes a valid root CA certificate (an expired or broken one is
Rejected, with the event InvalidCentralSystemCertificate for that type), GetInstalledCertificateIds
answers the hash data of harness.pki (RFC 6960 reading), DeleteCertificate removes one.
ExtendedTriggerMessage SignChargePointCertificate makes a new key and sends its CSR
(SignCertificate); CertificateSigned must carry a certificate for that key that chains up to an
installed CentralSystemRootCertificate and is valid now, else it is Rejected with the event
InvalidChargePointCertificate; at profile 3 it reconnects with the new certificate.

GetLog uploads its security log for real (harness.transfer_client); SignedUpdateFirmware checks the
signing certificate against the ManufacturerRootCertificates, downloads the file, verifies the
signature over it, installs by rebooting and reports each status with the requestId; after the
boot the event FirmwareUpdated, then Installed. A bad signature ends in InvalidSignature (and the
event InvalidFirmwareSignature).
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..pki_certs import PrivateKey, certificate_pem, load_certificates, new_private_key, write_private
from ..pki_checks import certificate_hash_data, check_chain, make_csr, same_certificate, verify_firmware_signature
from ..transfer_client import TransferError, upload

__all__ = ["FAULTS", "VARIANTS", "CertificatesMixin"]

#: fault switches of the security extension's certificates, GetLog and signed firmware (merged into the charge
#: point's --list-faults)
FAULTS: dict[str, str] = {
    "expired_root_accepted": "install an expired root certificate (Accepted, no security event)",
    "manufacturer_root_not_installed": "answer InstallCertificate of a ManufacturerRootCertificate Accepted without "
                                       "installing it",
    "certificate_hash_wrong": "issuerKeyHash over the whole SubjectPublicKeyInfo instead of the key's bits",
    "delete_certificate_not_removed": "answer DeleteCertificate Accepted but keep the certificate",
    "certificate_signed_unchecked": "accept any CertificateSigned chain (no check of key, chain or validity)",
    "no_reconnect_with_new_certificate": "keep the connection after a new charge point certificate (no reconnect)",
    "security_log_not_uploaded": "report Uploading and Uploaded for GetLog without uploading anything",
    "signed_firmware_installed_despite_bad_signature": "install a signed firmware whose signature does not verify "
                                                       "(SignatureVerified, Installing ... Installed)",
    "signed_firmware_no_security_event": "send no SecurityEventNotification FirmwareUpdated after a signed update",
}
#: variants of the security extension's certificates and signed firmware (merged into the charge point's
#: --list-variants)
VARIANTS: dict[str, str] = {
    "csr_rsa_key": "its CSRs carry an RSA 2048 key (default: ECDSA P-256)",
    "certificate_hash_sha384": "GetInstalledCertificateIds answers hash data with SHA384 (default SHA256)",
    "signed_firmware_install_rebooting": "a signed update reports InstallRebooting before the reboot",
}


class CertificatesMixin:
    """Installed certificates, the charge point certificate, GetLog and SignedUpdateFirmware of SimChargePoint
    (handlers on_<Action>); the connection, keys and security events are SecurityMixin's."""

    config: Any
    faults: Any
    variants: Any
    outbox: Any
    cp_id: str
    boots: int
    # set by SecurityMixin.setup_security
    roots: dict[str, list[x509.Certificate]]
    identity: tuple[Path, Path] | None
    pending_key: PrivateKey | None
    security_log: list[str]
    log_status: str
    signed_firmware_status: str
    _dir: Path
    profile: int  # SecurityMixin's property
    # methods it calls: SecurityMixin's security_event and _reconnect_now, HandlersMixin's later, TriggerMixin's
    # on_TriggerMessage, FirmwareMixin's _until, _download and _booted_since, SimChargePoint's drain and reboot

    # -- installed certificates ---------------------------------------------------------------------------
    async def on_InstallCertificate(self, payload: dict[str, Any]) -> dict[str, Any]:
        kind = payload["certificateType"]
        try:
            cert = load_certificates(payload["certificate"])[0]
            problems = check_chain(certificate_pem(cert), [cert])
        except ValueError as exc:
            cert, problems = None, [f"not a PEM X.509 certificate ({exc})"]
        if cert is not None and not _is_ca(cert):
            problems.append("not a CA certificate")
        if "expired_root_accepted" in self.faults:
            problems = [p for p in problems if "expired" not in p]
        if problems or cert is None:
            if kind == "CentralSystemRootCertificate":
                self.security_event("InvalidCentralSystemCertificate", problems[0])
            return {"status": "Rejected"}
        if kind == "ManufacturerRootCertificate" and "manufacturer_root_not_installed" in self.faults:
            return {"status": "Accepted"}
        if cert not in self.roots[kind]:
            self.roots[kind].append(cert)
        return {"status": "Accepted"}

    def _hash_data(self, cert: x509.Certificate) -> dict[str, str]:
        algorithm = "SHA384" if "certificate_hash_sha384" in self.variants else "SHA256"
        data = certificate_hash_data(cert, cert, algorithm)  # roots: their own issuer
        if "certificate_hash_wrong" in self.faults:
            spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
            data["issuerKeyHash"] = hashlib.new(algorithm.lower(), spki).hexdigest()
        return data

    async def on_GetInstalledCertificateIds(self, payload: dict[str, Any]) -> dict[str, Any]:
        installed = self.roots.get(payload["certificateType"], [])
        if not installed:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashData": [self._hash_data(c) for c in installed]}

    async def on_DeleteCertificate(self, payload: dict[str, Any]) -> dict[str, Any]:
        wanted = payload["certificateHashData"]
        for certs in self.roots.values():
            for cert in list(certs):
                if same_certificate(certificate_hash_data(cert, cert, wanted["hashAlgorithm"]), wanted):
                    if "delete_certificate_not_removed" not in self.faults:
                        certs.remove(cert)
                    return {"status": "Accepted"}
        return {"status": "NotFound"}

    # -- the charge point certificate (ExtendedTriggerMessage, SignCertificate, CertificateSigned) --------------
    async def on_ExtendedTriggerMessage(self, payload: dict[str, Any]) -> dict[str, Any]:
        requested = payload["requestedMessage"]
        if requested == "SignChargePointCertificate":
            self.later(self._request_certificate)  # type: ignore[attr-defined]
            return {"status": "Accepted"}
        if requested == "LogStatusNotification":
            self.later(lambda: self.outbox.put("LogStatusNotification", lambda: {"status": self.log_status}))  # type: ignore[attr-defined]
            return {"status": "Accepted"}
        if requested == "FirmwareStatusNotification":  # the signed update's status (whitepaper)
            self.later(lambda: self.outbox.put("SignedFirmwareStatusNotification",  # type: ignore[attr-defined]
                                               lambda: {"status": self.signed_firmware_status}))
            return {"status": "Accepted"}
        return await self.on_TriggerMessage(payload)  # type: ignore[attr-defined, no-any-return]  # the Core messages

    async def _request_certificate(self) -> None:
        """A new key pair and its CSR (subject CN = chargePointId, O = CpoName), sent as SignCertificate."""
        key = new_private_key("rsa" if "csr_rsa_key" in self.variants else "ec")
        csr = make_csr(self.cp_id, self.config["CpoName"], key)
        self.pending_key = key
        await self.outbox.call("SignCertificate", lambda: {"csr": csr})

    def _chain_problems(self, chain_pem: str) -> list[str]:
        try:
            leaf = load_certificates(chain_pem)[0]
        except ValueError as exc:
            return [f"the chain is not PEM X.509 ({exc})"]
        problems = check_chain(chain_pem, self.roots["CentralSystemRootCertificate"])
        der = serialization.PublicFormat.SubjectPublicKeyInfo
        if self.pending_key is None or leaf.public_key().public_bytes(serialization.Encoding.DER, der) != \
                self.pending_key.public_key().public_bytes(serialization.Encoding.DER, der):
            problems.append("the certificate is not for the key of the charge point's last CSR")
        return problems

    async def on_CertificateSigned(self, payload: dict[str, Any]) -> dict[str, Any]:
        chain = payload["certificateChain"]
        problems = [] if "certificate_signed_unchecked" in self.faults else self._chain_problems(chain)
        if problems or self.pending_key is None:
            self.security_event("InvalidChargePointCertificate", problems[0] if problems else "no CSR pending")
            return {"status": "Rejected"}
        key_pem = self.pending_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        self.identity = (write_private(self._dir / f"cp-{stamp}.pem", chain.encode()),
                         write_private(self._dir / f"cp-{stamp}.key", key_pem))
        self.pending_key = None
        if self.profile == 3 and "no_reconnect_with_new_certificate" not in self.faults:
            self.later(self._reconnect_now)  # type: ignore[attr-defined]  # the next connection shows the new one
        return {"status": "Accepted"}

    # -- GetLog (security log, diagnostics log) ----------------------------------------------------------------
    async def on_GetLog(self, payload: dict[str, Any]) -> dict[str, Any]:
        name = f"{payload['logType']}-{self.cp_id}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.log"
        self.later(lambda: self._upload_log(payload, name))  # type: ignore[attr-defined]
        return {"status": "Accepted", "filename": name}

    def _log_notify(self, status: str, request_id: int) -> None:
        self.log_status = status
        self.outbox.put("LogStatusNotification", lambda: {"status": status, "requestId": request_id})

    async def _upload_log(self, payload: dict[str, Any], name: str) -> None:
        request_id, retries = payload["requestId"], max(0, int(payload.get("retries", 1)))
        self._log_notify("Uploading", request_id)
        data = ("\n".join(self.security_log) + "\n").encode()
        done = "security_log_not_uploaded" in self.faults
        for attempt in range(retries + 1):
            if done:
                break
            try:
                await upload(str(payload["log"]["remoteLocation"]), data, timeout=30, filename=name, directory=True)
                done = True
            except TransferError:
                if attempt < retries:
                    await asyncio.sleep(max(0, int(payload.get("retryInterval", 2))))  # its own retry timer
        self._log_notify("Uploaded" if done else "UploadFailure", request_id)
        self.log_status = "Idle"

    # -- SignedUpdateFirmware ----------------------------------------------------------------------------
    async def on_SignedUpdateFirmware(self, payload: dict[str, Any]) -> dict[str, Any]:
        signing = str(payload["firmware"]["signingCertificate"])
        problems = check_chain(signing, self.roots["ManufacturerRootCertificate"]) if "BEGIN" in signing else \
            ["the signing certificate is not PEM"]
        if problems:
            self.security_event("InvalidFirmwareSigningCertificate", problems[0])
            return {"status": "InvalidCertificate"}
        self.later(lambda: self._signed_update(payload))  # type: ignore[attr-defined]
        return {"status": "Accepted"}

    def _signed_notify(self, status: str, request_id: int) -> None:
        self.signed_firmware_status = status
        self.outbox.put("SignedFirmwareStatusNotification", lambda: {"status": status, "requestId": request_id})

    async def _signed_update(self, payload: dict[str, Any]) -> None:
        firmware, request_id = payload["firmware"], payload["requestId"]
        await self._until(firmware.get("retrieveDateTime"))  # type: ignore[attr-defined]  # FirmwareMixin
        self._signed_notify("Downloading", request_id)
        data = await self._download(str(firmware["location"]), max(0, int(payload.get("retries", 1))),  # type: ignore[attr-defined]
                                    max(0, int(payload.get("retryInterval", 2))))
        if data is None:
            self._signed_notify("DownloadFailed", request_id)
            return
        self._signed_notify("Downloaded", request_id)
        problem = verify_firmware_signature(data, str(firmware["signature"]), str(firmware["signingCertificate"]),
                                            trusted_roots=self.roots["ManufacturerRootCertificate"])
        if problem is not None and "signed_firmware_installed_despite_bad_signature" not in self.faults:
            self._signed_notify("InvalidSignature", request_id)
            self.security_event("InvalidFirmwareSignature", problem)
            self.signed_firmware_status = "Idle"
            return
        self._signed_notify("SignatureVerified", request_id)
        self._signed_notify("Installing", request_id)
        if "signed_firmware_install_rebooting" in self.variants:
            self._signed_notify("InstallRebooting", request_id)
        await self.drain(5.0)  # type: ignore[attr-defined]  # the notifications go out before the reboot
        before = self.boots
        self.reboot()  # type: ignore[attr-defined]
        await self._booted_since(before)  # type: ignore[attr-defined]
        if "signed_firmware_no_security_event" not in self.faults:
            self.security_event("FirmwareUpdated", f"signed firmware of request {request_id} installed")
        self._signed_notify("Installed", request_id)
        self.signed_firmware_status = "Idle"


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False
