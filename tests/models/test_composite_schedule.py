"""Tests of harness.models.composite_schedule.

Golden vectors V1..V6 and the OCTT scenarios of shared/smart_charging.md, the readings of every
ambiguity, and a hypothesis property test against a brute-force per-second oracle written
independently below (it never calls the model's helpers).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.models.charging_profile import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    ChargingSchedulePeriod,
    RecurrencyKind,
)
from harness.models.charging_profile_rules import ChargingProfileStore, InstalledProfile
from harness.models.composite_schedule import (
    CompositeSchedule,
    ConnectorZero,
    NoTransaction,
    Readings,
    RecurrenceBeforeStart,
    StackValidity,
    Transaction,
    TxDefaultScope,
    TxOverride,
    ZeroDuration,
    composite_schedule,
)

UTC = timezone.utc
A, W = ChargingRateUnit.A, ChargingRateUnit.W
CPMAX = ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE
TXD = ChargingProfilePurpose.TX_DEFAULT_PROFILE
TX = ChargingProfilePurpose.TX_PROFILE
ABS, REC, REL = ChargingProfileKind.ABSOLUTE, ChargingProfileKind.RECURRING, ChargingProfileKind.RELATIVE
DAILY, WEEKLY = RecurrencyKind.DAILY, RecurrencyKind.WEEKLY


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def profile(pid, purpose, kind, level, unit, periods, duration=None, start=None, rec=None, **kw) -> ChargingProfile:
    schedule = ChargingSchedule(
        unit, tuple(ChargingSchedulePeriod(*p) for p in periods), duration, start, kw.pop("min_rate", None)
    )
    return ChargingProfile(pid, level, purpose, kind, schedule, recurrency_kind=rec, **kw)


def periods_of(result: CompositeSchedule) -> list[tuple]:
    return [
        (p.start_period, p.limit) if p.number_phases is None else (p.start_period, p.limit, p.number_phases)
        for p in result.charging_schedule_period
    ]


# ------------------------------------------------------------------ fixtures of section 6

F_TXD01 = profile(1, TXD, ABS, 1, W, [(0, 2000, 1)], 1080, at("2024-01-17T18:00"), DAILY)
F_TXD100 = profile(100, TXD, REC, 0, W, [(0, 11000, 3), (28800, 6000, 3), (72000, 12000, 3)], 86400,
                   at("2023-01-17T17:00"), DAILY)
GRID_PERIODS = [(3600 * h, h + 1, 1) for h in range(24)]
F_GRID_TXD = profile(24, TXD, REC, 0, W, GRID_PERIODS, 86400, at("2023-01-17T00:00"), DAILY)
F_GRID_TX = profile(24, TX, REC, 0, W, GRID_PERIODS, 86400, at("2023-01-17T00:00"), DAILY)
F_TX02 = profile(2, TX, REC, 2, W, [(0, 2000, 1)], 1080, at("2024-01-17T18:04"), DAILY)
F_TX03ABS = profile(3, TX, ABS, 2, W, [(0, 2000, 1)], 1080, at("2024-01-17T18:04"), DAILY)
F_CPMAX401 = profile(24, CPMAX, REC, 0, A, [(0, 24, 1), (900, 28, 1), (1800, 30, 1), (2700, 32, 1)], 86400,
                     at("2024-01-17T08:00"), DAILY)
F_ABS301 = profile(301, TXD, ABS, 5, A, [(0, 32), (1800, 31), (2700, 30)], 3600, at("2024-01-01T12:02"),
                   valid_from=at("2024-01-01T12:00"), valid_to=at("2024-01-01T14:00"))
F_RECD301 = profile(301, TXD, REC, 5, A, [(0, 16), (1800, 15), (2700, 14)], 3600, at("2024-01-01T08:00"), DAILY,
                    valid_from=at("2024-01-01T12:00"), valid_to=at("2024-02-01T12:00"))
F_W25 = profile(25, TXD, REL, 0, W, [(0, 12420), (300, 8280), (600, 6210), (900, 4140), (1200, 2070)], 3600)
F_REL66 = profile(66, TXD, REL, 1, W, [(0, 1000), (70, 7000), (140, 0), (210, 6000), (280, 1500), (350, 5000)],
                  min_rate=500)

TX_AT = Transaction(at("2024-01-18T18:04"), 1)


def on(connector: int, *profiles: ChargingProfile) -> list[InstalledProfile]:
    return [InstalledProfile(connector, p) for p in profiles]


GOLDEN = [
    ("V1 absolute over recurring, fall-through", on(1, F_TXD01, F_TXD100), 1, "2024-01-17T18:01", 43140, W, None,
     [(0, 2000, 1), (1020, 11000, 3), (25140, 6000, 3)]),
    ("V2 absolute does not recur", on(1, F_GRID_TXD, F_TX03ABS), 1, "2024-01-18T18:04", 1080, W, TX_AT,
     [(0, 19, 1)]),
    ("V3 TxProfile beats higher TxDefault", on(1, F_GRID_TXD, F_TX02), 1, "2024-01-18T18:04", 1080, W, TX_AT,
     [(0, 2000, 1)]),
    ("V4 stacking inside TxProfile", on(1, F_GRID_TX, F_TX02), 1, "2024-01-18T18:02", 1320, W,
     Transaction(at("2024-01-18T18:00"), 1), [(0, 19, 1), (120, 2000, 1), (1200, 19, 1)]),
    ("V6 recurring CPMax on connector 0", on(0, F_CPMAX401), 0, "2024-08-21T08:00", 3600, A, None,
     [(0, 24, 1), (900, 28, 1), (1800, 30, 1), (2700, 32, 1)]),
    ("absolute trimmed by validity", on(1, F_ABS301), 1, "2024-01-01T12:00", 4200, A, None,
     [(0, None), (120, 32), (1920, 31), (2820, 30), (3720, None)]),
    ("recurring daily inside validity", on(1, F_RECD301), 1, "2024-01-02T07:30", 7200, A, None,
     [(0, None), (1800, 16), (3600, 15), (4500, 14), (5400, None)]),
    ("recurring daily before validFrom", on(1, F_RECD301), 1, "2024-01-01T07:30", 7200, A, None, [(0, None)]),
    ("watts to amps, relative at tx start", on(1, F_W25), 1, "2024-05-01T10:05", 3600, A,
     Transaction(at("2024-05-01T10:00"), 9), [(0, 12.0), (300, 9.0), (600, 6.0), (900, 3.0), (3300, None)]),
    ("relative without duration, minChargingRate advisory", on(1, F_REL66), 1, "2024-05-01T10:00", 420, W, None,
     [(0, 1000), (70, 7000), (140, 0), (210, 6000), (280, 1500), (350, 5000)]),
]


@pytest.mark.parametrize(
    "profiles, connector, start, duration, unit, tx, expected",
    [g[1:] for g in GOLDEN], ids=[g[0] for g in GOLDEN],
)
def test_golden_vector(profiles, connector, start, duration, unit, tx, expected):
    result = composite_schedule(profiles, connector, at(start), duration, unit=unit, transaction=tx)
    assert periods_of(result) == expected
    assert result.start_schedule == at(start)
    assert result.duration == duration
    assert result.charging_rate_unit is unit


# ------------------------------------------------------------------ OCTT scenarios (section 5)

S66 = at("2025-03-01T10:00")
TC066 = on(0, profile(1, CPMAX, ABS, 0, A, [(0, 10)], 86400, S66)) + on(
    1,
    profile(2, TXD, ABS, 0, A, [(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)], 300, S66),
    profile(3, TX, ABS, 0, A, [(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)], 260, S66, transaction_id=5),
)
TX66 = Transaction(S66 - timedelta(seconds=30), 5)


def test_tc_066_txprofile_overrules_txdefault_for_whole_transaction():
    result = composite_schedule(TC066, 1, S66, 400, unit=A, transaction=TX66)
    assert periods_of(result) == [(0, 8), (50, 10), (200, 6), (240, 10)]
    assert result.readings.tx_override is TxOverride.WHOLE_TRANSACTION


def test_tc_066_per_instant_reading_lets_txdefault_show_through():
    readings = Readings(tx_override=TxOverride.PER_INSTANT)
    result = composite_schedule(TC066, 1, S66, 400, unit=A, transaction=TX66, readings=readings)
    assert periods_of(result) == [(0, 8), (50, 10), (200, 6), (240, 10), (260, 8), (300, 10)]


def test_tc_066_txprofile_of_another_transaction_is_ignored():
    result = composite_schedule(TC066, 1, S66, 400, unit=A, transaction=Transaction(S66, 6))
    assert periods_of(result) == [(0, 6), (60, 10), (120, 8), (180, 10), (260, 8), (300, 10)]


def test_future_txprofile_takes_over_only_from_its_first_period():
    tx_later = on(1, profile(9, TX, ABS, 0, A, [(0, 4)], 60, S66 + timedelta(seconds=100)),
                  profile(8, TXD, ABS, 0, A, [(0, 7)], None, S66))
    result = composite_schedule(tx_later, 1, S66, 300, unit=A, transaction=Transaction(S66, 1))
    assert periods_of(result) == [(0, 7), (100, 4), (160, None)]


TC072 = on(1, profile(1, TXD, ABS, 0, A, [(0, 6), (100, 8), (200, 10)], 400, S66),
           profile(2, TXD, ABS, 1, A, [(0, 7), (100, 9)], 150, S66))


def test_tc_072_stacking_falls_through_after_higher_schedule_ends():
    result = composite_schedule(TC072, 1, S66, 450, unit=A)
    assert periods_of(result) == [(0, 7), (100, 9), (150, 8), (200, 10), (400, None)]


def test_validity_only_reading_keeps_higher_level_without_limit():
    readings = Readings(stack_validity=StackValidity.VALIDITY_ONLY)
    result = composite_schedule(TC072, 1, S66, 450, unit=A, readings=readings)
    assert periods_of(result) == [(0, 7), (100, 9), (150, None)]


def test_tc_067_clear_then_composite_drops_the_profile():
    store = ChargingProfileStore().install(1, profile(7, TXD, ABS, 1, A, [(0, 6), (60, 8), (200, 10)], 400, S66))
    assert periods_of(composite_schedule(store, 1, S66, 300, unit=A)) == [(0, 6), (60, 8), (200, 10)]
    store, _ = store.clear(id=7)
    assert periods_of(composite_schedule(store, 1, S66, 300, unit=A)) == [(0, None)]


# ------------------------------------------------------------------ readings

def test_connector_specific_txdefault_first_vs_stack_level():
    both = on(0, profile(1, TXD, ABS, 5, A, [(0, 20)], None, S66)) + on(1, profile(2, TXD, ABS, 1, A, [(0, 10)],
                                                                                   100, S66))
    assert periods_of(composite_schedule(both, 1, S66, 200, unit=A)) == [(0, 10), (100, 20)]
    readings = Readings(tx_default_scope=TxDefaultScope.STACK_LEVEL)
    assert periods_of(composite_schedule(both, 1, S66, 200, unit=A, readings=readings)) == [(0, 20)]
    assert periods_of(composite_schedule(both, 2, S66, 200, unit=A)) == [(0, 20)]


@pytest.mark.parametrize("reading, expected", [
    (NoTransaction.SIMULATE_AT_START, [(0, 12420), (300, 8280), (600, 6210)]),
    (NoTransaction.RELATIVE_UNANCHORED, [(0, None)]),
    (NoTransaction.IGNORE_TX_DEFAULT, [(0, None)]),
])
def test_relative_txdefault_without_transaction(reading, expected):
    result = composite_schedule(on(1, F_W25), 1, S66, 900, unit=W, readings=Readings(no_transaction=reading))
    assert periods_of(result) == expected


def test_absolute_txdefault_without_transaction_per_reading():
    txd = on(1, profile(1, TXD, ABS, 0, A, [(0, 16)], None, S66))
    assert periods_of(composite_schedule(txd, 1, S66, 60, unit=A)) == [(0, 16)]
    ignore = Readings(no_transaction=NoTransaction.IGNORE_TX_DEFAULT)
    assert periods_of(composite_schedule(txd, 1, S66, 60, unit=A, readings=ignore)) == [(0, None)]


def test_cp_max_caps_and_converts_units():
    profiles = on(0, profile(1, CPMAX, ABS, 0, W, [(0, 6900), (100, 2300, 1)], None, S66)) + on(
        1, profile(2, TXD, ABS, 0, A, [(0, 16), (200, 5)], None, S66))
    result = composite_schedule(profiles, 1, S66, 300, unit=A)
    assert periods_of(result) == [(0, 10.0), (100, 10.0, 1), (200, 5)]
    watts = composite_schedule(profiles, 1, S66, 300, unit=W, nominal_voltage=110.0)
    assert periods_of(watts) == [(0, 5280.0), (100, 2300, 1), (200, 1650.0)]


@pytest.mark.parametrize("reading, expected", [
    (ConnectorZero.CP_MAX_ONLY, [(0, 32)]),
    (ConnectorZero.CP_MAX_AND_TX_DEFAULT, [(0, 10)]),
    (ConnectorZero.SUM_OF_CONNECTORS, [(0, 26)]),
])
def test_connector_zero_readings(reading, expected):
    profiles = on(0, profile(1, CPMAX, ABS, 0, A, [(0, 32)], None, S66),
                  profile(2, TXD, ABS, 0, A, [(0, 10)], None, S66)) + on(
        2, profile(3, TXD, ABS, 1, A, [(0, 16)], None, S66))
    result = composite_schedule(profiles, 0, S66, 60, unit=A, readings=Readings(connector_zero=reading),
                                connector_transactions={1: None, 2: None})
    assert periods_of(result) == expected


def test_sum_of_connectors_unlimited_connector_leaves_cp_max():
    profiles = on(0, profile(1, CPMAX, ABS, 0, A, [(0, 32)], None, S66)) + on(
        2, profile(3, TXD, ABS, 1, A, [(0, 16)], None, S66))
    readings = Readings(connector_zero=ConnectorZero.SUM_OF_CONNECTORS)
    result = composite_schedule(profiles, 0, S66, 60, unit=A, readings=readings,
                                connector_transactions={1: None, 2: None})
    assert periods_of(result) == [(0, 32)]
    with pytest.raises(ValueError):
        composite_schedule(profiles, 0, S66, 60, unit=A, readings=readings)


@pytest.mark.parametrize("reading, expected", [
    (RecurrenceBeforeStart.VIRTUAL, [(0, 16)]),
    (RecurrenceBeforeStart.LITERAL, [(0, None), (600, 16)]),
])
def test_recurring_before_first_start(reading, expected):
    rec = on(1, profile(1, TXD, REC, 0, A, [(0, 16)], None, S66 + timedelta(seconds=600), DAILY))
    result = composite_schedule(rec, 1, S66, 900, unit=A, readings=Readings(recurrence_before_start=reading))
    assert periods_of(result) == expected


@pytest.mark.parametrize("reading, expected", [
    (ZeroDuration.EMPTY, [(0, None)]),
    (ZeroDuration.UNBOUNDED, [(0, 16)]),
])
def test_zero_duration(reading, expected):
    p = on(1, profile(1, TXD, ABS, 0, A, [(0, 16)], 0, S66))
    assert periods_of(composite_schedule(p, 1, S66, 60, unit=A, readings=Readings(zero_duration=reading))) == expected


def test_min_charging_rate_as_floor_reading():
    readings = Readings(min_charging_rate_as_floor=True)
    result = composite_schedule(on(1, F_REL66), 1, S66, 420, unit=W, readings=readings)
    assert periods_of(result)[2] == (140, 500)


def test_weekly_recurrence_restarts_after_seven_days():
    p = on(1, profile(1, TXD, REC, 0, A, [(0, 8), (3600, 16)], None, at("2024-01-01T00:00"), WEEKLY))
    result = composite_schedule(p, 1, at("2024-01-07T23:00"), 7200, unit=A)
    assert periods_of(result) == [(0, 16), (3600, 8)]


def test_describe_names_every_reading_and_zero_window_has_one_period():
    assert set(Readings().describe()) >= {"A1 TxDefault connector vs 0", "A4 stack validity", "A14 TxProfile vs TxDefault"}
    result = composite_schedule(TC072, 1, S66, 0, unit=A)
    assert periods_of(result) == [(0, 7)]


def test_payload_omits_or_fills_missing_limits():
    result = composite_schedule(TC072, 1, S66 + timedelta(microseconds=700), 450, unit=A)
    payload = result.to_payload()
    assert payload["startSchedule"] == "2025-03-01T10:00:00Z"
    assert payload["chargingSchedulePeriod"][-1] == {"startPeriod": 400}
    assert result.to_payload(no_limit=48.0)["chargingSchedulePeriod"][-1] == {"startPeriod": 400, "limit": 48.0}
    assert result.to_charging_schedule(-1).charging_schedule_period[-1].limit == -1
    assert result.limit_at(149) == 9 and result.limit_at(150) == 8 and result.limit_at(10_000) is None


def test_naive_start_is_rejected():
    with pytest.raises(ValueError):
        composite_schedule(TC072, 1, datetime(2025, 3, 1), 60, unit=A)


# ------------------------------------------------------------------ brute-force oracle

BASE = at("2024-03-10T12:00")
S_EPOCH = int(BASE.timestamp())
VOLT = 230.0


def _secs(value):
    return None if value is None else int(value.timestamp())


def oracle_cover(p: ChargingProfile, t: int, rel_anchor, rd: Readings):
    """(limit, unit, phases) of ``p`` at second t by the definitions, or None."""
    vf, vt = _secs(p.valid_from), _secs(p.valid_to)
    if (vf is not None and t < vf) or (vt is not None and t >= vt):
        return None
    sch = p.charging_schedule
    ss = _secs(sch.start_schedule)
    kind = p.charging_profile_kind
    if kind is REL or ss is None:
        ss = rel_anchor
    if ss is None:
        return None
    dur = sch.duration
    if dur == 0 and rd.zero_duration is ZeroDuration.UNBOUNDED:
        dur = None
    anchors = [ss]
    if kind is REC and p.recurrency_kind is not None:
        per = p.recurrency_kind.seconds
        dur = per if dur is None else min(dur, per)
        ks = range(0, 6) if rd.recurrence_before_start is RecurrenceBeforeStart.LITERAL else range(-6, 6)
        anchors = [ss + k * per for k in ks]
    for anchor in anchors:
        off = t - anchor
        if off < 0 or (dur is not None and off >= dur):
            continue
        hit = None
        for q in sch.charging_schedule_period:  # periods are generated sorted
            if q.start_period <= off:
                hit = q
        if hit is None:
            continue
        limit = hit.limit
        if rd.min_charging_rate_as_floor and sch.min_charging_rate is not None:
            limit = max(limit, sch.min_charging_rate)
        return (limit, sch.charging_rate_unit, hit.number_phases)
    return None


def oracle_in_unit(v, unit):
    if v is None:
        return None
    limit, src, ph = v
    n = ph if ph is not None else 3
    if src is not unit:
        limit = limit * VOLT * n if src is A else limit / (VOLT * n)
    return (limit, ph)


def oracle_pick(cands, t, rel, rd, unit):
    """cands: list of (key, profile); highest key among eligible wins."""
    best = None
    for key, p in cands:
        cov = oracle_cover(p, t, rel, rd)
        if rd.stack_validity is StackValidity.FALL_THROUGH:
            eligible = cov is not None
        else:
            vf, vt = _secs(p.valid_from), _secs(p.valid_to)
            anchored = not (p.charging_profile_kind is REL and rel is None)
            eligible = anchored and (vf is None or vf <= t) and (vt is None or t < vt)
        if eligible and (best is None or key > best[0]):
            best = (key, cov)
    return None if best is None else oracle_in_unit(best[1], unit)


def oracle_min(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if abs(a[0] - b[0]) > 1e-9:
        return a if a[0] < b[0] else b
    ph = [x for x in (a[1], b[1]) if x is not None]
    return (a[0], min(ph) if ph else None)


def oracle_demand(entries, k, tx, t, S, E, rd, unit, cache):
    rel = _secs(tx.start) if tx else (S if rd.no_transaction is NoTransaction.SIMULATE_AT_START else None)
    txd, txp = [], []
    for i, ip in enumerate(entries):
        p = ip.profile
        if p.charging_profile_purpose is TXD and ip.connector_id in (0, k):
            if tx is None and rd.no_transaction is NoTransaction.IGNORE_TX_DEFAULT:
                continue
            spec = ip.connector_id != 0
            key = (spec, p.stack_level, i) if rd.tx_default_scope is TxDefaultScope.CONNECTOR_FIRST else (
                p.stack_level, spec, i)
            txd.append((key, p))
        elif (p.charging_profile_purpose is TX and tx is not None and k > 0 and ip.connector_id == k
              and p.transaction_id in (None, tx.transaction_id)):
            txp.append(((p.stack_level, i), p))
    if not txp:
        return oracle_pick(txd, t, rel, rd, unit)
    if rd.tx_override is TxOverride.PER_INSTANT:
        v = oracle_pick(txp, t, rel, rd, unit)
        return v if v is not None else oracle_pick(txd, t, rel, rd, unit)
    if k not in cache:  # first second at or after tx start that any TxProfile covers
        t0 = _secs(tx.start)
        cache[k] = next((u for u in range(t0, max(E, S + 1)) if any(oracle_cover(p, u, rel, rd) for _, p in txp)),
                        float("inf"))
    return oracle_pick(txp if cache[k] <= t else txd, t, rel, rd, unit)


def oracle_schedule(entries, c, S, E, unit, tx, rd, conn_tx):
    out, cache = [], {}
    for t in range(S, max(E, S + 1)):
        cp_rel = _secs(tx.start) if tx else (S if rd.no_transaction is NoTransaction.SIMULATE_AT_START else None)
        cps = [((ip.profile.stack_level, i), ip.profile) for i, ip in enumerate(entries)
               if ip.connector_id == 0 and ip.profile.charging_profile_purpose is CPMAX]
        cp = oracle_pick(cps, t, cp_rel, rd, unit)
        if c > 0:
            demand = oracle_demand(entries, c, tx, t, S, E, rd, unit, cache)
        elif rd.connector_zero is ConnectorZero.CP_MAX_ONLY:
            demand = None
        elif rd.connector_zero is ConnectorZero.CP_MAX_AND_TX_DEFAULT:
            demand = oracle_demand([e for e in entries if e.connector_id == 0], 0, None, t, S, E, rd, unit, cache)
        else:
            parts = [oracle_demand(entries, k, ktx, t, S, E, rd, unit, cache) for k, ktx in conn_tx.items()]
            if any(p is None for p in parts):
                demand = None
            else:
                ph = [p[1] for p in parts if p[1] is not None]
                demand = (sum(p[0] for p in parts), max(ph) if ph else None)
        out.append(oracle_min(demand, cp))
    return out


# ------------------------------------------------------------------ strategies

PURPOSE_CONNECTORS = [(CPMAX, 0), (TXD, 0), (TXD, 1), (TXD, 1), (TXD, 2), (TX, 1), (TX, 1), (TX, 2)]


@st.composite
def random_profile(draw, pid, choices=tuple(PURPOSE_CONNECTORS)):
    purpose, connector = draw(st.sampled_from(choices))
    kind = draw(st.sampled_from([ABS, REC, REL]))
    unit = draw(st.sampled_from([A, W]))
    starts = sorted(draw(st.sets(st.integers(1, 500), max_size=3)))
    scale = 1 if unit is A else 230
    periods = tuple(
        ChargingSchedulePeriod(sp, draw(st.integers(0, 40)) * scale, draw(st.sampled_from([None, 1, 3])))
        for sp in [0] + starts
    )
    duration = draw(st.one_of(st.none(), st.integers(0, 700), st.integers(86000, 700000)))
    rec, start = None, None
    if kind is ABS:
        start = BASE + timedelta(seconds=draw(st.integers(-800, 700)))
    elif kind is REC:
        rec = draw(st.sampled_from([DAILY, WEEKLY]))
        shift = draw(st.integers(-2, 1)) * rec.seconds
        start = BASE + timedelta(seconds=shift + draw(st.integers(-800, 700)))
    vf = draw(st.one_of(st.none(), st.integers(-200, 600)))
    vt = draw(st.one_of(st.none(), st.integers(-100, 900)))
    min_rate = draw(st.one_of(st.none(), st.integers(0, 20)))
    schedule = ChargingSchedule(unit, periods, duration, start, None if min_rate is None else min_rate * scale)
    p = ChargingProfile(
        pid, draw(st.integers(0, 3)), purpose, kind, schedule,
        transaction_id=draw(st.sampled_from([None, 7, 8])) if purpose is TX else None,
        recurrency_kind=rec,
        valid_from=None if vf is None else BASE + timedelta(seconds=vf),
        valid_to=None if vt is None else BASE + timedelta(seconds=vt),
    )
    return connector, p


@st.composite
def scenario(draw, focus_on_transaction=False):
    store = ChargingProfileStore()
    choices = [(TX, 1), (TXD, 1), (TXD, 0), (CPMAX, 0)] if focus_on_transaction else PURPOSE_CONNECTORS
    for pid in range(draw(st.integers(2 if focus_on_transaction else 0, 5))):
        connector, p = draw(random_profile(pid, tuple(choices)))
        store = store.install(connector, p)  # the store keeps (purpose, stackLevel, connector) unique
    tx = None if draw(st.integers(0, 3)) == 0 and not focus_on_transaction else draw(st.builds(
        lambda back, tid: Transaction(BASE - timedelta(seconds=back), tid), st.integers(0, 400), st.sampled_from([7, 8])))
    readings = Readings(
        tx_override=draw(st.sampled_from(list(TxOverride))),
        stack_validity=draw(st.sampled_from(list(StackValidity))),
        tx_default_scope=draw(st.sampled_from(list(TxDefaultScope))),
        no_transaction=draw(st.sampled_from(list(NoTransaction))),
        connector_zero=draw(st.sampled_from(list(ConnectorZero))),
        recurrence_before_start=draw(st.sampled_from(list(RecurrenceBeforeStart))),
        zero_duration=draw(st.sampled_from(list(ZeroDuration))),
        min_charging_rate_as_floor=draw(st.booleans()),
    ) if draw(st.booleans()) else Readings()
    connector = 1 if focus_on_transaction else draw(st.sampled_from([1, 1, 1, 2, 0]))
    return store, connector, draw(st.integers(0, 900)), draw(st.sampled_from([A, W])), tx, readings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(scenario(), scenario(focus_on_transaction=True)))
def test_composite_equals_per_second_oracle(case):
    store, connector, duration, unit, tx, readings = case
    conn_tx = {1: tx, 2: None}
    result = composite_schedule(store, connector, BASE, duration, unit=unit, transaction=tx if connector == 1 else None,
                                readings=readings, connector_transactions=conn_tx)
    expected = oracle_schedule(list(store.entries), connector, S_EPOCH, S_EPOCH + duration, unit,
                               tx if connector == 1 else None, readings, conn_tx)
    periods = result.charging_schedule_period
    assert periods[0].start_period == 0
    assert all(a.start_period < b.start_period < max(duration, 1) for a, b in zip(periods, periods[1:]))
    assert all((a.limit, a.number_phases) != (b.limit, b.number_phases) for a, b in zip(periods, periods[1:]))
    for offset, want in enumerate(expected):
        got = result.period_at(offset)
        if want is None:
            assert got.limit is None, f"t={offset}: {got} != no limit"
        else:
            assert got.limit == pytest.approx(want[0]), f"t={offset}: {got} != {want}"
            assert got.number_phases == want[1], f"t={offset}: {got} != {want}"
