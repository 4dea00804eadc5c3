"""Security profiles 1-3 over real loopback WebSockets: the harness's server and client meet,
and every refused handshake is reported by its cause (never as a timeout), on both sides."""

from __future__ import annotations

import asyncio
import ssl
import time
import warnings
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterator

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from harness.config import Secret
from harness.errors import ConfigurationError, ConnectionFailure
from harness.pki import OPENSSL_CIPHER_NAMES, TestPki
from harness.transport import (
    Handshake,
    TlsInfo,
    connect_charge_point,
    serve_central_system,
    tls_info,
)
from harness.waits import within

CP_ID = "CP_1"
PASSWORD = "OCA_OCTT_admin_test"  # TC_073's AuthorizationKey, decoded
WRONG = "Wr0ng-Pa55word-xyz"
OPEN_TIMEOUT = 5.0  # a refusal must be reported well before this: it is not a timeout


@pytest.fixture(scope="module")
def pki() -> Iterator[TestPki]:
    with TestPki(charge_point_id=CP_ID) as generated:
        yield generated


@dataclass
class Listener:
    """The harness as central system: its URL, what it accepted, what it refused."""

    url: str
    accepted: list[Handshake] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def refuse(self, reason: str) -> None:
        self.refusals.append(reason)
        self.changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 2.0) -> None:
        """The server's side of a handshake ends a moment after the client's: wait for it (bounded)."""
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                if not predicate():
                    await self.changed.wait()
        await within(wait(), timeout)


@asynccontextmanager
async def central_system(server_ssl: ssl.SSLContext | None, password: str | None = None) -> AsyncIterator[Listener]:
    listener = Listener("")

    async def handler(connection: Any, handshake: Handshake) -> None:
        listener.accepted.append(handshake)
        listener.changed.set()
        await connection.wait_closed()

    server = await serve_central_system(
        "127.0.0.1", 0, "/ocpp", handler, password=Secret(password) if password else None,
        on_refused=listener.refuse, open_timeout=OPEN_TIMEOUT, ssl=server_ssl)
    port = next(iter(server.sockets)).getsockname()[1]
    listener.url = f"{'wss' if server_ssl else 'ws'}://127.0.0.1:{port}/ocpp"
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


async def connects(url: str, client_ssl: ssl.SSLContext | None, password: str | None = None) -> TlsInfo | None:
    """Connect as the charge point, close again; the TLS session the client saw (None on ws://)."""
    ws = await connect_charge_point(url, CP_ID, password=Secret(password) if password else None,
                                    open_timeout=OPEN_TIMEOUT, ssl=client_ssl)
    info = tls_info(ws)
    await ws.close()
    return info


async def refused(url: str, client_ssl: ssl.SSLContext | None, password: str | None = None) -> str:
    """Connect as the charge point and expect a refusal, reported quickly; its text."""
    started = time.monotonic()
    with pytest.raises(ConnectionFailure) as info:
        await connects(url, client_ssl, password)
    assert time.monotonic() - started < OPEN_TIMEOUT / 2, "a refusal was reported as a timeout"
    text = str(info.value)
    assert "TimeoutError" not in text
    return text


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and WRONG not in text and "PRIVATE KEY" not in text, text


# --- profile 1: ws:// + HTTP Basic auth ------------------------------------------------------------------

def test_profile_1_basic_auth_with_the_right_password_connects() -> None:
    async def scenario() -> None:
        async with central_system(None, PASSWORD) as cs:
            assert await connects(cs.url, None, PASSWORD) is None  # no TLS
            await cs.until(lambda: bool(cs.accepted))
            assert cs.accepted[0].auth_user == CP_ID and cs.accepted[0].tls is None and not cs.refusals
    run(scenario())


