"""The FTP half of the transfer servers (pyftpdlib) and the FTP client of the harness's charge point.

pyftpdlib runs its own select/epoll loop and its objects are not thread-safe, so the
server gets a private IOLoop in a daemon thread that polls in short slices and looks at
a stop flag between them: stopping takes at most one slice, and ``close_all()`` (every
control and data connection, the listening socket, the epoll descriptor) runs in that
same thread. Recording hooks on the handler feed the shared TransferRecord.

pyftpdlib quirks handled here:

- A failed login is answered only after ``auth_failed_timeout`` (3 s by default, against
  brute force); 0.1 s here so a refused-login case does not idle.
- ``serve_forever()`` logs a "starting FTP server" line on every call, even non-blocking
  ones, so the thread drives ``ioloop.loop(slice, blocking=False)`` itself.
- The first loop configures pyftpdlib's own stderr logging unless logging is set up; a
  NullHandler on its logger prevents that (its lines still reach the root logger).
- Byte counts (and so our hashes) are file bytes only in binary mode (TYPE I). An ASCII
  transfer, which corrupts a firmware image, is recorded with "ASCII" in its detail.
"""

from __future__ import annotations

import asyncio
import ftplib
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.log import logger as pyftpdlib_logger
from pyftpdlib.servers import FTPServer

from .config import Secret
from .transfer import UPLOAD_DIR
from .transfer_client import SocketGuard, TransferError, UrlTarget, describe_os_error
from .transfer_config import TransferConfig
from .transfer_record import TransferEvent, TransferRecord
from .waits import within

__all__ = ["FtpServer", "ftp_retrieve", "ftp_store"]

log = logging.getLogger("harness.transfer")
_SLICE = 0.05  # seconds per poll of the FTP thread: the bound on stop()
_UPLOAD_PERMS = "elradfmwMT"


class _RecordingHandler(FTPHandler):
    """pyftpdlib's FTP session with hooks that record downloads, uploads, refusals and misses."""

    record: TransferRecord
    root: str
    auth_failed_timeout = 0.1
    banner = "OCPP 1.6 test harness FTP server ready."
    _command: tuple[str, str] = ("", "")
    _rest_at = 0

    def _add(self, kind: Any, path: str, **fields: Any) -> None:
        self.record.add(TransferEvent(kind=kind, protocol="ftp", path=path,
                                      client=f"{self.remote_ip}:{self.remote_port}", **fields))

    def _virtual(self, fs_path: str) -> str:
        relative = os.path.relpath(fs_path, self.root)
        return "/" if relative == "." else "/" + relative.replace(os.sep, "/")

    def _named(self, arg: str) -> str:
        """The served path a client argument names (relative to its working directory)."""
        try:
            return self._virtual(self.fs.ftp2fs(arg)) if self.fs is not None else arg
        except Exception:
            return arg

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        self._command = (cmd, arg)
        super().pre_process_command(line, cmd, arg)

    def ftp_RETR(self, file: str) -> Any:
        self._rest_at = self._restart_position
        return super().ftp_RETR(file)

    def respond(self, resp: str, logfun: Any = pyftpdlib_logger.debug) -> None:
        super().respond(resp, logfun)
        if not resp.startswith(("45", "55")):
            return
        cmd, arg = self._command
        if cmd in ("RETR", "SIZE", "MDTM") and resp.startswith("550") and not self._is_file(arg):
            self._add("missing", self._named(arg), user=self.username, detail=f"{cmd}: {resp}")
        elif cmd in ("STOR", "APPE", "STOU"):
            self._add("refused_upload", self._named(arg), user=self.username, detail=f"{cmd}: {resp}")

    def _is_file(self, arg: str) -> bool:
        try:
            return self.fs is not None and os.path.isfile(self.fs.ftp2fs(arg))
        except Exception:
            return False

    def on_login_failed(self, username: str, password: str) -> None:  # never record the password
        self._add("refused_login", "", user=username, detail="530 login incorrect")

    def log_transfer(self, cmd: str, filename: str, receive: bool, completed: bool, elapsed: float,
                     bytes: int) -> None:
        super().log_transfer(cmd, filename, receive, completed, elapsed, bytes)
        mode = "binary" if self._current_type == "i" else "ASCII"
        try:
            with open(filename, "rb") as f:
                if receive:
                    data = f.read()
                else:
                    f.seek(self._rest_at)
                    data = f.read(bytes)
        except OSError:
            data = b""
        if receive:
            self._add("upload", self._virtual(filename), size=len(data), complete=completed,
                      sha256=hashlib.sha256(data).hexdigest(), user=self.username, detail=f"{cmd}, {mode}",
                      stored=Path(filename))
        else:
            start = f" from byte {self._rest_at}" if self._rest_at else ""
            self._add("download", self._virtual(filename), size=bytes, complete=completed,
                      sha256=hashlib.sha256(data).hexdigest(), user=self.username, detail=f"RETR{start}, {mode}")
            self._rest_at = 0


