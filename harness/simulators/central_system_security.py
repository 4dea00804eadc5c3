"""The security extension in the reference central system ("Improved security for OCPP 1.6-J"), for real.

Admission (:meth:`Security.admit`, called before every WebSocket upgrade): each charge point has a
security profile (``--security-profile``, changed by the operator); a connection counts as profile 3
with a client certificate (verified by TLS against the CA, subject CN = the charge point), 2 over TLS
with the right HTTP Basic auth, 1 with it over plain ws, else 0, and is admitted when that is at least
the charge point's profile. A wrong password is always HTTP 401, and so is a lower profile (no downgrade).

What charge points send: SignCertificate (the CSR is checked, then the CA signs it and the central
system sends CertificateSigned), SecurityEventNotification, LogStatusNotification and
SignedFirmwareStatusNotification (recorded, ``GET /state``).

Operator words: ``cs_security_settings`` (the back-end setting of a charge point's profile and password,
nothing sent), ``cs_update_password`` (ChangeConfiguration AuthorizationKey, a new 16-byte password),
``cs_change_security_profile``, ``cs_extended_trigger_message``, ``cs_install_certificate`` (its root, the
manufacturer root or a second root), ``cs_get_installed_certificate_ids``, ``cs_delete_certificate`` (the
one it installed last), ``cs_get_log`` (an upload location of its file servers) and
``cs_signed_update_firmware`` (an image on its file server signed by its signing certificate, or not).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hmac
import itertools
import secrets
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from ..firmware_image import make_firmware_image
from ..ocppj import Call, CallError
from ..pki_certs import Credential, build_certificate, certificate_pem, load_certificates, make_name, new_private_key
from ..pki_checks import certificate_hash_data, check_csr, make_csr, same_certificate, sign_csr, sign_firmware
from ..pki_tls import server_context
from .central_system_handlers import iso

__all__ = ["FAULTS", "VARIANTS", "Security", "builders", "scripts"]

FAULTS: dict[str, str] = {
    "basic_auth_not_required": "admit a charge point at security profile 1 or 2 without HTTP Basic auth",
    "client_certificate_not_required": "admit a charge point at security profile 3 over TLS without a client certificate",
    "downgrade_allowed": "after raising a charge point's profile, still admit it over the old one",
    "password_change_not_applied": "send a new AuthorizationKey but go on checking the old password",
    "authorization_key_too_short": "the new AuthorizationKey is 8 bytes (the whitepaper: 16 to 20)",
    "server_certificate_expired": "serve a server certificate whose validity ended yesterday",
    "certificate_signed_not_sent": "answer SignCertificate Accepted but never send CertificateSigned (signs nothing)",
    "certificate_signed_wrong_key": "CertificateSigned carries a certificate for another key than the CSR's",
    "install_certificate_not_a_root": "InstallCertificate carries its server certificate, not a root CA certificate",
    "delete_certificate_wrong_hash": "DeleteCertificate names the serial number + 1",
    "security_event_callerror": "answer SecurityEventNotification with CALLERROR NotImplemented",
    "get_log_location_refuses": "the GetLog location refuses uploads",
    "signed_firmware_bad_signature": "the SignedUpdateFirmware signature never verifies, whatever the operator asked",
    "signed_firmware_status_no_answer": "never answer SignedFirmwareStatusNotification",
}
VARIANTS: dict[str, str] = {
    "chain_with_root": "CertificateSigned carries the root CA certificate after the charge point's (default: without)",
    "rsa_server_key": "its TLS server certificate has an RSA 2048 key (TLS_RSA_* suites; default ECDSA)",
}
ROOT = "CentralSystemRootCertificate"


class Security:
    """The central system's side of the security extension: certificates, keys, admission, per-charge-point state."""

    def __init__(self, *, operator: Any, default_profile: int, password: str | None, root_cert: str | None,
                 ca_key: str | None, tls_cert: str | None, tls_key: str | None, signer_cert: str | None,
                 signer_key: str | None, manufacturer_root: str | None) -> None:
        self.operator, self.faults, self.variants = operator, operator.faults, operator.variants
        self.default_profile = default_profile
        self.factory_password = password.encode("latin-1") if password else None
        self.profiles: dict[str, int] = {}
        self.passwords: dict[str, bytes] = {}
        self.raised_from: dict[str, int] = {}  # a profile the operator raised, and from which (fault downgrade_allowed)
        self.ca = _credential("ca", root_cert, ca_key)
        self.signer = _credential("signer", signer_cert, signer_key)
        self.manufacturer_root = Path(manufacturer_root).read_text() if manufacturer_root else None
        self.tls_files = (tls_cert, tls_key) if tls_cert and tls_key else None
        self.root_path = root_cert
        self._request_ids = itertools.count(8001)
        self.events: list[dict[str, Any]] = []

    # -- TLS and admission ----------------------------------------------------------------------------------
    def server_context(self) -> ssl.SSLContext | None:
        """The wss listener's context: profile 3 clients present a certificate (CERT_OPTIONAL: profile 2 needs none)."""
        if self.tls_files is None:
            return None
        cert, key = self.tls_files
        if ("server_certificate_expired" in self.faults or "rsa_server_key" in self.variants) and self.ca is not None:
            cert, key = self._own_server_certificate()
        context = server_context(cert, key, client_ca=self.root_path)
        context.verify_mode = ssl.CERT_OPTIONAL
        return context

    def _own_server_certificate(self) -> tuple[str, str]:
        """A server certificate it makes itself with its CA: RSA (variant) or expired (fault)."""
        assert self.ca is not None
        key = new_private_key("rsa" if "rsa_server_key" in self.variants else "ec")
        now = dt.datetime.now(dt.timezone.utc)
        valid = (now - dt.timedelta(days=30), now - dt.timedelta(days=1)) if "server_certificate_expired" in self.faults \
            else (now - dt.timedelta(minutes=5), now + dt.timedelta(days=30))
        cert = build_certificate(make_name("localhost", "OpenOCTT CSO"), key.public_key(), role="server",
                                 issuer_cert=self.ca.cert, issuer_key=self.ca.key, not_before=valid[0],
                                 not_after=valid[1], san=("127.0.0.1", "::1", "localhost"))
        own = Credential.save(Path(self.ca.cert_path).parent, f"sim_cs_server_{secrets.token_hex(4)}", cert, key)
        return str(own.cert_path), str(own.key_path)

    def profile(self, cp_id: str) -> int:
        return self.profiles.get(cp_id, self.default_profile)

    def password(self, cp_id: str) -> bytes | None:
        return self.passwords.get(cp_id, self.factory_password)

    def admit(self, cp_id: str, authorization: str | None, ssl_object: Any) -> str | None:
        """None when the charge point may upgrade; else why not (the HTTP 401 text, never the password)."""
        profile, tls = self.profile(cp_id), ssl_object is not None
        auth = _basic_auth(authorization, cp_id, self.password(cp_id))
        if auth not in ("none", "ok") and profile > 0:
            return auth
        der = ssl_object.getpeercert(binary_form=True) if tls else None
        if der:
            names = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if not names or names[0].value != cp_id:
                return f"the client certificate's CN is not the charge point {cp_id}"
        effective = 3 if der else (2 if tls else 1) if auth == "ok" else 0
        if "basic_auth_not_required" in self.faults and profile in (1, 2) and (tls or profile == 1):
            effective = max(effective, profile)
        if "client_certificate_not_required" in self.faults and profile == 3 and tls:
            effective = 3
        lowest = min(profile, self.raised_from.get(cp_id, profile)) if "downgrade_allowed" in self.faults else profile
        if effective < lowest:
            return f"charge point {cp_id} is at security profile {profile}; this connection is profile {effective}"
        return None

    def settings(self, params: dict[str, Any]) -> dict[str, Any]:
        """``cs_security_settings``: the charge point's profile and the configured password (nothing is sent)."""
        cp_id = str(params.get("charge_point_id") or next(iter(self.operator.peers), ""))
        self.profiles[cp_id] = int(params["profile"])
        self.passwords.pop(cp_id, None)
        self.raised_from.pop(cp_id, None)
        return {"charge_point_id": cp_id, "security_profile": self.profiles[cp_id]}

    # -- CALLs of the charge point --------------------------------------------------------------------------
    async def handle(self, cp_id: str, call: Call, fallback: Any) -> dict[str, Any] | CallError | None:
        record = self.operator.store.record(cp_id)
        if call.action == "SignCertificate":
            problems = check_csr(call.payload["csr"], cp_id)
            record.setdefault("csrs", []).append({"problems": problems})
            if problems:
                return {"status": "Rejected"}
            if "certificate_signed_not_sent" not in self.faults:
                asyncio.get_running_loop().create_task(self._certificate_signed(cp_id, call.payload["csr"]))
            return {"status": "Accepted"}
        if call.action == "SecurityEventNotification":
            self.events.append({"charge_point": cp_id, **call.payload})
            if "security_event_callerror" in self.faults:
                return CallError(call.unique_id, "NotImplemented", "security events are not handled")
            return {}
        if call.action in ("LogStatusNotification", "SignedFirmwareStatusNotification"):
            record.setdefault(call.action, []).append(call.payload)
            if call.action == "SignedFirmwareStatusNotification" and "signed_firmware_status_no_answer" in self.faults:
                return None
            return {}
        return await fallback(cp_id, call)  # type: ignore[no-any-return]

    async def _certificate_signed(self, cp_id: str, csr: str) -> None:
        """The CA signs the CSR; CertificateSigned goes out once the SignCertificate.conf has."""
        await asyncio.sleep(0.05)
        if self.ca is None:
            return
        if "certificate_signed_wrong_key" in self.faults:
            csr = make_csr(cp_id, "OpenOCTT CSO", new_private_key("ec"))
        chain = sign_csr(csr, self.ca) + (self.ca.cert_pem if "chain_with_root" in self.variants else "")
        peer = self.operator.peers.get(cp_id)
        if peer is not None:
            reply = await peer.call("CertificateSigned", {"certificateChain": chain})
            self.operator.store.record(cp_id).setdefault("certificate_signed", []).append(getattr(reply, "payload", None))

    # -- operator words -----------------------------------------------------------------------------------------
    async def _send(self, cp_id: str, record: dict[str, Any], word: str, action: str, payload: dict[str, Any],
                    shown: dict[str, Any] | None = None) -> dict[str, Any]:
        """One CALL; the operation log shows ``shown`` (a password never appears on the operator's screen)."""
        peer = self.operator.peers[cp_id]
        reply = await peer.call(action, payload)
        answer = {"callerror": reply.error_code} if isinstance(reply, CallError) else reply.payload  # type: ignore[union-attr]
        record["operations"].append({"word": word, "action": action, "payload": shown or payload, "reply": answer,
                                     "at": iso(dt.datetime.now(dt.timezone.utc))})
        return answer  # type: ignore[no-any-return]

    async def update_password(self, send: Any, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        # any bytes, not only text (whitepaper: the key is the hex of the password's bytes)
        new = secrets.token_bytes(8 if "authorization_key_too_short" in self.faults else 16)
        payload = {"key": "AuthorizationKey", "value": new.hex().upper()}
        reply = await self._send(cp_id, record, "cs_update_password", "ChangeConfiguration", payload,
                                 {"key": "AuthorizationKey", "value": "***"})
        if reply.get("status") in ("Accepted", "RebootRequired") and "password_change_not_applied" not in self.faults:
            self.passwords[cp_id] = new
        return {"action": "ChangeConfiguration", "sent": {"key": "AuthorizationKey", "value": "***"}, "reply": reply}

    async def change_security_profile(self, send: Any, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        payload = {"key": "SecurityProfile", "value": str(int(p["profile"]))}
        reply = await send(cp_id, record, "cs_change_security_profile", "ChangeConfiguration", payload)
        if reply.get("status") in ("Accepted", "RebootRequired"):
            self.raised_from[cp_id] = self.profile(cp_id)
            self.profiles[cp_id] = int(p["profile"])
        return {"action": "ChangeConfiguration", "sent": payload, "reply": reply}

    def extended_trigger_message(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        payload: dict[str, Any] = {"requestedMessage": str(p["requested_message"])}
        if p.get("connector") is not None:
            payload["connectorId"] = int(p["connector"])
        return "ExtendedTriggerMessage", payload

    async def install_certificate(self, send: Any, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        kind = str(p.get("certificate_type", ROOT))
        if p.get("certificate", "configured") == "other":
            key = new_private_key("ec")
            now = dt.datetime.now(dt.timezone.utc)
            pem = certificate_pem(build_certificate(make_name(f"OpenOCTT {kind} 2", "OpenOCTT CSO"), key.public_key(),
                                                    role="root", issuer_cert=None, issuer_key=key,
                                                    not_before=now - dt.timedelta(minutes=5),
                                                    not_after=now + dt.timedelta(days=30)))
        else:
            pem = (self.ca.cert_pem if self.ca else "") if kind == ROOT else (self.manufacturer_root or "")
        if "install_certificate_not_a_root" in self.faults and self.tls_files:
            pem = Path(self.tls_files[0]).read_text()
        payload = {"certificateType": kind, "certificate": pem}
        reply = await send(cp_id, record, "cs_install_certificate", "InstallCertificate", payload)
        record.setdefault("installed_certificates", []).append({"type": kind, "certificate": pem})
        return {"action": "InstallCertificate", "sent": {"certificateType": kind}, "reply": reply}

    async def get_installed_certificate_ids(self, send: Any, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        payload = {"certificateType": str(p.get("certificate_type", ROOT))}
        reply = await send(cp_id, record, "cs_get_installed_certificate_ids", "GetInstalledCertificateIds", payload)
        record["installed_hash_data"] = reply.get("certificateHashData") or []
        return {"action": "GetInstalledCertificateIds", "sent": payload, "reply": reply}

    async def delete_certificate(self, send: Any, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        """DeleteCertificate of the certificate it installed last, in the hashAlgorithm the charge point reported."""
        kind = str(p.get("certificate_type", ROOT))
        installed = [c for c in record.get("installed_certificates", []) if c["type"] == kind]
        if not installed:
            raise RuntimeError(f"no {kind} was installed on {cp_id} by this central system")
        reported = record.get("installed_hash_data") or []
        algorithm = reported[0]["hashAlgorithm"] if reported else "SHA256"
        cert = load_certificates(installed[-1]["certificate"])[0]
        data = certificate_hash_data(cert, cert, algorithm)
        data = next((e for e in reported if same_certificate(e, data)), data)  # as the charge point spelled it
        if "delete_certificate_wrong_hash" in self.faults:
            data = {**data, "serialNumber": format(int(data["serialNumber"], 16) + 1, "x")}
        reply = await send(cp_id, record, "cs_delete_certificate", "DeleteCertificate", {"certificateHashData": data})
        return {"action": "DeleteCertificate", "sent": {"certificateHashData": data}, "reply": reply}

    async def _file_servers(self, record: dict[str, Any]) -> tuple[Any, str]:
        transfers = self.operator.file_transfers  # central_system_firmware: its FTP and HTTP servers
        servers = await transfers.servers()
        record["transfers"] = servers.record
        return servers, transfers.protocol

    async def get_log(self, send: Any, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        servers, protocol = await self._file_servers(record)
        location = servers.refused_upload_url(protocol) if "get_log_location_refuses" in self.faults else \
            servers.upload_url(protocol)
        payload = {"logType": str(p.get("log_type", "SecurityLog")), "requestId": next(self._request_ids),
                   "log": {"remoteLocation": location}}
        reply = await send(cp_id, record, "cs_get_log", "GetLog", payload)
        return {"action": "GetLog", "sent": payload, "reply": reply}

    async def signed_update_firmware(self, send: Any, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        if self.signer is None:
            raise RuntimeError("no firmware signing certificate (--signer-cert, --signer-key)")
        servers, protocol = await self._file_servers(record)
        request_id = next(self._request_ids)
        name = f"signed-firmware-{request_id}.bin"
        data = make_firmware_image(f"sim-cs-signed-{request_id}", 32 * 1024)
        servers.put_file(name, data)
        valid = p.get("signature", "valid") == "valid" and "signed_firmware_bad_signature" not in self.faults
        payload = {"requestId": request_id, "firmware": {
            "location": servers.firmware_url(protocol, name), "retrieveDateTime": iso(dt.datetime.now(dt.timezone.utc)),
            "signingCertificate": self.signer.cert_pem,
            "signature": sign_firmware(data if valid else data[::-1], self.signer)}}
        reply = await send(cp_id, record, "cs_signed_update_firmware", "SignedUpdateFirmware", payload)
        return {"action": "SignedUpdateFirmware", "sent": {"requestId": request_id}, "reply": reply}


def _credential(name: str, cert: str | None, key: str | None) -> Credential | None:
    if not cert or not key:
        return None
    loaded = serialization.load_pem_private_key(Path(key).read_bytes(), None)
    return Credential(name, load_certificates(Path(cert).read_bytes())[0], Path(cert), Path(key), loaded)  # type: ignore[arg-type]


def _basic_auth(header: str | None, cp_id: str, password: bytes | None) -> str:
    """"none" (no header), "ok", or why the credentials are refused (never the password)."""
    if not header:
        return "none"
    scheme, _, token = header.partition(" ")
    try:
        user, sep, given = base64.b64decode(token.strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return "the Authorization header is not valid base64"
    if scheme.lower() != "basic" or not sep:
        return "the Authorization header is not HTTP Basic"
    if user.decode("latin-1") != cp_id:
        return "the basic-auth username is not the charge point's id"
    if password is None or not hmac.compare_digest(given, password):
        return "the basic-auth password is wrong"
    return "ok"


def _security(operator: Any) -> Security:
    return operator.cs_security  # type: ignore[no-any-return]  # set by SimCentralSystem


def builders(operator: Any) -> dict[str, Any]:
    return {"cs_extended_trigger_message": lambda p: _security(operator).extended_trigger_message(p)}


def scripts(operator: Any) -> dict[str, Any]:
    def word(name: str) -> Any:
        return lambda *args: getattr(_security(operator), name)(*args)

    return {"cs_update_password": word("update_password"), "cs_change_security_profile": word("change_security_profile"),
            "cs_install_certificate": word("install_certificate"),
            "cs_get_installed_certificate_ids": word("get_installed_certificate_ids"),
            "cs_delete_certificate": word("delete_certificate"), "cs_get_log": word("get_log"),
            "cs_signed_update_firmware": word("signed_update_firmware")}
