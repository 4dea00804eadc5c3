"""Payload patterns (harness/matching.py): ANY, OneOf, Regex, Where, nested dicts, mismatches and diff."""

from __future__ import annotations

import pytest

from harness.matching import ANY, Mismatch, OneOf, Regex, Where, diff, mismatches


def matches(pattern, payload) -> bool:
    return mismatches(pattern, payload) == []


# --- exact values ---------------------------------------------------------------------------------
def test_an_exact_value_matches_only_an_equal_value():
    assert matches({"status": "Accepted"}, {"status": "Accepted"})
    (m,) = mismatches({"status": "Accepted"}, {"status": "Rejected"})
    assert (m.path, m.expected, m.actual, m.missing) == ("$.status", "Accepted", "Rejected", False)


def test_fields_the_pattern_does_not_name_are_not_checked():
    assert matches({"status": "Accepted"}, {"status": "Accepted", "interval": 60, "currentTime": "x"})


def test_an_empty_pattern_matches_any_object():
    assert matches({}, {"anything": 1})


@pytest.mark.parametrize("expected, actual", [(True, 1), (1, True), (False, 0), (0, False)])
def test_a_boolean_never_matches_the_equal_integer(expected, actual):
    assert not matches({"flag": expected}, {"flag": actual})


def test_a_boolean_matches_the_same_boolean_and_an_integer_the_same_integer():
    assert matches({"flag": True, "n": 1}, {"flag": True, "n": 1})


def test_an_integer_pattern_matches_the_equal_float():
    assert matches({"limit": 16}, {"limit": 16.0})


def test_none_is_a_plain_value_that_matches_only_none():
    assert matches({"x": None}, {"x": None})
    assert not matches({"x": None}, {"x": 0})


# --- ANY ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, "", None, [], {}, False, "2026-11-25T12:00:00Z"])
def test_any_matches_every_present_value(value):
    assert matches({"transactionId": ANY}, {"transactionId": value})


def test_any_still_requires_the_field_to_be_present():
    (m,) = mismatches({"transactionId": ANY}, {})
    assert m.missing and m.path == "$.transactionId"
    assert str(m) == "$.transactionId: missing, expected ANY"


# --- OneOf ----------------------------------------------------------------------------------------
def test_one_of_matches_any_of_its_values():
    pattern = {"status": OneOf("Accepted", "Pending")}
    assert matches(pattern, {"status": "Accepted"})
    assert matches(pattern, {"status": "Pending"})
    (m,) = mismatches(pattern, {"status": "Rejected"})
    assert "one of ['Accepted', 'Pending']" in str(m)


def test_one_of_can_hold_other_matchers():
    pattern = {"idTag": OneOf(Regex(r"TAG_\d+"), "SPECIAL")}
    assert matches(pattern, {"idTag": "TAG_7"})
    assert matches(pattern, {"idTag": "SPECIAL"})
    assert not matches(pattern, {"idTag": "OTHER"})


def test_one_of_keeps_boolean_strictness():
    assert not matches({"flag": OneOf(1, 2)}, {"flag": True})
    assert matches({"flag": OneOf(True, "yes")}, {"flag": True})


def test_an_empty_one_of_matches_nothing():
    assert not matches({"x": OneOf()}, {"x": 1})


# --- Regex ----------------------------------------------------------------------------------------
def test_a_regex_must_match_the_whole_string():
    pattern = {"idTag": Regex(r"TAG_\d+")}
    assert matches(pattern, {"idTag": "TAG_12"})
    assert not matches(pattern, {"idTag": "TAG_12x"})
    assert not matches(pattern, {"idTag": "xTAG_12"})


@pytest.mark.parametrize("value", [12, None, ["TAG_1"], True])
def test_a_regex_never_matches_a_non_string(value):
    assert not matches({"idTag": Regex(r".*")}, {"idTag": value})


def test_a_regex_describes_itself_in_a_mismatch():
    (m,) = mismatches({"idTag": Regex(r"A+")}, {"idTag": "B"})
    assert str(m) == "$.idTag: expected a string matching /A+/, got 'B'"


