"""The test PKI of the OCPP 1.6 security extension, generated per run (OCA white paper
"Improved security for OCPP 1.6-J", parts "Secure connection setup" and "Secure firmware update").

:class:`TestPki` makes, in a private temporary directory (files mode 0600):

- ``csms_root``: the central system root CA (the CentralSystemRootCertificate), which signs
- ``server``: the central system's TLS certificate (SAN 127.0.0.1, ::1, localhost + extra names;
  CN = the first host name among them, the whitepaper's "FQDN of the endpoint"),
- ``client``: the charge point's certificate (CN = the charge point id, O = the CSO name),
- ``expired_server``: a server certificate whose validity ended yesterday,
- ``wrong_host_server``: a server certificate for a host that is not this one;
- ``manufacturer_root``: the ManufacturerRootCertificate, which signs ``firmware_signer``;
- ``unknown_root``: a CA nobody trusts, which signs ``untrusted_server`` and ``untrusted_client``.

The object offers paths and ``ssl.SSLContext`` builders; neither it nor its
:class:`Credential` members ever show key material in repr/str.

The operations of the security messages (CSR, chains, certificate hash data, firmware
signatures) and the TLS context builders live in :mod:`harness.pki_checks` and
:mod:`harness.pki_tls`; they are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
import weakref
from pathlib import Path
from typing import Iterable

from .pki_certs import (
    Credential,
    KeyType,
    PrivateKey,
    build_certificate,
    make_name,
    new_private_key,
)
from .pki_checks import (
    HashAlgorithm,
    certificate_hash_data,
    check_chain,
    check_csr,
    check_key_strength,
    make_csr,
    same_certificate,
    sign_csr,
    sign_firmware,
    verify_firmware_signature,
)
from .pki_tls import (
    OPENSSL_CIPHER_NAMES,
    WHITEPAPER_CIPHER_SUITES,
    PkiFiles,
    client_context,
    client_context_from_files,
    server_context,
    server_context_from_files,
    tls_failure_cause,
)

__all__ = [
    "TestPki",
    "Credential",
    "KeyType",
    "PrivateKey",
    "new_private_key",
    "HashAlgorithm",
    "make_csr",
    "check_csr",
    "sign_csr",
    "check_chain",
    "check_key_strength",
    "certificate_hash_data",
    "same_certificate",
    "sign_firmware",
    "verify_firmware_signature",
    "WHITEPAPER_CIPHER_SUITES",
    "OPENSSL_CIPHER_NAMES",
    "server_context",
    "client_context",
    "PkiFiles",
    "server_context_from_files",
    "client_context_from_files",
    "tls_failure_cause",
]

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
WRONG_HOST = "wrong-host.invalid"


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class TestPki:
    """A complete, throw-away PKI for one run. Use as a context manager, or call :meth:`close`
    (a finalizer removes the directory anyway when the object is collected or the process ends)."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        *,
        charge_point_id: str = "CP_1",
        cso_name: str = "OpenOCTT CSO",
        manufacturer: str = "OpenOCTT Manufacturer",
        server_names: Iterable[str] = (),
        key_type: KeyType = "ec",
        days: int = 30,
        directory: Path | str | None = None,
    ) -> None:
        """Generate everything now. ``server_names``: extra SAN names of the server certificate
        (the host name a charge point under test connects to); ``directory``: an existing, empty
        directory to use instead of a new temporary one (it is not removed by :meth:`close`)."""
        self.charge_point_id = charge_point_id
        self.cso_name = cso_name
        self.key_type: KeyType = key_type
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="ocpp-pki-"))  # mode 0700
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.directory), True)
        else:
            self.directory = Path(directory)
            self._finalizer = weakref.finalize(self, lambda: None)
        self.server_names = tuple(dict.fromkeys([*server_names, *LOOPBACK_NAMES]))
        now = dt.datetime.now(dt.timezone.utc)
        valid = (now - dt.timedelta(minutes=5), now + dt.timedelta(days=days))

        self.csms_root = self._root("csms_root", f"{cso_name} Central System Root CA", cso_name, now, days)
        self.manufacturer_root = self._root("manufacturer_root", f"{manufacturer} Root CA", manufacturer, now, days)
        self.unknown_root = self._root("unknown_root", "Unknown Test CA", "Nobody Trusts This", now, days)

        server_cn = next((n for n in self.server_names if not _is_ip(n)), self.server_names[0])
        self.server = self._leaf("server", server_cn, cso_name, "server", self.csms_root, valid, self.server_names)
        self.client = self._leaf("client", charge_point_id, cso_name, "client", self.csms_root, valid)
        self.expired_server = self._leaf(
            "expired_server", server_cn, cso_name, "server", self.csms_root,
            (now - dt.timedelta(days=30), now - dt.timedelta(days=1)), self.server_names)
        self.wrong_host_server = self._leaf(
            "wrong_host_server", WRONG_HOST, cso_name, "server", self.csms_root, valid, (WRONG_HOST,))
        self.untrusted_server = self._leaf(
            "untrusted_server", server_cn, "Nobody Trusts This", "server", self.unknown_root, valid, self.server_names)
        self.untrusted_client = self._leaf(
            "untrusted_client", charge_point_id, cso_name, "client", self.unknown_root, valid)
        self.firmware_signer = self._leaf(
            "firmware_signer", f"{manufacturer} Firmware Signing", manufacturer, "firmware", self.manufacturer_root, valid)

    # --- generation ------------------------------------------------------------------------------

    def _root(self, name: str, cn: str, org: str, now: dt.datetime, days: int) -> Credential:
        key = new_private_key(self.key_type)
        subject = make_name(cn, org)
        cert = build_certificate(subject, key.public_key(), role="root", issuer_cert=None, issuer_key=key,
                                 # older than the expired leaf, so that one fails for its own date only
                                 not_before=now - dt.timedelta(days=60), not_after=now + dt.timedelta(days=days + 1))
        return Credential.save(self.directory, name, cert, key)

    def _leaf(self, name: str, cn: str, org: str, role: str, ca: Credential,
              validity: tuple[dt.datetime, dt.datetime], san: Iterable[str] = ()) -> Credential:
        key = new_private_key(self.key_type)
        cert = build_certificate(make_name(cn, org), key.public_key(), role=role,  # type: ignore[arg-type]
                                 issuer_cert=ca.cert, issuer_key=ca.key,
                                 not_before=validity[0], not_after=validity[1], san=san)
        return Credential.save(self.directory, name, cert, key)

    # --- TLS contexts ----------------------------------------------------------------------------

    def server_context(self, profile: int = 2, *, server: Credential | None = None,
                       client_ca: Credential | None = None) -> ssl.SSLContext:
        """The harness-as-central-system context: ``server`` (default :attr:`server`; pass
        :attr:`expired_server`, :attr:`wrong_host_server` or :attr:`untrusted_server` for negative
        tests); profile 3 requires a client certificate issued by ``client_ca`` (default :attr:`csms_root`)."""
        if profile not in (2, 3):
            raise ValueError(f"TLS is security profile 2 or 3, not {profile}")
        server = server or self.server
        trust = (client_ca or self.csms_root).cert_path if profile == 3 else None
        return server_context(server.chain_path, server.key_path, client_ca=trust)

    def client_context(self, profile: int = 2, *, client: Credential | None = None,
                       root: Credential | None = None) -> ssl.SSLContext:
        """The harness-as-charge-point context: trusts ``root`` (default :attr:`csms_root`);
        profile 3 presents ``client`` (default :attr:`client`; :attr:`untrusted_client` for negative tests)."""
        if profile not in (2, 3):
            raise ValueError(f"TLS is security profile 2 or 3, not {profile}")
        root = root or self.csms_root
        if profile == 3:
            client = client or self.client
            return client_context(root.cert_path, cert_chain=client.chain_path, key=client.key_path)
        return client_context(root.cert_path)

    # --- operations with this PKI's CAs --------------------------------------------------------

    def sign_csr(self, csr_pem: str, days: int = 30) -> str:
        """CertificateSigned.req ``certificateChain`` for a charge point's CSR, signed by :attr:`csms_root`."""
        return sign_csr(csr_pem, self.csms_root, days)

    # --- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the generated files (keys included)."""
        self._finalizer()

    def __enter__(self) -> "TestPki":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"TestPki(directory={str(self.directory)!r}, key_type={self.key_type!r}, "
                f"charge_point_id={self.charge_point_id!r}, server_names={list(self.server_names)!r})")

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("a TestPki holds private keys and is not picklable")
