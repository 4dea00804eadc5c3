"""Certificate operations of the security extension's messages (re-exported by :mod:`harness.pki`).

- SignCertificate / CertificateSigned (whitepaper use cases A02/A03, TC_074, TC_077):
  :func:`make_csr`, :func:`check_csr`, :func:`sign_csr`, :func:`check_chain`.
- GetInstalledCertificateIds / DeleteCertificate (use cases M03/M04, TC_075, TC_076):
  :func:`certificate_hash_data`, :func:`same_certificate`.
- SignedUpdateFirmware (use case L01, TC_080/TC_081): :func:`sign_firmware`,
  :func:`verify_firmware_signature`.

Checks return a list of problems (empty = fine) in words a vendor can act on; they
never raise on bad input from a SUT, and never print key material.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from typing import Iterable, Literal, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.x509.oid import NameOID

from .pki_certs import (
    Credential,
    PrivateKey,
    build_certificate,
    certificate_pem,
    describe,
    load_certificates,
    make_name,
)

__all__ = [
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
]

HashAlgorithm = Literal["SHA256", "SHA384", "SHA512"]
_HASHES = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}
_WEAK_SIGNATURE_HASHES = {"md5", "sha1"}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- key strength --------------------------------------------------------------------------------

def check_key_strength(public_key: object) -> str | None:
    """Why a key is below the whitepaper's minimum (RSA/DSA >= 2048 bits, EC >= 224 bits), or None."""
    if isinstance(public_key, (rsa.RSAPublicKey, dsa.DSAPublicKey)):
        kind = "RSA" if isinstance(public_key, rsa.RSAPublicKey) else "DSA"
        if public_key.key_size < 2048:
            return f"{kind} key of {public_key.key_size} bits is weaker than the 2048 bits the whitepaper requires"
        return None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size < 224:
            return (f"elliptic-curve key on {public_key.curve.name} ({public_key.curve.key_size} bits) is weaker "
                    "than the 224 bits the whitepaper requires")
        return None
    return f"key type {type(public_key).__name__} is neither RSA nor elliptic curve"


# --- CSR (SignCertificate.req) ---------------------------------------------------------------------