# --- Where ----------------------------------------------------------------------------------------
def test_where_matches_when_the_predicate_is_true():
    positive = Where(lambda v: v > 0, "a positive number")
    assert matches({"meterStart": positive}, {"meterStart": 5})
    (m,) = mismatches({"meterStart": positive}, {"meterStart": -1})
    assert str(m) == "$.meterStart: expected a positive number, got -1"


def test_where_uses_the_truthiness_of_the_predicate_result():
    assert matches({"x": Where(lambda v: v, "truthy")}, {"x": [1]})
    assert not matches({"x": Where(lambda v: v, "truthy")}, {"x": []})


@pytest.mark.parametrize("value", ["five", None, {}])
def test_a_where_predicate_that_raises_is_a_non_match(value):
    positive = Where(lambda v: v > 0, "a positive number")
    (m,) = mismatches({"meterStart": positive}, {"meterStart": value})
    assert m.actual == value


# --- nesting and missing fields -------------------------------------------------------------------
def test_nested_dicts_match_recursively():
    pattern = {"idTagInfo": {"status": "Accepted"}}
    assert matches(pattern, {"idTagInfo": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z"}})
    (m,) = mismatches(pattern, {"idTagInfo": {"status": "Blocked"}})
    assert (m.path, m.expected, m.actual) == ("$.idTagInfo.status", "Accepted", "Blocked")


def test_a_missing_nested_field_is_reported_with_its_full_path():
    (m,) = mismatches({"idTagInfo": {"status": "Accepted"}}, {"idTagInfo": {}})
    assert m == Mismatch("$.idTagInfo.status", "Accepted", None, missing=True)


def test_a_missing_nested_object_is_reported_once_at_its_own_path():
    (m,) = mismatches({"idTagInfo": {"status": "Accepted"}}, {})
    assert m.path == "$.idTagInfo" and m.missing


def test_a_nested_pattern_against_a_non_object_is_one_mismatch():
    (m,) = mismatches({"idTagInfo": {"status": "Accepted"}}, {"idTagInfo": "Accepted"})
    assert (m.path, m.expected, m.actual) == ("$.idTagInfo", {"status": "Accepted"}, "Accepted")


def test_a_payload_that_is_not_an_object_is_one_mismatch_at_the_root():
    (m,) = mismatches({"status": "Accepted"}, ["Accepted"])
    assert m.path == "$" and m.actual == ["Accepted"]


def test_every_difference_is_reported():
    found = mismatches({"a": 1, "b": ANY, "c": {"d": 2}}, {"a": 2, "c": {"d": 3}})
    assert [(m.path, m.missing) for m in found] == [("$.a", False), ("$.b", True), ("$.c.d", False)]


def test_a_list_value_matches_an_equal_list():
    assert matches({"keys": ["A", "B"]}, {"keys": ["A", "B"]})
    assert not matches({"keys": ["A", "B"]}, {"keys": ["B", "A"]})


def test_a_boolean_inside_a_list_does_not_match_the_equal_integer():
    assert not matches({"values": [True]}, {"values": [1]})


# --- diff -----------------------------------------------------------------------------------------
def test_diff_mentions_the_changed_field_and_both_values():
    text = diff({"status": "Accepted", "interval": 60}, {"status": "Rejected", "interval": 60})
    assert "status" in text and "Accepted" in text and "Rejected" in text
    assert "interval" not in text


def test_diff_ignores_payload_fields_the_pattern_does_not_name():
    text = diff({"status": "Accepted"}, {"status": "Accepted", "interval": 60})
    assert "interval" not in text
    assert text.startswith("(no difference in plain values")


def test_diff_reports_a_field_missing_from_the_payload():
    text = diff({"status": "Accepted"}, {})
    assert "status" in text


def test_diff_of_a_non_object_payload_still_renders():
    assert diff({"status": "Accepted"}, "oops")


def test_diff_does_not_mention_fields_whose_matcher_is_not_a_plain_value():
    assert "'a'" not in diff({"a": ANY, "b": 1}, {"a": 5, "b": 2})
    assert diff({"a": ANY}, {"a": 5}).startswith("(no difference in plain values")


def test_diff_does_not_report_a_satisfied_matcher_nested_in_a_sub_dict():
    assert "_Any" not in diff({"idTagInfo": {"status": ANY}}, {"idTagInfo": {"status": "Accepted"}})
