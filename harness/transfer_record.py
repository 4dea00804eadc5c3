"""The record of what a charge point did with the transfer servers, which a test awaits.

Every download, upload, refused login, request for a missing file and refused upload on
the FTP or HTTP server (``transfer_ftp`` / ``transfer_http``) is one :class:`TransferEvent`
in the :class:`TransferRecord` of :class:`harness.transfer.TransferServers`; a test awaits
one with a timeout and gets a :class:`TransferTimeout` that lists what did happen. Apart
from the servers because the record is the one thing the test and both server halves share.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal
from urllib.parse import unquote, urlsplit

from .transfer_client import redact_urls_in
from .waits import within

__all__ = ["TransferEvent", "TransferTimeout", "TransferRecord"]

log = logging.getLogger("harness.transfer")
EventKind = Literal["download", "upload", "refused_login", "missing", "refused_upload"]


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