@pytest.mark.parametrize(("password", "client_says", "server_says"), [
    (WRONG, "the password sent for 'CP_1' is wrong", "basic-auth password is wrong"),
    (None, "the harness sent none", "no Authorization header"),
])
def test_profile_1_a_wrong_or_missing_password_is_http_401(password: str | None, client_says: str, server_says: str) -> None:
    async def scenario() -> None:
        async with central_system(None, PASSWORD) as cs:
            text = await refused(cs.url, None, password)
            assert "HTTP 401 Unauthorized" in text and client_says in text
            assert cs.refusals == [server_says]
            assert_no_secrets(text, *cs.refusals)
    run(scenario())


# --- profile 2: wss:// (server certificate) + HTTP Basic auth ----------------------------------------------

def test_profile_2_tls_with_basic_auth_connects(pki: TestPki) -> None:
    async def scenario() -> None:
        async with central_system(pki.server_context(2), PASSWORD) as cs:
            tls = await connects(cs.url, pki.client_context(2), PASSWORD)
            assert tls is not None and tls.version in ("TLSv1.2", "TLSv1.3")
            served = x509.load_pem_x509_certificate((tls.peer_certificate_pem or "").encode())
            assert served == pki.server.cert
            await cs.until(lambda: bool(cs.accepted))
            assert cs.accepted[0].tls is not None and cs.accepted[0].tls.peer_certificate_pem is None  # no client cert
            assert cs.accepted[0].auth_user == CP_ID
    run(scenario())


def test_profile_2_over_tls_1_2_negotiates_a_whitepaper_cipher_suite(pki: TestPki) -> None:
    async def scenario() -> None:
        client = pki.client_context(2)
        client.maximum_version = ssl.TLSVersion.TLSv1_2
        async with central_system(pki.server_context(2), PASSWORD) as cs:
            tls = await connects(cs.url, client, PASSWORD)
            assert tls is not None and tls.version == "TLSv1.2"
            assert tls.cipher in OPENSSL_CIPHER_NAMES.values()
    run(scenario())


def test_profile_2_a_wrong_password_over_tls_is_still_http_401(pki: TestPki) -> None:
    async def scenario() -> None:
        async with central_system(pki.server_context(2), PASSWORD) as cs:
            text = await refused(cs.url, pki.client_context(2), WRONG)
            assert "HTTP 401 Unauthorized" in text and cs.refusals == ["basic-auth password is wrong"]
            assert_no_secrets(text, *cs.refusals)
    run(scenario())


@pytest.mark.parametrize(("server", "cause"), [
    ("untrusted_server", "certificate rejected, unknown CA: the central system's certificate does not chain up"),
    ("expired_server", "certificate expired: the central system's certificate has expired"),
    ("wrong_host_server", "wrong host (hostname mismatch)"),
])
def test_profile_2_the_charge_point_refuses_a_bad_server_certificate_and_says_why(
        pki: TestPki, server: str, cause: str) -> None:
    async def scenario() -> None:
        async with central_system(pki.server_context(2, server=getattr(pki, server)), PASSWORD) as cs:
            text = await refused(cs.url, pki.client_context(2), PASSWORD)
            assert cause in text
            assert not cs.accepted
            assert_no_secrets(text, *cs.refusals)
    run(scenario())


def test_profile_2_a_charge_point_speaking_plain_ws_to_the_tls_port_is_reported(pki: TestPki) -> None:
    async def scenario() -> None:
        async with central_system(pki.server_context(2), PASSWORD) as cs:
            text = await refused(cs.url.replace("wss://", "ws://"), None, PASSWORD)
            assert "without an HTTP response" in text
            await cs.until(lambda: bool(cs.refusals))
            assert cs.refusals == [("TLS handshake failed: not TLS: the charge point sent plain HTTP (ws://) "
                                    "to the TLS (wss://) port")]
    run(scenario())


def _tls_1_1_only(context: ssl.SSLContext) -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS < 1.2 at the default level
    return context


