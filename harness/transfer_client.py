"""The clients of real file transfers: the reference charge point's and the harness charge point's download and upload.

OCPP 1.6 leaves the transfer itself to the URL scheme (spec 8: FTP, FTPS, HTTP, HTTPS;
``ftp://user:password@host:port/path``). :func:`download` and :func:`upload` run blocking
libraries in a worker thread, bounded by the timeout: http.client for HTTP(S) (here,
:func:`http_get` / :func:`http_send`), ftplib for FTP (``ftp_retrieve`` / ``ftp_store``, in
``transfer_ftp`` beside the FTP server); every failure is one :class:`TransferError` that
names the operation, the URL (redacted) and the reason.
:func:`redact_url` hides a URL's password; every repr, message and log line uses it.

Nothing here needs the transfer servers (``harness.transfer``), so a charge point can
import it on its own.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import re
import secrets
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Callable, Literal, TypeVar
from urllib.parse import quote, unquote, urlsplit

from .config import Secret
from .trace import redact_urls
from .waits import within

__all__ = [
    "TransferError",
    "UrlTarget",
    "SocketGuard",
    "download",
    "upload",
    "redact_url",
    "redact_urls_in",
    "parse_target",
    "describe_os_error",
    "http_get",
    "http_send",
]

T = TypeVar("T")

_USERINFO_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)[^/?#]*@")


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo replaced by ``***`` (user, host and path kept)."""
    return _USERINFO_PASSWORD.sub(r"\1***@", url)


