"""Real FTP and HTTP transfers on loopback: what the servers record, the clients, firmware images, redaction."""

from __future__ import annotations

import asyncio
import ftplib
import gc
import hashlib
import http.client
import io
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

import pytest

from harness.config import Secret
from harness.errors import ConfigurationError
from harness.firmware_image import corrupt_firmware_image, make_firmware_image, verify_firmware_image
from harness.transfer import TransferServers
from harness.transfer_client import TransferError, download, redact_url, upload
from harness.transfer_config import TransferConfig
from harness.transfer_record import TransferRecord, TransferTimeout
from harness.waits import within

T = TypeVar("T")
SIZE = 48 * 1024
PASSWORD = "Pa55-w0rd-not-in-logs"


def run(scenario: Callable[[TransferServers], Awaitable[T]], config: TransferConfig | None = None) -> T:
    """Run ``scenario`` against freshly started servers, the whole thing bounded."""
    async def main() -> T:
        async with TransferServers(config or TransferConfig(password=Secret(PASSWORD))) as servers:
            return await scenario(servers)
    return asyncio.run(within(main(), 20))


def ftp_login(servers: TransferServers, password: str = PASSWORD) -> ftplib.FTP:
    ftp = ftplib.FTP(timeout=5)
    ftp.connect("127.0.0.1", servers.ftp_port)
    ftp.login(servers.user, password)
    return ftp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_request(servers: TransferServers, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", servers.http_port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- firmware images


def test_a_firmware_image_has_the_requested_size_and_verifies() -> None:
    for size in (200, SIZE, 1_000_003):
        image = make_firmware_image("1.2.3-rc1", size)
        assert len(image) == size
        assert verify_firmware_image(image) is None
    assert make_firmware_image("1.2.3", 500) == make_firmware_image("1.2.3", 500)
    assert make_firmware_image("1.2.3", 500) != make_firmware_image("1.2.4", 500)


def test_a_corrupt_image_has_the_same_size_and_header_but_fails_the_checksum() -> None:
    good, bad = make_firmware_image("2.0", SIZE), corrupt_firmware_image("2.0", SIZE)
    assert len(bad) == len(good) and bad[:40] == good[:40] and bad != good
    assert "SHA-256 mismatch" in (verify_firmware_image(bad) or "")


@pytest.mark.parametrize(("data", "reason"), [
    (b"MZ\x90\x00 a windows program", "not a harness firmware image"),
    (make_firmware_image("1.0", 300)[:-1], "header announces 300"),
    (make_firmware_image("1.0", 300) + b"\0", "the image is 301 bytes"),
    (b"OCPP16-HARNESS-FIRMWARE 1\nversion: 1.0\n", "not terminated"),
    (b"OCPP16-HARNESS-FIRMWARE 1\nversion: 1.0\npayload: x\n\n", "numeric 'payload'"),
])
def test_verify_says_what_is_wrong_with_foreign_cut_or_padded_data(data: bytes, reason: str) -> None:
    assert reason in (verify_firmware_image(data) or "")


def test_an_image_too_small_for_its_header_or_with_a_bad_version_is_refused() -> None:
    with pytest.raises(ValueError, match="needs at least"):
        make_firmware_image("1.0", 40)
    for version in ("", "x" * 51, "1.0\n", "v\u00e9"):
        with pytest.raises(ValueError, match="printable ASCII"):
            make_firmware_image(version, 1000)


# --- FTP server


def test_an_ftp_download_of_the_firmware_is_recorded_with_byte_count_and_checksum() -> None:
    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("1.4.0", SIZE)
        chunks: list[bytes] = []

        def fetch() -> None:
            with ftp_login(servers) as ftp:
                ftp.retrbinary(f"RETR firmware/{name}", chunks.append)
        await asyncio.to_thread(fetch)
        event = await servers.wait_download(servers.firmware_url("ftp", name), 2)
        image = make_firmware_image("1.4.0", SIZE)
        assert b"".join(chunks) == image
        assert (event.protocol, event.path, event.size, event.complete) == ("ftp", f"/firmware/{name}", SIZE, True)
        assert event.sha256 == hashlib.sha256(image).hexdigest()
        assert event.client.startswith("127.0.0.1:") and event.user == "ocpp" and "binary" in event.detail
    run(scenario)


def test_an_ftp_upload_is_stored_in_the_upload_folder_with_size_and_sha256() -> None:
    async def scenario(servers: TransferServers) -> None:
        log = b"2024-01-01T00:00:00Z boot\n" * 500

        def store() -> None:
            with ftp_login(servers) as ftp:
                ftp.cwd("upload")
                ftp.storbinary("STOR diagnostics.log", io.BytesIO(log))
        await asyncio.to_thread(store)
        event = await servers.wait_upload(2, name="diagnostics.log", protocol="ftp")
        assert (event.path, event.size, event.sha256) == ("/upload/diagnostics.log", len(log), hashlib.sha256(log).hexdigest())
        assert servers.uploaded_bytes(event) == log
    run(scenario)


def test_a_wrong_ftp_password_is_refused_and_recorded_without_the_password() -> None:
    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("1.0")
        with pytest.raises(TransferError, match=r"login as 'ocpp': the server answered 530"):
            await download(servers.wrong_password_url("ftp", name), timeout=5)
        event = await servers.wait_refused_login(2, protocol="ftp")
        assert event.user == "ocpp" and "530" in event.detail
        assert not servers.record.of("download")
    run(scenario)


@pytest.mark.parametrize(("protocol", "answer"), [("ftp", "550"), ("http", "HTTP 404")])
def test_a_request_for_a_missing_file_is_recorded(protocol: str, answer: str) -> None:
    async def scenario(servers: TransferServers) -> None:
        with pytest.raises(TransferError, match=answer):
            await download(servers.missing_url(protocol), timeout=5)
        event = await servers.wait_missing(2, path="/firmware/does-not-exist.bin", protocol=protocol)
        assert event.client.startswith("127.0.0.1:")
    run(scenario)


@pytest.mark.parametrize(("protocol", "answer"), [("ftp", "550 Not enough privileges"), ("http", "HTTP 403")])
def test_an_upload_outside_the_upload_folder_is_refused_and_recorded(protocol: str, answer: str) -> None:
    async def scenario(servers: TransferServers) -> None:
        with pytest.raises(TransferError, match=answer):
            await upload(servers.refused_upload_url(protocol), b"log", timeout=5, filename="diag.txt")
        event = await servers.wait_refused_upload(2, protocol=protocol)
        assert event.path == "/readonly/diag.txt"
        assert not servers.record.of("upload")
    run(scenario)


def test_the_ftp_passive_port_comes_from_the_configured_range() -> None:
    port = free_port()

    async def scenario(servers: TransferServers) -> None:
        def passive() -> int:
            with ftp_login(servers) as ftp:
                return ftp.makepasv()[1]
        assert await asyncio.to_thread(passive) == port
    run(scenario, TransferConfig(password=Secret(PASSWORD), passive_ports=(port, port)))


def test_an_ftp_download_the_client_abandons_is_recorded_incomplete() -> None:
    big = 16 * 2**20

    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("9.9", big)

        def abandon() -> None:
            ftp = ftp_login(servers)
            try:
                ftp.voidcmd("TYPE I")
                conn = ftp.transfercmd(f"RETR firmware/{name}")
                conn.recv(1000)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()  # unread data + linger 0: a reset, as a charger that loses power
                with pytest.raises(ftplib.error_temp, match="426"):
                    ftp.voidresp()
            finally:
                ftp.close()
        await asyncio.to_thread(abandon)
        event = await servers.wait_download(name, 3, complete=False)
        assert 0 < event.size < big
    run(scenario)


# --- HTTP server


def test_an_http_download_is_recorded_and_a_range_resumes_from_an_offset() -> None:
    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("3.1", SIZE)
        image = make_firmware_image("3.1", SIZE)
        status, _, body = await asyncio.to_thread(http_request, servers, "GET", f"/firmware/{name}")
        assert (status, body) == (200, image)
        status, headers, body = await asyncio.to_thread(http_request, servers, "GET", f"/firmware/{name}",
                                                        None, {"Range": "bytes=1000-"})
        assert (status, body, headers["Content-Range"]) == (206, image[1000:], f"bytes 1000-{SIZE - 1}/{SIZE}")
        await servers.wait_download(name, 2, since=1)  # the client may finish reading before the server records
        full, resumed = servers.record.of("download")
        assert (full.size, full.sha256, full.detail) == (SIZE, hashlib.sha256(image).hexdigest(), "GET")
        assert (resumed.size, resumed.sha256) == (SIZE - 1000, hashlib.sha256(image[1000:]).hexdigest())
        assert resumed.detail == f"GET bytes 1000-{SIZE - 1}"
    run(scenario)


@pytest.mark.parametrize(("method", "multipart", "to_directory", "detail"), [
    ("PUT", False, False, "PUT"),
    ("PUT", False, True, "PUT"),
    ("POST", False, False, "POST"),
    ("POST", True, True, "POST multipart"),
])
def test_http_uploads_by_put_raw_post_and_multipart_post_are_recorded(
        method: str, multipart: bool, to_directory: bool, detail: str) -> None:
    async def scenario(servers: TransferServers) -> None:
        data = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"
        url = servers.upload_url("http") if to_directory else servers.upload_url("http", "diag.bin")
        await upload(url, data, timeout=5, filename="diag.bin", method=method, multipart=multipart)  # type: ignore[arg-type]
        event = await servers.wait_upload(2, name="/upload/diag.bin", protocol="http")
        assert (event.size, event.sha256, event.detail) == (len(data), hashlib.sha256(data).hexdigest(), detail)
        assert servers.uploaded_bytes(event) == data
    run(scenario)


def test_a_chunked_put_and_a_put_that_expects_100_continue_are_stored_whole() -> None:
    async def scenario(servers: TransferServers) -> None:
        def send() -> tuple[int, int]:
            chunked = http.client.HTTPConnection("127.0.0.1", servers.http_port, timeout=5)
            expecting = http.client.HTTPConnection("127.0.0.1", servers.http_port, timeout=5)
            try:
                chunked.request("PUT", "/upload/chunked.log", body=iter([b"first ", b"", b"second"]), encode_chunked=True)
                expecting.request("PUT", "/upload/expect.log", body=b"body after 100",
                                  headers={"Expect": "100-continue"})
                return chunked.getresponse().status, expecting.getresponse().status
            finally:
                chunked.close()
                expecting.close()
        assert await asyncio.to_thread(send) == (201, 201)
        first = await servers.wait_upload(2, name="chunked.log")
        second = await servers.wait_upload(2, name="expect.log")
        assert servers.uploaded_bytes(first) == b"first second"
        assert servers.uploaded_bytes(second) == b"body after 100"
    run(scenario)


def test_a_multipart_post_with_extra_fields_stores_the_one_file_part_under_its_name() -> None:
    async def scenario(servers: TransferServers) -> None:
        body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"chargeBoxId\"\r\n\r\nCP_1\r\n"
                b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\logs\\\\cp1.tar.gz\"\r\n"
                b"Content-Type: application/gzip\r\n\r\n\x1f\x8b binary\r\n--XyZ--\r\n")
        status, headers, _ = await asyncio.to_thread(
            http_request, servers, "POST", "/upload/", body, {"Content-Type": "multipart/form-data; boundary=XyZ"})
        assert (status, headers["Location"]) == (201, "/upload/cp1.tar.gz")
        event = await servers.wait_upload(2, name="cp1.tar.gz")
        assert servers.uploaded_bytes(event) == b"\x1f\x8b binary"
    run(scenario)


