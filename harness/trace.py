"""The record of every frame and connection event of a test, for failures and the report.

Secrets never enter a rendering: ChangeConfiguration of ``AuthorizationKey`` (the
basic-auth password of security profiles 1 and 2) has its value replaced by ``***``, and so
has the password of every URL in a frame (UpdateFirmware, GetDiagnostics, GetLog locations
such as ``ftp://user:password@host/...``).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

__all__ = ["Entry", "Trace", "redact", "redact_urls"]

Direction = Literal["sent", "received", "event"]
SECRET_KEYS = frozenset({"AuthorizationKey"})


@dataclass
class Entry:
    """One frame (sent/received) or connection event, with wall-clock and monotonic time."""

    direction: Direction
    text: str
    wall: datetime
    monotonic: float
    connection: str = ""
    note: str = ""

    def render(self, t0: float) -> str:
        arrow = {"sent": "harness -> SUT", "received": "SUT -> harness", "event": "--"}[self.direction]
        line = f"{self.monotonic - t0:9.3f}s {self.wall.isoformat(timespec='milliseconds')} {arrow:15} {redact(self.text)}"
        return f"{line}   [{self.note}]" if self.note else line


#: the password of a URL's userinfo (scheme://user:password@host), anywhere in a text
_URL_PASSWORD = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:\s]*:)[^/?#@\s]*@")


def redact_urls(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1***@", text) if "://" in text else text


def redact(text: str) -> str:
    """Hide secrets in a frame's text: URL passwords, ChangeConfiguration of a secret key, and a secret
    key's value in a GetConfiguration.conf (a charge point must not return it, but may)."""
    text = redact_urls(text)
    if not any(key in text for key in SECRET_KEYS) and "\\u" not in text:
        return text  # fast path: no secret name, and no JSON escape that could spell one
    try:
        frame = json.loads(text)
    except ValueError:
        return text if not any(key in text for key in SECRET_KEYS) else "<frame withheld: it names a secret key and is not valid JSON>"
    if not isinstance(frame, list) or not frame or not isinstance(frame[-1], dict):
        return text
    payload = frame[-1]
    changed = False
    if isinstance(payload.get("key"), str) and payload["key"] in SECRET_KEYS and "value" in payload:
        payload = {**payload, "value": "***"}
        changed = True
    entries = payload.get("configurationKey")
    if isinstance(entries, list) and any(isinstance(e, dict) and e.get("key") in SECRET_KEYS and "value" in e for e in entries):
        payload = {**payload, "configurationKey": [
            {**e, "value": "***"} if isinstance(e, dict) and e.get("key") in SECRET_KEYS and "value" in e else e
            for e in entries]}
        changed = True
    if not changed:
        return text
    return json.dumps([*frame[:-1], payload], separators=(",", ":"), ensure_ascii=False)


@dataclass
class Trace:
    """Append-only list of entries for one test; shared by every connection in it."""

    name: str = ""
    entries: list[Entry] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)
    #: the test's steps as they ran (harness.steps.StepRecord, appended by the roles' step methods)
    steps: list[Any] = field(default_factory=list)

    def add(self, direction: Direction, text: str, connection: str = "", note: str = "") -> Entry:
        entry = Entry(direction, text, datetime.now(timezone.utc), time.monotonic(), connection, note)
        self.entries.append(entry)
        return entry

    def event(self, text: str, connection: str = "") -> Entry:
        return self.add("event", text, connection)

    def annotate(self, entry: Entry, note: str) -> None:
        """Attach a note to an entry already recorded (e.g. 'answered by default')."""
        entry.note = f"{entry.note}; {note}" if entry.note else note

    def render(self, last: int | None = None) -> str:
        entries = self.entries[-last:] if last else self.entries
        return "\n".join(e.render(self.t0) for e in entries) or "(no frames)"

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {"direction": e.direction, "text": redact(e.text), "wall": e.wall.isoformat(),
             "t": round(e.monotonic - self.t0, 6), "connection": e.connection, "note": e.note}
            for e in self.entries
        ]