def redact_urls_in(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***`` (the trace's rule, harness.trace)."""
    return redact_urls(text)


class TransferError(Exception):
    """A download or upload failed; says what and where (the URL redacted) and why."""

    def __init__(self, operation: str, url: str, reason: str) -> None:
        self.operation = operation
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(f"{operation} {self.url} failed: {reason}")


@dataclass(frozen=True)
class UrlTarget:
    """A parsed transfer URL (shared by the FTP and HTTP clients)."""

    scheme: str
    host: str
    port: int
    user: str | None
    password: Secret | None
    path: str  # unquoted
    query: str
    redacted: str


def parse_target(url: str, operation: str) -> UrlTarget:
    """Split a ftp/http/https URL for a client, or raise TransferError naming what is wrong."""
    redacted = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TransferError(operation, redacted, f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("ftp", "http", "https"):
        raise TransferError(operation, redacted, f"scheme {scheme!r} is not supported (ftp, http, https)")
    if not parts.hostname:
        raise TransferError(operation, redacted, "the URL names no host")
    return UrlTarget(
        scheme=scheme, host=parts.hostname, port=port or {"ftp": 21, "http": 80, "https": 443}[scheme],
        user=unquote(parts.username) if parts.username is not None else None,
        password=Secret(unquote(parts.password)) if parts.password is not None else None,
        path=unquote(parts.path), query=parts.query, redacted=redacted,
    )


# --- clients ------------------------------------------------------------------------------------


class SocketGuard:
    """The sockets of a blocking transfer in a worker thread, shut down from the loop when time is up.

    Shutting down (not closing) wakes the thread's blocking call at once; the thread
    still closes its own sockets, so no descriptor is closed twice or reused under it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.aborted = False

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.aborted:
                _shutdown(sock)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def describe_os_error(exc: BaseException, target: UrlTarget) -> str:
    """Words for a socket-level failure (shared by the FTP and HTTP clients)."""
    where = f"{target.host}:{target.port}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {target.host!r} ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where} (nothing listens there)"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"{where} did not answer in time"
    if isinstance(exc, ConnectionError):
        return f"the connection to {where} broke ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"


# --- HTTP(S) client -----------------------------------------------------------------------------


def http_get(target: UrlTarget, timeout: float, guard: SocketGuard, ssl_context: ssl.SSLContext | None) -> bytes:
    """GET the URL (blocking; run in a worker thread); only a 2xx answer counts."""
    return _request("download", target, timeout, guard, ssl_context, "GET", None, {})


def http_send(target: UrlTarget, data: bytes, timeout: float, guard: SocketGuard, ssl_context: ssl.SSLContext | None,
              *, method: str, multipart: bool, filename: str) -> None:
    """PUT or POST ``data`` (raw, or multipart/form-data with one file part) to the URL (blocking)."""
    if multipart:
        boundary = "harness-" + secrets.token_hex(12)
        safe = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    else:
        body, headers = data, {"Content-Type": "application/octet-stream"}
    _request("upload", target, timeout, guard, ssl_context, method, body, headers)


def _request(operation: str, target: UrlTarget, timeout: float, guard: SocketGuard,
             ssl_context: ssl.SSLContext | None, method: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                                 context=ssl_context or ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    headers = {"User-Agent": "ocpp16-harness", "Connection": "close", **headers}
    if target.user is not None:
        password = target.password.reveal() if target.password else ""
        headers["Authorization"] = "Basic " + base64.b64encode(f"{target.user}:{password}".encode()).decode()
    step = f"connecting to {target.host}:{target.port}"
    try:
        connection.connect()
        guard.watch(connection.sock)
        step = f"{method} {target.path or '/'}"
        connection.request(method, quote(target.path or "/") + (f"?{target.query}" if target.query else ""),
                           body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if not 200 <= response.status < 300:
            raise TransferError(operation, target.redacted, f"{step}: HTTP {response.status} {response.reason}")
        return data
    except http.client.HTTPException as exc:
        raise TransferError(operation, target.redacted, f"{step}: bad or cut-short HTTP answer ({type(exc).__name__})") from None
    except OSError as exc:
        raise TransferError(operation, target.redacted, f"{step}: {describe_os_error(exc, target)}") from None
    finally:
        connection.close()


async def _bounded(operation: str, url: str, timeout: float, work: Callable[[SocketGuard], T]) -> T:
    guard = SocketGuard()
    thread_done = asyncio.ensure_future(asyncio.to_thread(work, guard))
    # Whatever the thread ends with after we stopped listening is of no interest: mark it seen.
    thread_done.add_done_callback(lambda f: f.cancelled() or f.exception())
    try:
        return await within(asyncio.shield(thread_done), timeout)
    except asyncio.TimeoutError:
        guard.abort()
        try:
            await within(asyncio.shield(thread_done), 2.0)  # the shut-down sockets end it at once
        except Exception:
            pass
        raise TransferError(operation, url, f"not finished within {timeout:g} s") from None
    except asyncio.CancelledError:
        guard.abort()
        raise


async def download(url: str, *, timeout: float, ssl_context: ssl.SSLContext | None = None) -> bytes:
    """The bytes at ``url`` (ftp:// passive binary, http:// or https:// GET); TransferError otherwise."""
    target = parse_target(url, "download")
    if target.scheme == "ftp":
        from .transfer_ftp import ftp_retrieve

        return await _bounded("download", url, timeout, lambda guard: ftp_retrieve(target, timeout, guard))
    return await _bounded("download", url, timeout, lambda guard: http_get(target, timeout, guard, ssl_context))


async def upload(url: str, data: bytes, *, timeout: float, filename: str | None = None,
                 method: Literal["PUT", "POST"] = "PUT", multipart: bool = False, directory: bool | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> str:
    """Store ``data`` at ``url``; a directory URL gets ``filename`` appended.

    A URL is a directory when it ends in ``/`` or ``directory`` is True (GetDiagnostics'
    location is a directory, spec 6.25, yet may come without the slash). HTTP uses PUT
    unless ``method="POST"`` (raw body, or multipart/form-data with one file part when
    ``multipart``; then the part names the file). Returns the URL written to (redacted).
    """
    target = parse_target(url, "upload")
    to_directory = directory if directory is not None else target.path.endswith("/") or target.path == ""
    if to_directory and not (target.scheme != "ftp" and method == "POST" and multipart):  # multipart names the file
        if not filename:
            raise TransferError("upload", url, "the URL is a directory and no filename was given")
        url = url.split("?", 1)[0].rstrip("/") + "/" + quote(filename)
        target = parse_target(url, "upload")
    if target.scheme == "ftp":
        from .transfer_ftp import ftp_store

        await _bounded("upload", url, timeout, lambda guard: ftp_store(target, data, timeout, guard))
    else:
        name = filename or target.path.rsplit("/", 1)[-1] or "upload.bin"
        await _bounded("upload", url, timeout, lambda guard: http_send(
            target, data, timeout, guard, ssl_context, method=method, multipart=multipart, filename=name))
    return redact_url(url)
