"""Local Authorization List and local authorization decisions (OCPP 1.6).

Pure, table-driven model (no I/O, no clock: callers pass ``now`` and the key values),
shared by both roles: the CP-role simulator answers with it, CS-role checks predict
the SUT's answers with it. Spec: 3.5, 5.10, 5.15, 6.27, 6.28, 6.41, 6.42, 7.1, 7.2,
7.27, 7.47, 7.48, 9.1.12, 9.1.13, 9.2; errata 3.52.

Readings where the spec is ambiguous (digest sections 3 and 9):

R1  Schema violations (missing/mistyped field, unknown enum value or field) raise
    PayloadError, for a CALLERROR; only semantic problems get a .conf status.
R2  SendLocalList checks, first match wins, list unchanged unless Accepted:
    NotSupported (profile unsupported, or LocalAuthListEnabled=false as in libocpp);
    Failed if listVersion < 1 (errata 3.52); VersionMismatch if Differential and
    listVersion <= reported version (7.48); Failed if more entries than
    SendLocalListMaxLength, duplicate idTags, or a Full entry without idTagInfo (7.1
    makes it required for Full; we reject the request rather than guess); Failed if
    the result exceeds LocalAuthListMaxLength.
R3  Full is never VersionMismatch (7.48 names Differential only; the digest has no
    OCTT case): a Full with a lower version is Accepted and takes that version.
R4  Differential without entries: Accepted, only the version moves (6.41 "no
    effect"; libocpp says Failed). Deleting an absent idTag is a no-op.
R5  GetLocalListVersion reports 0 whenever the list has no entries (libocpp; digest
    open question 10); the Differential check uses that reported version, so it is
    accepted iff listVersion > GetLocalListVersion. -1 if unsupported or disabled
    (libocpp; OCTT TC_042_1_CS accepts -1).
R6  idTags compare case-insensitively over ASCII (CiString, spec 2.2); a Differential
    entry replaces an entry differing only in case.
R7  A valid entry (Accepted/ConcurrentTx) with expiryDate <= now counts as Expired;
    non-valid entries keep their more specific status (3.5.1, 3.5.4).
R8  Online, local data decides only with LocalPreAuthorize (9.1.13): valid list or
    cache entries are accepted, non-valid list entries rejected (the CS owns the
    list, 3.5.2), non-valid cache entries re-checked by Authorize.req (3.5.1).
R9  Offline, LocalAuthorizeOffline lets list/cache entries decide (9.1.12).
    AllowOfflineTxForUnknownId accepts ids in neither store as "unknown_offline";
    known non-valid ids are rejected even without LocalAuthorizeOffline (3.5.4 MUST),
    known valid ones then pass under the unknown-id rule. Else: no local decision.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

__all__ = [
    "ID_TOKEN_MAX_LENGTH", "VALID_STATUSES", "AuthorizationData", "AuthorizationSource",
    "AuthorizationStatus", "IdTagInfo", "LocalAuthList", "LocalAuthorization", "PayloadError",
    "SendLocalListResult", "UpdateStatus", "UpdateType", "apply_send_local_list",
    "authorize_locally", "fold_id_tag", "get_local_list_version",
]

ID_TOKEN_MAX_LENGTH = 20  # IdToken = CiString20 (spec 7.28)
_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class PayloadError(ValueError):
    """A payload violates the OCPP 1.6 JSON schema (R1): answer with a CALLERROR."""


class _WireEnum(str, Enum):
    """Enum whose members print as their wire spelling."""

    def __str__(self) -> str:
        return str(self.value)


class AuthorizationStatus(_WireEnum):
    """AuthorizationStatus (spec 7.2)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


class UpdateType(_WireEnum):
    """SendLocalList.req updateType (spec 7.48)."""

    FULL = "Full"
    DIFFERENTIAL = "Differential"


class UpdateStatus(_WireEnum):
    """SendLocalList.conf status (spec 7.47)."""

    ACCEPTED = "Accepted"
    FAILED = "Failed"
    NOT_SUPPORTED = "NotSupported"
    VERSION_MISMATCH = "VersionMismatch"


