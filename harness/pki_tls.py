"""TLS contexts for security profiles 2 and 3 (re-exported by :mod:`harness.pki`).

Whitepaper ("Improved security for OCPP 1.6-J", part "Secure connection setup"):
TLS 1.2 or higher only; cipher suites TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 and
TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (ECDSA certificates) or TLS_RSA_WITH_AES_128_GCM_SHA256
and TLS_RSA_WITH_AES_256_GCM_SHA384 (RSA certificates), as OCTT TC_086/TC_087 check them.
Profile 2: the central system authenticates with its server certificate; profile 3: the
charge point also presents a client certificate (mutual TLS).

Reading taken: ``set_ciphers`` limits TLS 1.2 to exactly those four suites; TLS 1.3 stays
allowed ("1.2 or higher") with OpenSSL's TLS 1.3 suites, which ``set_ciphers`` does not touch.

:class:`PkiFiles` names a vendor's own files (paths only; the key password as a
:class:`~harness.config.Secret`) for when the generated test PKI is not wanted.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .config import Secret
from .errors import ConfigurationError

__all__ = [
    "WHITEPAPER_CIPHER_SUITES",
    "OPENSSL_CIPHER_NAMES",
    "server_context",
    "client_context",
    "PkiFiles",
    "server_context_from_files",
    "client_context_from_files",
    "tls_failure_cause",
]

#: IANA name -> OpenSSL name of the whitepaper's TLS 1.2 suites.
OPENSSL_CIPHER_NAMES: dict[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
WHITEPAPER_CIPHER_SUITES = ":".join(OPENSSL_CIPHER_NAMES.values())


def _existing(path: Path | str, what: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise ConfigurationError(f"{what} {p} does not exist or is not a file")
    return str(p)


def _restrict(context: ssl.SSLContext) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(WHITEPAPER_CIPHER_SUITES)
    return context


def _load_own(context: ssl.SSLContext, cert_chain: Path | str, key: Path | str, password: Secret | None) -> None:
    cert_file, key_file = _existing(cert_chain, "certificate file"), _existing(key, "private key file")
    try:
        context.load_cert_chain(cert_file, key_file, password=password.reveal if password is not None else None)
    except ssl.SSLError as exc:  # the message names the files, never the password
        raise ConfigurationError(
            f"cannot load certificate {cert_file} with key {key_file}: the key does not match the certificate, "
            f"is encrypted with another password, or a file is not PEM ({exc.reason or exc})") from None


def _load_trust(context: ssl.SSLContext, ca: Path | str) -> None:
    ca_file = _existing(ca, "CA certificate file")
    try:
        context.load_verify_locations(cafile=ca_file)
    except ssl.SSLError as exc:
        raise ConfigurationError(f"cannot load CA certificates from {ca_file}: {exc.reason or exc}") from None


def server_context(
    cert_chain: Path | str,
    key: Path | str,
    *,
    client_ca: Path | str | None = None,
    password: Secret | None = None,
) -> ssl.SSLContext:
    """The central system's context (the harness as TLS server for a charge point under test).

    ``client_ca`` set = security profile 3: the charge point must present a certificate
    that verifies against it (CERT_REQUIRED); unset = profile 2 (no client certificate asked).
    """
    context = _restrict(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    _load_own(context, cert_chain, key, password)
    if client_ca is not None:
        _load_trust(context, client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(
    ca: Path | str,
    *,
    cert_chain: Path | str | None = None,
    key: Path | str | None = None,
    password: Secret | None = None,
) -> ssl.SSLContext:
    """The charge point's context (the harness as TLS client of a central system under test):
    the server certificate must verify against ``ca`` (the CentralSystemRootCertificate) and
    name the host (check_hostname on); ``cert_chain``/``key`` add the profile 3 client certificate."""
    context = _restrict(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))  # CERT_REQUIRED + check_hostname by default
    _load_trust(context, ca)
    if cert_chain is not None or key is not None:
        if cert_chain is None or key is None:
            raise ConfigurationError("a client certificate needs both the certificate and the key file")
        _load_own(context, cert_chain, key, password)
    return context


@dataclass(frozen=True)
class PkiFiles:
    """A vendor's own certificate files, used instead of the generated test PKI.

    ``ca``: the root(s) that verify the peer (as the central system, the charge point
    certificates' CA for profile 3; as the charge point, the CentralSystemRootCertificate).
    ``cert``/``key``: the harness's own certificate chain and key (the server certificate;
    the charge point certificate for profile 3). ``password`` decrypts ``key`` if it is encrypted.
    """

    ca: Path
    cert: Path | None = None
    key: Path | None = None
    password: Secret | None = None


def _profile(profile: int) -> int:
    if profile not in (2, 3):
        raise ConfigurationError(f"TLS is security profile 2 or 3, not {profile}")
    return profile


def server_context_from_files(files: PkiFiles, profile: int) -> ssl.SSLContext:
    """The central system's context from the vendor's files (profile 3 verifies clients against ``files.ca``)."""
    if files.cert is None or files.key is None:
        raise ConfigurationError("the harness as TLS server needs its certificate ('cert') and key ('key') files")
    return server_context(files.cert, files.key, password=files.password,
                          client_ca=files.ca if _profile(profile) == 3 else None)


def client_context_from_files(files: PkiFiles, profile: int) -> ssl.SSLContext:
    """The charge point's context from the vendor's files (profile 3 presents ``files.cert``/``files.key``)."""
    if _profile(profile) == 3:
        if files.cert is None or files.key is None:
            raise ConfigurationError("security profile 3 needs the charge point certificate ('cert') and key ('key') files")
        return client_context(files.ca, cert_chain=files.cert, key=files.key, password=files.password)
    return client_context(files.ca)


# --- what a failed handshake means ------------------------------------------------------------------

_UNKNOWN_CA_CODES = {2, 18, 19, 20, 21}  # OpenSSL X509_V_ERR_*: no issuer / self-signed / cannot verify leaf
_PEER = {"client": "central system", "server": "charge point"}


def _verification_cause(exc: ssl.SSLCertVerificationError, peer: str) -> str:
    code, message = exc.verify_code, exc.verify_message or "verification failed"
    if code == 10:
        return f"certificate expired: the {peer}'s certificate has expired ({message})"
    if code == 9:
        return f"certificate not yet valid: the {peer}'s certificate is not valid yet ({message})"
    if code in (62, 64):
        return f"wrong host (hostname mismatch): the {peer}'s certificate is not for this host ({message})"
    if code in _UNKNOWN_CA_CODES:
        return (f"certificate rejected, unknown CA: the {peer}'s certificate does not chain up to the trusted "
                f"root ({message})")
    return f"certificate rejected: the {peer}'s certificate did not verify ({message})"


def tls_failure_cause(exc: BaseException, side: Literal["client", "server"]) -> str | None:
    """Words naming why a TLS handshake failed, as seen by the harness acting as ``side``
    (``"client"``: the harness is the charge point, the peer the central system under test;
    ``"server"``: the harness is the central system, the peer the charge point under test).
    None when ``exc`` is no TLS error. OpenSSL reason codes and TLS alerts are named so a
    vendor can look them up; the text never holds key material."""
    if not isinstance(exc, ssl.SSLError):
        return None
    peer = _PEER[side]
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _verification_cause(exc, peer)
    reason = exc.reason or ""
    alert = reason.split("_ALERT_", 1)[1].lower() if "_ALERT_" in reason else ""
    if reason in ("UNSUPPORTED_PROTOCOL", "VERSION_TOO_LOW", "TLSV1_ALERT_PROTOCOL_VERSION"):
        return (f"protocol too old: the {peer} and the harness share no TLS version; the harness allows only "
                f"TLS 1.2 or higher, as the whitepaper requires ({reason})")
    if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        return "no client certificate: the charge point sent none, and security profile 3 requires one"
    if reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED":
        return ("no client certificate: the central system requires one (security profile 3) and the harness "
                "sent none (TLS alert certificate_required)")
    if reason in ("NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE", "NO_SUITABLE_SIGNATURE_ALGORITHM"):
        return (f"no common cipher suite: the {peer} offers none of the whitepaper's suites "
                f"{', '.join(OPENSSL_CIPHER_NAMES)} (or TLS 1.3) ({reason})")
    if reason == "HTTP_REQUEST":
        return "not TLS: the charge point sent plain HTTP (ws://) to the TLS (wss://) port"
    if reason in ("WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE"):
        return f"not TLS: the {peer} did not answer with TLS records (a ws:// endpoint behind a wss:// URL?) ({reason})"
    if alert == "unknown_ca":
        return f"certificate rejected, unknown CA: the {peer} does not trust the harness's certificate (TLS alert unknown_ca)"
    if alert == "certificate_expired":
        return f"certificate expired: the {peer} rejected the harness's certificate as expired (TLS alert certificate_expired)"
    if alert in ("bad_certificate", "certificate_unknown", "unsupported_certificate", "access_denied"):
        return f"certificate rejected: the {peer} refused the harness's certificate (TLS alert {alert})"
    if alert == "handshake_failure":
        hint = (" or required a client certificate the harness did not send (security profile 3)"
                if side == "client" else "")
        return f"TLS handshake refused: the {peer} found no acceptable cipher suite or parameters{hint} (TLS alert handshake_failure)"
    if alert:
        return f"TLS handshake refused by the {peer} (TLS alert {alert})"
    return f"TLS handshake failed ({reason or type(exc).__name__}: {exc})"
