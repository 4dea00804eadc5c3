"""Tests for harness.models.connector_status against an independent copy of the spec 4.9 table."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.models.connector_status import (
    ALLOWED_TRANSITIONS,
    CONNECTOR_ZERO_STATUSES,
    ChargePointStatus,
    ConnectorStatusTracker,
    transition_error,
)

# Oracle: OCPP 1.6 edition 2 section 4.9 "allowed transitions" table, typed in by hand
# (plus errata 3.20, which adds B6). Rows are "from", columns are "to"; ".." = not allowed.
# Deliberately plain strings, independent of the module's enum and data structure.
SPEC_COLUMNS = [
    "Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE",
    "Finishing", "Reserved", "Unavailable", "Faulted",
]
SPEC_TABLE = """
                Avail Prep Charg SusEV SusEVSE Finish Reserv Unavail Faulted
A Available      ..    A2   A3    A4    A5      ..     A7     A8      A9
B Preparing      B1    ..   B3    B4    B5      B6     ..     ..      B9
C Charging       C1    ..   ..    C4    C5      C6     ..     C8      C9
D SuspendedEV    D1    ..   D3    ..    D5      D6     ..     D8      D9
E SuspendedEVSE  E1    ..   E3    E4    ..      E6     ..     E8      E9
F Finishing      F1    F2   ..    ..    ..      ..     ..     F8      F9
G Reserved       G1    G2   ..    ..    ..      ..     ..     G8      G9
H Unavailable    H1    H2   H3    H4    H5      ..     ..     ..      H9
I Faulted        I1    I2   I3    I4    I5      I6     I7     I8      ..
"""


def _parse_spec_table() -> dict[tuple[str, str], str | None]:
    rows = [line.split() for line in SPEC_TABLE.strip().splitlines()[1:]]
    table: dict[tuple[str, str], str | None] = {}
    for letter, source, *cells in rows:
        assert len(cells) == 9, source
        for column, (target, cell) in enumerate(zip(SPEC_COLUMNS, cells), start=1):
            if cell != "..":
                # Self-check of the literal: code = row letter + column number.
                assert cell == f"{letter}{column}", (source, target, cell)
            table[(source, target)] = None if cell == ".." else cell
    return table


SPEC = _parse_spec_table()
SPEC_ALLOWED = sorted(pair for pair, code in SPEC.items() if code is not None)
SPEC_FORBIDDEN = sorted(pair for pair, code in SPEC.items() if code is None and pair[0] != pair[1])
ALL_PAIRS = list(itertools.product(SPEC_COLUMNS, repeat=2))
CONNECTOR_ZERO = ["Available", "Unavailable", "Faulted"]


def _pair_id(pair: tuple[str, str]) -> str:
    return f"{pair[0]}->{pair[1]}"


# --- the oracle itself ------------------------------------------------------------------


def test_the_spec_table_copy_has_53_allowed_pairs_19_forbidden_pairs_and_an_empty_diagonal() -> None:
    assert len(SPEC) == 81
    assert len(SPEC_ALLOWED) == 53
    assert len(SPEC_FORBIDDEN) == 19
    assert all(SPEC[(s, s)] is None for s in SPEC_COLUMNS)


def test_the_module_table_equals_the_spec_table() -> None:
    module_pairs = {(a.value, b.value) for a, b in ALLOWED_TRANSITIONS}
    assert module_pairs == set(SPEC_ALLOWED)


# --- the 9x9 matrix on connectors > 0 -------------------------------------------------


@pytest.mark.parametrize("pair", SPEC_ALLOWED, ids=_pair_id)
def test_every_transition_the_spec_table_allows_is_accepted(pair: tuple[str, str]) -> None:
    assert transition_error(1, pair[0], pair[1]) is None
    assert transition_error(7, ChargePointStatus(pair[0]), ChargePointStatus(pair[1])) is None


@pytest.mark.parametrize("pair", SPEC_FORBIDDEN, ids=_pair_id)
def test_every_transition_the_spec_table_forbids_is_reported_with_a_reason(pair: tuple[str, str]) -> None:
    source, target = pair
    assert transition_error(1, source, target) == (
        f"connector 1: {source} -> {target} is not an allowed transition (OCPP 1.6 section 4.9)"
    )
    reason = transition_error(3, ChargePointStatus(source), ChargePointStatus(target))
    assert reason is not None and reason.startswith("connector 3: ")


@pytest.mark.parametrize("status", SPEC_COLUMNS)
def test_re_sending_the_current_status_is_accepted(status: str) -> None:
    assert transition_error(1, status, status) is None


@pytest.mark.parametrize("status", SPEC_COLUMNS)
def test_any_status_is_accepted_as_the_first_one_seen_on_a_connector(status: str) -> None:
    assert transition_error(1, None, status) is None


def test_every_state_may_become_faulted_and_faulted_may_recover_to_every_state() -> None:
    for status in SPEC_COLUMNS:
        if status != "Faulted":
            assert transition_error(1, status, "Faulted") is None
            assert transition_error(1, "Faulted", status) is None


def test_only_available_and_faulted_may_become_reserved() -> None:
    sources = {s for s in SPEC_COLUMNS if s != "Reserved" and transition_error(1, s, "Reserved") is None}
    assert sources == {"Available", "Faulted"}


# --- connector 0 ---------------------------------------------------------------------


def test_connector_zero_statuses_are_available_unavailable_and_faulted() -> None:
    assert {s.value for s in CONNECTOR_ZERO_STATUSES} == set(CONNECTOR_ZERO)


@pytest.mark.parametrize("status", SPEC_COLUMNS)
def test_connector_zero_accepts_only_its_three_statuses_as_first_status(status: str) -> None:
    reason = transition_error(0, None, status)
    if status in CONNECTOR_ZERO:
        assert reason is None
    else:
        assert reason == (
            f"connector 0: {status} is not allowed on connector 0, which may only be "
            "Available, Unavailable or Faulted (OCPP 1.6 section 4.9)"
        )


@pytest.mark.parametrize("pair", list(itertools.product(CONNECTOR_ZERO, repeat=2)), ids=_pair_id)
def test_connector_zero_may_change_freely_among_its_three_statuses(pair: tuple[str, str]) -> None:
    assert transition_error(0, pair[0], pair[1]) is None


def test_connector_zero_rejects_a_connector_status_even_after_a_valid_one() -> None:
    reason = transition_error(0, "Available", "Preparing")
    assert reason is not None and "connector 0: Preparing" in reason


# --- bad input is reported, never raised ------------------------------------------------


@pytest.mark.parametrize("bogus", ["Bogus", "available", "AVAILABLE", " Available", "", "Suspended"])
def test_a_status_outside_the_enum_is_reported_with_a_reason(bogus: str) -> None:
    for connector_id in (0, 1):
        assert transition_error(connector_id, "Available", bogus) == (
            f"connector {connector_id}: {bogus!r} is not an OCPP 1.6 ChargePointStatus (section 7.7)"
        )


@pytest.mark.parametrize("bogus", [None, 42, 4.9, ["Available"], {"status": "Available"}])
def test_a_status_of_the_wrong_type_is_reported_without_raising(bogus: object) -> None:
    reason = transition_error(1, "Available", bogus)  # type: ignore[arg-type]
    assert reason is not None and reason.startswith("connector 1: ")


def test_an_unknown_previous_status_is_judged_as_if_nothing_was_seen_before() -> None:
    assert transition_error(1, "Bogus", "Finishing") is None
    assert transition_error(0, "Bogus", "Charging") == transition_error(0, None, "Charging")


@pytest.mark.parametrize("connector_id", [-1, "1", True, None])
def test_an_invalid_connector_id_is_reported_without_raising(connector_id: object) -> None:
    reason = transition_error(connector_id, None, "Available")  # type: ignore[arg-type]
    assert reason is not None and "connectorId" in reason


# --- the enum ------------------------------------------------------------------------


def test_the_enum_has_the_nine_ocpp_values_spelled_as_on_the_wire() -> None:
    assert sorted(s.value for s in ChargePointStatus) == sorted(SPEC_COLUMNS)
    assert ChargePointStatus.SUSPENDED_EVSE == "SuspendedEVSE"
    assert f"{ChargePointStatus.SUSPENDED_EV}" == "SuspendedEV"


# --- the tracker ---------------------------------------------------------------------


def test_the_tracker_knows_nothing_about_an_unseen_connector() -> None:
    assert ConnectorStatusTracker().status(1) is None


def test_the_tracker_accepts_a_normal_charging_session() -> None:
    tracker = ConnectorStatusTracker()
    session = ["Available", "Preparing", "Charging", "SuspendedEV", "Charging", "Finishing", "Available"]
    assert [tracker.observe(1, s) for s in session] == [None] * len(session)
    assert tracker.status(1) is ChargePointStatus.AVAILABLE


def test_the_tracker_reports_a_violation_and_continues_from_the_reported_status() -> None:
    tracker = ConnectorStatusTracker()
    assert tracker.observe(1, "Available") is None
    assert tracker.observe(1, "Finishing") == (
        "connector 1: Available -> Finishing is not an allowed transition (OCPP 1.6 section 4.9)"
    )
    assert tracker.status(1) is ChargePointStatus.FINISHING
    assert tracker.observe(1, "Available") is None  # F1, judged from Finishing


def test_the_tracker_keeps_connectors_apart() -> None:
    tracker = ConnectorStatusTracker()
    tracker.observe(1, "Charging")
    tracker.observe(2, "Available")
    assert tracker.observe(2, "Reserved") is None
    assert tracker.observe(1, "Reserved") is not None
    assert tracker.status(1) is ChargePointStatus.RESERVED
    assert tracker.observe(0, "Unavailable") is None


def test_the_tracker_forgets_every_status_on_reset() -> None:
    tracker = ConnectorStatusTracker()
    tracker.observe(0, "Available")
    tracker.observe(1, "Charging")
    tracker.reset()
    assert tracker.status(0) is None and tracker.status(1) is None
    assert tracker.observe(1, "Reserved") is None  # first status after reboot


def test_the_tracker_reports_an_unknown_status_and_treats_the_next_one_as_first() -> None:
    tracker = ConnectorStatusTracker()
    tracker.observe(1, "Available")
    assert tracker.observe(1, "Bogus") is not None
    assert tracker.status(1) is None
    assert tracker.observe(1, "Finishing") is None


def test_the_tracker_accepts_enum_members_as_well_as_strings() -> None:
    tracker = ConnectorStatusTracker()
    assert tracker.observe(1, ChargePointStatus.AVAILABLE) is None
    assert tracker.observe(1, "Preparing") is None
    assert tracker.status(1) == "Preparing"


# --- properties ----------------------------------------------------------------------

statuses = st.one_of(
    st.sampled_from(SPEC_COLUMNS), st.sampled_from(["Bogus", "charging", ""]), st.text(max_size=5)
)
events = st.lists(
    st.one_of(st.tuples(st.integers(min_value=0, max_value=3), statuses), st.just("reset")),
    max_size=40,
)


@given(events)
def test_the_tracker_reports_a_violation_exactly_when_the_consecutive_pair_is_one(script: list) -> None:
    tracker = ConnectorStatusTracker()
    last: dict[int, str] = {}
    for event in script:
        if event == "reset":
            tracker.reset()
            last.clear()
            continue
        connector_id, status = event
        expected = transition_error(connector_id, last.get(connector_id), status)
        assert tracker.observe(connector_id, status) == expected
        last[connector_id] = status
        recorded = tracker.status(connector_id)
        assert recorded == (status if status in SPEC_COLUMNS else None)


@given(st.data())
def test_a_walk_along_the_spec_table_never_reports_a_violation(data: st.DataObject) -> None:
    tracker = ConnectorStatusTracker()
    current = data.draw(st.sampled_from(SPEC_COLUMNS))
    assert tracker.observe(1, current) is None
    for _ in range(data.draw(st.integers(min_value=0, max_value=30))):
        targets = [t for (s, t) in SPEC_ALLOWED if s == current] + [current]
        current = data.draw(st.sampled_from(targets))
        assert tracker.observe(1, current) is None


@given(st.integers(min_value=1, max_value=10), st.sampled_from(SPEC_COLUMNS), st.sampled_from(SPEC_COLUMNS))
def test_a_transition_is_reported_exactly_when_the_spec_table_forbids_it(
    connector_id: int, source: str, target: str
) -> None:
    forbidden = source != target and SPEC[(source, target)] is None
    assert (transition_error(connector_id, source, target) is not None) == forbidden
