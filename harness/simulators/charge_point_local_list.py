"""Local Authorization List of the reference charge point (LocalAuthListManagement; spec 3.5.2, 5.10, 5.15, 9.2).

An implementation of its own, on purpose: the harness predicts this charge point's answers
with the harness's models/local_auth_list.py, so a simulator answering with that model could only
agree with it. Written from the spec (sections 3.5, 5.10, 5.15, 6.28, 6.41, 7.1, 7.2,
7.27, 7.47, 7.48, 9.1.12, 9.1.13, 9.2; errata 3.52; ocpp16_spec_digest.md sections 3 and 9),
taking the readings the harness takes (local_auth_list.py's R1..R9):

- The list and its version live at module level (:data:`_STORE`), so they survive a power
  cycle of the simulated charge point (spec 3.5.2: the list is persistent).
- GetLocalListVersion (5.10, 6.28): -1 without the profile or with LocalAuthListEnabled
  false (R5, libocpp; OCTT TC_042_1_CS); 0 while the list has no entries, whatever version
  the last update carried (R5, TC_042_2_CS); else the version of the last accepted update.
- SendLocalList (5.15, 7.47, 7.48): NotSupported when the profile is missing or disabled
  (R2); then the checks of :data:`UPDATE_CHECKS`, first match wins, the list unchanged
  unless Accepted: Failed for listVersion < 1 (errata 3.52); VersionMismatch for a
  Differential not above the *reported* version (R5; a Full is never a mismatch, R3);
  Failed for more entries than SendLocalListMaxLength, an idTag twice, a Full entry
  without idTagInfo (7.1); Failed when the result exceeds LocalAuthListMaxLength. A
  Differential entry without idTagInfo deletes (absent: no-op), with one adds or replaces;
  one without entries only moves the version (R4). A malformed request answers Failed.
- idTags compare case-insensitively over ASCII (CiString20, spec 2.2; R6).
- Authorization (3.5.2, 9.1.12, 9.1.13; R7-R9), with LocalAuthListEnabled: an entry whose
  valid status (Accepted, ConcurrentTx) has passed its expiryDate counts as Expired. Online
  with LocalPreAuthorize the list decides, valid or not (no Authorize.req). Offline with
  LocalAuthorizeOffline the list decides; without it, under AllowOfflineTxForUnknownId a
  non-valid entry is still refused (3.5.4) and a valid one accepted as an unknown id would
  be. Otherwise, and for ids not in the list, the cache / Authorize.req path decides.

Without the feature: the variant ``no_local_list`` (SendLocalList NotSupported,
GetLocalListVersion -1, no LocalAuthList* keys); LocalAuthListEnabled=false gives the same
answers.
"""

from __future__ import annotations

import calendar
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .charge_point_config import Configuration, Key

__all__ = ["LOCAL_LIST_FAULTS", "LocalListMixin", "add_local_list_keys", "supported"]

LOCAL_LIST_FAULTS = {
    "local_list_wrong_answer_when_unsupported": "with LocalAuthListEnabled=false, GetLocalListVersion answers 0 and "
                                                "SendLocalList Accepted (instead of -1 / NotSupported)",
    "empty_list_version_reported": "GetLocalListVersion reports the version of an empty list instead of 0",
    "differential_update_failed": "answer every Differential SendLocalList.req with Failed",
    "local_list_version_not_stored": "SendLocalList is applied but GetLocalListVersion keeps answering 0",
    "version_mismatch_not_detected": "accept a Differential update whose listVersion is not above the current one",
    "oversized_local_list_accepted": "accept a SendLocalList.req with more entries than SendLocalListMaxLength",
    "authorize_sent_despite_local_list": "with LocalPreAuthorize, still send Authorize.req for an id in the local list",
    "send_local_list_accepted_when_unsupported": "without the LocalAuthListManagement profile (variant no_local_list), "
                                                 "answer SendLocalList.req Accepted (and keep nothing) instead of NotSupported",
}

STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")  # AuthorizationStatus, spec 7.2
VALID = ("Accepted", "ConcurrentTx")  # the statuses that let an id charge (spec 3.5.2)
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:([Zz])|([+-])(\d\d):(\d\d))")


def _key(id_tag: str) -> str:
    """The form two idTags are compared in (CiString: case-insensitive, R6)."""
    return id_tag.translate(_FOLD)


def _seconds(text: str) -> float:
    """An RFC 3339 date-time (with zone) as seconds since 1970; ValueError if it is none."""
    m = _STAMP.fullmatch(text)
    if m is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    value = calendar.timegm(tuple(int(g) for g in m.groups()[:6]) + (0, 0, 0))
    if m.group(8):
        shift = (int(m.group(9)) * 60 + int(m.group(10))) * 60
        value += -shift if m.group(8) == "+" else shift
    return float(value)


@dataclass(frozen=True)
class LocalList:
    """The list: version of the last accepted update, and folded idTag -> (idTag, idTagInfo payload)."""

    version: int = 0
    entries: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def reported(self) -> int:
        """The version GetLocalListVersion gives while the list is on: 0 when it holds no entry (R5)."""
        return self.version if self.entries else 0

    def find(self, id_tag: str) -> dict[str, Any] | None:
        found = self.entries.get(_key(id_tag))
        return None if found is None else found[1]


#: the list, kept across power cycles of the simulated charge point (one per process)
_STORE: dict[str, LocalList] = {"list": LocalList()}


@dataclass(frozen=True)
class Update:
    """A SendLocalList.req: entries are (idTag, idTagInfo or None = delete)."""

    version: int
    full: bool
    items: list[tuple[str, dict[str, Any] | None]]


