"""The frame trace (harness/trace.py): rendering, JSON export, notes, and redaction of the AuthorizationKey."""

from __future__ import annotations

import json

import pytest

from harness.trace import Trace, redact

SECRET = "Sup3r-S3cret-Key-0xC0FFEE"
CHANGE_KEY = f'[2,"42","ChangeConfiguration",{{"key":"AuthorizationKey","value":"{SECRET}"}}]'
HEARTBEAT = '[2,"1","Heartbeat",{}]'
HEARTBEAT_CONF = '[3,"1",{"currentTime":"2026-11-25T12:00:00Z"}]'


def three_entry_trace() -> Trace:
    trace = Trace("TC_001")
    trace.add("sent", HEARTBEAT, connection="c1")
    trace.add("received", HEARTBEAT_CONF, connection="c1")
    trace.event("connection closed", connection="c1")
    return trace


def test_render_lists_entries_in_order_with_direction_arrows():
    lines = three_entry_trace().render().splitlines()
    assert len(lines) == 3
    assert "harness -> SUT" in lines[0] and lines[0].endswith(HEARTBEAT)
    assert "SUT -> harness" in lines[1] and lines[1].endswith(HEARTBEAT_CONF)
    assert " -- " in lines[2] and lines[2].endswith("connection closed")


def test_render_shows_time_since_the_trace_began_and_wall_clock_in_milliseconds():
    trace = three_entry_trace()
    first = trace.render().splitlines()[0]
    offset, wall = first.split()[:2]
    assert offset.endswith("s") and float(offset[:-1]) >= 0
    assert wall == trace.entries[0].wall.isoformat(timespec="milliseconds")


def test_render_last_shows_only_the_latest_entries():
    lines = three_entry_trace().render(last=2).splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(HEARTBEAT_CONF) and lines[1].endswith("connection closed")


def test_an_empty_trace_renders_a_placeholder():
    assert Trace().render() == "(no frames)"


def test_add_returns_the_recorded_entry_with_its_connection():
    trace = Trace()
    entry = trace.add("received", HEARTBEAT, connection="cp-1")
    assert trace.entries == [entry]
    assert (entry.direction, entry.text, entry.connection, entry.note) == ("received", HEARTBEAT, "cp-1", "")
    assert entry.wall.tzinfo is not None


def test_annotate_appends_a_note_to_the_rendered_line():
    trace = Trace()
    entry = trace.add("received", HEARTBEAT)
    trace.annotate(entry, "answered by default")
    assert trace.render().endswith(f"{HEARTBEAT}   [answered by default]")
    trace.annotate(entry, "late")
    assert entry.note == "answered by default; late"
    assert trace.render().endswith("[answered by default; late]")


def test_redact_hides_the_authorization_key_value_of_change_configuration():
    text = redact(CHANGE_KEY)
    assert SECRET not in text
    assert json.loads(text) == [2, "42", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "***"}]


@pytest.mark.parametrize("frame", [
    HEARTBEAT,
    HEARTBEAT_CONF,
    '[2,"5","ChangeConfiguration",{"key":"HeartbeatInterval","value":"60"}]',
    '[3,"42",{"status":"Accepted"}]',
    '[4,"42","GenericError","",{}]',
    "not json at all",
])
def test_redact_leaves_frames_without_the_secret_key_untouched(frame):
    assert redact(frame) == frame


def test_redact_leaves_a_change_configuration_without_a_value_untouched():
    frame = '[2,"42","ChangeConfiguration",{"key":"AuthorizationKey"}]'
    assert redact(frame) == frame


def test_a_frame_naming_the_secret_key_that_is_not_json_is_withheld():
    text = redact(f'[2,"42","ChangeConfiguration",{{"key":"AuthorizationKey","value":"{SECRET}"')
    assert SECRET not in text
    assert "withheld" in text


def test_render_redacts_but_the_entry_keeps_the_original_text():
    trace = Trace()
    entry = trace.add("sent", CHANGE_KEY)
    trace.add("sent", HEARTBEAT)
    rendered = trace.render()
    assert SECRET not in rendered
    assert '"value":"***"' in rendered
    assert rendered.splitlines()[1].endswith(HEARTBEAT)
    assert entry.text == CHANGE_KEY


def test_as_json_redacts_and_carries_every_field():
    trace = Trace()
    entry = trace.add("sent", CHANGE_KEY, connection="c1")
    trace.annotate(entry, "security profile 1")
    trace.add("received", '[3,"42",{"status":"Accepted"}]', connection="c1")
    exported = trace.as_json()
    assert SECRET not in json.dumps(exported)
    first, second = exported
    assert set(first) == {"direction", "text", "wall", "t", "connection", "note"}
    assert (first["direction"], first["connection"], first["note"]) == ("sent", "c1", "security profile 1")
    assert json.loads(first["text"])[3]["value"] == "***"
    assert second["text"] == '[3,"42",{"status":"Accepted"}]'
    assert 0 <= first["t"] <= second["t"]


def test_redact_hides_the_value_when_the_key_is_spelled_with_a_json_escape():
    frame = f'[2,"42","ChangeConfiguration",{{"key":"Authorization\\u004bey","value":"{SECRET}"}}]'
    assert json.loads(frame)[3]["key"] == "AuthorizationKey"
    assert SECRET not in redact(frame)


def test_a_get_configuration_request_naming_the_secret_key_is_kept_as_it_is() -> None:
    """GetConfiguration.req lists keys (no value to hide): redaction must not choke on the list."""
    text = '[2,"1","GetConfiguration",{"key":["AuthorizationKey","HeartbeatInterval"]}]'
    assert redact(text) == text