def make_csr(charge_point_id: str, org: str, key: PrivateKey) -> str:
    """The PEM CSR a charge point sends in SignCertificate.req (whitepaper use case A02):
    subject O = the CpoName configuration key, CN = the charge point's serial/identity; signed
    with ``key`` (SHA-256). The private key stays with the caller."""
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(make_name(charge_point_id, org))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def check_csr(pem: str, charge_point_id: str, *, org: str | None = None) -> list[str]:
    """What is wrong with a charge point's CSR (SignCertificate.req ``csr``); empty when nothing.

    Checks: PEM-encoded PKCS#10, self-signature valid, subject CN equals the charge point
    id (the whitepaper asks for the CP's serial number; the harness is configured with the
    chargePointId as that value), an O attribute is present (= ``org`` when given: CpoName),
    key strength, no MD5/SHA-1 signature.
    """
    try:
        csr = x509.load_pem_x509_csr(pem.encode("ascii", "replace"))
    except ValueError as exc:
        return [f"the csr is not a PEM-encoded PKCS#10 certificate signing request ({exc})"]
    problems: list[str] = []
    try:
        if not csr.is_signature_valid:
            problems.append("the CSR's signature does not verify with the public key it carries")
    except UnsupportedAlgorithm as exc:
        problems.append(f"the CSR's signature algorithm is not supported ({exc})")
    common_names = _attribute(csr.subject, NameOID.COMMON_NAME)
    if not common_names:
        problems.append("the CSR subject has no commonName (CN); it must be the charge point's serial/identity")
    elif common_names != [charge_point_id]:
        problems.append(f"the CSR subject CN is {common_names[0]!r}, not the charge point's identity {charge_point_id!r}")
    organizations = _attribute(csr.subject, NameOID.ORGANIZATION_NAME)
    if not organizations:
        problems.append("the CSR subject has no organizationName (O); it must be the CpoName")
    elif org is not None and organizations != [org]:
        problems.append(f"the CSR subject O is {organizations[0]!r}, not the CpoName {org!r}")
    try:
        weak = check_key_strength(csr.public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        weak = f"the CSR's public key cannot be read ({exc})"
    if weak:
        problems.append(weak)
    algorithm = csr.signature_hash_algorithm
    if algorithm is not None and algorithm.name in _WEAK_SIGNATURE_HASHES:
        problems.append(f"the CSR is signed with {algorithm.name.upper()}, which is too weak")
    return problems


def sign_csr(csr_pem: str, ca: Credential, days: int = 365) -> str:
    """What the central system answers in CertificateSigned.req: a certificate for the CSR's subject
    and key, signed by ``ca``, as a PEM chain (the new certificate first, then ``ca`` when it is a
    sub-CA; a self-signed root is left out, since the charge point holds it already).

    It signs whatever it is given (a test may want a certificate for a bad CSR): check
    the CSR with :func:`check_csr` first. ValueError when the text is not a CSR.
    """
    csr = x509.load_pem_x509_csr(csr_pem.encode("ascii", "replace"))
    now = _utcnow()
    cert = build_certificate(
        csr.subject, csr.public_key(), role="client", issuer_cert=ca.cert, issuer_key=ca.key,  # type: ignore[arg-type]
        not_before=now - dt.timedelta(minutes=5), not_after=now + dt.timedelta(days=days),
    )
    chain = certificate_pem(cert)
    if ca.cert.issuer != ca.cert.subject:
        chain += ca.cert_pem
    return chain


# --- chains (CertificateSigned.req, InstallCertificate.req, signing certificates) -----------------

def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _validity_problem(cert: x509.Certificate, now: dt.datetime, what: str) -> str | None:
    if now > cert.not_valid_after_utc:
        return f"{what} {describe(cert)} expired on {cert.not_valid_after_utc.isoformat()}"
    if now < cert.not_valid_before_utc:
        return f"{what} {describe(cert)} is not valid before {cert.not_valid_before_utc.isoformat()}"
    return None


def check_chain(
    pem_chain: str,
    trusted_roots: Iterable[x509.Certificate | Credential],
    *,
    now: dt.datetime | None = None,
) -> list[str]:
    """What is wrong with a PEM chain (leaf first, then sub-CAs, optionally the root); empty when
    the leaf chains up to one of ``trusted_roots`` with valid signatures, every certificate is
    within its validity period, every issuer is a CA, and the leaf's key is strong enough.

    A plain path check with readable messages rather than a full RFC 5280 policy engine:
    a vendor's certificates that lack optional extensions are not failed for it.
    """
    now = now or _utcnow()
    roots = [r.cert if isinstance(r, Credential) else r for r in trusted_roots]
    try:
        chain = load_certificates(pem_chain)
    except ValueError as exc:
        return [f"the chain is not PEM-encoded X.509 ({exc})"]
    if not chain:
        return ["the chain holds no certificate"]
    problems: list[str] = []
    leaf = chain[0]
    for index, cert in enumerate(chain):
        problem = _validity_problem(cert, now, "the leaf certificate" if index == 0 else "the chain certificate")
        if problem:
            problems.append(problem)
    if _is_ca(leaf) and len(chain) > 1:
        problems.append(f"the first certificate {describe(leaf)} is a CA; the chain must start with the leaf")
    weak = check_key_strength(leaf.public_key())
    if weak:
        problems.append(f"the leaf certificate's {weak}")
    current, remaining = leaf, list(chain[1:])
    for _ in range(len(chain) + 1):
        root = next((r for r in roots if _issued_by(current, r)), None)
        if root is not None:
            problem = _validity_problem(root, now, "the trusted root")
            if problem:
                problems.append(problem)
            return problems
        parent = next((c for c in remaining if c is not current and _issued_by(current, c)), None)
        if parent is None:
            if current.issuer == current.subject and _issued_by(current, current):
                problems.append(f"the chain ends in the self-signed {describe(current)}, which is not a trusted root")
            else:
                problems.append(f"{describe(current)} is issued by {current.issuer.rfc4514_string()}, "
                                "which is neither a trusted root nor (with a valid signature) in the chain")
            return problems
        if not _is_ca(parent):
            problems.append(f"{describe(parent)} signs {describe(current)} but is not a CA (basicConstraints)")
        remaining.remove(parent)
        current = parent
    problems.append("the chain loops")
    return problems


# --- certificate hash data (GetInstalledCertificateIds.conf, DeleteCertificate.req) ----------------

def _as_certificate(cert: x509.Certificate | Credential | str | bytes) -> x509.Certificate:
    if isinstance(cert, Credential):
        return cert.cert
    if isinstance(cert, (str, bytes)):
        return load_certificates(cert)[0]
    return cert


def _subject_public_key_bits(cert: x509.Certificate) -> bytes:
    """The contents of the subjectPublicKey BIT STRING (no tag, length or unused-bits octet)."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def read(data: bytes, at: int) -> tuple[int, int, int]:  # tag, start of contents, end of contents
        tag, length, at = data[at], data[at + 1], at + 2
        if length & 0x80:
            count = length & 0x7F
            length, at = int.from_bytes(data[at:at + count], "big"), at + count
        return tag, at, at + length

    tag, start, _ = read(spki, 0)  # SubjectPublicKeyInfo ::= SEQUENCE {
    _, _, after_algorithm = read(spki, start)  # algorithm AlgorithmIdentifier,
    tag, bits_start, bits_end = read(spki, after_algorithm)  # subjectPublicKey BIT STRING }
    if tag != 0x03:
        raise ValueError("SubjectPublicKeyInfo without a BIT STRING")
    return spki[bits_start + 1:bits_end]  # skip the unused-bits octet (always 0 for keys)


def certificate_hash_data(
    cert: x509.Certificate | Credential | str | bytes,
    issuer: x509.Certificate | Credential | str | bytes | None = None,
    hash_algorithm: HashAlgorithm = "SHA256",
) -> dict[str, str]:
    """The whitepaper's CertificateHashDataType for ``cert`` (a data type of the
    whitepaper, used by GetInstalledCertificateIds.conf and DeleteCertificate.req).

    Reading taken (the whitepaper only says "hashed value of the IssuerName" and "hashed value
    of the issuers public key"; we follow the OCSP CertID of RFC 6960 section 4.1.1, which
    those fields come from, as EVerest's libevse-security does):

    - issuerNameHash: hash of the DER encoding of ``cert``'s issuer Name;
    - issuerKeyHash: hash of the issuer's public key as the contents of its subjectPublicKey
      BIT STRING (for EC the uncompressed point, for RSA the DER RSAPublicKey), not of the
      whole SubjectPublicKeyInfo;
    - both lowercase hex; serialNumber: the serial as lowercase hex without leading zeroes.

    Installed certificates are roots, so ``issuer`` defaults to ``cert`` itself; give the
    issuer for any other certificate. Hex is case-insensitive in OCPP: compare with
    :func:`same_certificate`.
    """
    certificate = _as_certificate(cert)
    if issuer is None:
        if certificate.issuer != certificate.subject:
            raise ValueError(f"{describe(certificate)} is not self-signed: give its issuer certificate")
        issuer_cert = certificate
    else:
        issuer_cert = _as_certificate(issuer)
    digest = _HASHES[hash_algorithm]
    return {
        "hashAlgorithm": hash_algorithm,
        "issuerNameHash": digest(certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": digest(_subject_public_key_bits(issuer_cert)).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


def same_certificate(a: dict[str, object], b: dict[str, object]) -> bool:
    """Whether two CertificateHashData name the same certificate: hex compared case-insensitively,
    serial numbers without leading zeroes (a SUT may send either case, or pad)."""
    def norm(data: dict[str, object]) -> tuple[str, str, str, str]:
        serial = str(data.get("serialNumber", "")).lower().lstrip("0") or "0"
        return (str(data.get("hashAlgorithm", "")), str(data.get("issuerNameHash", "")).lower(),
                str(data.get("issuerKeyHash", "")).lower(), serial)
    return norm(a) == norm(b)


# --- firmware signatures (SignedUpdateFirmware.req firmware.signature) -----------------------------

def sign_firmware(data: bytes, signing_key: PrivateKey | Credential, *,
                  rsa_padding: Literal["pss", "pkcs1v15"] = "pss") -> str:
    """The base64 ``firmware.signature`` over the whole firmware file, with SHA-256.

    Reading taken: the whitepaper (use case L01, after OCPP 2.0.1) names RSA-PSS or ECSchnorr
    over a SHA-256 hash. ECSchnorr has no common implementation; charge points verify EC
    signatures as ECDSA (EVerest's libevse-security does), so an EC key signs ECDSA-SHA256
    (DER-encoded r,s). An RSA key signs RSA-PSS (MGF1-SHA256, salt = 32 bytes), or PKCS#1 v1.5
    with ``rsa_padding="pkcs1v15"`` for charge points that only verify that.
    """
    key = signing_key.key if isinstance(signing_key, Credential) else signing_key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
            if rsa_padding == "pss" else padding.PKCS1v15())
        signature = key.sign(data, pad, hashes.SHA256())
    else:
        raise TypeError(f"cannot sign with a {type(key).__name__}")
    return base64.b64encode(signature).decode("ascii")


def _signing_certificate(text: str) -> x509.Certificate:
    """The whitepaper's signingCertificate: PEM (edition 3 on), or hex of the DER (edition 2)."""
    if "-----BEGIN" in text:
        return load_certificates(text)[0]
    return x509.load_der_x509_certificate(bytes.fromhex(text.strip()))


def verify_firmware_signature(
    data: bytes,
    signature_b64: str,
    signing_cert_pem: str,
    *,
    trusted_roots: Sequence[x509.Certificate | Credential] = (),
) -> str | None:
    """Why ``signature_b64`` is not a valid SHA-256 signature of ``data`` by the signing
    certificate's key, or None when it is (see :func:`sign_firmware` for the algorithms).

    RSA signatures are accepted as RSA-PSS (any salt length) or PKCS#1 v1.5: both are in
    use and the whitepaper's wording does not exclude the latter firmly enough to fail it.
    With ``trusted_roots`` (the ManufacturerRootCertificate) the signing certificate must
    also chain up to one of them.
    """
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "the firmware signature is not valid base64"
    try:
        cert = _signing_certificate(signing_cert_pem)
    except ValueError as exc:
        return f"the signing certificate cannot be read as PEM (or hex DER) X.509 ({exc})"
    if trusted_roots:
        problems = check_chain(certificate_pem(cert), trusted_roots)
        if problems:
            return "the signing certificate is not trusted: " + "; ".join(problems)
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            try:
                key.verify(signature, data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                        salt_length=padding.PSS.AUTO), hashes.SHA256())
            except InvalidSignature:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return f"the signing certificate's key type {type(key).__name__} cannot sign firmware"
    except InvalidSignature:
        return f"the signature does not verify over the firmware ({len(data)} bytes) with the key of {describe(cert)}"
    return None
