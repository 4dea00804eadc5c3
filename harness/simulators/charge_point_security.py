"""Security extension of the reference charge point ("Improved security for OCPP 1.6-J"), for real.

Connections: SecurityProfile 0 (plain ws), 1 (ws with HTTP Basic auth), 2 (TLS 1.2 or higher with
the whitepaper's suites, the server verified against the installed CentralSystemRootCertificates,
Basic auth) and 3 (TLS with its charge point certificate). AuthorizationKey is write-only (never
in GetConfiguration) and holds the hex of a 16-20 byte password. A new key or a higher profile is
Accepted and makes it reconnect (a security event ReconfigurationOfSecurityParameters after the
reconnect); a profile that does not connect three times falls back to the previous one; a lower
one is Rejected (whitepaper: the profile is only ever raised).

Certificates, GetLog and SignedUpdateFirmware are in charge_point_certificates. The manual step
``set_security_profile`` is a service tool: the profile, the factory password and the central system's URL,
then a reconnect.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import Any

from cryptography import x509

from ..pki_certs import PrivateKey, certificate_pem, load_certificates
from ..pki_tls import OPENSSL_CIPHER_NAMES, WHITEPAPER_CIPHER_SUITES
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
}
#: variants of the security extension (merged into the charge point's --list-variants)
VARIANTS: dict[str, str] = {
    "security_event_before_reconnect": "after a new AuthorizationKey or SecurityProfile, the security event "
                                       "ReconfigurationOfSecurityParameters goes out before it reconnects (default: after)",
    "security_profile_reboot_required": "ChangeConfiguration SecurityProfile is answered RebootRequired and takes "
                                        "effect at the next boot (catalog TC_083_CS steps 3-8)",
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
    """Security profiles, keys and security events of SimChargePoint (handlers on_<Action>); certificates, logs
    and signed firmware are CertificatesMixin's (charge_point_certificates)."""

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
