"""Shared steps of the security extension's cases ("Improved security for OCPP 1.6-J"), both roles.

Security profiles. The run has one profile (the SUT config's ``security_profile``; the core
cases stay on it). A case whose prerequisite is a connection over another profile ("connected
with SecurityProfile 2 or 3", a TLS or Basic-auth handshake, a reconnect with new credentials)
moves there first, with a manual step, and harness.common_state moves back after it:

* charge point under test (the harness is the central system, one listener per profile):
  :func:`connected_over` runs ``set_security_profile`` (a service tool: OCPP cannot lower a
  profile) and waits for the charge point on that profile's listener;
* central system under test (the harness is the charge point): :func:`harness_over` has the
  operator set the charge point's profile in the back-end (``cs_security_settings``); the harness
  charge point then connects with it.

A profile the SUT does not support (``tls.profiles``) or the harness has no material for (a
password for 1 and 2, certificates for 2 and 3) skips the case, never passes it.

Checks (whitepaper part "Secure connection setup"): :func:`check_tls` (TLS 1.2 or higher, the
whitepaper's suites, read from what the peer offered), :func:`certificate_problems` (key size,
serial number, subject CN), :func:`hash_data_problems` (certificateHashData by the harness's
own calculation, harness.pki.certificate_hash_data).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from harness.errors import ConnectionFailure, PayloadMismatch
from harness.inbox import Expectation
from harness.pki import (
    OPENSSL_CIPHER_NAMES, certificate_hash_data, check_csr, check_key_strength, same_certificate, sign_csr,
)
from harness.pki_certs import Credential, build_certificate, certificate_pem, load_certificates, make_name, new_private_key
from harness.roles.central_system import CentralSystem, Connection
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_firmware import Notification

__all__ = [
    "profile_for", "connected_over", "harness_over", "current_profile", "wait_reconnection",
    "check_tls", "certificate_problems", "hash_data_problems", "security_event", "log_status",
    "signed_firmware_status", "request_id_problems", "make_root", "untrusted_ca", "expired_root", "cpo_name",
    "serial_number", "fail_on", "require_material", "signed_certificate", "WHITEPAPER", "EC_SUITES", "RSA_SUITES",
    "CS_ROOT", "MF_ROOT",
]

WHITEPAPER = "whitepaper 'Improved security for OCPP 1.6-J', part Secure connection setup"
EC_SUITES = ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
RSA_SUITES = ("TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384")
CS_ROOT, MF_ROOT = "CentralSystemRootCertificate", "ManufacturerRootCertificate"  # the certificateTypes


# -- which profile a case runs over ----------------------------------------------------------------------
def profile_for(sut: SutHandle, allowed: Iterable[int], current: int) -> int:
    """The profile a case needing one of ``allowed`` runs over: the current one if allowed, else the lowest the
    SUT supports (``tls.profiles``) and the harness has material for; skips the case when there is none."""
    allowed = tuple(allowed)
    if current in allowed:
        return current
    material = sut.security
    usable = [p for p in allowed if p in sut.config.tls.profiles and material is not None
              and (p not in (1, 2) or material.password is not None) and (p < 2 or material.own is not None)]
    if not usable:
        pytest.skip(f"prerequisite not met: the case needs security profile {' or '.join(map(str, allowed))}; the SUT "
                    f"config lists {list(sut.config.tls.profiles)} in tls.profiles (and profiles 1/2 need "
                    "basic_auth_password, 2/3 the harness's certificates)")
    return min(usable)


def current_profile(cs: CentralSystem) -> int:
    """The profile of the listener the charge point is connected to (the run's before its first connection)."""
    return cs.connections[-1].profile if cs.connections else cs.config.security_profile


async def wait_reconnection(cs: CentralSystem, since: int, *, step: str, profile: int | None = None,
                            timeout: float | None = None, what: str = "") -> Connection:
    """The charge point's next connection from ``since`` on (over ``profile``); a failure names the refusals."""
    limit = timeout if timeout is not None else cs.timeouts.connect + cs.timeouts.step
    found = await cs.wait_connection(since, limit, profile)
    if found is None:
        refused = cs.refusals[-5:]
        over = f" over security profile {profile} ({cs.url_for(profile)})" if profile is not None else ""
        raise ConnectionFailure(step, f"the charge point did not connect{over} within {limit:g}s{what}",
                                ("connections it made and the harness refused:\n" + "\n".join(f"  - {r}" for r in refused))
                                if refused else "the harness saw no connection attempt it could refuse")
    return found


async def connected_over(cs: CentralSystem, sut: SutHandle, allowed: Iterable[int], *, step: str = "before") -> int:
    """Prerequisite "the Charge Point is connected with SecurityProfile ..." (charge point under test).

    Returns the profile. Moving happens outside the case's steps (housekeeping: CALLs get the
    default reply); a charge point that does not come back over that profile fails ``step``.
    """
    current = current_profile(cs)
    target = profile_for(sut, allowed, current)
    if target == current and cs.session is not None and not cs.session.closed.is_set():
        return target
    label = f"{step} (prerequisite: connected over security profile {target})"
    cs.housekeeping = True
    try:
        mark = len(cs.connections)
        await sut.act("set_security_profile", step=label, profile=target, url=cs.url_for(target))
        await cs.actuations_done(label)
        await wait_reconnection(cs, mark, step=label, profile=target, what=" after the manual step set_security_profile")
        await cs.settle_boot()  # a charge point may reboot to take the setting: its boot statuses first
    finally:
        cs.housekeeping = False
        cs.inbox.cursor = len(cs.inbox.items)
    return target


async def harness_over(cp: ChargePoint, sut: SutHandle, allowed: Iterable[int], *, step: str = "before") -> int:
    """Prerequisite "connected with SecurityProfile ..." (central system under test): the operator sets the
    harness charge point's profile in the back-end; the harness connects with it from the next CALL on."""
    target = profile_for(sut, allowed, cp.profile)
    if target != cp.profile:
        label = f"{step} (prerequisite: security profile {target})"
        await cp.disconnect()
        await sut.act("cs_security_settings", step=label, profile=target, charge_point_id=cp.config.charge_point_id)
        await cp.actuations_done(label)
        cp.profile = target
    return target


# -- TLS and certificates ------------------------------------------------------------------------------------
def check_tls(step: str, version: str, offered: Iterable[str] | None, *, peer: str) -> list[str]:
    """TLS 1.2 or higher (a failure), and the whitepaper's suites among those ``peer`` offered: both ECDHE-ECDSA
    ones or both RSA ones (catalog TC_086/TC_087). Returns what the offer lacks (``offered`` None: not judged)."""
    if version not in ("TLSv1.2", "TLSv1.3"):
        raise PayloadMismatch(step, f"the {peer} negotiated {version or 'no TLS'}; the whitepaper requires TLS 1.2 or "
                                    "higher", WHITEPAPER)
    if offered is None:
        return []
    names = set(offered)
    for group in (EC_SUITES, RSA_SUITES):
        if all(OPENSSL_CIPHER_NAMES[s] in names for s in group):
            return []
    have = [s for s, n in OPENSSL_CIPHER_NAMES.items() if n in names]
    return [f"the {peer} offers {have or 'none'} of the whitepaper's TLS 1.2 suites; it must support both "
            f"{' and '.join(EC_SUITES)}, or both {' and '.join(RSA_SUITES)}"]


def certificate_problems(pem: str | None, *, what: str, common_name: str | None, fqdn: bool = False) -> list[str]:
    """A certificate a peer presented (catalog TC_086/TC_087 step 2/4): X.509, a serial number, key size, and the
    subject CN (the charge point's serial number, or with ``fqdn`` the endpoint's host name)."""
    if not pem:
        return [f"the {what} presented no certificate"]
    try:
        cert = load_certificates(pem)[0]
    except ValueError as exc:
        return [f"the {what}'s certificate is not X.509 ({exc})"]
    problems = []
    if cert.serial_number <= 0:
        problems.append(f"the {what}'s certificate has no (positive) serial number")
    weak = check_key_strength(cert.public_key())
    if weak:
        problems.append(f"the {what}'s certificate: {weak}")
    names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not names:
        problems.append(f"the {what}'s certificate subject has no commonName")
    elif common_name is not None and names[0].lower() != common_name.lower():
        kind = "the FQDN of the endpoint" if fqdn else "the charge point's serial number"
        problems.append(f"the {what}'s certificate subject CN is {names[0]!r}; it must be {kind} ({common_name!r})")
    return problems


def serial_number(sut: SutHandle) -> str:
    """The charge point's serial number its certificate names (``extra.charge_point_serial``, else its id)."""
    return str(sut.config.extra.get("charge_point_serial", sut.config.charge_point_id))


def cpo_name(sut: SutHandle) -> str:
    """<The configured Vendor Name>: the CpoName a charge point certificate carries as O."""
    return str(sut.config.extra.get("cpo_name", "OpenOCTT CSO"))


def hash_data_problems(entries: list[dict[str, Any]], cert: x509.Certificate | str, *, present: bool,
                       what: str) -> list[str]:
    """Whether ``entries`` (certificateHashData) name ``cert``, by the harness's own calculation with each entry's
    hashAlgorithm (RFC 6960 reading, harness.pki.certificate_hash_data; hex compared case-insensitively)."""
    found = [e for e in entries if same_certificate(e, certificate_hash_data(cert, cert, e.get("hashAlgorithm", "SHA256")))]
    if present and not found:
        expected = certificate_hash_data(cert, cert, entries[0].get("hashAlgorithm", "SHA256") if entries else "SHA256")
        return [f"certificateHashData does not include {what}: the harness calculates {expected}, the charge point "
                f"reported {entries}"]
    if not present and found:
        return [f"certificateHashData still includes {what} ({found[0]})"]
    return []


def make_root(name: str, *, expired: bool = False) -> tuple[x509.Certificate, str]:
    """A new self-signed root CA (EC P-256), valid now or expired yesterday; its key is thrown away."""
    key = new_private_key("ec")
    now = dt.datetime.now(dt.timezone.utc)
    valid = (now - dt.timedelta(days=60), now - dt.timedelta(days=1)) if expired else (now - dt.timedelta(minutes=5),
                                                                                        now + dt.timedelta(days=30))
    cert = build_certificate(make_name(name, "OpenOCTT Harness"), key.public_key(), role="root", issuer_cert=None,
                             issuer_key=key, not_before=valid[0], not_after=valid[1])
    return cert, certificate_pem(cert)


def untrusted_ca(directory: Path) -> Credential:
    """TC_077_CS: a CA no charge point trusts (its key in the run's directory, removed with it)."""
    key = new_private_key("ec")
    now = dt.datetime.now(dt.timezone.utc)
    cert = build_certificate(make_name("OpenOCTT Untrusted CA", "Nobody Trusts This"), key.public_key(), role="root",
                             issuer_cert=None, issuer_key=key, not_before=now - dt.timedelta(minutes=5),
                             not_after=now + dt.timedelta(days=30))
    return Credential.save(directory, f"untrusted_ca_{cert.serial_number:x}"[:40], cert, key)


def expired_root() -> str:
    """TC_078_CS: an invalid/expired CentralSystemRootCertificate (a root CA whose validity ended yesterday)."""
    return make_root("OpenOCTT Expired Root CA", expired=True)[1]


def require_material(sut: SutHandle, what: str, value: Any) -> Any:
    """``value``, or skip the case: the harness lacks this piece of the PKI."""
    if value is None:
        pytest.skip(f"prerequisite not met: the harness has no {what} (tls: of the SUT config)")
    return value


async def signed_certificate(cs: CentralSystem, sut: SutHandle, *, step: str, ca: Credential, check: bool) -> tuple[str, str]:
    """ExtendedTriggerMessage SignChargePointCertificate, SignCertificate (CSR checked when ``check``), then
    CertificateSigned with a chain ``ca`` signs: (csr, chain). Labels are ``step`` plus the catalog's numbers."""
    await cs.call("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"},
                  step=f"{step}1-2 (ExtendedTriggerMessage SignChargePointCertificate)", expect={"status": "Accepted"})
    problems: list[str] = []

    def judge(payload: dict[str, Any]) -> dict[str, str]:
        problems.extend(check_csr(payload["csr"], serial_number(sut), org=cpo_name(sut)) if check else [])
        return {"status": "Rejected" if problems else "Accepted"}

    got = await cs.expect("SignCertificate", step=f"{step}3-4 (SignCertificate.req with a CSR)", reply=judge)
    fail_on(f"{step}3", problems, "whitepaper use case A02: a PKCS#10 CSR, subject O = CpoName, CN = the charge "
                                   "point's serial number; RSA >= 2048 bits or EC >= 224 bits")
    return got.payload["csr"], sign_csr(got.payload["csr"], ca)