class FtpServer:
    """One pyftpdlib server in a daemon thread; ``start()`` binds, ``await stop(timeout)`` ends it."""

    def __init__(self, config: TransferConfig, root: Path, password: Secret, record: TransferRecord) -> None:
        self.config = config
        self.root = root
        self._password = password
        self._record = record
        self._stop = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._server: FTPServer | None = None
        self.port = 0

    def start(self) -> None:
        """Bind and start serving (call from the event loop; returns at once)."""
        if not pyftpdlib_logger.handlers:
            pyftpdlib_logger.addHandler(logging.NullHandler())
        cfg = self.config
        authorizer = DummyAuthorizer()
        authorizer.add_user(cfg.user, self._password.reveal(), str(self.root), perm="elr")
        authorizer.override_perm(cfg.user, str(self.root / UPLOAD_DIR), perm=_UPLOAD_PERMS, recursive=True)
        handler = type("HarnessFTPHandler", (_RecordingHandler,), {
            "authorizer": authorizer,
            "record": self._record,
            "root": str(self.root),
            "timeout": cfg.idle_timeout,
            "passive_ports": list(range(cfg.passive_ports[0], cfg.passive_ports[1] + 1)) if cfg.passive_ports else None,
            "masquerade_address": cfg.passive_address,
            "dtp_handler": type("HarnessDTPHandler", (DTPHandler,), {"timeout": cfg.idle_timeout}),
            "passive_dtp": type("HarnessPassiveDTP", (FTPHandler.passive_dtp,), {"timeout": cfg.idle_timeout}),
        })
        ioloop = IOLoop()
        try:
            self._server = FTPServer((cfg.host, cfg.ftp_port), handler, ioloop=ioloop)
        except OSError as exc:
            ioloop.close()
            raise OSError(exc.errno, f"the FTP server cannot listen on {cfg.host}:{cfg.ftp_port}: {exc.strerror}") from None
        self.port = self._server.address[1]
        self._stopped = asyncio.Event()
        self._thread = threading.Thread(target=self._run, args=(asyncio.get_running_loop(), self._server),
                                        name=f"harness-ftp-{self.port}", daemon=True)
        self._thread.start()

    def _run(self, loop: asyncio.AbstractEventLoop, server: FTPServer) -> None:
        try:
            while not self._stop.is_set():
                if server.ioloop.socket_map:
                    server.ioloop.loop(_SLICE, blocking=False)
                else:
                    self._stop.wait(_SLICE)
        except Exception:
            log.exception("the FTP server loop failed")
        finally:
            server.close_all()
            assert self._stopped is not None
            try:
                loop.call_soon_threadsafe(self._stopped.set)
            except RuntimeError:  # the event loop is gone: nobody waits
                pass

    async def stop(self, timeout: float) -> None:
        """End the server thread, dropping every client; RuntimeError if it outlives ``timeout``."""
        thread, self._thread = self._thread, None
        if thread is None or self._stopped is None:
            return
        self._stop.set()
        try:
            await within(self._stopped.wait(), timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"the FTP server thread did not stop within {timeout:g} s") from None
        thread.join(1.0)  # it has run its last line; this only reaps it


# --- client -------------------------------------------------------------------------------------


def ftp_retrieve(target: UrlTarget, timeout: float, guard: SocketGuard) -> bytes:
    """RETR the URL's file in passive binary mode (blocking; run in a worker thread)."""
    chunks: list[bytes] = []

    def transfer(ftp: ftplib.FTP, path: str) -> None:
        conn = ftp.transfercmd(f"RETR {path}")
        guard.watch(conn)
        with conn:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        ftp.voidresp()

    _session("download", target, timeout, guard, "RETR", transfer)
    return b"".join(chunks)


def ftp_store(target: UrlTarget, data: bytes, timeout: float, guard: SocketGuard) -> None:
    """STOR ``data`` at the URL's path in passive binary mode (blocking; run in a worker thread)."""

    def transfer(ftp: ftplib.FTP, path: str) -> None:
        conn = ftp.transfercmd(f"STOR {path}")
        guard.watch(conn)
        with conn:
            conn.sendall(data)
        ftp.voidresp()

    _session("upload", target, timeout, guard, "STOR", transfer)


def _session(operation: str, target: UrlTarget, timeout: float, guard: SocketGuard, command: str,
             transfer: Callable[[ftplib.FTP, str], None]) -> None:
    path = target.path.lstrip("/")  # RFC 1738: relative to the login directory
    if not path:
        raise TransferError(operation, target.redacted, "the URL names no file")
    ftp = ftplib.FTP(timeout=timeout)
    step = f"connecting to {target.host}:{target.port}"
    try:
        ftp.connect(target.host, target.port, timeout=timeout)
        guard.watch(ftp.sock)
        user = target.user or "anonymous"
        step = f"login as {user!r}"
        ftp.login(user, target.password.reveal() if target.password else "")
        step = "TYPE I"
        ftp.voidcmd("TYPE I")
        step = f"{command} {path}"
        ftp.set_pasv(True)
        transfer(ftp, path)
        try:
            ftp.quit()
        except (ftplib.Error, OSError, EOFError):
            pass  # the file is transferred; a lost goodbye changes nothing
    except ftplib.Error as exc:
        raise TransferError(operation, target.redacted, f"{step}: the server answered {str(exc).strip()}") from None
    except (OSError, EOFError) as exc:
        raise TransferError(operation, target.redacted, f"{step}: {describe_os_error(exc, target)}") from None
    finally:
        ftp.close()
