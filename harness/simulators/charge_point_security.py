"""Security extension of the reference charge point ("Improved security for OCPP 1.6-J"), for real.

Connections: SecurityProfile 0 (plain ws), 1 (ws with HTTP Basic auth), 2 (TLS 1.2 or higher with
the whitepaper's suites, the server verified against the installed CentralSystemRootCertificates,
Basic auth) and 3 (TLS with its charge point certificate). AuthorizationKey is write-only (never
in GetConfiguration) and holds the hex of a 16-20 byte password. A new key or a higher profile is
Accepted and makes it reconnect (a security event ReconfigurationOfSecurityParameters after the
reconnect); a profile that does not connect three times falls back to the previous one; a lower
one is Rejected (whitepaper: the profile is only ever raised).

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
event InvalidFirmwareSignature). The manual step ``set_security_profile`` is a service tool: the
profile, the factory password and the central system's URL, then a reconnect.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import hashlib
import shutil
import ssl
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..pki_certs import PrivateKey, certificate_pem, load_certificates, new_private_key, write_private
from ..pki_checks import certificate_hash_data, check_chain, make_csr, same_certificate, verify_firmware_signature
from ..pki_tls import OPENSSL_CIPHER_NAMES, WHITEPAPER_CIPHER_SUITES
from ..transfer_client import TransferError, upload
from .charge_point_config import Key
from .charge_point_connectors import now_iso

__all__ = ["FAULTS", "VARIANTS", "SecurityMixin"]

#: fault switches of the security extension (merged into the charge point's --list-faults)
FAULTS: dict[str, str] = {
    "authorization_key_not_applied": "answer a new AuthorizationKey Accepted, but keep sending the old password",
    "authorization_key_readable": "return the AuthorizationKey's value in GetConfiguration (it is write-only)",
    "basic_auth_wrong_username": "send HTTP Basic auth with a username other than its chargePointId",
    "authorization_key_lost_on_reboot": "after a reboot, connect without the Authorization header (the key is not kept)",
    "security_profile_downgrade_accepted": "accept a lower SecurityProfile and reconnect with it",
    "security_profile_upgrade_ignored": "answer a higher SecurityProfile Accepted but go on with the old one",
    "client_certificate_lost_on_reboot": "after a reboot, connect over security profile 3 without presenting its "
                                         "certificate (the certificate is not kept)",
    "tls_one_cipher_only": "offer only TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 of the whitepaper's TLS 1.2 suites",
    "server_certificate_not_verified": "accept any server certificate (expired, unknown CA, wrong host)",
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
#: variants of the security extension (merged into the charge point's --list-variants)
VARIANTS: dict[str, str] = {
    "security_event_before_reconnect": "after a new AuthorizationKey or SecurityProfile, the security event "
                                       "ReconfigurationOfSecurityParameters goes out before it reconnects (default: after)",
    "security_profile_reboot_required": "ChangeConfiguration SecurityProfile is answered RebootRequired and takes "
                                        "effect at the next boot (catalog TC_083_CS steps 3-8)",
    "csr_rsa_key": "its CSRs carry an RSA 2048 key (default: ECDSA P-256)",
    "certificate_hash_sha384": "GetInstalledCertificateIds answers hash data with SHA384 (default SHA256)",
    "signed_firmware_install_rebooting": "a signed update reports InstallRebooting before the reboot",
}

ROOT_TYPES = ("CentralSystemRootCertificate", "ManufacturerRootCertificate")
FALLBACK_AFTER = 3  # failed connections over a new profile before it falls back to the previous one


def _hex_password(value: str) -> bytes | None:
    """The password an AuthorizationKey stands for: 16-20 bytes written as 32-40 hex digits (whitepaper)."""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if 16 <= len(raw) <= 20 and len(value) == 2 * len(raw) else None


class SecurityMixin:
    """Security profiles, keys, certificates, logs and signed firmware of SimChargePoint (handlers on_<Action>)."""

    config: Any
    faults: Any
    variants: Any
    outbox: Any
    cp_id: str
    boots: int

    def setup_security(self, *, base_url: str, profile: int, urls: dict[int, str], password: str | None,
                       root_cert: str | None, manufacturer_root: str | None, client_cert: str | None,
                       client_key: str | None, cpo_name: str) -> None:
        """Called once by SimChargePoint: its factory settings (paths from the command line)."""
        self.profile_urls = {profile: base_url, **urls}
        self.factory_password = password.encode("latin-1") if password else None
        self.password_bytes = self.factory_password
        self.roots: dict[str, list[x509.Certificate]] = {kind: [] for kind in ROOT_TYPES}
        for kind, path in zip(ROOT_TYPES, (root_cert, manufacturer_root)):
            if path:
                self.roots[kind] = load_certificates(Path(path).read_bytes())
        self._dir = Path(tempfile.mkdtemp(prefix="ocpp-sim-cp-"))
        atexit.register(shutil.rmtree, str(self._dir), True)
        self.identity: tuple[Path, Path] | None = (Path(client_cert), Path(client_key)) if client_cert and client_key else None
        self.pending_key: PrivateKey | None = None
        self.security_log: list[str] = [f"{now_iso()} StartupOfTheDevice"]
        self.log_status = self.signed_firmware_status = "Idle"
        self._previous_profile: int | None = None
        self._failures = 0
        self._after_connect: list[tuple[str, str]] = []
        self._reconnect = asyncio.Event()
        keys = self.config.keys
        keys["SecurityProfile"] = Key(str(profile), False, lambda v: v in ("0", "1", "2", "3"))
        keys["AuthorizationKey"] = Key(password.encode("latin-1").hex() if password else "", False)
        keys["CpoName"] = Key(cpo_name, False)
        keys["CertificateSignedMaxChainSize"] = Key("10000", True)
        keys["CertificateStoreMaxLength"] = Key("10", True)
        keys["AdditionalRootCertificateCheck"] = Key("false", True)

    # -- the connection: what lifecycle() connects with ---------------------------------------------------
    @property
    def profile(self) -> int:
        return int(self.config.int("SecurityProfile"))

    def connection(self) -> tuple[str, ssl.SSLContext | None, dict[str, str]]:
        """(URL, TLS context, headers) for the current SecurityProfile."""
        profile = self.profile
        base = self.profile_urls.get(profile) or next(iter(self.profile_urls.values()))
        headers: dict[str, str] = {}
        rebooted = getattr(self, "registration", "") == "none" and self.boots > 0  # connecting before its boot
        if profile in (1, 2) and self.password_bytes is not None and not (
                rebooted and "authorization_key_lost_on_reboot" in self.faults):
            user = self.cp_id + ("-x" if "basic_auth_wrong_username" in self.faults else "")
            headers["Authorization"] = "Basic " + base64.b64encode(user.encode() + b":" + self.password_bytes).decode()
        tls = self._tls_context(profile, rebooted and "client_certificate_lost_on_reboot" in self.faults) \
            if profile >= 2 else None
        return f"{base.rstrip('/')}/{self.cp_id}", tls, headers

    def _tls_context(self, profile: int, without_certificate: bool = False) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(OPENSSL_CIPHER_NAMES["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
                            if "tls_one_cipher_only" in self.faults else WHITEPAPER_CIPHER_SUITES)
        roots = self.roots["CentralSystemRootCertificate"]
        if roots:
            context.load_verify_locations(cadata="".join(certificate_pem(r) for r in roots))
        if "server_certificate_not_verified" in self.faults:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        if profile == 3 and self.identity is not None and not without_certificate:
            context.load_cert_chain(str(self.identity[0]), str(self.identity[1]))
        return context

    def reconnect(self) -> None:
        self._reconnect.set()

    def connection_opened(self) -> None:
        """A connection stands: the new profile is kept; events held for after the reconnect go out."""
        self._previous_profile, self._failures = None, 0
        for kind, info in self._after_connect:
            self.security_event(kind, info)
        self._after_connect.clear()

    def connection_failed(self) -> None:
        """Whitepaper: a profile that does not connect falls back to the previous one."""
        if self._previous_profile is None:
            return
        self._failures += 1
        if self._failures >= FALLBACK_AFTER:
            self.config.keys["SecurityProfile"].value = str(self._previous_profile)
            self._previous_profile, self._failures = None, 0

    def security_event(self, kind: str, info: str = "") -> None:
        """SecurityEventNotification, queued until the charge point is connected and Accepted (critical events)."""
        payload = {"type": kind, "timestamp": now_iso(), **({"techInfo": info[:255]} if info else {})}
        self.security_log.append(f"{payload['timestamp']} {kind} {info}".rstrip())

        async def send() -> None:
            try:
                await self.send("SecurityEventNotification", payload)  # type: ignore[attr-defined]
            except Exception:
                pass  # the connection went away meanwhile: the log keeps it
        self.outbox.task(send)

    # -- configuration: SecurityProfile, AuthorizationKey ----------------------------------------------------
    async def on_GetConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        """AuthorizationKey is write-only: named, it is listed without its value; asked for all, it is left out."""
        reply = await super().on_GetConfiguration(payload)  # type: ignore[misc]
        if "authorization_key_readable" not in self.faults:
            named = "AuthorizationKey" in (payload.get("key") or [])
            reply["configurationKey"] = [item for item in reply.get("configurationKey", [])
                                         if item["key"] != "AuthorizationKey" or named]
            for item in reply["configurationKey"]:
                if item["key"] == "AuthorizationKey":
                    item.pop("value", None)
        return reply  # type: ignore[no-any-return]

    async def on_ChangeConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        key, value = payload["key"], str(payload["value"])
        if key == "SecurityProfile":
            return {"status": self._change_profile(value)}
        if key == "AuthorizationKey":
            password = _hex_password(value)
            if password is None:
                return {"status": "Rejected"}
            if "authorization_key_not_applied" not in self.faults:
                self.password_bytes = password
                self.config.keys["AuthorizationKey"].value = value
            self._reconfigured("AuthorizationKey")
            return {"status": "Accepted"}
        return await super().on_ChangeConfiguration(payload)  # type: ignore[misc, no-any-return]

    def _change_profile(self, value: str) -> str:
        current = self.profile
        if value not in ("0", "1", "2", "3"):
            return "Rejected"
        wanted = int(value)
        if wanted == current:
            return "Accepted"
        if wanted < current and "security_profile_downgrade_accepted" not in self.faults:
            return "Rejected"  # whitepaper: the security profile is never lowered
        if wanted >= 2 and not self.roots["CentralSystemRootCertificate"] or wanted == 3 and self.identity is None \
                or wanted in (1, 2) and self.password_bytes is None:
            return "Rejected"  # what the profile needs is not installed
        if "security_profile_upgrade_ignored" in self.faults:
            return "Accepted"
        self._previous_profile, self._failures = current, 0
        if "security_profile_reboot_required" in self.variants:
            self.config.pending["SecurityProfile"] = value
            return "RebootRequired"
        self.config.keys["SecurityProfile"].value = value
        self._reconfigured("SecurityProfile")
        return "Accepted"

    def _reconfigured(self, what: str) -> None:
        """Reconnect with the new setting once the conf is out; the event before or after that (variant)."""
        info = f"{what} changed by the central system"
        if "security_event_before_reconnect" in self.variants:
            self.security_event("ReconfigurationOfSecurityParameters", info)
            self.outbox.task(self._reconnect_now)  # after the event went out
        else:
            self._after_connect.append(("ReconfigurationOfSecurityParameters", info))
            self.later(self._reconnect_now)  # type: ignore[attr-defined]  # HandlersMixin

    async def _reconnect_now(self) -> None:
        self.reconnect()

    def set_security_profile(self, params: dict[str, Any]) -> str:
        """The manual step set_security_profile: profile, factory password, the URL; then a reconnect."""
        profile = int(params["profile"])
        if params.get("url"):
            self.profile_urls[profile] = str(params["url"])
        self.config.keys["SecurityProfile"].value = str(profile)
        self.password_bytes = self.factory_password
        self.config.keys["AuthorizationKey"].value = self.factory_password.hex() if self.factory_password else ""
        self._previous_profile = None
        self.reconnect()
        return "done"

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
