"""Real file transfers for FirmwareManagement (UpdateFirmware, GetDiagnostics) and the security extension's GetLog.

OCPP 1.6 leaves the transfer itself to the URL scheme (spec 8: FTP, FTPS, HTTP, HTTPS;
``ftp://user:password@host:port/path``), so a test case can only judge a charge point by
what really reached a real server. Nothing here is simulated:

- :class:`TransferServers` runs an FTP server (pyftpdlib, in a daemon thread with its own
  loop) and an HTTP server (asyncio, in the caller's loop) for one test case, with a user
  and a password generated per run, and records every download, upload, refused login,
  request for a missing file and refused upload in a
  :class:`~harness.transfer_record.TransferRecord` that a test awaits with a timeout. The
  FTP/HTTP halves live in ``transfer_ftp`` / ``transfer_http``, the record (its events and
  :class:`~harness.transfer_record.TransferTimeout`) in :mod:`harness.transfer_record`.
- :class:`~harness.transfer_config.TransferConfig` (in :mod:`harness.transfer_config`) is
  the SUT config's ``transfer:`` section: where the servers listen and how the charge
  point reaches them.
- The clients (:func:`download`, :func:`upload`, :func:`redact_url`, :class:`TransferError`)
  live in :mod:`harness.transfer_client`, the firmware image format
  (:func:`make_firmware_image`, :func:`verify_firmware_image` ...) in
  :mod:`harness.firmware_image`.

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
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from .config import Secret
from .errors import ConfigurationError
from .firmware_image import corrupt_firmware_image, make_firmware_image
from .transfer_client import redact_url
from .transfer_config import TransferConfig
from .transfer_record import TransferEvent, TransferRecord

if TYPE_CHECKING:
    from .transfer_ftp import FtpServer
    from .transfer_http import HttpServer

__all__ = ["TransferServers"]

log = logging.getLogger("harness.transfer")
FIRMWARE_DIR, UPLOAD_DIR, READONLY_DIR = "firmware", "upload", "readonly"
MISSING_NAME = "does-not-exist.bin"


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


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
