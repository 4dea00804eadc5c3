"""Keys and X.509 certificates for the security extension's test PKI (building blocks of :mod:`harness.pki`).

Everything is made with ``cryptography``; nothing calls the openssl CLI. A
:class:`Credential` pairs a certificate with its private key and the files
written for them; neither its repr nor its str shows the key.

Whitepaper ("Improved security for OCPP 1.6-J", part "Secure connection setup",
certificate properties and key sizes): certificates are X.509 in PEM, carry a serial
number, and use RSA/DSA keys of at least 2048 bits or elliptic-curve keys of at least
224 bits. Our default is ECDSA P-256 (small, fast, and what the
TLS_ECDHE_ECDSA_* suites need); RSA 2048 is the alternative for the TLS_RSA_* suites.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "KeyType",
    "PrivateKey",
    "Credential",
    "new_private_key",
    "make_name",
    "build_certificate",
    "write_private",
    "load_certificates",
    "certificate_pem",
    "describe",
]

KeyType = Literal["ec", "rsa"]
PrivateKey = Union[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]
CertificateRole = Literal["root", "server", "client", "firmware"]


def new_private_key(key_type: KeyType = "ec") -> PrivateKey:
    """A fresh key: ECDSA P-256 (``"ec"``) or RSA 2048 (``"rsa"``), the whitepaper's minimum RSA size."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"key type must be 'ec' or 'rsa', not {key_type!r}")


def make_name(common_name: str, organization: str | None = None) -> x509.Name:
    """A subject/issuer name: O (when given), then CN."""
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _san(names: Iterable[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def build_certificate(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    *,
    role: CertificateRole,
    issuer_cert: x509.Certificate | None,
    issuer_key: PrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    san: Iterable[str] = (),
) -> x509.Certificate:
    """Sign one certificate; ``issuer_cert`` None makes it self-signed (a root).

    Extensions follow RFC 5280 practice so strict verifiers accept them: a root has
    basicConstraints CA and keyCertSign; a leaf is not a CA and has the extended key
    usage of its role (serverAuth / clientAuth / codeSigning for firmware).
    """
    issuer_name = issuer_cert.subject if issuer_cert is not None else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    authority_key = issuer_cert.public_key() if issuer_cert is not None else public_key
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key), critical=False)  # type: ignore[arg-type]
    if role == "root":
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        is_rsa = isinstance(public_key, rsa.RSAPublicKey)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=is_rsa and role != "firmware",
            data_encipherment=False, key_agreement=not is_rsa and role != "firmware", key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        usage = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH,
                 "firmware": ExtendedKeyUsageOID.CODE_SIGNING}[role]
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        san = list(san)
        if san:
            builder = builder.add_extension(_san(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new file readable by its owner only (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # O_CREAT honours the umask; make 0600 explicit
        os.write(fd, data)
    finally:
        os.close(fd)
    return path


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_certificates(data: str | bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM text (a chain, leaf first); ValueError when there is none or one is broken."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    return x509.load_pem_x509_certificates(raw)


def describe(cert: x509.Certificate) -> str:
    """Subject and serial, for messages (never key material)."""
    return f"{cert.subject.rfc4514_string()} (serial {cert.serial_number:x})"


@dataclass(frozen=True)
class Credential:
    """A certificate, the key it certifies, and their files (``chain_path``: the certificate plus
    the issuing sub-CAs, which is what a TLS peer sends; equal to the certificate for our flat PKI).

    The key is reachable as :attr:`key` for signing, but repr/str show only names and paths.
    """

    name: str
    cert: x509.Certificate
    cert_path: Path
    key_path: Path
    _key: PrivateKey = field(repr=False, compare=False)

    @property
    def key(self) -> PrivateKey:
        return self._key

    @property
    def cert_pem(self) -> str:
        return certificate_pem(self.cert)

    @property
    def chain_path(self) -> Path:
        return self.cert_path

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    def __repr__(self) -> str:
        return f"Credential({self.name!r}, subject={self.subject!r}, cert_path={str(self.cert_path)!r})"

    __str__ = __repr__

    def __reduce__(self) -> object:  # pickling would copy the key out of the object: refuse
        raise TypeError("a Credential holds a private key and is not picklable")

    @classmethod
    def save(cls, directory: Path, name: str, cert: x509.Certificate, key: PrivateKey) -> "Credential":
        """Write ``name.pem`` (certificate) and ``name.key`` (PKCS#8, unencrypted, mode 0600)."""
        cert_path = write_private(directory / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM))
        key_path = write_private(directory / f"{name}.key", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return cls(name, cert, cert_path, key_path, key)