#: Statuses that count as "valid" in a local list or cache (spec 3.5.2).
VALID_STATUSES = frozenset({AuthorizationStatus.ACCEPTED, AuthorizationStatus.CONCURRENT_TX})

AuthorizationSource = Literal["local_list", "cache", "unknown_offline"]


def fold_id_tag(id_tag: str) -> str:
    """Fold an idTag for comparison: CiString is case-insensitive over ASCII (spec 2.2, R6)."""
    return id_tag.translate(_ASCII_FOLD)


def _check_id_token(value: Any, name: str) -> None:
    if not isinstance(value, str) or len(value) > ID_TOKEN_MAX_LENGTH:
        raise PayloadError(f"{name} must be a string of <= {ID_TOKEN_MAX_LENGTH} chars: {value!r}")


def _check_object(payload: Any, name: str, required: set[str], optional: set[str]) -> None:
    if not isinstance(payload, Mapping):
        raise PayloadError(f"{name} must be an object, got {type(payload).__name__}")
    if missing := required - payload.keys():
        raise PayloadError(f"{name} lacks required field(s) {sorted(missing)}")
    if extra := payload.keys() - required - optional:  # additionalProperties: false
        raise PayloadError(f"{name} has unknown field(s) {sorted(extra)}")


def _check_limit(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int: {value!r}")


def _parse_datetime(value: Any, name: str) -> datetime:
    try:  # Python 3.10's fromisoformat needs "+00:00" for "Z" and 3 or 6 fraction digits
        text = re.sub(r"[Zz]$", "+00:00", value)
        text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "00000")[:6], text)
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"{name} is not an RFC 3339 date-time: {value!r}") from exc
    if parsed.utcoffset() is None:
        raise PayloadError(f"{name} lacks a UTC offset: {value!r}")
    return parsed


@dataclass(frozen=True)
class IdTagInfo:
    """IdTagInfo (spec 7.27); ``expiry_date`` must be timezone-aware."""

    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "status", AuthorizationStatus(self.status))
        except ValueError as exc:
            raise PayloadError(f"unknown AuthorizationStatus {self.status!r}") from exc
        if self.expiry_date is not None and self.expiry_date.utcoffset() is None:
            raise PayloadError("expiryDate must be timezone-aware")
        if self.parent_id_tag is not None:
            _check_id_token(self.parent_id_tag, "parentIdTag")

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> IdTagInfo:
        """Build from the camelCase JSON object; raises PayloadError on schema violations."""
        _check_object(payload, "idTagInfo", {"status"}, {"expiryDate", "parentIdTag"})
        expiry = payload.get("expiryDate")
        return cls(
            status=payload["status"],
            expiry_date=None if expiry is None else _parse_datetime(expiry, "expiryDate"),
            parent_id_tag=payload.get("parentIdTag"),
        )

    def to_payload(self) -> dict[str, Any]:
        """camelCase JSON object; absent optional fields omitted, UTC written as ``Z``."""
        out: dict[str, Any] = {"status": self.status.value}
        if self.expiry_date is not None:
            text = self.expiry_date.isoformat()
            out["expiryDate"] = text[:-6] + "Z" if text.endswith("+00:00") else text
        if self.parent_id_tag is not None:
            out["parentIdTag"] = self.parent_id_tag
        return out

    def effective_status(self, now: datetime) -> AuthorizationStatus:
        """Status at ``now``: a valid entry past its expiryDate is Expired (3.5.1, R7)."""
        if self.status in VALID_STATUSES and self.expiry_date is not None:
            return AuthorizationStatus.EXPIRED if now >= self.expiry_date else self.status
        return self.status