def test_profile_2_tls_below_1_2_is_refused_as_protocol_too_old_on_both_sides(pki: TestPki) -> None:
    if not ssl.HAS_TLSv1_1:
        pytest.skip("this OpenSSL cannot speak TLS 1.1 at all")

    async def scenario() -> None:
        old_client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old_client.load_verify_locations(pki.csms_root.cert_path)
        async with central_system(pki.server_context(2), PASSWORD) as cs:
            text = await refused(cs.url, _tls_1_1_only(old_client), PASSWORD)
            assert "protocol too old" in text
            await cs.until(lambda: bool(cs.refusals))
            assert len(cs.refusals) == 1 and "protocol too old: the charge point" in cs.refusals[0]
        old_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        old_server.load_cert_chain(pki.server.cert_path, pki.server.key_path)
        async with central_system(_tls_1_1_only(old_server), PASSWORD) as cs:
            assert "protocol too old" in await refused(cs.url, pki.client_context(2), PASSWORD)
    run(scenario())


# --- profile 3: mutual TLS ---------------------------------------------------------------------------------

def test_profile_3_mutual_tls_connects_and_the_server_sees_the_charge_point_certificate(pki: TestPki) -> None:
    async def scenario() -> None:
        async with central_system(pki.server_context(3)) as cs:
            tls = await connects(cs.url, pki.client_context(3))
            assert tls is not None and tls.peer_certificate_pem is not None
            await cs.until(lambda: bool(cs.accepted))
            tls = cs.accepted[0].tls
            assert tls is not None and tls.peer_certificate_pem is not None
            presented = x509.load_pem_x509_certificate(tls.peer_certificate_pem.encode())
            assert presented.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CP_ID
            assert cs.accepted[0].auth_user is None and not cs.refusals
    run(scenario())


@pytest.mark.parametrize("tls_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_profile_3_a_charge_point_without_a_client_certificate_is_refused(pki: TestPki, tls_version: ssl.TLSVersion) -> None:
    async def scenario() -> None:
        client = pki.client_context(2)  # trusts the server, has no certificate of its own
        client.maximum_version = tls_version
        async with central_system(pki.server_context(3)) as cs:
            text = await refused(cs.url, client)
            # TLS 1.3 has an alert for it; TLS 1.2 only says handshake_failure
            assert ("no client certificate" if tls_version == ssl.TLSVersion.TLSv1_3
                    else "required a client certificate the harness did not send") in text
            await cs.until(lambda: bool(cs.refusals))
            assert cs.refusals == [("TLS handshake failed: no client certificate: the charge point sent none, "
                                    "and security profile 3 requires one")]
            assert not cs.accepted
    run(scenario())


@pytest.mark.parametrize("tls_version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_profile_3_a_client_certificate_from_an_unknown_ca_is_refused(pki: TestPki, tls_version: ssl.TLSVersion) -> None:
    async def scenario() -> None:
        client = pki.client_context(3, client=pki.untrusted_client)
        client.maximum_version = tls_version
        async with central_system(pki.server_context(3)) as cs:
            text = await refused(cs.url, client)
            assert "certificate rejected, unknown CA: the central system does not trust the harness's certificate" in text
            await cs.until(lambda: bool(cs.refusals))
            assert len(cs.refusals) == 1
            assert "certificate rejected, unknown CA: the charge point's certificate does not chain up" in cs.refusals[0]
            assert_no_secrets(text, *cs.refusals)
    run(scenario())


# --- configuration mistakes ----------------------------------------------------------------------------------

def test_a_tls_context_for_a_ws_endpoint_is_a_configuration_error(pki: TestPki) -> None:
    async def scenario() -> None:
        with pytest.raises(ConfigurationError, match="need a wss:// endpoint"):
            await connect_charge_point("ws://127.0.0.1:9/ocpp", CP_ID, ssl=pki.client_context(2))
    run(scenario())


def test_a_wss_client_at_a_plain_ws_server_is_told_it_is_not_tls(pki: TestPki) -> None:
    async def scenario() -> None:
        async with central_system(None) as cs:
            text = await refused(cs.url.replace("ws://", "wss://"), pki.client_context(2))
            assert "TLS handshake or the HTTP upgrade without a TLS alert" in text or "not TLS" in text
    run(scenario())
