"""The HTTP half of the transfer servers (asyncio, in the caller's loop).

OCPP 1.6 does not say how a charge point uploads over HTTP (digest 8.3), and chargers
do it two ways: PUT of the raw file, or POST of multipart/form-data with one file part.
The server takes both (and a raw POST). GET and HEAD serve files under the root, with a
single byte range for resumed downloads.

One request per connection (every answer says ``Connection: close``). Each read waits at
most the idle timeout, the request head is at most 64 KiB and a body at most
``max_upload_bytes``, so a slow or silent client is dropped, never waited on; ``stop()``
cancels whatever is still connected.

The HTTP(S) client the harness's charge point downloads and uploads with
(``http_get`` / ``http_send``) lives in :mod:`harness.transfer_client`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .config import Secret
from .transfer import UPLOAD_DIR
from .transfer_config import TransferConfig
from .transfer_record import TransferEvent, TransferRecord
from .waits import within

__all__ = ["HttpServer"]

log = logging.getLogger("harness.transfer")
_HEAD_LIMIT = 64 * 1024
_CHUNK = 64 * 1024


class _Answer(Exception):
    """End the exchange with this HTTP answer (raised by the request handlers)."""

    def __init__(self, status: int, reason: str, text: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.text, self.headers = status, reason, text, headers or {}


@dataclass
class _Request:
    method: str
    path: str  # unquoted, from the root
    headers: dict[str, str]  # lower-case names
    client: str
    user: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


class HttpServer:
    """GET/HEAD downloads and PUT/POST uploads under ``root``, each recorded in ``record``."""

    def __init__(self, config: TransferConfig, root: Path, password: Secret, record: TransferRecord) -> None:
        self.config = config
        self.root = root
        self._password = password
        self._record = record
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._numbered = 0
        self.port = 0

    async def start(self) -> None:
        cfg = self.config
        try:
            self._server = await asyncio.start_server(self._serve, cfg.host, cfg.http_port, limit=_HEAD_LIMIT)
        except OSError as exc:
            raise OSError(exc.errno, f"the HTTP server cannot listen on {cfg.host}:{cfg.http_port}: {exc.strerror}") from None
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self, timeout: float) -> None:
        """Stop listening and drop every client; RuntimeError if that takes longer than ``timeout``."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        try:
            if tasks:
                await within(asyncio.gather(*tasks, return_exceptions=True), timeout)
            await within(server.wait_closed(), timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"the HTTP server did not stop within {timeout:g} s") from None

    # --- one connection

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = writer.get_extra_info("peername") or ("?", 0)
        clean = False
        try:
            await self._exchange(reader, writer, f"{peer[0]}:{peer[1]}")
            clean = True
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
            log.debug("http: dropped %s:%s (%s)", peer[0], peer[1], type(exc).__name__)
        except Exception:  # a harness bug: say so, keep serving others
            log.exception("http: the exchange with %s:%s failed", peer[0], peer[1])
        except asyncio.CancelledError:
            # stop() ends the connection. The task ends normally: before 3.12 asyncio's stream
            # callback calls task.exception() on it and would log a cancelled task as an error.
            pass
        finally:
            await _close(writer, clean)
            if task is not None:
                self._tasks.discard(task)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str) -> None:
        try:
            head = await within(reader.readuntil(b"\r\n\r\n"), self.config.idle_timeout)
        except asyncio.IncompleteReadError:
            return  # closed before asking anything
        except asyncio.LimitOverrunError:
            return await self._answer(writer, _Answer(431, "Request Header Fields Too Large"))
        lines = head[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                return await self._answer(writer, _Answer(400, "Bad Request", "malformed header line"))
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return await self._answer(writer, _Answer(400, "Bad Request", f"malformed request line {lines[0][:80]!r}"))
        user, problem = self._auth(headers.get("authorization"))
        request = _Request(parts[0], unquote(urlsplit(parts[1]).path) or "/", headers, client, user, reader, writer)
        try:
            if problem:
                self._add("refused_login", request, user=user, detail=f"{request.method}: 401 {problem}")
                await self._discard_body(request)
                raise _Answer(401, "Unauthorized", problem, {"WWW-Authenticate": 'Basic realm="ocpp16-harness"'})
            if request.method in ("GET", "HEAD"):
                await self._get(request)
            elif request.method in ("PUT", "POST"):
                await self._receive(request)
            else:
                raise _Answer(405, "Method Not Allowed", headers={"Allow": "GET, HEAD, PUT, POST"})
        except _Answer as answer:
            await self._answer(writer, answer)

    def _auth(self, header: str | None) -> tuple[str, str]:
        """(user offered, why refused; empty accepts). The reason never quotes the password."""
        if header is None:
            return "", "no Authorization header" if self.config.http_auth else ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return "", f"Authorization scheme {scheme!r} is not Basic"
        try:
            user, _, given = base64.b64decode(token.strip(), validate=True).decode("utf-8", "replace").partition(":")
        except (binascii.Error, ValueError):
            return "", "Authorization is not valid base64"
        if user != self.config.user or not hmac.compare_digest(given.encode(), self._password.reveal().encode()):
            return user, "wrong user or password"
        return user, ""

    def _add(self, kind: Any, request: _Request, path: str | None = None, **fields: Any) -> None:
        fields.setdefault("user", request.user)
        self._record.add(TransferEvent(kind=kind, protocol="http", path=path or request.path,
                                       client=request.client, **fields))

    async def _answer(self, writer: asyncio.StreamWriter, answer: _Answer) -> None:
        body = (answer.text + "\n").encode() if answer.text else b""
        extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
        writer.write(f"HTTP/1.1 {answer.status} {answer.reason}\r\nContent-Length: {len(body)}\r\n"
                     f"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n{extra}\r\n".encode("latin-1") + body)
        await within(writer.drain(), self.config.idle_timeout)

    # --- downloads

    async def _get(self, request: _Request) -> None:
        file = self._resolve(request.path)
        if file is None or not file.is_file():
            self._add("missing", request, detail=f"{request.method}: 404")
            raise _Answer(404, "Not Found", f"{request.path} does not exist")
        size = file.stat().st_size
        start, end, status, extra = 0, size, "200 OK", ""
        if "range" in request.headers:
            span = _byte_range(request.headers["range"], size)
            if span is None:
                raise _Answer(416, "Range Not Satisfiable", headers={"Content-Range": f"bytes */{size}"})
            start, end, status = span[0], span[1], "206 Partial Content"
            extra = f"Content-Range: bytes {start}-{end - 1}/{size}\r\n"
        writer = request.writer
        writer.write(f"HTTP/1.1 {status}\r\nContent-Length: {end - start}\r\nContent-Type: application/octet-stream\r\n"
                     f"Accept-Ranges: bytes\r\nConnection: close\r\n{extra}\r\n".encode("latin-1"))
        if request.method == "HEAD":
            return await within(writer.drain(), self.config.idle_timeout)
        data = await asyncio.to_thread(_read_region, file, start, end - start)
        sent = 0
        try:
            await within(writer.drain(), self.config.idle_timeout)
            for offset in range(0, len(data), _CHUNK):
                writer.write(data[offset:offset + _CHUNK])
                await within(writer.drain(), self.config.idle_timeout)
                sent = min(offset + _CHUNK, len(data))
        finally:  # also when the client went away or stop() cancelled us: an incomplete download
            self._add("download", request, size=sent, complete=sent == len(data),
                      sha256=hashlib.sha256(data[:sent]).hexdigest(),
                      detail="GET" + (f" bytes {start}-{end - 1}" if extra else ""))

    def _resolve(self, path: str) -> Path | None:
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
            return None
        file = self.root.joinpath(*parts)
        return file if file.resolve().is_relative_to(self.root.resolve()) else None

    # --- uploads

    async def _receive(self, request: _Request) -> None:
        method, headers = request.method, request.headers
        parts = [p for p in request.path.split("/") if p]
        if not parts or parts[0] != UPLOAD_DIR or self._resolve(request.path) is None:
            self._add("refused_upload", request, detail=f"{method}: 403 not under /{UPLOAD_DIR}/")
            await self._discard_body(request)
            raise _Answer(403, "Forbidden", f"{request.path} takes no uploads; use /{UPLOAD_DIR}/")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = _content_length(headers)
        if not chunked and length is None:
            raise _Answer(411, "Length Required", "send Content-Length or chunked transfer encoding")
        if length is not None and length > self.config.max_upload_bytes:
            self._add("refused_upload", request, detail=f"{method}: 413 {length} bytes")
            raise _Answer(413, "Content Too Large", f"at most {self.config.max_upload_bytes} bytes")
        if headers.get("expect", "").lower() == "100-continue":
            request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await self._read_body(request, length)
        kind, name, content = method, None, body
        if method == "POST" and headers.get("content-type", "").lower().startswith("multipart/form-data"):
            try:
                name, content = _one_file_part(body, headers["content-type"])
            except ValueError as exc:
                self._add("refused_upload", request, detail=f"POST multipart: 400 {exc}")
                raise _Answer(400, "Bad Request", str(exc)) from None
            kind = "POST multipart"
        elif "content-disposition" in headers:
            name = _header_message("Content-Disposition", headers["content-disposition"]).get_filename()
        if request.path.endswith("/") or len(parts) == 1:  # a directory: the client's name, or ours
            self._numbered += 1
            parts.append(_plain_name(name) or f"upload-{self._numbered}.bin")
        stored = self.root.joinpath(*parts)
        await asyncio.to_thread(_write, stored, content)
        virtual = "/" + "/".join(parts)
        self._add("upload", request, path=virtual, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                  detail=kind, stored=stored)
        raise _Answer(201, "Created", f"stored {virtual}", {"Location": quote(virtual)})

    async def _read_body(self, request: _Request, length: int | None) -> bytes:
        idle, limit, reader = self.config.idle_timeout, self.config.max_upload_bytes, request.reader
        buffer = bytearray()
        try:
            if length is None:  # chunked
                while True:
                    line = await within(reader.readuntil(b"\r\n"), idle)
                    try:
                        size = int(line.split(b";")[0].strip(), 16)
                    except ValueError:
                        raise _Answer(400, "Bad Request", "malformed chunk size") from None
                    if size == 0:
                        while await within(reader.readuntil(b"\r\n"), idle) != b"\r\n":
                            pass  # trailers
                        return bytes(buffer)
                    if len(buffer) + size > limit:
                        self._add("refused_upload", request, detail=f"{request.method}: 413 over {limit} bytes")
                        raise _Answer(413, "Content Too Large", f"at most {limit} bytes")
                    await _read_into(reader, buffer, size, idle)
                    await within(reader.readexactly(2), idle)
            await _read_into(reader, buffer, length, idle)
            return bytes(buffer)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            self._add("upload", request, size=len(buffer), complete=False,
                      sha256=hashlib.sha256(buffer).hexdigest(), detail=f"{request.method}: body cut short")
            raise

    async def _discard_body(self, request: _Request) -> None:
        """Read a small body before refusing, so the client sees the answer, not a reset."""
        length = _content_length(request.headers)
        if length and length <= min(self.config.max_upload_bytes, 2**20) and "expect" not in request.headers:
            try:
                await within(request.reader.readexactly(length), self.config.idle_timeout)
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                pass


async def _close(writer: asyncio.StreamWriter, clean: bool) -> None:
    """Close gracefully after a full answer; otherwise (or if that stalls) drop the connection at once."""
    if clean:
        writer.close()
        try:
            await within(writer.wait_closed(), 1.0)
            return
        except (Exception, asyncio.CancelledError):
            pass
    writer.transport.abort()


async def _read_into(reader: asyncio.StreamReader, buffer: bytearray, count: int, idle: float) -> None:
    goal = len(buffer) + count
    while len(buffer) < goal:
        chunk = await within(reader.read(min(_CHUNK, goal - len(buffer))), idle)
        if not chunk:
            raise asyncio.IncompleteReadError(bytes(buffer), goal)
        buffer += chunk


def _content_length(headers: dict[str, str]) -> int | None:
    raw = headers.get("content-length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise _Answer(400, "Bad Request", f"Content-Length {raw!r} is not a number")
    return int(raw)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a single ``bytes=`` range, or None when unsatisfiable."""
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec:
        return None
    try:
        if not first:  # the last N bytes
            start, end = max(size - int(last), 0), size
        else:
            start, end = int(first), min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    return (start, end) if 0 <= start < end else None


def _header_message(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


def _one_file_part(body: bytes, content_type: str) -> tuple[str | None, bytes]:
    """(filename, content) of the one file part of a multipart/form-data body; ValueError otherwise."""
    boundary = _header_message("Content-Type", content_type).get_boundary()
    if not boundary:
        raise ValueError("multipart/form-data without a boundary")
    sections = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise ValueError("the multipart body has no parts or no closing boundary")
    parts: list[tuple[str | None, bytes]] = []
    for section in sections[1:-1]:
        _, _, rest = section.partition(b"\r\n")  # skip transport padding after the boundary
        if rest.startswith(b"\r\n"):  # a part without headers
            raw_headers, content = b"", rest[2:]
        else:
            raw_headers, sep, content = rest.partition(b"\r\n\r\n")
            if not sep:
                raise ValueError("a multipart part has no end of headers")
        parts.append((BytesHeaderParser().parsebytes(raw_headers + b"\r\n\r\n").get_filename(), content))
    files = [p for p in parts if p[0] is not None]
    if len(files) == 1:
        return files[0]
    if not files and len(parts) == 1:
        return parts[0]
    raise ValueError(f"expected one file part, got {len(files)} among {len(parts)} parts")


def _plain_name(name: str | None) -> str | None:
    """The last segment of a client-given file name, if it is a safe one."""
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
    return name if name not in ("", ".", "..") else None


def _read_region(file: Path, start: int, count: int) -> bytes:
    with open(file, "rb") as f:
        f.seek(start)
        return f.read(count)


def _write(file: Path, data: bytes) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)