def test_a_malformed_multipart_body_is_refused_with_400_and_recorded() -> None:
    async def scenario(servers: TransferServers) -> None:
        status, _, text = await asyncio.to_thread(
            http_request, servers, "POST", "/upload/", b"--XyZ\r\nno end", {"Content-Type": "multipart/form-data; boundary=XyZ"})
        assert status == 400 and b"no closing boundary" in text
        event = await servers.wait_refused_upload(2, protocol="http")
        assert "400" in event.detail
    run(scenario)


def test_http_auth_when_required_refuses_a_request_without_credentials() -> None:
    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("1.0", 300)
        url = servers.firmware_url("http", name)
        assert url.startswith(f"http://ocpp:{PASSWORD}@127.0.0.1:")
        assert await download(url, timeout=5) == make_firmware_image("1.0", 300)
        status, headers, _ = await asyncio.to_thread(http_request, servers, "GET", f"/firmware/{name}")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
        event = await servers.wait_refused_login(2, protocol="http")
        assert "no Authorization header" in event.detail
    run(scenario, TransferConfig(password=Secret(PASSWORD), http_auth=True))


def test_a_silent_http_client_is_dropped_after_the_idle_timeout() -> None:
    async def scenario(servers: TransferServers) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", servers.http_port)
        writer.write(b"GET /firmware/x HTTP/1.1\r\nHost: a\r\n")  # and never the blank line
        started = time.monotonic()
        assert await within(reader.read(), 3) == b""
        assert time.monotonic() - started < 1.5
        writer.close()
        await writer.wait_closed()
    run(scenario, TransferConfig(idle_timeout=0.3))