def _info(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("status") not in STATUSES or set(value) - {"status", "expiryDate", "parentIdTag"}:
        raise ValueError(f"not an IdTagInfo: {value!r}")
    if "expiryDate" in value:
        _seconds(value["expiryDate"])
    return dict(value)


def _decode(payload: dict[str, Any]) -> Update:
    version, kind = payload["listVersion"], payload["updateType"]
    if isinstance(version, bool) or not isinstance(version, int) or kind not in ("Full", "Differential"):
        raise ValueError("listVersion / updateType")
    items = []
    for entry in payload.get("localAuthorizationList") or []:
        tag = entry["idTag"]
        if not isinstance(tag, str) or len(tag) > 20:
            raise ValueError(f"not an IdToken: {tag!r}")
        items.append((tag, _info(entry.get("idTagInfo"))))
    return Update(version, kind == "Full", items)


@dataclass(frozen=True)
class Limits:
    """What an update is checked against: the reported version and the two length keys (spec 9.2)."""

    reported: int
    send_max: int
    list_max: int


#: (status, applies when), checked in this order before the update is applied (R2, R3)
UPDATE_CHECKS: tuple[tuple[str, Callable[[Update, Limits], bool]], ...] = (
    ("Failed", lambda u, k: u.version < 1),  # errata 3.52: versions start at 1
    ("VersionMismatch", lambda u, k: not u.full and u.version <= k.reported),  # 7.48
    ("Failed", lambda u, k: len(u.items) > k.send_max),  # 9.2.5 SendLocalListMaxLength
    ("Failed", lambda u, k: len({_key(tag) for tag, _ in u.items}) < len(u.items)),  # one entry per idTag
    ("Failed", lambda u, k: u.full and any(info is None for _, info in u.items)),  # 7.1: required in a Full
)


def apply_update(current: LocalList, update: Update, limits: Limits) -> tuple[str, LocalList]:
    """SendLocalList.conf status and the list afterwards (``current`` unless Accepted)."""
    for status, applies in UPDATE_CHECKS:
        if applies(update, limits):
            return status, current
    entries = {} if update.full else dict(current.entries)
    for tag, info in update.items:
        if info is None:
            entries.pop(_key(tag), None)
        else:
            entries[_key(tag)] = (tag, info)
    if len(entries) > limits.list_max:  # 9.2.4 LocalAuthListMaxLength
        return "Failed", current
    return "Accepted", LocalList(update.version, entries)


def supported(variants: Any) -> bool:
    """A charge point with the LocalAuthListManagement profile (all but the variant no_local_list)."""
    return "no_local_list" not in variants


def _bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def add_local_list_keys(config: Configuration, *, supported: bool) -> None:
    """LocalAuthListEnabled (RW), LocalAuthListMaxLength, SendLocalListMaxLength (R) (spec 9.2)."""
    if supported:
        config.keys.update({
            "LocalAuthListEnabled": Key("true", False, _bool),
            "LocalAuthListMaxLength": Key("20", True),
            "SendLocalListMaxLength": Key("5", True),
        })


class LocalListMixin:
    """SendLocalList, GetLocalListVersion and local authorization of SimChargePoint."""

    config: Configuration
    faults: Any
    variants: Any

    def _enabled(self) -> bool:
        return supported(self.variants) and self.config.bool("LocalAuthListEnabled")

    def _answers_as_enabled(self) -> bool:
        """On, or (fault) off but answering as if it were on."""
        return self._enabled() or (supported(self.variants) and "local_list_wrong_answer_when_unsupported" in self.faults)

    async def on_GetLocalListVersion(self, payload: dict[str, Any]) -> dict[str, Any]:
        current, on = _STORE["list"], self._answers_as_enabled()
        version = current.reported if on else -1
        if "local_list_version_not_stored" in self.faults and version > 0:
            version = 0
        if "empty_list_version_reported" in self.faults and on and not current.entries:
            version = current.version
        return {"listVersion": version}

    async def on_SendLocalList(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not supported(self.variants):
            return {"status": "Accepted" if "send_local_list_accepted_when_unsupported" in self.faults else "NotSupported"}
        if "differential_update_failed" in self.faults and payload.get("updateType") == "Differential":
            return {"status": "Failed"}
        if not self._answers_as_enabled():
            return {"status": "NotSupported"}
        try:
            update = _decode(payload)
        except (KeyError, ValueError, TypeError, AttributeError):
            return {"status": "Failed"}
        current = _STORE["list"]
        unlimited = "oversized_local_list_accepted" in self.faults
        limits = Limits(reported=0 if "version_mismatch_not_detected" in self.faults else current.reported,
                        send_max=10 ** 6 if unlimited else self.config.int("SendLocalListMaxLength"),
                        list_max=10 ** 6 if unlimited else self.config.int("LocalAuthListMaxLength"))
        status, _STORE["list"] = apply_update(current, update, limits)
        return {"status": status}

    def _list_decision(self, info: dict[str, Any]) -> dict[str, Any] | None:
        """The idTagInfo the list gives for a listed id, or None when the list may not decide (R7-R9)."""
        status = info["status"]
        if status in VALID and "expiryDate" in info and _seconds(info["expiryDate"]) <= time.time():
            status = "Expired"
        decided = {**info, "status": status}
        if self.outbox.open.is_set():  # type: ignore[attr-defined]  # online (9.1.13)
            pre = self.config.bool("LocalPreAuthorize") and "authorize_sent_despite_local_list" not in self.faults
            return decided if pre else None
        if self.config.bool("LocalAuthorizeOffline"):  # offline (9.1.12)
            return decided
        if "AllowOfflineTxForUnknownId" in self.config.keys and self.config.bool("AllowOfflineTxForUnknownId"):
            return decided if status not in VALID else {"status": "Accepted"}
        return None

    async def authorize(self, id_tag: str) -> dict[str, Any] | None:
        """The local list first (spec 3.5.2, 9.1.12, 9.1.13), else the cache / Authorize.req path."""
        if self._enabled():
            info = _STORE["list"].find(id_tag)
            decided = None if info is None else self._list_decision(info)
            if decided is not None:
                return decided
        return await super().authorize(id_tag)  # type: ignore[misc, no-any-return]