@dataclass(frozen=True)
class AuthorizationData:
    """One SendLocalList entry (spec 7.1); no idTagInfo means "delete" in a Differential."""

    id_tag: str
    id_tag_info: IdTagInfo | None = None

    def __post_init__(self) -> None:
        _check_id_token(self.id_tag, "idTag")

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> AuthorizationData:
        """Build from the camelCase JSON object; raises PayloadError on schema violations."""
        _check_object(payload, "AuthorizationData", {"idTag"}, {"idTagInfo"})
        info = payload.get("idTagInfo")
        return cls(payload["idTag"], None if info is None else IdTagInfo.from_payload(info))

    def to_payload(self) -> dict[str, Any]:
        """camelCase JSON object."""
        if self.id_tag_info is None:
            return {"idTag": self.id_tag}
        return {"idTag": self.id_tag, "idTagInfo": self.id_tag_info.to_payload()}


@dataclass(frozen=True)
class LocalAuthList:
    """Immutable Local Authorization List: version plus idTag -> IdTagInfo (spec 3.5.2).

    ``entries`` is stored read-only; no two idTags may differ only in case (R6).
    """

    version: int = 0
    entries: Mapping[str, IdTagInfo] = field(default_factory=dict, hash=False)
    _by_fold: Mapping[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            raise TypeError(f"version must be an int, got {self.version!r}")
        entries, by_fold = dict(self.entries), {}
        for tag, info in entries.items():
            _check_id_token(tag, "idTag")
            if not isinstance(info, IdTagInfo):
                raise TypeError(f"entry {tag!r} must be an IdTagInfo, got {info!r}")
            if (key := fold_id_tag(tag)) in by_fold:
                raise ValueError(f"idTags {by_fold[key]!r} and {tag!r} differ only in case")
            by_fold[key] = tag
        object.__setattr__(self, "entries", MappingProxyType(entries))
        object.__setattr__(self, "_by_fold", MappingProxyType(by_fold))

    def get(self, id_tag: str) -> IdTagInfo | None:
        """Entry for ``id_tag``, compared case-insensitively (R6), or None."""
        tag = self._by_fold.get(fold_id_tag(id_tag))
        return None if tag is None else self.entries[tag]

    @property
    def reported_version(self) -> int:
        """Version as GetLocalListVersion reports it: 0 when there are no entries (R5)."""
        return self.version if self.entries else 0


class SendLocalListResult(NamedTuple):
    """The list after a SendLocalList.req, and the SendLocalList.conf status."""

    local_list: LocalAuthList
    status: UpdateStatus


def _parse_send_local_list(payload: Any) -> tuple[int, UpdateType, list[AuthorizationData]]:
    _check_object(payload, "SendLocalList.req", {"listVersion", "updateType"},
                  {"localAuthorizationList"})
    version, items = payload["listVersion"], payload.get("localAuthorizationList")
    items = [] if items is None else items
    if isinstance(version, bool) or not isinstance(version, int):
        raise PayloadError(f"listVersion must be an integer: {version!r}")
    if payload["updateType"] not in {"Full", "Differential"}:
        raise PayloadError(f"unknown updateType {payload['updateType']!r}")
    if not isinstance(items, list):
        raise PayloadError("localAuthorizationList must be an array")
    entries = [AuthorizationData.from_payload(item) for item in items]
    return version, UpdateType(payload["updateType"]), entries


def apply_send_local_list(current: LocalAuthList, request_payload: Mapping[str, Any], *,
                          max_length: int, send_max_length: int, supported: bool = True,
                          enabled: bool = True) -> SendLocalListResult:
    """Apply a SendLocalList.req payload (spec 5.15, 6.41, 7.47, 7.48; readings R1-R6).

    ``max_length`` / ``send_max_length`` are LocalAuthListMaxLength / SendLocalListMaxLength,
    ``supported`` the profile, ``enabled`` LocalAuthListEnabled (spec 9.2). Returns
    ``(new_list, status)``; unless Accepted, ``new_list is current``. Raises PayloadError (R1).
    """
    _check_limit(max_length, "max_length")
    _check_limit(send_max_length, "send_max_length")
    if not (supported and enabled):
        return SendLocalListResult(current, UpdateStatus.NOT_SUPPORTED)
    version, update_type, items = _parse_send_local_list(request_payload)
    failed = SendLocalListResult(current, UpdateStatus.FAILED)
    if version < 1:
        return failed
    if update_type is UpdateType.DIFFERENTIAL and version <= current.reported_version:
        return SendLocalListResult(current, UpdateStatus.VERSION_MISMATCH)
    if len(items) > send_max_length or len({fold_id_tag(i.id_tag) for i in items}) != len(items):
        return failed
    if update_type is UpdateType.FULL and any(i.id_tag_info is None for i in items):
        return failed
    work: dict[str, tuple[str, IdTagInfo]] = {}
    if update_type is UpdateType.DIFFERENTIAL:
        work = {fold_id_tag(tag): (tag, info) for tag, info in current.entries.items()}
    for item in items:
        if item.id_tag_info is None:
            work.pop(fold_id_tag(item.id_tag), None)
        else:
            work[fold_id_tag(item.id_tag)] = (item.id_tag, item.id_tag_info)
    if len(work) > max_length:
        return failed
    return SendLocalListResult(LocalAuthList(version, dict(work.values())), UpdateStatus.ACCEPTED)


def get_local_list_version(local_list: LocalAuthList, *, supported: bool = True,
                           enabled: bool = True) -> int:
    """GetLocalListVersion.conf listVersion (spec 5.10, 6.28): 0 if empty, -1 if off (R5)."""
    return local_list.reported_version if supported and enabled else -1


@dataclass(frozen=True)
class LocalAuthorization:
    """Outcome of :func:`authorize_locally`.

    ``source`` None: no local decision is allowed; online the charge point must send
    Authorize.req, offline it cannot authorize the id. Otherwise ``status`` is the
    effective status (R7) and ``id_tag_info`` the stored entry consulted, if any.
    """

    source: AuthorizationSource | None
    status: AuthorizationStatus | None = None
    id_tag_info: IdTagInfo | None = None

    @property
    def decided_locally(self) -> bool:
        return self.source is not None

    @property
    def accepted(self) -> bool:
        """The charge point may start charging on this local decision."""
        return self.status in VALID_STATUSES


_NO_LOCAL_DECISION = LocalAuthorization(None)


def _cache_get(cache: Mapping[str, IdTagInfo], id_tag: str) -> IdTagInfo | None:
    if id_tag in cache:
        return cache[id_tag]
    key = fold_id_tag(id_tag)
    return next((info for tag, info in cache.items() if fold_id_tag(tag) == key), None)


def authorize_locally(id_tag: str, *, local_list: LocalAuthList, cache: Mapping[str, IdTagInfo],
                      now: datetime, online: bool, local_auth_list_enabled: bool,
                      authorization_cache_enabled: bool, local_pre_authorize: bool,
                      local_authorize_offline: bool,
                      allow_offline_tx_for_unknown_id: bool = False) -> LocalAuthorization:
    """Decide whether ``id_tag`` may be authorized without the Central System (3.5; R6-R9).

    List entries take precedence over cache entries (spec 3.5.3); a disabled store is
    not consulted. ``now`` must be timezone-aware.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    source: AuthorizationSource | None = None
    info = local_list.get(id_tag) if local_auth_list_enabled else None
    if info is not None:
        source = "local_list"
    elif authorization_cache_enabled and (info := _cache_get(cache, id_tag)) is not None:
        source = "cache"
    if info is None or source is None:
        if not online and allow_offline_tx_for_unknown_id:
            return LocalAuthorization("unknown_offline", AuthorizationStatus.ACCEPTED)
        return _NO_LOCAL_DECISION
    status = info.effective_status(now)
    valid = status in VALID_STATUSES
    if online:
        if local_pre_authorize and (valid or source == "local_list"):
            return LocalAuthorization(source, status, info)
        return _NO_LOCAL_DECISION
    if local_authorize_offline or (allow_offline_tx_for_unknown_id and not valid):
        return LocalAuthorization(source, status, info)
    if allow_offline_tx_for_unknown_id:
        return LocalAuthorization("unknown_offline", AuthorizationStatus.ACCEPTED, info)
    return _NO_LOCAL_DECISION
