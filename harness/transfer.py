"""Real file transfers for FirmwareManagement (UpdateFirmware, GetDiagnostics) and the security extension's GetLog.

OCPP 1.6 leaves the transfer itself to the URL scheme (spec 8: FTP, FTPS, HTTP, HTTPS;
``ftp://user:password@host:port/path``), so a test case can only judge a charge point by
what really reached a real server. Nothing here is simulated:

- :class:`TransferServers` runs an FTP server (pyftpdlib, in a daemon thread with its own
  loop) and an HTTP server (asyncio, in the caller's loop) for one test case, with a user
  and a password generated per run, and records every download, upload, refused login,
  request for a missing file and refused upload in a :class:`TransferRecord` that a test
  awaits with a timeout. The FTP/HTTP halves live in ``transfer_ftp`` / ``transfer_http``.
- :class:`TransferConfig` is the SUT config's ``transfer:`` section: where the servers
  listen and how the charge point reaches them.
- The clients (:func:`download`, :func:`upload`, :func:`redact_url`, :class:`TransferError`)
  live in :mod:`harness.transfer_client`, the firmware image format
  (:func:`make_firmware_image`, :func:`verify_firmware_image` ...) in
  :mod:`harness.firmware_image`; both are re-exported here.

The served tree (the FTP user's home and the HTTP document root)::

    /firmware/   firmware images the harness publishes (read only)
    /upload/     where diagnostics and logs are uploaded (writable)
    /readonly/   exists but refuses writes: the "upload failed" location (TC_045_2)
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, TypeVar
from urllib.parse import quote, unquote, urlsplit

from .config import Secret, _secret
from .errors import ConfigurationError
from .firmware_image import corrupt_firmware_image, make_firmware_image, verify_firmware_image
from .transfer_client import (
    SocketGuard,
    TransferError,
    UrlTarget,
    describe_os_error,
    download,
    parse_target,
    redact_url,
    redact_urls_in,
    upload,
)
from .waits import within

if TYPE_CHECKING:
    from .transfer_ftp import FtpServer
    from .transfer_http import HttpServer

__all__ = [
    "TransferConfig",
    "TransferServers",
    "TransferRecord",
    "TransferEvent",
    "TransferError",
    "TransferTimeout",
    "download",
    "upload",
    "redact_url",
    "make_firmware_image",
    "corrupt_firmware_image",
    "verify_firmware_image",
    # for the FTP and HTTP halves (transfer_ftp, transfer_http)
    "SocketGuard",
    "UrlTarget",
    "describe_os_error",
    "parse_target",
]

log = logging.getLogger("harness.transfer")
T = TypeVar("T")
EventKind = Literal["download", "upload", "refused_login", "missing", "refused_upload"]
FIRMWARE_DIR, UPLOAD_DIR, READONLY_DIR = "firmware", "upload", "readonly"
MISSING_NAME = "does-not-exist.bin"


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferConfig:
    """Where the transfer servers listen and how the SUT reaches them (the SUT config's ``transfer:``)."""

    host: str = "127.0.0.1"  # listen address; 0.0.0.0 needs the external URLs below
    ftp_port: int = 0  # 0: a free port
    http_port: int = 0
    passive_ports: tuple[int, int] | None = None  # inclusive FTP passive range (firewalls); None: any free port
    passive_address: str | None = None  # IP announced in PASV replies behind NAT
    ftp_external_url: str | None = None  # how the charge point reaches the FTP server, e.g. ftp://lab-host:2121
    http_external_url: str | None = None  # e.g. http://lab-host:8080
    user: str = "ocpp"
    password: Secret | None = None  # None: a fresh one per run (secrets)
    http_auth: bool = False  # HTTP URLs carry user:password@ and the server demands Basic auth
    idle_timeout: float = 30.0  # a client silent this long is dropped
    max_upload_bytes: int = 64 * 2**20
    stop_timeout: float = 5.0

    def __post_init__(self) -> None:
        for name in ("ftp_port", "http_port"):
            if not 0 <= getattr(self, name) <= 65535:
                raise ConfigurationError(f"transfer.{name}: {getattr(self, name)} is not a port (0..65535)")
        if self.passive_ports is not None:
            low, high = self.passive_ports
            if not 1 <= low <= high <= 65535:
                raise ConfigurationError(f"transfer.passive_ports: {low}-{high} is not a range of ports")
            if low <= self.ftp_port <= high:
                raise ConfigurationError(f"transfer.passive_ports: {low}-{high} contains ftp_port {self.ftp_port}")
        for name, scheme in (("ftp_external_url", "ftp"), ("http_external_url", "http")):
            value = getattr(self, name)
            if value is None:
                continue
            parts = urlsplit(value)
            if parts.scheme != scheme or not parts.hostname or parts.path.strip("/") or "@" in parts.netloc:
                raise ConfigurationError(f"transfer.{name}: {redact_url(value)!r} must be {scheme}://host[:port] "
                                         "without credentials or a path")
        if not self.user or ":" in self.user:
            raise ConfigurationError(f"transfer.user: {self.user!r} must be non-empty and without ':'")
        if self.idle_timeout <= 0 or self.stop_timeout <= 0 or self.max_upload_bytes <= 0:
            raise ConfigurationError("transfer: idle_timeout, stop_timeout and max_upload_bytes must be positive")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str = "transfer") -> TransferConfig:
        """Build from the parsed ``transfer:`` section; errors name the bad key."""
        data = dict(data or {})
        known = {f for f in cls.__dataclass_fields__}
        if set(data) - known:
            raise ConfigurationError(f"{where}: unknown keys {sorted(set(data) - known)}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for key, raw in data.items():
            at = f"{where}.{key}"
            if key in ("ftp_port", "http_port", "max_upload_bytes"):
                values[key] = _number(int, raw, at)
            elif key in ("idle_timeout", "stop_timeout"):
                values[key] = _number(float, raw, at)
            elif key == "http_auth":
                if not isinstance(raw, bool):
                    raise ConfigurationError(f"{at}: expected true or false, not {raw!r}")
                values[key] = raw
            elif key == "password":
                values[key] = _secret(raw, at)
            elif key == "passive_ports":
                values[key] = None if raw is None else _port_range(raw, at)
            else:
                if raw is not None and not isinstance(raw, str):
                    raise ConfigurationError(f"{at}: expected a string, not {raw!r}")
                values[key] = raw
        try:
            return cls(**values)
        except ConfigurationError as exc:
            raise ConfigurationError(str(exc).replace("transfer", where, 1)) from None


def _number(kind: Callable[[Any], T], raw: Any, at: str) -> T:
    if isinstance(raw, bool):
        raise ConfigurationError(f"{at}: expected a number, not {raw!r}")
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{at}: expected a number, not {raw!r}") from None


def _port_range(raw: Any, at: str) -> tuple[int, int]:
    if isinstance(raw, str) and "-" in raw:
        raw = raw.split("-", 1)
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        raise ConfigurationError(f"{at}: give [first, last] or 'first-last', not {raw!r}")
    return _number(int, raw[0], at), _number(int, raw[1], at)


# --- the record ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferEvent:
    """One thing that happened on a transfer server. Never holds a password."""

    kind: EventKind
    protocol: str  # "ftp" | "http"
    path: str = ""  # as the client named it, from the served root: /firmware/fw.bin
    client: str = ""  # ip:port
    size: int = 0  # bytes sent (download) or stored (upload)
    complete: bool = True
    sha256: str = ""  # of the bytes sent / the file stored
    user: str = ""  # login name offered (refused_login) or used
    detail: str = ""  # command or method and the server's answer
    stored: Path | None = field(default=None, repr=False)  # upload: the file on disk
    at: float = field(default_factory=time.monotonic, repr=False)

    def describe(self) -> str:
        text = f"{self.protocol} {self.kind} {self.path or '-'}"
        if self.kind in ("download", "upload"):
            text += f" {self.size} B{'' if self.complete else ' INCOMPLETE'} sha256={self.sha256[:12] or '-'}"
        if self.user:
            text += f" user={self.user!r}"
        if self.detail:
            text += f" ({self.detail})"
        return text + (f" from {self.client}" if self.client else "")


class TransferTimeout(asyncio.TimeoutError):
    """What a test awaited did not happen in time; the message lists what did."""


class TransferRecord:
    """Ordered, thread-safe list of :class:`TransferEvent`; wakes asyncio waiters on every addition.

    The FTP thread adds from outside the event loop, so additions wake waiters through
    ``call_soon_threadsafe``; waiters never poll.
    """

    def __init__(self, *, hide: tuple[str, ...] = ()) -> None:
        self._events: list[TransferEvent] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()
        self._hide = tuple(h for h in hide if h)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def add(self, event: TransferEvent) -> None:
        with self._lock:
            self._events.append(event)
        log.info("transfer: %s", self.scrub(event.describe()))
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._notify)
        except RuntimeError:  # the loop is closed: nobody can be waiting
            pass

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def scrub(self, text: str) -> str:
        """``text`` with the servers' password (and any URL password) replaced by ***."""
        for secret in self._hide:
            text = text.replace(secret, "***")
        return redact_urls_in(text)

    @property
    def events(self) -> list[TransferEvent]:
        with self._lock:
            return list(self._events)

    def of(self, kind: EventKind) -> list[TransferEvent]:
        return [e for e in self.events if e.kind == kind]

    def mark(self) -> int:
        """An index for ``since=``: wait only for what happens after this call."""
        with self._lock:
            return len(self._events)

    def summary(self, since: int = 0) -> str:
        events = self.events[since:]
        if not events:
            return "the transfer servers recorded nothing"
        return "the transfer servers recorded: " + "; ".join(self.scrub(e.describe()) for e in events)

    async def wait_for(self, what: str, match: Callable[[TransferEvent], bool], timeout: float,
                       since: int = 0) -> TransferEvent:
        """The first event from index ``since`` on that ``match``es; TransferTimeout after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed  # taken before looking, so an addition meanwhile still wakes us
            for event in self.events[since:]:
                if match(event):
                    return event
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TransferTimeout(f"no {what} within {timeout:g} s; {self.summary(since)}")
            try:
                await within(changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass  # look once more, then report

    async def wait(self, kind: EventKind, timeout: float, *, path: str | None = None, protocol: str | None = None,
                   complete: bool | None = None, since: int = 0) -> TransferEvent:
        """:meth:`wait_for` an event of ``kind``; ``path`` is a URL, a /path or a bare file name."""
        if path and "://" in path:
            path = unquote(urlsplit(path).path)
        words = ("complete" if complete else "incomplete" if complete is False else "", protocol or "",
                 kind.replace("_", " "), f"of {path}" if path else "")

        def match(e: TransferEvent) -> bool:
            return (e.kind == kind and (protocol is None or e.protocol == protocol.lower())
                    and (complete is None or e.complete == complete)
                    and (path is None or e.path == path or (not path.startswith("/") and e.path.endswith("/" + path))))

        return await self.wait_for(" ".join(w for w in words if w), match, timeout, since)

    def __repr__(self) -> str:
        return f"<TransferRecord {self.scrub(self.summary())}>"


# --- the servers --------------------------------------------------------------------------------


class TransferServers:
    """FTP and HTTP servers for one test case, and the record of what the SUT did with them.

    Use as ``async with TransferServers(config) as servers:``; publish a firmware image,
    send its :meth:`firmware_url` in UpdateFirmware, then ``await servers.wait_download(...)``.
    """

    def __init__(self, config: TransferConfig | None = None, *, root: str | os.PathLike[str] | None = None) -> None:
        self.config = config or TransferConfig()
        self.user = self.config.user
        self.password = self.config.password or Secret(secrets.token_urlsafe(12))
        self._wrong_password = "wrong-" + secrets.token_urlsafe(6)
        self.record = TransferRecord(hide=(self.password.reveal(),))
        self._keep_root = root is not None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.root = Path(root) if root is not None else Path()
        self._ftp: FtpServer | None = None
        self._http: HttpServer | None = None

    # lifecycle

    async def start(self) -> TransferServers:
        from .transfer_ftp import FtpServer
        from .transfer_http import HttpServer

        self.record.bind(asyncio.get_running_loop())
        if not self._keep_root:
            self._tmp = tempfile.TemporaryDirectory(prefix="ocpp16-transfer-")
            self.root = Path(self._tmp.name)
        for name in (FIRMWARE_DIR, UPLOAD_DIR, READONLY_DIR):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        try:
            self._ftp = FtpServer(self.config, self.root, self.password, self.record)
            self._ftp.start()
            self._http = HttpServer(self.config, self.root, self.password, self.record)
            await self._http.start()
        except BaseException:
            await self.stop()
            raise
        log.info("transfer servers up: %r", self)
        return self

    async def stop(self) -> None:
        """Stop both servers (at most ``stop_timeout`` s each, clients or not) and remove the temporary root."""
        problems: list[str] = []
        for server in (self._http, self._ftp):
            if server is not None:
                try:
                    await server.stop(self.config.stop_timeout)
                except Exception as exc:
                    problems.append(f"{type(exc).__name__}: {exc}")
        self._http = self._ftp = None
        if self._tmp is not None:
            await asyncio.to_thread(self._tmp.cleanup)
            self._tmp = None
        if problems:
            raise RuntimeError("transfer servers did not stop cleanly: " + "; ".join(problems))

    async def __aenter__(self) -> TransferServers:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def ftp_port(self) -> int:
        return self._ftp.port if self._ftp else 0

    @property
    def http_port(self) -> int:
        return self._http.port if self._http else 0

    # files

    def put_file(self, name: str, data: bytes) -> str:
        """Serve ``data`` as /firmware/``name``; returns that path."""
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
            raise ValueError(f"{name!r} is not a plain file name")
        (self.root / FIRMWARE_DIR / name).write_bytes(data)
        return f"/{FIRMWARE_DIR}/{name}"

    def publish_firmware(self, version: str, size: int = 64 * 1024, *, name: str | None = None) -> str:
        """Serve a valid image (see the module docstring); returns its file name for :meth:`firmware_url`."""
        name = name or f"firmware-{version}.bin"
        self.put_file(name, make_firmware_image(version, size))
        return name

    def publish_corrupt_firmware(self, version: str, size: int = 64 * 1024, *, name: str | None = None) -> str:
        """Serve an image that downloads fine but fails verification (installation-failed cases)."""
        name = name or f"firmware-{version}-corrupt.bin"
        self.put_file(name, corrupt_firmware_image(version, size))
        return name

    def uploaded_bytes(self, event: TransferEvent) -> bytes:
        """The file an upload stored (read it before stop(), which removes a temporary root)."""
        if event.stored is None:
            raise ValueError(f"{event.describe()} stored no file")
        return event.stored.read_bytes()

    # URLs

    def _base(self, protocol: str, password: str | None = None) -> str:
        protocol = protocol.lower()
        if protocol not in ("ftp", "http"):
            raise ValueError(f"protocol {protocol!r} is not served (ftp, http)")
        external = self.config.ftp_external_url if protocol == "ftp" else self.config.http_external_url
        if external:
            hostport = urlsplit(external).netloc
        elif self.config.host in ("", "0.0.0.0", "::"):
            raise ConfigurationError(f"transfer.host {self.config.host!r} listens on all interfaces: set "
                                     f"transfer.{protocol}_external_url to how the charge point reaches this machine")
        elif (self._ftp if protocol == "ftp" else self._http) is None:
            raise RuntimeError("the transfer servers are not running: their ports are not known yet")
        else:
            hostport = f"{_host_in_url(self.config.host)}:{self.ftp_port if protocol == 'ftp' else self.http_port}"
        if protocol == "ftp" or self.config.http_auth or password is not None:
            given = self.password.reveal() if password is None else password
            hostport = f"{quote(self.user, safe='')}:{quote(given, safe='')}@{hostport}"
        return f"{protocol}://{hostport}"

    def firmware_url(self, protocol: str, name: str) -> str:
        return f"{self._base(protocol)}/{FIRMWARE_DIR}/{quote(name)}"

    def upload_url(self, protocol: str, name: str | None = None) -> str:
        """The upload directory (GetDiagnostics/GetLog location; the charger adds its file name) or a file in it."""
        return f"{self._base(protocol)}/{UPLOAD_DIR}/{quote(name) if name else ''}"

    def missing_url(self, protocol: str) -> str:
        """A firmware URL whose file does not exist (download-failed cases)."""
        return self.firmware_url(protocol, MISSING_NAME)

    def wrong_password_url(self, protocol: str, name: str) -> str:
        """``name``'s firmware URL with a wrong password: the login is refused (over HTTP, by clients that send it)."""
        return f"{self._base(protocol, self._wrong_password)}/{FIRMWARE_DIR}/{quote(name)}"

    def refused_upload_url(self, protocol: str) -> str:
        """An upload location that exists but refuses writes (upload-failed cases)."""
        return f"{self._base(protocol)}/{READONLY_DIR}/"

    # waiting (the record's wait, per kind)

    async def wait_download(self, path: str | None, timeout: float, *, protocol: str | None = None,
                            complete: bool | None = True, since: int = 0) -> TransferEvent:
        """The download of ``path`` (URL, /path or file name; None: any), complete unless ``complete`` says otherwise."""
        return await self.record.wait("download", timeout, path=path, protocol=protocol, complete=complete, since=since)

    async def wait_upload(self, timeout: float, *, name: str | None = None, protocol: str | None = None,
                          complete: bool | None = True, since: int = 0) -> TransferEvent:
        """An upload (of ``name``: file name or /path), complete unless ``complete`` says otherwise."""
        return await self.record.wait("upload", timeout, path=name, protocol=protocol, complete=complete, since=since)

    async def wait_refused_login(self, timeout: float, *, protocol: str | None = None, since: int = 0) -> TransferEvent:
        return await self.record.wait("refused_login", timeout, protocol=protocol, since=since)

    async def wait_missing(self, timeout: float, *, path: str | None = None, protocol: str | None = None,
                           since: int = 0) -> TransferEvent:
        return await self.record.wait("missing", timeout, path=path, protocol=protocol, since=since)

    async def wait_refused_upload(self, timeout: float, *, protocol: str | None = None, since: int = 0) -> TransferEvent:
        return await self.record.wait("refused_upload", timeout, protocol=protocol, since=since)

    def __repr__(self) -> str:
        if self._ftp is None:
            return f"<TransferServers stopped user={self.user!r}>"
        try:
            urls = f"ftp={redact_url(self._base('ftp'))} http={redact_url(self._base('http'))}"
        except (ConfigurationError, RuntimeError) as exc:
            urls = str(exc)
        return f"<TransferServers {urls} root={self.root} events={len(self.record.events)}>"

    __str__ = __repr__
