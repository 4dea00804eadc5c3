"""The generated test PKI and the certificate operations of the security extension's messages."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import pickle
import ssl
import stat
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from harness.config import Secret
from harness.errors import ConfigurationError
from harness.pki import (
    OPENSSL_CIPHER_NAMES,
    Credential,
    PkiFiles,
    TestPki,
    certificate_hash_data,
    check_chain,
    check_csr,
    client_context_from_files,
    make_csr,
    new_private_key,
    same_certificate,
    server_context_from_files,
    sign_csr,
    sign_firmware,
    verify_firmware_signature,
)
from harness.pki_certs import build_certificate, make_name
from harness.pki_checks import _subject_public_key_bits

CP_ID = "CP_1"
CSO = "OpenOCTT CSO"

# A fixed root certificate (P-256, serial 0x0F1E2D3C4B5A6978) and its hash data, worked out
# with the openssl CLI, independently of the harness:
#   issuer Name DER = bytes 35..82 of the DER (asn1parse) | sha256sum
#   openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 65 | sha256sum
#   openssl x509 -noout -ocspid   (SHA-1 of the same two inputs, as OCSP CertID uses them)
VECTOR_PEM = """-----BEGIN CERTIFICATE-----
MIIBZDCCAQugAwIBAgIIDx4tPEtaaXgwCgYIKoZIzj0EAwIwLjETMBEGA1UECgwK
VmVjdG9yIENTTzEXMBUGA1UEAwwOVmVjdG9yIFJvb3QgQ0EwHhcNMjQwMTAxMDAw
MDAwWhcNNDQwMTAxMDAwMDAwWjAuMRMwEQYDVQQKDApWZWN0b3IgQ1NPMRcwFQYD
VQQDDA5WZWN0b3IgUm9vdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGzh
hVTZxZr5pyqEbCXLvL+hDD/qdY+KDhL9I7k0B8CcaPyukV5JbsQxq1XecIgvTb3u
TIN7fbOWUvJPnBVwMTOjEzARMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
RwAwRAIgVSpReAdQmmN2xnmtTHAFZjvuGbNXnK54cO1RwfyvTC0CIBNgwugt+Tnk
10zee4sd3G+0hDHxmy/eQr9hlUN6ccEp
-----END CERTIFICATE-----
"""
VECTOR_HASH_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "04c022b8ee721614799744be5c7bdc91d9e54f53abbc97fcbbb8dfd8e33d851f",
    "issuerKeyHash": "fb8120d1554f5de73f441690845848c746ea528eb1a954e59d102d9220db0dce",
    "serialNumber": "f1e2d3c4b5a6978",
}
VECTOR_OCSP_KEY_SHA1 = "FB3EB7F2783108E31BAC6693763B6FFA1ED36857"


@pytest.fixture(scope="module")
def pki() -> Iterator[TestPki]:
    with TestPki(charge_point_id=CP_ID, cso_name=CSO) as generated:
        yield generated


def san_of(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n) for n in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))


def cn_of(name: x509.Name) -> str:
    return str(name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


# --- the generated PKI -------------------------------------------------------------------------------

def test_every_leaf_chains_up_to_its_own_root_and_to_no_other(pki: TestPki) -> None:
    for leaf, root in [(pki.server, pki.csms_root), (pki.client, pki.csms_root),
                       (pki.wrong_host_server, pki.csms_root), (pki.firmware_signer, pki.manufacturer_root),
                       (pki.untrusted_server, pki.unknown_root), (pki.untrusted_client, pki.unknown_root)]:
        assert check_chain(leaf.cert_pem, [root]) == [], leaf
        others = [r for r in (pki.csms_root, pki.manufacturer_root, pki.unknown_root) if r is not root]
        problems = check_chain(leaf.cert_pem, others)
        assert len(problems) == 1 and "neither a trusted root" in problems[0], (leaf, problems)


def test_the_expired_server_certificate_is_expired_and_otherwise_sound(pki: TestPki) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    assert pki.expired_server.cert.not_valid_after_utc < now
    problems = check_chain(pki.expired_server.cert_pem, [pki.csms_root])
    assert len(problems) == 1 and "expired on" in problems[0]
    assert check_chain(pki.expired_server.cert_pem, [pki.csms_root], now=now - dt.timedelta(days=2)) == []


def test_the_server_certificate_names_the_loopback_host_and_the_wrong_host_one_does_not(pki: TestPki) -> None:
    assert {"127.0.0.1", "::1", "localhost"} <= san_of(pki.server.cert)
    assert cn_of(pki.server.cert.subject) == "localhost"  # the whitepaper: CN = FQDN of the endpoint
    wrong = san_of(pki.wrong_host_server.cert)
    assert wrong and not wrong & {"127.0.0.1", "::1", "localhost"}


def test_extra_server_names_go_into_the_san_and_the_first_becomes_the_cn(tmp_path: Path) -> None:
    with TestPki(server_names=["cs.example.test", "10.1.2.3"], directory=tmp_path) as custom:
        assert {"cs.example.test", "10.1.2.3", "127.0.0.1", "localhost"} <= san_of(custom.server.cert)
        assert cn_of(custom.server.cert.subject) == "cs.example.test"
    assert tmp_path.exists()  # a caller's directory is left to the caller


def test_the_charge_point_certificate_carries_its_identity_and_the_cso_as_the_whitepaper_asks(pki: TestPki) -> None:
    subject = pki.client.cert.subject
    assert cn_of(subject) == CP_ID
    assert [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [CSO]
    assert pki.client.cert.issuer == pki.csms_root.cert.subject
    usage = pki.client.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH in usage


def test_keys_are_ecdsa_p256_by_default_and_rsa_2048_on_request() -> None:
    assert isinstance(new_private_key(), ec.EllipticCurvePrivateKey)
    assert new_private_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    rsa_key = new_private_key("rsa")
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and rsa_key.key_size == 2048
    with pytest.raises(ValueError):
        new_private_key("dsa")  # type: ignore[arg-type]


def test_files_are_private_and_removed_on_close() -> None:
    generated = TestPki()
    directory = generated.directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert len(files) == 2 * 10  # certificate + key of 3 roots and 7 leaves
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    generated.close()
    assert not directory.exists()
    generated.close()  # idempotent


def test_no_key_material_in_repr_or_str(pki: TestPki) -> None:
    texts = [repr(pki), str(pki)] + [repr(c) + str(c) for c in vars(pki).values() if isinstance(c, Credential)]
    secrets = []
    for credential in (pki.client, pki.server, pki.csms_root):
        key = credential.key
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        value = key.private_numbers().private_value
        secrets += [str(value), format(value, "x"), format(value, "X")]
        secrets += [line for line in credential.key_path.read_text().splitlines() if "-----" not in line]
    for text in texts:
        assert "PRIVATE KEY" not in text and "BEGIN" not in text
        assert not any(secret in text for secret in secrets), text
    with pytest.raises(TypeError):
        pickle.dumps(pki)
    with pytest.raises(TypeError):
        pickle.dumps(pki.client)


# --- CSR: SignCertificate / CertificateSigned ---------------------------------------------------------

def test_a_csr_round_trip_gives_a_chain_the_charge_point_can_verify(pki: TestPki) -> None:
    key = new_private_key()
    csr = make_csr(CP_ID, CSO, key)
    assert csr.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert check_csr(csr, CP_ID, org=CSO) == []
    chain = pki.sign_csr(csr)
    assert check_chain(chain, [pki.csms_root]) == []
    leaf = x509.load_pem_x509_certificates(chain.encode())
    assert len(leaf) == 1  # the root is not repeated
    assert leaf[0].public_key() == key.public_key()
    assert cn_of(leaf[0].subject) == CP_ID and leaf[0].issuer == pki.csms_root.cert.subject


def test_a_sub_ca_is_sent_along_and_the_chain_still_verifies(pki: TestPki, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    sub_key = new_private_key()
    sub_cert = build_certificate(make_name("CSMS Sub CA", CSO), sub_key.public_key(), role="root",
                                 issuer_cert=pki.csms_root.cert, issuer_key=pki.csms_root.key,
                                 not_before=now - dt.timedelta(minutes=1), not_after=now + dt.timedelta(days=1))
    sub_ca = Credential.save(tmp_path, "sub_ca", sub_cert, sub_key)
    chain = sign_csr(make_csr(CP_ID, CSO, new_private_key()), sub_ca, days=1)
    assert len(x509.load_pem_x509_certificates(chain.encode())) == 2
    assert check_chain(chain, [pki.csms_root]) == []
    leaf_only = chain[: chain.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----\n")]
    problems = check_chain(leaf_only, [pki.csms_root])
    assert len(problems) == 1 and "CSMS Sub CA" in problems[0]


def _tampered_signature(csr_pem: str) -> str:
    der = bytearray(x509.load_pem_x509_csr(csr_pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte is inside the signature value
    body = base64.encodebytes(bytes(der)).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


def _csr(subject: x509.Name, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: make_csr("CP_OTHER", CSO, new_private_key()), "CN is 'CP_OTHER', not the charge point's identity 'CP_1'"),
    (lambda: make_csr(CP_ID, "Other CSO", new_private_key()), "O is 'Other CSO', not the CpoName 'OpenOCTT CSO'"),
    (lambda: _csr(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CP_ID)]), new_private_key()), "no organizationName"),
    (lambda: _csr(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, CSO)]), new_private_key()), "no commonName"),
    (lambda: _tampered_signature(make_csr(CP_ID, CSO, new_private_key())), "signature does not verify"),
    (lambda: make_csr(CP_ID, CSO, rsa.generate_private_key(public_exponent=65537, key_size=1024)), "1024 bits is weaker"),
    (lambda: make_csr(CP_ID, CSO, ec.generate_private_key(ec.SECP192R1())), "192 bits) is weaker"),
    (lambda: "not a csr", "not a PEM-encoded PKCS#10"),
])
def test_check_csr_names_each_problem(make: object, expected: str) -> None:
    problems = check_csr(make(), CP_ID, org=CSO)  # type: ignore[operator]
    assert len(problems) == 1 and expected in problems[0], problems


def test_check_chain_reports_garbage_and_a_ca_in_first_place(pki: TestPki) -> None:
    assert "not PEM-encoded X.509" in check_chain("garbage", [pki.csms_root])[0]
    problems = check_chain(pki.csms_root.cert_pem + pki.client.cert_pem, [pki.csms_root])
    assert any("must start with the leaf" in p for p in problems)
    assert check_chain(pki.client.cert_pem + pki.csms_root.cert_pem, [pki.csms_root]) == []
    untrusted = check_chain(pki.untrusted_client.cert_pem + pki.unknown_root.cert_pem, [pki.csms_root])
    assert len(untrusted) == 1 and "self-signed" in untrusted[0] and "not a trusted root" in untrusted[0]


# --- certificate hash data: GetInstalledCertificateIds / DeleteCertificate ----------------------------

def test_hash_data_matches_the_values_worked_out_by_hand() -> None:
    assert certificate_hash_data(VECTOR_PEM) == VECTOR_HASH_DATA
    cert = x509.load_pem_x509_certificate(VECTOR_PEM.encode())
    # the key hash input is what OpenSSL's OCSP CertID uses (X509_pubkey_digest)
    assert hashlib.sha1(_subject_public_key_bits(cert)).hexdigest().upper() == VECTOR_OCSP_KEY_SHA1


def test_hash_data_follows_the_issuer_and_the_algorithm(pki: TestPki) -> None:
    root = certificate_hash_data(pki.csms_root)
    leaf = certificate_hash_data(pki.client, issuer=pki.csms_root)
    assert leaf["issuerNameHash"] == root["issuerNameHash"] and leaf["issuerKeyHash"] == root["issuerKeyHash"]
    assert leaf["serialNumber"] == format(pki.client.cert.serial_number, "x")
    assert leaf["issuerNameHash"] == hashlib.sha256(pki.csms_root.cert.subject.public_bytes()).hexdigest()
    point = pki.csms_root.cert.public_key().public_bytes(serialization.Encoding.X962,
                                                        serialization.PublicFormat.UncompressedPoint)
    assert leaf["issuerKeyHash"] == hashlib.sha256(point).hexdigest()
    sha512 = certificate_hash_data(pki.csms_root, hash_algorithm="SHA512")
    assert sha512["hashAlgorithm"] == "SHA512" and len(sha512["issuerKeyHash"]) == 128
    with pytest.raises(ValueError, match="not self-signed"):
        certificate_hash_data(pki.client)


def test_rsa_issuer_key_hash_is_over_the_rsa_public_key_structure() -> None:
    key = new_private_key("rsa")
    now = dt.datetime.now(dt.timezone.utc)
    cert = build_certificate(make_name("RSA Root"), key.public_key(), role="root", issuer_cert=None, issuer_key=key,
                             not_before=now, not_after=now + dt.timedelta(days=1))
    pkcs1 = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert certificate_hash_data(cert)["issuerKeyHash"] == hashlib.sha256(pkcs1).hexdigest()


def test_same_certificate_ignores_hex_case_and_leading_zeroes() -> None:
    upper = {**VECTOR_HASH_DATA, "issuerNameHash": VECTOR_HASH_DATA["issuerNameHash"].upper(),
             "serialNumber": "0F1E2D3C4B5A6978"}
    assert same_certificate(VECTOR_HASH_DATA, upper)
    assert not same_certificate(VECTOR_HASH_DATA, {**VECTOR_HASH_DATA, "serialNumber": "f1e2d3c4b5a6979"})
    assert not same_certificate(VECTOR_HASH_DATA, {**VECTOR_HASH_DATA, "hashAlgorithm": "SHA384"})


# --- firmware signatures: SignedUpdateFirmware ----------------------------------------------------------

FIRMWARE = b"\x7fELF firmware image " * 100


def test_a_firmware_signature_verifies_and_a_broken_one_is_detected(pki: TestPki) -> None:
    signature = sign_firmware(FIRMWARE, pki.firmware_signer)
    cert = pki.firmware_signer.cert_pem
    assert verify_firmware_signature(FIRMWARE, signature, cert, trusted_roots=[pki.manufacturer_root]) is None
    broken = bytearray(base64.b64decode(signature))
    broken[-1] ^= 0x01
    problem = verify_firmware_signature(FIRMWARE, base64.b64encode(bytes(broken)).decode(), cert)
    assert problem and "does not verify" in problem
    problem = verify_firmware_signature(FIRMWARE + b"!", signature, cert)
    assert problem and "does not verify" in problem
    assert "not valid base64" in (verify_firmware_signature(FIRMWARE, "%%%", cert) or "")
    assert "cannot be read" in (verify_firmware_signature(FIRMWARE, signature, "nonsense") or "")
    untrusted = verify_firmware_signature(FIRMWARE, signature, cert, trusted_roots=[pki.csms_root])
    assert untrusted and "not trusted" in untrusted


def test_the_signing_certificate_may_be_hex_der_as_in_whitepaper_edition_2(pki: TestPki) -> None:
    signature = sign_firmware(FIRMWARE, pki.firmware_signer.key)
    hex_der = pki.firmware_signer.cert.public_bytes(serialization.Encoding.DER).hex().upper()
    assert verify_firmware_signature(FIRMWARE, signature, hex_der) is None


@pytest.mark.parametrize("padding", ["pss", "pkcs1v15"])
def test_rsa_firmware_signatures_verify_with_either_padding(padding: str) -> None:
    key = new_private_key("rsa")
    now = dt.datetime.now(dt.timezone.utc)
    cert = build_certificate(make_name("RSA Signer"), key.public_key(), role="firmware", issuer_cert=None,
                             issuer_key=key, not_before=now, not_after=now + dt.timedelta(days=1))
    signature = sign_firmware(FIRMWARE, key, rsa_padding=padding)  # type: ignore[arg-type]
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    assert verify_firmware_signature(FIRMWARE, signature, pem) is None
    assert verify_firmware_signature(FIRMWARE[:-1], signature, pem) is not None


# --- TLS contexts --------------------------------------------------------------------------------------

def _tls12_ciphers(context: ssl.SSLContext) -> set[str]:
    return {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}


def test_contexts_allow_tls_1_2_and_up_with_only_the_whitepaper_suites(pki: TestPki) -> None:
    for context in (pki.server_context(2), pki.server_context(3), pki.client_context(2), pki.client_context(3)):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert _tls12_ciphers(context) == set(OPENSSL_CIPHER_NAMES.values())
    assert pki.server_context(2).verify_mode == ssl.CERT_NONE
    assert pki.server_context(3).verify_mode == ssl.CERT_REQUIRED
    client = pki.client_context(2)
    assert client.check_hostname and client.verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ValueError):
        pki.server_context(1)


def _encrypted_key_copy(credential: Credential, directory: Path, password: str) -> Path:
    path = directory / f"{credential.name}.enc.key"
    path.write_bytes(credential.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode())))
    return path


def test_vendor_files_build_the_same_contexts(pki: TestPki, tmp_path: Path) -> None:
    password = "Vendor-Key-Pa55"
    server_files = PkiFiles(ca=pki.csms_root.cert_path, cert=pki.server.cert_path,
                            key=_encrypted_key_copy(pki.server, tmp_path, password), password=Secret(password))
    assert server_context_from_files(server_files, 3).verify_mode == ssl.CERT_REQUIRED
    assert server_context_from_files(server_files, 2).verify_mode == ssl.CERT_NONE
    client_files = PkiFiles(ca=pki.csms_root.cert_path, cert=pki.client.cert_path, key=pki.client.key_path)
    assert client_context_from_files(client_files, 3).check_hostname
    assert client_context_from_files(PkiFiles(ca=pki.csms_root.cert_path), 2).check_hostname


def test_vendor_file_problems_are_configuration_errors_that_never_show_the_password(pki: TestPki, tmp_path: Path) -> None:
    password = "Vendor-Key-Pa55"
    encrypted = _encrypted_key_copy(pki.server, tmp_path, password)
    wrong = PkiFiles(ca=pki.csms_root.cert_path, cert=pki.server.cert_path, key=encrypted, password=Secret("Wr0ng-Pa55"))
    with pytest.raises(ConfigurationError) as info:
        server_context_from_files(wrong, 2)
    assert str(encrypted) in str(info.value) and "Wr0ng-Pa55" not in str(info.value) and password not in str(info.value)
    with pytest.raises(ConfigurationError, match="does not exist"):
        server_context_from_files(PkiFiles(ca=tmp_path / "missing.pem", cert=pki.server.cert_path,
                                           key=pki.server.key_path), 3)
    with pytest.raises(ConfigurationError, match="needs the charge point certificate"):
        client_context_from_files(PkiFiles(ca=pki.csms_root.cert_path), 3)
    with pytest.raises(ConfigurationError, match="profile 2 or 3"):
        client_context_from_files(PkiFiles(ca=pki.csms_root.cert_path), 1)


def test_ip_addresses_in_the_san_are_ip_entries_not_names(pki: TestPki) -> None:
    san = pki.server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("::1") in san.get_values_for_type(x509.IPAddress)
    assert "127.0.0.1" not in san.get_values_for_type(x509.DNSName)