# -- notifications ------------------------------------------------------------------------------------------
def security_event(kind: str) -> Expectation:
    """SecurityEventNotification of ``kind`` (other events on the way are background traffic)."""
    return Expectation("SecurityEventNotification", {"type": kind})


def log_status(status: Any, previous: str | None = None, request_id: int | None = None) -> Notification:
    """LogStatusNotification ``status`` (another status fails the step at once; ``previous`` again is tolerated)."""
    pattern: dict[str, Any] = {"status": status}
    if request_id is not None:
        pattern["requestId"] = request_id
    return Notification("LogStatusNotification", pattern, previous=previous)


def signed_firmware_status(status: Any, previous: str | None = None) -> Notification:
    """SignedFirmwareStatusNotification ``status`` (``previous`` again is tolerated: a progress report)."""
    return Notification("SignedFirmwareStatusNotification", {"status": status}, previous=previous)


def request_id_problems(received: Any, request_id: int, what: str) -> list[str]:
    """A notification's requestId must be the request's (whitepaper); a missing one is reported by the caller."""
    got = received.payload.get("requestId")
    if got is not None and got != request_id:
        return [f"{what} carries requestId {got}; the request that started it had {request_id}"]
    return []


def fail_on(step: str, problems: list[str], rule: str = WHITEPAPER) -> None:
    """Fail ``step`` with the first of ``problems`` (all of them listed), or pass when there are none."""
    if problems:
        raise PayloadMismatch(step, problems[0], "\n".join(f"  - {p}" for p in problems) + f"\n{rule}")

