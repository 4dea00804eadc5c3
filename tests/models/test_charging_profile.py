"""Tests of harness.models.charging_profile: payload round trips, validation table, store rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.models.charging_profile import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingProfileStatus,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    ClearChargingProfileStatus,
    RecurrencyKind,
    format_datetime,
    parse_datetime,
)
from harness.models.charging_profile_rules import (
    ChargePointSmartChargingState, ChargingProfileStore, ClearIdReading, InstalledProfile, ProfileRules, ReplaceScope,
    ignored_fields, parse_allowed_units, validate_profile,
)

UTC = timezone.utc
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
CPMAX = ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
TXD = ChargingProfilePurpose.TX_DEFAULT_PROFILE
TX = ChargingProfilePurpose.TX_PROFILE
ABS, REC, REL = ChargingProfileKind.ABSOLUTE, ChargingProfileKind.RECURRING, ChargingProfileKind.RELATIVE
A, W = ChargingRateUnit.A, ChargingRateUnit.W

TC066_TX_PAYLOAD = {
    "chargingProfileId": 3,
    "transactionId": 5,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Absolute",
    "validFrom": "2025-03-01T09:59:58Z",
    "validTo": "2025-03-01T10:10:00Z",
    "chargingSchedule": {
        "duration": 260,
        "startSchedule": "2025-03-01T09:59:58Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 8.0},
            {"startPeriod": 50, "limit": 11.0, "numberPhases": 1},
            {"startPeriod": 140, "limit": 16.5},
        ],
        "minChargingRate": 6.0,
    },
}
RECURRING_PAYLOAD = {
    "chargingProfileId": 100,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "chargingSchedule": {
        "duration": 86400,
        "startSchedule": "2023-01-17T17:00:00Z",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000, "numberPhases": 3}],
    },
}
RELATIVE_PAYLOAD = {
    "chargingProfileId": 25,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12420}]},
}


@pytest.mark.parametrize("payload", [TC066_TX_PAYLOAD, RECURRING_PAYLOAD, RELATIVE_PAYLOAD],
                         ids=["absolute-tx", "recurring", "relative"])
def test_payload_round_trips(payload):
    profile = ChargingProfile.from_payload(payload)
    assert profile.to_payload() == payload
    assert ChargingProfile.from_payload(profile.to_payload()) == profile


def test_from_payload_builds_typed_fields():
    p = ChargingProfile.from_payload(TC066_TX_PAYLOAD)
    assert p.charging_profile_purpose is TX and p.charging_profile_kind is ABS
    assert p.valid_from == datetime(2025, 3, 1, 9, 59, 58, tzinfo=UTC)
    assert p.charging_schedule.charging_schedule_period[1] == ChargingSchedulePeriod(50, 11.0, 1)
    assert ChargingProfile.from_payload(RECURRING_PAYLOAD).recurrency_kind is RecurrencyKind.DAILY


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("stackLevel"),
    lambda d: d.update(chargingProfilePurpose="TxMaxProfile"),
    lambda d: d.update(chargingProfileKind="Once"),
    lambda d: d["chargingSchedule"].update(chargingRateUnit="kW"),
    lambda d: d["chargingSchedule"].pop("chargingSchedulePeriod"),
    lambda d: d["chargingSchedule"]["chargingSchedulePeriod"][0].pop("limit"),
], ids=["no-stack-level", "bad-purpose", "bad-kind", "bad-unit", "no-periods", "no-limit"])
def test_from_payload_rejects_malformed(mutate):
    import copy
    payload = copy.deepcopy(TC066_TX_PAYLOAD)
    mutate(payload)
    with pytest.raises(ValueError):
        ChargingProfile.from_payload(payload)


@pytest.mark.parametrize("text, expected", [
    ("2024-01-17T18:00:00Z", datetime(2024, 1, 17, 18, tzinfo=UTC)),
    ("2024-01-17T18:00:00.000Z", datetime(2024, 1, 17, 18, tzinfo=UTC)),
    ("2024-01-17T19:00:00+01:00", datetime(2024, 1, 17, 18, tzinfo=UTC)),
    ("2024-01-17T18:00:00", datetime(2024, 1, 17, 18, tzinfo=UTC)),
    ("2024-01-17T18:00:00.0000000Z", datetime(2024, 1, 17, 18, tzinfo=UTC)),
    ("2024-01-17T18:00:00.0Z", datetime(2024, 1, 17, 18, tzinfo=UTC)),
])
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected
    assert format_datetime(parse_datetime(text)) == "2024-01-17T18:00:00Z"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        ChargingSchedule(A, (ChargingSchedulePeriod(0, 1),), start_schedule=datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        replace(ChargingProfile.from_payload(RELATIVE_PAYLOAD), valid_to=datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        format_datetime(datetime(2024, 1, 1))


aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@settings(max_examples=60, deadline=None)
@given(st.builds(
    ChargingProfile,
    st.integers(0, 10**6), st.integers(0, 10), st.sampled_from(list(ChargingProfilePurpose)),
    st.sampled_from(list(ChargingProfileKind)),
    st.builds(ChargingSchedule, st.sampled_from(list(ChargingRateUnit)),
              st.lists(st.builds(ChargingSchedulePeriod, st.integers(0, 10**5), st.integers(0, 10**4).map(lambda x: x / 10),
                                 st.sampled_from([None, 1, 2, 3])), min_size=1, max_size=4).map(tuple),
              st.none() | st.integers(0, 10**6), st.none() | aware, st.none() | st.integers(0, 100).map(float)),
    st.none() | st.integers(0, 10**6), st.none() | st.sampled_from(list(RecurrencyKind)), st.none() | aware,
    st.none() | aware,
))
def test_any_profile_round_trips(profile):
    assert ChargingProfile.from_payload(profile.to_payload()) == profile


@pytest.mark.parametrize("csl, expected", [
    ("Current", {A}), ("Power", {W}), ("Current,Power", {A, W}), (" power , current ", {A, W}), ("", set()),
])
def test_parse_allowed_units(csl, expected):
    assert parse_allowed_units(csl) == expected


def test_parse_allowed_units_rejects_unknown():
    with pytest.raises(ValueError):
        parse_allowed_units("A,W")


# ------------------------------------------------------------------ validation

STATE = ChargePointSmartChargingState(max_stack_level=5, max_periods=3, max_installed=4,
                                      allowed_units=frozenset({A}), active_transactions={1: 42},
                                      number_of_connectors=2)


def mk(purpose=TXD, kind=ABS, level=1, unit=A, periods=((0, 16),), duration=300, start=NOW, **kw) -> ChargingProfile:
    schedule = ChargingSchedule(unit, tuple(ChargingSchedulePeriod(*p) for p in periods), duration, start)
    return ChargingProfile(kw.pop("pid", 1), level, purpose, kind, schedule, **kw)


V = [
    # (id, profile, connectorId, expected violation fragments)
    ("valid TxDefault on 0", mk(), 0, []),
    ("valid TxDefault on 1", mk(), 1, []),
    ("valid CPMax on 0", mk(CPMAX), 0, []),
    ("CPMax on connector 1", mk(CPMAX), 1, ["ChargePointMaxProfile only allowed on connectorId 0"]),
    ("valid TxProfile matching tx", mk(TX, transaction_id=42), 1, []),
    ("valid TxProfile without transactionId", mk(TX), 1, []),
    ("TxProfile without transaction", mk(TX), 2, ["without an active transaction"]),
    ("TxProfile wrong transactionId", mk(TX, transaction_id=41), 1, ["transactionId 41 != running transaction 42"]),
    ("TxProfile on connector 0", mk(TX), 0, ["TxProfile not allowed on connectorId 0"]),
    ("unknown connector", mk(), 3, ["connectorId 3 does not exist"]),
    ("negative connector", mk(), -1, ["connectorId -1 does not exist"]),
    ("stack level too high", mk(level=6), 1, ["stackLevel 6 outside"]),
    ("negative stack level", mk(level=-1), 1, ["stackLevel -1 outside"]),
    ("Relative with startSchedule (ignored, not a violation)", mk(kind=REL), 1, []),
    ("valid Relative", mk(kind=REL, start=None), 1, []),
    ("Absolute without startSchedule", mk(start=None), 1, ["Absolute profile needs startSchedule"]),
    ("Recurring without recurrencyKind", mk(kind=REC), 1, ["needs recurrencyKind"]),
    ("Recurring without startSchedule", mk(kind=REC, start=None, recurrency_kind=RecurrencyKind.DAILY), 1,
     ["needs startSchedule"]),
    ("valid Recurring", mk(kind=REC, recurrency_kind=RecurrencyKind.WEEKLY), 1, []),
    ("too many periods", mk(periods=((0, 1), (10, 2), (20, 3), (30, 4))), 1, ["4 periods exceed"]),
    ("first period not at 0", mk(periods=((5, 1),)), 1, ["first startPeriod must be 0"]),
    ("periods not increasing", mk(periods=((0, 1), (20, 2), (20, 3))), 1, ["strictly increase"]),
    ("negative limit", mk(periods=((0, -1),)), 1, ["negative"]),
    ("bad numberPhases", mk(periods=((0, 1, 4),)), 1, ["numberPhases 4"]),
    ("unit not allowed", mk(unit=W), 1, ["chargingRateUnit W not in"]),
    ("validFrom after validTo", mk(valid_from=NOW, valid_to=NOW - timedelta(1)), 1, ["validFrom must be before"]),
    ("negative duration", mk(duration=-5), 1, ["duration -5"]),
    ("two violations", mk(CPMAX, unit=W), 1, ["ChargePointMaxProfile only", "chargingRateUnit W"]),
]


@pytest.mark.parametrize("profile, connector, expected", [v[1:] for v in V], ids=[v[0] for v in V])
def test_validate_profile(profile, connector, expected):
    violations = validate_profile(profile, connector, STATE)
    assert len(violations) == len(expected), violations
    for fragment, violation in zip(expected, violations):
        assert fragment in violation


@pytest.mark.parametrize("profile, expected", [
    (mk(kind=REL), ["a Relative profile carries chargingSchedule.startSchedule"]),
    (mk(TX, kind=REL), ["a Relative profile carries chargingSchedule.startSchedule"]),
    (mk(kind=REL, start=None), []),
    (mk(), []),  # Absolute: startSchedule is its anchor
    (mk(kind=REC, recurrency_kind=RecurrencyKind.DAILY), []),
])
def test_ignored_fields_name_a_relative_profiles_start_schedule(profile, expected):
    notes = ignored_fields(profile)
    assert len(notes) == len(expected) and all(f in n for f, n in zip(expected, notes)), notes


def test_a_relative_profile_with_start_schedule_is_installed():
    store, status, violations = ChargingProfileStore().set_charging_profile(1, mk(kind=REL), STATE)
    assert status is ChargingProfileStatus.ACCEPTED and violations == [] and len(store) == 1


def test_recurring_start_schedule_reading_can_be_relaxed():
    p = mk(kind=REC, start=None, recurrency_kind=RecurrencyKind.DAILY)
    assert validate_profile(p, 1, STATE, rules=ProfileRules(recurring_requires_start_schedule=False)) == []


@pytest.mark.parametrize("profile, expected", [
    (mk(TX, kind=REL, start=None), []),
    (mk(TX, kind=REL, start=None, transaction_id=1), ["must not carry a transactionId"]),
    (mk(TXD, kind=REL, start=None), ["must be TxProfile"]),
])
def test_remote_start_profile(profile, expected):
    violations = validate_profile(profile, 2, STATE, remote_start=True)
    assert [any(f in v for v in violations) for f in expected] == [True] * len(expected)
    assert len(violations) == len(expected)


def _installed(n: int) -> tuple[InstalledProfile, ...]:
    return tuple(InstalledProfile(1, mk(pid=10 + i, level=i)) for i in range(n))


@pytest.mark.parametrize("installed, profile, full", [
    (3, mk(pid=99, level=5), False),
    (4, mk(pid=99, level=5), True),
    (4, mk(pid=10, level=5), False),  # replaces by id: count after replacement (not libocpp's quirk)
    (4, mk(pid=99, level=2), False),  # replaces by stackLevel + purpose on the same connector
])
def test_max_charging_profiles_installed(installed, profile, full):
    violations = validate_profile(profile, 1, STATE, installed=_installed(installed))
    assert any("MaxChargingProfilesInstalled" in v for v in violations) is full


# ------------------------------------------------------------------ store

def ids(store: ChargingProfileStore) -> list[tuple[int, int]]:
    return [(e.connector_id, e.profile.charging_profile_id) for e in store.entries]


INSTALL = [
    ("new profile added", [(1, mk(pid=1, level=1)), (1, mk(pid=2, level=2))], [(1, 1), (1, 2)]),
    ("same id replaces even across purpose and connector",
     [(1, mk(pid=1, level=1)), (0, mk(CPMAX, pid=1, level=3))], [(0, 1)]),
    ("same stackLevel and purpose replaces", [(1, mk(pid=1, level=1)), (1, mk(pid=2, level=1))], [(1, 2)]),
    ("same stackLevel, other purpose coexists", [(1, mk(pid=1, level=1)), (1, mk(TX, pid=2, level=1))],
     [(1, 1), (1, 2)]),
    ("same stackLevel and purpose on another connector coexists",
     [(0, mk(pid=1, level=1)), (1, mk(pid=2, level=1))], [(0, 1), (1, 2)]),
]


@pytest.mark.parametrize("steps, expected", [i[1:] for i in INSTALL], ids=[i[0] for i in INSTALL])
def test_install_replacement(steps, expected):
    store = ChargingProfileStore()
    for connector, profile in steps:
        store = store.install(connector, profile)
    assert ids(store) == expected


def test_charge_point_wide_replace_scope():
    store = ChargingProfileStore(rules=ProfileRules(replace_scope=ReplaceScope.CHARGE_POINT))
    store = store.install(0, mk(pid=1, level=1)).install(1, mk(pid=2, level=1))
    assert ids(store) == [(1, 2)]


def test_libocpp_pr_1051_replaced_profile_stays_gone():
    store = ChargingProfileStore().install(1, mk(pid=101, level=3, periods=((0, 20),)))
    store = store.install(1, mk(pid=102, level=3, periods=((0, 30),)))
    assert ids(store) == [(1, 102)]
    store, status = store.clear(id=102)
    assert status is ClearChargingProfileStatus.ACCEPTED and len(store) == 0
    assert store.clear(id=101)[1] is ClearChargingProfileStatus.UNKNOWN


BASE_STORE = (ChargingProfileStore()
              .install(0, mk(CPMAX, pid=1, level=0))
              .install(0, mk(TXD, pid=2, level=1))
              .install(1, mk(TXD, pid=3, level=1))
              .install(1, mk(TX, pid=4, level=2))
              .install(2, mk(TXD, pid=5, level=2)))

CLEAR = [
    ("all", {}, "Accepted", []),
    ("by id", {"id": 3}, "Accepted", [1, 2, 4, 5]),
    ("unknown id", {"id": 9}, "Unknown", [1, 2, 3, 4, 5]),
    ("id ignores other fields", {"id": 3, "connector_id": 2}, "Accepted", [1, 2, 4, 5]),
    ("connector 0 = CP-wide", {"connector_id": 0}, "Accepted", [3, 4, 5]),
    ("connector 1", {"connector_id": 1}, "Accepted", [1, 2, 5]),
    ("purpose", {"purpose": TXD}, "Accepted", [1, 4]),
    ("purpose and stack level", {"purpose": TXD, "stack_level": 1}, "Accepted", [1, 4, 5]),
    ("connector, purpose, stack level", {"connector_id": 1, "purpose": TXD, "stack_level": 1}, "Accepted",
     [1, 2, 4, 5]),
    ("AND finds nothing", {"connector_id": 2, "purpose": TX}, "Unknown", [1, 2, 3, 4, 5]),
    ("stack level only", {"stack_level": 2}, "Accepted", [1, 2, 3]),
]


@pytest.mark.parametrize("kwargs, status, remaining", [c[1:] for c in CLEAR], ids=[c[0] for c in CLEAR])
def test_clear_charging_profile(kwargs, status, remaining):
    store, got = BASE_STORE.clear(**kwargs)
    assert got is ClearChargingProfileStatus(status)
    assert [pid for _, pid in ids(store)] == remaining


def test_clear_all_on_empty_store_is_unknown():
    assert ChargingProfileStore().clear()[1] is ClearChargingProfileStatus.UNKNOWN


def test_clear_id_and_reading():
    store = replace(BASE_STORE, rules=ProfileRules(clear_id=ClearIdReading.AND_ALL))
    assert store.clear(id=3, connector_id=2)[1] is ClearChargingProfileStatus.UNKNOWN
    assert store.clear(id=3, connector_id=1)[1] is ClearChargingProfileStatus.ACCEPTED


def test_end_transaction_removes_only_that_connectors_tx_profiles():
    store = BASE_STORE.install(2, mk(TX, pid=6, level=2))
    assert [pid for _, pid in ids(store.end_transaction(1))] == [1, 2, 3, 5, 6]
    assert [e.profile.charging_profile_id for e in store.for_connector(1)] == [1, 2, 3, 4]


def test_set_charging_profile_validates_then_installs():
    store, status, violations = ChargingProfileStore().set_charging_profile(1, mk(TX, transaction_id=42), STATE)
    assert status is ChargingProfileStatus.ACCEPTED and violations == [] and len(store) == 1
    same, status, violations = store.set_charging_profile(2, mk(TX, pid=2), STATE)
    assert status is ChargingProfileStatus.REJECTED and same is store and violations


def test_rules_describe_for_reports():
    assert set(ProfileRules().describe()) == {"A11 replace scope", "A8 clear by id", "Recurring startSchedule"}