def test_an_http_upload_cut_short_is_recorded_incomplete_and_not_stored() -> None:
    async def scenario(servers: TransferServers) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", servers.http_port)
        writer.write(b"PUT /upload/diag.txt HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + b"x" * 300)
        writer.write_eof()
        try:
            event = await servers.wait_upload(2, complete=False)
        finally:
            writer.close()
        assert (event.size, event.path, event.stored) == (300, "/upload/diag.txt", None)
        assert "cut short" in event.detail and not (servers.root / "upload" / "diag.txt").exists()
    run(scenario)


def test_an_http_download_the_client_abandons_is_recorded_incomplete() -> None:
    big = 16 * 2**20

    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("9.9", big)

        def abandon() -> None:
            with socket.create_connection(("127.0.0.1", servers.http_port), timeout=5) as sock:
                sock.sendall(f"GET /firmware/{name} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
                sock.recv(1000)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        await asyncio.to_thread(abandon)
        event = await servers.wait_download(name, 3, complete=False)
        assert 0 <= event.size < big
    run(scenario)


# --- clients


@pytest.mark.parametrize("protocol", ["ftp", "http"])
def test_the_clients_upload_and_download_over_both_protocols(protocol: str) -> None:
    async def scenario(servers: TransferServers) -> None:
        data = os.urandom(70_000)
        written = await upload(servers.upload_url(protocol), data, timeout=5, filename="round trip.bin")
        assert PASSWORD not in written and written.endswith("/upload/round%20trip.bin")
        assert await download(servers.upload_url(protocol, "round trip.bin"), timeout=5) == data
        no_slash = servers.upload_url(protocol).rstrip("/")  # a GetDiagnostics location may lack the slash
        await upload(no_slash, b"diag", timeout=5, filename="diag.txt", directory=True)
        assert servers.uploaded_bytes(await servers.wait_upload(2, name="/upload/diag.txt")) == b"diag"
        name = servers.publish_corrupt_firmware("5.0", 4096)
        corrupt = await download(servers.firmware_url(protocol, name), timeout=5)
        assert "SHA-256 mismatch" in (verify_firmware_image(corrupt) or "")
    run(scenario)


@pytest.mark.parametrize("scheme", ["ftp", "http"])
def test_a_closed_port_gives_a_clear_transfer_error(scheme: str) -> None:
    port = free_port()
    url = f"{scheme}://ocpp:{PASSWORD}@127.0.0.1:{port}/firmware/fw.bin"
    with pytest.raises(TransferError) as info:
        asyncio.run(download(url, timeout=5))
    assert str(info.value) == (f"download {scheme}://ocpp:***@127.0.0.1:{port}/firmware/fw.bin failed: connecting to "
                               f"127.0.0.1:{port}: connection refused by 127.0.0.1:{port} (nothing listens there)")


@pytest.mark.parametrize("scheme", ["ftp", "http"])
def test_a_server_that_never_answers_makes_the_client_give_up_at_its_timeout(scheme: str) -> None:
    async def scenario() -> None:
        held: list[asyncio.StreamWriter] = []

        async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            held.append(writer)

        server = await asyncio.start_server(hold, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        started = time.monotonic()
        with pytest.raises(TransferError, match=r"failed: not finished within 0.3 s"):
            await download(f"{scheme}://127.0.0.1:{port}/fw.bin", timeout=0.3)
        assert time.monotonic() - started < 1.5
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    before = set(threading.enumerate())
    asyncio.run(within(scenario(), 10))
    assert set(threading.enumerate()) <= before


def test_an_unusable_url_is_a_transfer_error_before_any_connection() -> None:
    with pytest.raises(TransferError, match="scheme 'sftp' is not supported"):
        asyncio.run(download("sftp://a:b@127.0.0.1/x", timeout=1))
    with pytest.raises(TransferError, match="directory and no filename"):
        asyncio.run(upload("ftp://127.0.0.1:1/upload/", b"x", timeout=1))
    with pytest.raises(TransferError, match="not a valid URL") as info:
        asyncio.run(download(f"http://u:{PASSWORD}@127.0.0.1:99999/x", timeout=1))
    assert PASSWORD not in str(info.value)


# --- the record and redaction


@pytest.mark.parametrize(("url", "redacted"), [
    (f"ftp://ocpp:{PASSWORD}@127.0.0.1:2121/firmware/a.bin", "ftp://ocpp:***@127.0.0.1:2121/firmware/a.bin"),
    ("ftp://u:p%40ss%3Aw@host/x", "ftp://u:***@host/x"),
    ("http://u:p@ss@host:80/x?y=1", "http://u:***@host:80/x?y=1"),
    ("https://user:@host/", "https://user:***@host/"),
    ("ftp://anonymous@host/x", "ftp://anonymous@host/x"),
    ("http://host:8080/upload/", "http://host:8080/upload/"),
    ("ftp://host/path/with:colon@at", "ftp://host/path/with:colon@at"),
])
def test_redact_url_hides_only_the_password(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_the_record_scrubs_the_password_and_url_passwords_anywhere_in_a_text() -> None:
    record = TransferRecord(hide=(PASSWORD,))
    text = f"tried ftp://a:b@h/x then http://ocpp:{PASSWORD}@h:1/y with {PASSWORD}"
    assert record.scrub(text) == "tried ftp://a:***@h/x then http://ocpp:***@h:1/y with ***"


def test_no_repr_message_or_log_line_contains_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("1.0", 500)
        assert PASSWORD in servers.firmware_url("ftp", name)  # the URL itself must carry it
        await download(servers.firmware_url("ftp", name), timeout=5)
        await upload(servers.upload_url("ftp"), b"x", timeout=5, filename="d.txt")
        for url in (servers.wrong_password_url("ftp", name), servers.missing_url("ftp"), servers.refused_upload_url("ftp")):
            with pytest.raises(TransferError) as info:
                await (upload(url, b"x", timeout=5, filename="y") if url.endswith("/") else download(url, timeout=5))
            texts.append(str(info.value))
        with pytest.raises(TransferTimeout) as waited:
            await servers.wait_upload(0.1, name="never.txt")
        texts.extend([str(waited.value), repr(servers), str(servers), repr(servers.record), repr(servers.config),
                      repr(servers.password), *map(repr, servers.record.events)])
    run(scenario)
    assert len(texts) > 8 and "***" in texts[0]
    for text in texts + [caplog.text]:
        assert PASSWORD not in text


def test_a_wait_that_times_out_says_what_did_arrive() -> None:
    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("1.0", 300)
        await download(servers.firmware_url("http", name), timeout=5)
        with pytest.raises(asyncio.TimeoutError) as info:
            await servers.wait_upload(0.2, protocol="ftp")
        message = str(info.value)
        assert isinstance(info.value, TransferTimeout)
        assert message.startswith("no complete ftp upload within 0.2 s; the transfer servers recorded: ")
        assert f"http download /firmware/{name} 300 B" in message
    run(scenario)


def test_a_wait_wakes_for_an_event_that_arrives_later_and_ignores_those_before_its_mark() -> None:
    async def scenario(servers: TransferServers) -> None:
        name = servers.publish_firmware("1.0", 300)
        await download(servers.firmware_url("ftp", name), timeout=5)
        mark = servers.record.mark()
        waiter = asyncio.ensure_future(servers.wait_download(name, 5, since=mark))
        await asyncio.sleep(0)  # let the waiter look once and find only the old download
        assert not waiter.done()
        await download(servers.firmware_url("ftp", name), timeout=5)
        event = await within(waiter, 2)
        assert servers.record.events.index(event) == mark
    run(scenario)


# --- lifecycle and configuration


def test_the_servers_stop_within_a_bound_with_clients_still_connected_and_leave_nothing_behind() -> None:
    fds = Path("/proc/self/fd")
    stop_took: list[float] = []
    roots: list[Path] = []

    async def scenario() -> None:
        servers = await TransferServers().start()
        roots.append(servers.root)
        ftp = await asyncio.to_thread(ftp_login, servers, servers.password.reveal())
        reader, writer = await asyncio.open_connection("127.0.0.1", servers.http_port)
        try:
            writer.write(b"PUT /upload/x HTTP/1.1\r\nContent-Length: 1000\r\n\r\npartial")
            await writer.drain()
            started = time.monotonic()
            await servers.stop()
            stop_took.append(time.monotonic() - started)
            try:  # the server hung up on the half-sent upload
                assert await within(reader.read(), 2) == b""
            except ConnectionResetError:
                pass
            with pytest.raises((EOFError, OSError)):
                await asyncio.to_thread(ftp.voidcmd, "NOOP")
            assert repr(servers) == "<TransferServers stopped user='ocpp'>"
        finally:
            writer.close()
            ftp.close()

    threads = set(threading.enumerate())
    open_fds = len(list(fds.iterdir())) if fds.exists() else 0
    asyncio.run(within(scenario(), 10))
    gc.collect()
    assert stop_took[0] < 1.0
    assert set(threading.enumerate()) <= threads
    assert not roots[0].exists()
    if fds.exists():
        assert len(list(fds.iterdir())) == open_fds


def test_transfer_config_from_mapping_reads_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTP_PW", PASSWORD)
    config = TransferConfig.from_mapping({
        "host": "127.0.0.1", "ftp_port": "2121", "http_port": 8080, "passive_ports": "30000-30009",
        "passive_address": "192.0.2.7", "ftp_external_url": "ftp://lab-host:2121", "http_external_url": "http://lab-host:8080",
        "user": "octt", "password": {"env": "FTP_PW"}, "http_auth": True, "idle_timeout": 5, "max_upload_bytes": 1000,
    })
    assert (config.ftp_port, config.passive_ports, config.idle_timeout) == (2121, (30000, 30009), 5.0)
    assert config.password is not None and config.password.reveal() == PASSWORD and PASSWORD not in repr(config)
    assert TransferConfig.from_mapping(None) == TransferConfig()


@pytest.mark.parametrize(("mapping", "message"), [
    ({"port": 21}, r"sut.transfer: unknown keys \['port'\]"),
    ({"ftp_port": "twenty-one"}, r"sut.transfer.ftp_port: expected a number"),
    ({"http_port": 70000}, r"sut.transfer.http_port: 70000 is not a port"),
    ({"passive_ports": [3000, 2999]}, r"sut.transfer.passive_ports: 3000-2999 is not a range"),
    ({"passive_ports": 3000}, r"sut.transfer.passive_ports: give \[first, last\]"),
    ({"ftp_port": 3005, "passive_ports": "3000-3010"}, r"contains ftp_port 3005"),
    ({"ftp_external_url": "http://lab-host:2121"}, r"sut.transfer.ftp_external_url: .* must be ftp://host\[:port\]"),
    ({"http_external_url": f"http://u:{PASSWORD}@lab/x"}, r"http://u:\*\*\*@lab/x"),
    ({"http_auth": "yes"}, r"sut.transfer.http_auth: expected true or false"),
    ({"password": {"env": "NO_SUCH_VARIABLE_HERE"}}, r"sut.transfer.password: environment variable"),
])
def test_transfer_config_from_mapping_names_the_bad_key(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        TransferConfig.from_mapping(mapping, where="sut.transfer")
    assert PASSWORD not in str(info.value)


def test_urls_name_the_external_host_and_all_interfaces_need_one() -> None:
    servers = TransferServers(TransferConfig(host="0.0.0.0", password=Secret(PASSWORD),
                                             ftp_external_url="ftp://lab-host:2121"))
    assert servers.firmware_url("FTP", "fw 1.bin") == f"ftp://ocpp:{PASSWORD}@lab-host:2121/firmware/fw%201.bin"
    assert servers.upload_url("ftp") == f"ftp://ocpp:{PASSWORD}@lab-host:2121/upload/"
    with pytest.raises(ConfigurationError, match="set transfer.http_external_url"):
        servers.firmware_url("http", "fw.bin")
    with pytest.raises(ValueError, match="'ftps' is not served"):
        servers.firmware_url("ftps", "fw.bin")
    with pytest.raises(RuntimeError, match="not running"):
        TransferServers().upload_url("http")
