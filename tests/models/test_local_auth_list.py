"""Tests for harness.models.local_auth_list: SendLocalList outcomes, GetLocalListVersion,
local authorization decisions, and a replay oracle for random sequences of list updates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.models.local_auth_list import (
    AuthorizationData,
    AuthorizationStatus,
    IdTagInfo,
    LocalAuthList,
    LocalAuthorization,
    PayloadError,
    UpdateStatus,
    apply_send_local_list,
    authorize_locally,
    get_local_list_version,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
PAST = NOW - timedelta(days=1)
FUTURE = NOW + timedelta(days=1)
S = AuthorizationStatus


def entry(tag: str, status: str | None = None) -> dict[str, Any]:
    """AuthorizationData payload; no status means no idTagInfo."""
    return {"idTag": tag} if status is None else {"idTag": tag, "idTagInfo": {"status": status}}


def request(update_type: str, version: int, *entries: dict[str, Any] | None) -> dict[str, Any]:
    """SendLocalList.req payload; a single None entry means "omit localAuthorizationList"."""
    payload: dict[str, Any] = {"listVersion": version, "updateType": update_type}
    if entries != (None,):
        payload["localAuthorizationList"] = list(entries)
    return payload


BASE = LocalAuthList(3, {"AAA": IdTagInfo(S.ACCEPTED), "BBB": IdTagInfo(S.BLOCKED)})
EMPTY_WITH_VERSION = LocalAuthList(7, {})
LIMITS = {"max_length": 10, "send_max_length": 10}

# (sentence, current list, payload, keyword overrides, status, expected {idTag: status} or None)
SEND_LOCAL_LIST_ROWS = [
    ("a full update replaces the whole list",
     BASE, request("Full", 4, entry("CCC", "Accepted")), {}, "Accepted", {"CCC": "Accepted"}),
    ("a full update with a lower version is accepted and takes that version",
     BASE, request("Full", 1, entry("CCC", "Invalid")), {}, "Accepted", {"CCC": "Invalid"}),
    ("a full update with the current version is accepted",
     BASE, request("Full", 3, entry("AAA", "Expired")), {}, "Accepted", {"AAA": "Expired"}),
    ("a full update without a list empties the list",
     BASE, request("Full", 5, None), {}, "Accepted", {}),
    ("a full update with an empty array empties the list",
     BASE, request("Full", 5), {}, "Accepted", {}),
    ("a full update with an entry lacking idTagInfo fails",
     BASE, request("Full", 4, entry("CCC", "Accepted"), entry("DDD")), {}, "Failed", None),
    ("a differential update adds a new entry",
     BASE, request("Differential", 4, entry("CCC", "Accepted")), {}, "Accepted",
     {"AAA": "Accepted", "BBB": "Blocked", "CCC": "Accepted"}),
    ("a differential update replaces an existing entry",
     BASE, request("Differential", 4, entry("BBB", "Accepted")), {}, "Accepted",
     {"AAA": "Accepted", "BBB": "Accepted"}),
    ("a differential entry without idTagInfo removes the entry",
     BASE, request("Differential", 4, entry("AAA")), {}, "Accepted", {"BBB": "Blocked"}),
    ("a differential removal of an unknown idTag is a no-op",
     BASE, request("Differential", 4, entry("ZZZ")), {}, "Accepted",
     {"AAA": "Accepted", "BBB": "Blocked"}),
    ("a differential update without entries only moves the version",
     BASE, request("Differential", 9, None), {}, "Accepted", {"AAA": "Accepted", "BBB": "Blocked"}),
    ("a differential update matches idTags case-insensitively",
     BASE, request("Differential", 4, entry("aAa", "Blocked"), entry("bBb")), {}, "Accepted",
     {"aAa": "Blocked"}),
    ("a differential update with the current version is a version mismatch",
     BASE, request("Differential", 3, entry("CCC", "Accepted")), {}, "VersionMismatch", None),
    ("a differential update with a lower version is a version mismatch",
     BASE, request("Differential", 2, entry("CCC", "Accepted")), {}, "VersionMismatch", None),
    ("a differential update compares with the reported version 0 of an empty list",
     EMPTY_WITH_VERSION, request("Differential", 1, entry("CCC", "Accepted")), {}, "Accepted",
     {"CCC": "Accepted"}),
    ("list version 0 fails",
     BASE, request("Full", 0, entry("CCC", "Accepted")), {}, "Failed", None),
    ("list version -1 fails even for a differential update",
     LocalAuthList(), request("Differential", -1), {}, "Failed", None),
    ("more entries than SendLocalListMaxLength fail",
     BASE, request("Full", 4, entry("C", "Accepted"), entry("D", "Accepted")),
     {"send_max_length": 1}, "Failed", None),
    ("exactly SendLocalListMaxLength entries are accepted",
     BASE, request("Full", 4, entry("C", "Accepted")), {"send_max_length": 1}, "Accepted",
     {"C": "Accepted"}),
    ("a resulting list longer than LocalAuthListMaxLength fails",
     BASE, request("Differential", 4, entry("CCC", "Accepted")), {"max_length": 2}, "Failed", None),
    ("a full update counts only its own entries against LocalAuthListMaxLength",
     BASE, request("Full", 4, entry("C", "Accepted"), entry("D", "Accepted")), {"max_length": 2},
     "Accepted", {"C": "Accepted", "D": "Accepted"}),
    ("a differential removal makes room within LocalAuthListMaxLength",
     BASE, request("Differential", 4, entry("AAA"), entry("CCC", "Accepted")), {"max_length": 2},
     "Accepted", {"BBB": "Blocked", "CCC": "Accepted"}),
    ("duplicate idTags in one request fail",
     BASE, request("Full", 4, entry("CCC", "Accepted"), entry("CCC", "Blocked")), {},
     "Failed", None),
    ("idTags differing only in case count as duplicates",
     BASE, request("Differential", 4, entry("CCC", "Accepted"), entry("ccc")), {}, "Failed", None),
    ("an unsupported profile answers NotSupported",
     BASE, request("Full", 4, entry("CCC", "Accepted")), {"supported": False},
     "NotSupported", None),
    ("a disabled local list answers NotSupported",
     BASE, request("Full", 4, entry("CCC", "Accepted")), {"enabled": False}, "NotSupported", None),
    ("NotSupported wins over a version mismatch",
     BASE, request("Differential", 1), {"supported": False}, "NotSupported", None),
    ("a version mismatch wins over too many entries",
     BASE, request("Differential", 2, entry("C", "Accepted"), entry("D", "Accepted")),
     {"send_max_length": 1}, "VersionMismatch", None),
]


@pytest.mark.parametrize(
    ("current", "payload", "overrides", "status", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in SEND_LOCAL_LIST_ROWS],
)
def test_send_local_list_answers_as_the_spec_requires(
    current: LocalAuthList, payload: dict[str, Any], overrides: dict[str, Any], status: str,
    expected: dict[str, str] | None,
) -> None:
    new_list, got = apply_send_local_list(current, payload, **{**LIMITS, **overrides})
    assert got == status
    if expected is None:
        assert new_list is current
    else:
        assert new_list.version == payload["listVersion"]
        assert {tag: str(info.status) for tag, info in new_list.entries.items()} == expected


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"updateType": "Full"}, id="listVersion missing"),
        pytest.param({"listVersion": 1}, id="updateType missing"),
        pytest.param({"listVersion": "1", "updateType": "Full"}, id="listVersion as a string"),
        pytest.param({"listVersion": True, "updateType": "Full"}, id="listVersion as a bool"),
        pytest.param({"listVersion": 1, "updateType": "Partial"}, id="an unknown updateType"),
        pytest.param(request("Full", 1) | {"extra": 1}, id="an unknown top-level field"),
        pytest.param(request("Full", 1) | {"localAuthorizationList": {}}, id="list not an array"),
        pytest.param(request("Full", 1, {"idTagInfo": {"status": "Accepted"}}), id="idTag missing"),
        pytest.param(request("Full", 1, entry("A" * 21, "Accepted")), id="idTag over 20 chars"),
        pytest.param(request("Full", 1, entry("A", "accepted")), id="status in wrong case"),
        pytest.param(request("Full", 1, {"idTag": "A", "idTagInfo": {}}), id="status missing"),
        pytest.param(request("Full", 1, {"idTag": "A", "idTagInfo": {
            "status": "Accepted", "expiryDate": "2030-01-01T00:00:00"}}), id="naive expiryDate"),
        pytest.param(request("Full", 1, {"idTag": "A", "idTagInfo": {
            "status": "Accepted", "expiryDate": "tomorrow"}}), id="unparsable expiryDate"),
        pytest.param(request("Full", 1, {"idTag": "A", "idTagInfo": {
            "status": "Accepted", "parentIdTag": "P" * 21}}), id="parentIdTag over 20 chars"),
    ],
)
def test_schema_violations_raise_payload_error_instead_of_a_status(payload: Any) -> None:
    with pytest.raises(PayloadError):
        apply_send_local_list(BASE, payload, **LIMITS)


def test_negative_limits_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        apply_send_local_list(BASE, request("Full", 4), max_length=-1, send_max_length=1)


def test_id_tag_info_round_trips_through_its_payload() -> None:
    payload = {"status": "Accepted", "expiryDate": "2030-01-01T00:00:00Z", "parentIdTag": "GRP"}
    info = IdTagInfo.from_payload(payload)
    assert info == IdTagInfo(S.ACCEPTED, datetime(2030, 1, 1, tzinfo=timezone.utc), "GRP")
    assert info.to_payload() == payload
    assert IdTagInfo(S.BLOCKED).to_payload() == {"status": "Blocked"}


def test_id_tag_info_keeps_a_non_utc_offset_and_fractions() -> None:
    payload = {"status": "Expired", "expiryDate": "2030-01-01T02:00:00.500+02:00"}
    info = IdTagInfo.from_payload(payload)
    assert info.expiry_date == datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)
    assert info.to_payload()["expiryDate"] == "2030-01-01T02:00:00.500000+02:00"
    short = IdTagInfo.from_payload({"status": "Expired", "expiryDate": "2030-01-01T00:00:00.5Z"})
    assert short.expiry_date == info.expiry_date


def test_id_tag_info_rejects_a_naive_expiry_date() -> None:
    with pytest.raises(PayloadError):
        IdTagInfo(S.ACCEPTED, expiry_date=datetime(2030, 1, 1))


def test_authorization_data_round_trips_with_and_without_id_tag_info() -> None:
    for payload in (entry("TAG"), entry("TAG", "ConcurrentTx")):
        assert AuthorizationData.from_payload(payload).to_payload() == payload


@pytest.mark.parametrize(
    ("status", "expiry", "expected"),
    [
        pytest.param(S.ACCEPTED, None, S.ACCEPTED, id="no expiry date keeps the status"),
        pytest.param(S.ACCEPTED, FUTURE, S.ACCEPTED, id="a future expiry keeps Accepted"),
        pytest.param(S.ACCEPTED, NOW, S.EXPIRED, id="expiry at exactly now is Expired"),
        pytest.param(S.ACCEPTED, PAST, S.EXPIRED, id="a past expiry turns Accepted into Expired"),
        pytest.param(S.CONCURRENT_TX, PAST, S.EXPIRED,
                     id="a past expiry turns ConcurrentTx into Expired"),
        pytest.param(S.BLOCKED, PAST, S.BLOCKED, id="a past expiry keeps Blocked"),
        pytest.param(S.INVALID, PAST, S.INVALID, id="a past expiry keeps Invalid"),
    ],
)
def test_effective_status_applies_the_expiry_date(
    status: AuthorizationStatus, expiry: datetime | None, expected: AuthorizationStatus
) -> None:
    assert IdTagInfo(status, expiry).effective_status(NOW) == expected


def test_local_list_lookups_ignore_case_and_entries_are_read_only() -> None:
    assert BASE.get("aaa") == IdTagInfo(S.ACCEPTED)
    assert BASE.get("CCC") is None
    with pytest.raises(TypeError):
        BASE.entries["CCC"] = IdTagInfo(S.ACCEPTED)  # type: ignore[index]


def test_local_list_refuses_idtags_that_differ_only_in_case() -> None:
    with pytest.raises(ValueError):
        LocalAuthList(1, {"abc": IdTagInfo(S.ACCEPTED), "ABC": IdTagInfo(S.BLOCKED)})


@pytest.mark.parametrize(
    ("local_list", "flags", "expected"),
    [
        pytest.param(LocalAuthList(), {}, 0, id="a new list reports 0"),
        pytest.param(BASE, {}, 3, id="a filled list reports its version"),
        pytest.param(EMPTY_WITH_VERSION, {}, 0, id="an emptied list reports 0 despite its version"),
        pytest.param(BASE, {"supported": False}, -1, id="an unsupported profile reports -1"),
        pytest.param(BASE, {"enabled": False}, -1, id="a disabled list reports -1"),
    ],
)
def test_get_local_list_version_reports(local_list: LocalAuthList, flags: dict[str, bool],
                                        expected: int) -> None:
    assert get_local_list_version(local_list, **flags) == expected


LIST = LocalAuthList(1, {
    "LISTOK": IdTagInfo(S.ACCEPTED), "LISTCTX": IdTagInfo(S.CONCURRENT_TX),
    "LISTBLK": IdTagInfo(S.BLOCKED), "LISTEXP": IdTagInfo(S.ACCEPTED, PAST),
    "SHARED": IdTagInfo(S.BLOCKED),
})
CACHE = {
    "CACHEOK": IdTagInfo(S.ACCEPTED, FUTURE), "CACHEINV": IdTagInfo(S.INVALID),
    "CACHEEXP": IdTagInfo(S.ACCEPTED, PAST), "SHARED": IdTagInfo(S.ACCEPTED),
}
ONLINE = {"online": True}
OFFLINE = {"online": False}
NO_PRE = {"local_pre_authorize": False}
NO_OFFLINE = {"local_authorize_offline": False}
UNKNOWN_OK = {"allow_offline_tx_for_unknown_id": True}

# (sentence, idTag, flag overrides, expected source, expected status)
AUTHORIZE_ROWS = [
    ("online a valid list entry is accepted locally with LocalPreAuthorize",
     "LISTOK", ONLINE, "local_list", "Accepted"),
    ("online a ConcurrentTx list entry counts as valid",
     "LISTCTX", ONLINE, "local_list", "ConcurrentTx"),
    ("online a blocked list entry is rejected locally", "LISTBLK", ONLINE, "local_list", "Blocked"),
    ("online an expired list entry is rejected as Expired",
     "LISTEXP", ONLINE, "local_list", "Expired"),
    ("online a valid cache entry is accepted locally with LocalPreAuthorize",
     "CACHEOK", ONLINE, "cache", "Accepted"),
    ("online an invalid cache entry is re-checked with the central system",
     "CACHEINV", ONLINE, None, None),
    ("online an expired cache entry is re-checked with the central system",
     "CACHEEXP", ONLINE, None, None),
    ("online an unknown idTag goes to the central system",
     "NOBODY", ONLINE | UNKNOWN_OK, None, None),
    ("online without LocalPreAuthorize a valid list entry goes to the central system",
     "LISTOK", ONLINE | NO_PRE, None, None),
    ("online without LocalPreAuthorize a blocked list entry goes to the central system",
     "LISTBLK", ONLINE | NO_PRE, None, None),
    ("online without LocalPreAuthorize a valid cache entry goes to the central system",
     "CACHEOK", ONLINE | NO_PRE, None, None),
    ("the list takes precedence over the cache for the same idTag",
     "SHARED", ONLINE, "local_list", "Blocked"),
    ("a disabled list is skipped and the cache decides", "SHARED",
     ONLINE | {"local_auth_list_enabled": False}, "cache", "Accepted"),
    ("a disabled list does not know its idTags", "LISTOK",
     ONLINE | {"local_auth_list_enabled": False}, None, None),
    ("a disabled cache does not know its idTags", "CACHEOK",
     ONLINE | {"authorization_cache_enabled": False}, None, None),
    ("list lookups ignore case", "listok", ONLINE, "local_list", "Accepted"),
    ("cache lookups ignore case", "cacheok", ONLINE, "cache", "Accepted"),
    ("offline a valid list entry is accepted with LocalAuthorizeOffline", "LISTOK", OFFLINE,
     "local_list", "Accepted"),
    ("offline LocalPreAuthorize does not matter",
     "LISTOK", OFFLINE | NO_PRE, "local_list", "Accepted"),
    ("offline a blocked list entry is rejected", "LISTBLK", OFFLINE, "local_list", "Blocked"),
    ("offline a valid cache entry is accepted with LocalAuthorizeOffline", "CACHEOK", OFFLINE,
     "cache", "Accepted"),
    ("offline an invalid cache entry is rejected", "CACHEINV", OFFLINE, "cache", "Invalid"),
    ("offline an expired cache entry is rejected as Expired",
     "CACHEEXP", OFFLINE, "cache", "Expired"),
    ("offline without LocalAuthorizeOffline a valid list entry cannot be authorized",
     "LISTOK", OFFLINE | NO_OFFLINE, None, None),
    ("offline an unknown idTag cannot be authorized without AllowOfflineTxForUnknownId",
     "NOBODY", OFFLINE, None, None),
    ("offline an unknown idTag is accepted with AllowOfflineTxForUnknownId",
     "NOBODY", OFFLINE | UNKNOWN_OK, "unknown_offline", "Accepted"),
    ("offline unknown-id authorization still rejects a blocked list entry",
     "LISTBLK", OFFLINE | NO_OFFLINE | UNKNOWN_OK, "local_list", "Blocked"),
    ("offline unknown-id authorization still rejects an entry expired by time",
     "LISTEXP", OFFLINE | NO_OFFLINE | UNKNOWN_OK, "local_list", "Expired"),
    ("offline unknown-id authorization still rejects an invalid cache entry",
     "CACHEINV", OFFLINE | NO_OFFLINE | UNKNOWN_OK, "cache", "Invalid"),
    ("offline unknown-id authorization accepts a known valid idTag without LocalAuthorizeOffline",
     "LISTOK", OFFLINE | NO_OFFLINE | UNKNOWN_OK, "unknown_offline", "Accepted"),
    ("offline unknown-id authorization ignores a disabled list",
     "LISTBLK", OFFLINE | UNKNOWN_OK | {"local_auth_list_enabled": False},
     "unknown_offline", "Accepted"),
]


@pytest.mark.parametrize(
    ("id_tag", "overrides", "source", "status"),
    [pytest.param(*row[1:], id=row[0]) for row in AUTHORIZE_ROWS],
)
def test_authorize_locally_decides(id_tag: str, overrides: dict[str, bool], source: str | None,
                                   status: str | None) -> None:
    flags = {
        "local_auth_list_enabled": True, "authorization_cache_enabled": True,
        "local_pre_authorize": True, "local_authorize_offline": True, **overrides,
    }
    result = authorize_locally(id_tag, local_list=LIST, cache=CACHE, now=NOW, **flags)
    assert (result.source, result.status) == (source, status)
    assert result.decided_locally is (source is not None)
    assert result.accepted is (status in ("Accepted", "ConcurrentTx"))


def test_a_local_decision_carries_the_stored_entry() -> None:
    result = authorize_locally(
        "LISTEXP", local_list=LIST, cache=CACHE, now=NOW, online=False,
        local_auth_list_enabled=True, authorization_cache_enabled=True,
        local_pre_authorize=False, local_authorize_offline=True,
    )
    assert result == LocalAuthorization("local_list", S.EXPIRED, IdTagInfo(S.ACCEPTED, PAST))


def test_authorize_locally_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError):
        authorize_locally(
            "LISTOK", local_list=LIST, cache=CACHE, now=datetime(2025, 1, 1), online=True,
            local_auth_list_enabled=True, authorization_cache_enabled=True,
            local_pre_authorize=True, local_authorize_offline=True,
        )


# --- property: random update sequences agree with a dict replayed step by step -------------

TAGS = ["t1", "T1", "t2", "T2", "t3", "t4"]  # case pairs exercise case-insensitive matching
INFO_PAYLOADS = st.fixed_dictionaries(
    {"status": st.sampled_from(["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"])},
    optional={"expiryDate": st.just("2030-01-01T00:00:00Z"), "parentIdTag": st.just("GRP")},
)


def _items(removal_weight: int) -> st.SearchStrategy[list[tuple[str, dict[str, Any] | None]]]:
    """Entry lists: 1 entry in ``removal_weight`` lacks idTagInfo; 1 list in 4 may repeat tags."""
    info = st.one_of(*[INFO_PAYLOADS] * (removal_weight - 1), st.none())
    entry = st.tuples(st.sampled_from(TAGS), info)
    unique = st.lists(entry, min_size=1, max_size=3, unique_by=lambda item: item[0].lower())
    return st.one_of(unique, unique, unique, st.lists(entry, max_size=5))


def _steps(kind: str, removal_weight: int) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(
        st.just(kind),
        # listVersion: the stored version plus a delta, or the forbidden values 0 / -1
        st.sampled_from([1, 2, 1, 3, 1, 0, -1, "0", "-1"]),
        st.one_of(_items(removal_weight), _items(removal_weight), st.none()),  # None: omitted
        st.sampled_from([4, 2, 4, 1]),  # LocalAuthListMaxLength
        st.sampled_from([5, 3, 5, 1]),  # SendLocalListMaxLength
        st.sampled_from([True, True, True, True, False]),  # profile supported
    )


STEPS = st.lists(st.one_of(_steps("Differential", 3), _steps("Full", 8)), min_size=1, max_size=10)
START = st.tuples(  # the list the sequence starts from: version and unique entries
    st.integers(min_value=0, max_value=4),
    st.lists(st.tuples(st.sampled_from(TAGS), INFO_PAYLOADS), max_size=3,
             unique_by=lambda item: item[0].lower()),
)


class ListOracle:
    """Independent model: {lowercased idTag: (spelling, idTagInfo payload)} plus a version."""

    def __init__(self, version: int, items: list[tuple[str, dict[str, Any]]]) -> None:
        self.version = version
        self.tags = {tag.lower(): (tag, info) for tag, info in items}

    def reported(self) -> int:
        return self.version if self.tags else 0

    def send(self, kind: str, version: int, items: list[tuple[str, dict[str, Any] | None]],
             max_length: int, send_max: int, supported: bool) -> str:
        if not supported:
            return "NotSupported"
        if version < 1:
            return "Failed"
        if kind == "Differential" and version <= self.reported():
            return "VersionMismatch"
        lowered = [tag.lower() for tag, _ in items]
        if len(items) > send_max or len(set(lowered)) != len(lowered):
            return "Failed"
        if kind == "Full" and any(info is None for _, info in items):
            return "Failed"
        new = {} if kind == "Full" else dict(self.tags)
        for tag, info in items:
            if info is None:
                new.pop(tag.lower(), None)
            else:
                new[tag.lower()] = (tag, info)
        if len(new) > max_length:
            return "Failed"
        self.version, self.tags = version, new
        return "Accepted"

    def entries(self) -> dict[str, dict[str, Any]]:
        return dict(self.tags.values())


@settings(max_examples=100, deadline=None, database=None)
@given(START, STEPS)
def test_random_update_sequences_match_a_replayed_dict_and_failures_change_nothing(
    start: tuple[int, list[tuple[str, dict[str, Any]]]],
    steps: list[tuple[str, int | str, list[tuple[str, Any]] | None, int, int, bool]],
) -> None:
    oracle = ListOracle(*start)
    current = LocalAuthList(start[0], {tag: IdTagInfo.from_payload(info) for tag, info in start[1]})
    for kind, delta, items, max_length, send_max, supported in steps:
        version = int(delta) if isinstance(delta, str) else oracle.version + delta
        payload: dict[str, Any] = {"listVersion": version, "updateType": kind}
        if items is not None:
            payload["localAuthorizationList"] = [
                {"idTag": tag} if info is None else {"idTag": tag, "idTagInfo": info}
                for tag, info in items
            ]
        expected = oracle.send(kind, version, items or [], max_length, send_max, supported)
        new_list, status = apply_send_local_list(
            current, payload, max_length=max_length, send_max_length=send_max, supported=supported
        )
        assert status == expected
        if status != UpdateStatus.ACCEPTED:
            assert new_list is current
        got = {tag: info.to_payload() for tag, info in new_list.entries.items()}
        assert got == oracle.entries()
        assert get_local_list_version(new_list) == oracle.reported()
        if status == UpdateStatus.ACCEPTED:
            assert new_list.version == version
        current = new_list
