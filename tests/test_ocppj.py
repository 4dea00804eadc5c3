"""OCPP-J framing (harness/ocppj.py): parse, serialize, and the RPC bookkeeping of RpcState."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.ocppj import (
    MAX_UNIQUE_ID_LENGTH,
    Call,
    CallError,
    CallResult,
    ErrorCode,
    MalformedFrame,
    MessageType,
    RpcState,
    parse,
    serialize,
)

FV = ErrorCode.FORMATION_VIOLATION
PE = ErrorCode.PROTOCOL_ERROR
TCV = ErrorCode.TYPE_CONSTRAINT_VIOLATION
PARSED_TYPES = (Call, CallResult, CallError, MalformedFrame)


def malformed(raw: str | bytes) -> MalformedFrame:
    result = parse(raw)
    assert isinstance(result, MalformedFrame), f"{raw!r} parsed as {result!r}"
    return result


# --- every MalformedFrame kind --------------------------------------------------------------------
# (raw frame, kind, OCPP-J error code, answerable, message_type, unique_id)
MALFORMED = [
    pytest.param("not json", "not_json", FV, False, None, None, id="not_json-garbage"),
    pytest.param('[2,"1","Heartbeat",{}', "not_json", FV, False, None, None, id="not_json-truncated"),
    pytest.param("", "not_json", FV, False, None, None, id="not_json-empty-text"),
    pytest.param('{"a":1}', "not_array", FV, False, None, None, id="not_array-object"),
    pytest.param('"text"', "not_array", FV, False, None, None, id="not_array-string"),
    pytest.param("2", "not_array", FV, False, None, None, id="not_array-number"),
    pytest.param("null", "not_array", FV, False, None, None, id="not_array-null"),
    pytest.param("[]", "empty_array", FV, False, None, None, id="empty_array"),
    pytest.param('[1,"1","Heartbeat",{}]', "unknown_message_type", FV, False, None, None, id="unknown_type-1"),
    pytest.param('[5,"1","Heartbeat",{}]', "unknown_message_type", FV, False, None, None, id="unknown_type-5"),
    pytest.param('[true,"1","Heartbeat",{}]', "unknown_message_type", FV, False, None, None, id="unknown_type-true"),
    pytest.param('["2","1","Heartbeat",{}]', "unknown_message_type", FV, False, None, None, id="unknown_type-string-2"),
    pytest.param("[null]", "unknown_message_type", FV, False, None, None, id="unknown_type-null"),
    # too few elements: ProtocolError (payload incomplete); too many: FormationViolation
    pytest.param('[2,"1","Heartbeat"]', "wrong_element_count", PE, True, 2, "1", id="call-too-few"),
    pytest.param('[2,"1","Heartbeat",{},{}]', "wrong_element_count", FV, True, 2, "1", id="call-too-many"),
    pytest.param("[2]", "wrong_element_count", PE, False, 2, None, id="call-type-only"),
    pytest.param('[3,"1"]', "wrong_element_count", PE, False, 3, "1", id="callresult-too-few"),
    pytest.param('[3,"1",{},{}]', "wrong_element_count", FV, False, 3, "1", id="callresult-too-many"),
    pytest.param('[4,"1","GenericError",""]', "wrong_element_count", PE, False, 4, "1", id="callerror-too-few"),
    pytest.param('[4,"1","GenericError","",{},{}]', "wrong_element_count", FV, False, 4, "1", id="callerror-too-many"),
    pytest.param('[2,1,"Heartbeat",{}]', "unique_id_not_string", FV, False, 2, None, id="call-numeric-id"),
    pytest.param('[2,null,"Heartbeat",{}]', "unique_id_not_string", FV, False, 2, None, id="call-null-id"),
    pytest.param("[3,1,{}]", "unique_id_not_string", FV, False, 3, None, id="callresult-numeric-id"),
    pytest.param('[4,true,"GenericError","",{}]', "unique_id_not_string", FV, False, 4, None, id="callerror-bool-id"),
    pytest.param(f'[2,"{"x" * 37}","Heartbeat",{{}}]', "unique_id_too_long", TCV, True, 2, "x" * 37, id="call-id-37"),
    pytest.param(f'[3,"{"x" * 37}",{{}}]', "unique_id_too_long", TCV, False, 3, "x" * 37, id="callresult-id-37"),
    pytest.param('[2,"1",5,{}]', "action_not_string", FV, True, 2, "1", id="action-number"),
    pytest.param('[2,"1",null,{}]', "action_not_string", FV, True, 2, "1", id="action-null"),
    pytest.param('[2,"1","Heartbeat",[]]', "payload_not_object", FV, True, 2, "1", id="call-payload-array"),
    pytest.param('[2,"1","Heartbeat",null]', "payload_not_object", FV, True, 2, "1", id="call-payload-null"),
    pytest.param('[3,"1",[]]', "payload_not_object", FV, False, 3, "1", id="callresult-payload-array"),
    pytest.param('[3,"1","ok"]', "payload_not_object", FV, False, 3, "1", id="callresult-payload-string"),
    pytest.param('[4,"1",5,"",{}]', "error_code_not_string", FV, False, 4, "1", id="error-code-number"),
    pytest.param('[4,"1","GenericError",null,{}]', "error_description_not_string", FV, False, 4, "1",
                 id="error-description-null"),
    pytest.param('[4,"1","GenericError",7,{}]', "error_description_not_string", FV, False, 4, "1",
                 id="error-description-number"),
    pytest.param('[4,"1","GenericError","",null]', "error_details_not_object", FV, False, 4, "1",
                 id="error-details-null"),
    pytest.param('[4,"1","GenericError","",[]]', "error_details_not_object", FV, False, 4, "1",
                 id="error-details-array"),
    pytest.param('[4,"1","GenericError","","x"]', "error_details_not_object", FV, False, 4, "1",
                 id="error-details-string"),
    pytest.param(b'[2,"1","Heartbeat",{}]', "binary_frame", FV, False, None, None, id="binary-bytes"),
    pytest.param(bytearray(b"\x00\x01"), "binary_frame", FV, False, None, None, id="binary-bytearray"),
]


@pytest.mark.parametrize("raw, kind, code, answerable, message_type, unique_id", MALFORMED)
def test_each_malformed_frame_is_named_with_its_ocppj_error_code_and_answerability(
    raw, kind, code, answerable, message_type, unique_id
):
    frame = malformed(raw)
    assert frame.kind == kind
    assert frame.error_code is code
    assert frame.answerable is answerable
    assert frame.message_type == message_type
    assert frame.unique_id == unique_id
    assert frame.description


def test_every_documented_malformed_kind_is_covered_by_the_table():
    documented = {
        "not_json", "not_array", "empty_array", "unknown_message_type", "wrong_element_count",
        "unique_id_not_string", "unique_id_too_long", "action_not_string", "payload_not_object",
        "error_code_not_string", "error_description_not_string", "error_details_not_object", "binary_frame",
    }
    assert {p.values[1] for p in MALFORMED} == documented


def test_a_call_with_a_numeric_unique_id_is_a_formation_violation():
    frame = malformed('[2,12345,"Heartbeat",{}]')
    assert frame.kind == "unique_id_not_string"
    assert frame.error_code is ErrorCode.FORMATION_VIOLATION
    assert not frame.answerable  # there is no string id to address a CALLERROR to


def test_a_boolean_true_type_id_is_not_taken_for_the_number_one_or_any_message_type():
    assert malformed('[true,"1","Heartbeat",{}]').kind == "unknown_message_type"
    assert malformed('[false,"1",{}]').kind == "unknown_message_type"


def test_a_unique_id_of_36_characters_is_fine_and_37_is_a_type_constraint_violation():
    assert MAX_UNIQUE_ID_LENGTH == 36
    ok = parse(json.dumps([2, "a" * 36, "Heartbeat", {}]))
    assert ok == Call("a" * 36, "Heartbeat", {})
    too_long = malformed(json.dumps([2, "a" * 37, "Heartbeat", {}]))
    assert too_long.kind == "unique_id_too_long"
    assert too_long.error_code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert "37" in too_long.description


def test_a_malformed_frame_keeps_the_raw_text_it_came_from():
    raw = '[2,"1","Heartbeat",[]]'
    assert malformed(raw).raw == raw


def test_a_binary_frame_is_recorded_as_a_repr_of_its_bytes():
    frame = malformed(b"\xff\x00abc")
    assert frame.raw == repr(b"\xff\x00abc")
    assert "binary" in frame.description


def test_a_deeply_nested_array_is_not_json_rather_than_a_crash():
    assert malformed("[" * 100_000 + "]" * 100_000).kind == "not_json"  # RecursionError is caught


def test_a_well_formed_call_callresult_and_callerror_parse_to_their_types():
    assert parse('[2,"19223201","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]') == Call(
        "19223201", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
    )
    assert parse('[3,"19223201",{"status":"Accepted"}]') == CallResult("19223201", {"status": "Accepted"})
    assert parse('[4,"19223201","NotImplemented","",{}]') == CallError("19223201", "NotImplemented", "", {})


def test_an_empty_description_and_empty_details_make_a_valid_callerror():
    result = parse('[4,"x","GenericError","",{}]')
    assert isinstance(result, CallError)
    assert result.error_description == "" and result.error_details == {}


def test_parsed_messages_report_their_message_type():
    assert parse('[2,"1","Heartbeat",{}]').message_type is MessageType.CALL
    assert parse('[3,"1",{}]').message_type is MessageType.CALLRESULT
    assert parse('[4,"1","GenericError","",{}]').message_type is MessageType.CALLERROR


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(literal):
    result = parse('[2,"1","DataTransfer",{"vendorId":"v","data":%s}]' % literal)
    assert isinstance(result, MalformedFrame) and result.kind == "not_json"


# --- parse never raises ---------------------------------------------------------------------------
json_scalars = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)
# bounded: the whole module runs in a few seconds; no example database is written into the repo
FAST = settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text())
def test_parse_of_any_text_returns_a_message_or_malformed_frame_without_raising(text):
    assert isinstance(parse(text), PARSED_TYPES)


@FAST
@given(json_values)
def test_parse_of_any_json_value_returns_a_message_or_malformed_frame_without_raising(value):
    assert isinstance(parse(json.dumps(value)), PARSED_TYPES)


@FAST
@given(st.sampled_from([2, 3, 4]), st.lists(json_values, max_size=5))
def test_parse_of_any_array_starting_with_a_valid_type_id_never_raises(type_id, rest):
    result = parse(json.dumps([type_id, *rest]))
    assert isinstance(result, PARSED_TYPES)
    if isinstance(result, MalformedFrame):
        assert result.message_type == type_id


@FAST
@given(st.binary())
def test_parse_of_any_bytes_is_a_binary_frame(data):
    assert malformed(data).kind == "binary_frame"


# --- serialize ------------------------------------------------------------------------------------
unique_ids = st.text(max_size=MAX_UNIQUE_ID_LENGTH)
payloads = st.dictionaries(st.text(max_size=12), json_values, max_size=4)


@FAST
@given(unique_ids, st.text(min_size=1, max_size=40), payloads)
def test_a_call_survives_serialize_then_parse(uid, action, payload):
    message = Call(uid, action, payload)
    assert parse(serialize(message)) == message


@FAST
@given(unique_ids, payloads)
def test_a_callresult_survives_serialize_then_parse(uid, payload):
    message = CallResult(uid, payload)
    assert parse(serialize(message)) == message


@FAST
@given(unique_ids, st.sampled_from(list(ErrorCode)) | st.text(max_size=30), st.text(max_size=60), payloads)
def test_a_callerror_survives_serialize_then_parse(uid, code, description, details):
    message = CallError(uid, code, description, details)
    back = parse(serialize(message))
    assert isinstance(back, CallError)
    assert back == message
    assert back.error_code == (code.value if isinstance(code, ErrorCode) else code)


def test_serialize_writes_compact_json_and_keeps_non_ascii_characters():
    text = serialize(Call("1", "DataTransfer", {"vendorId": "Zoë", "data": "Grüße ⚡ 充电"}))
    assert text == '[2,"1","DataTransfer",{"vendorId":"Zoë","data":"Grüße ⚡ 充电"}]'
    assert serialize(CallResult("1", {})) == '[3,"1",{}]'


def test_serialize_writes_an_error_code_enum_as_its_ocpp_spelling():
    text = serialize(CallError("7", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION, "missing idTag"))
    assert text == '[4,"7","OccurenceConstraintViolation","missing idTag",{}]'


# --- RpcState -------------------------------------------------------------------------------------
def test_new_call_while_one_is_unanswered_raises():
    state = RpcState()
    first = state.new_call("Heartbeat", {})
    with pytest.raises(RuntimeError, match="still unanswered"):
        state.new_call("Heartbeat", {})
    assert state.our_pending is first


def test_default_unique_ids_are_distinct_strings():
    state = RpcState()
    first = state.new_call("Heartbeat", {})
    state.abandon()
    second = state.new_call("Heartbeat", {})
    assert isinstance(first.unique_id, str) and first.unique_id != second.unique_id


def test_an_injected_id_factory_provides_the_unique_ids():
    ids = iter(["a", "b"])
    state = RpcState(id_factory=lambda: next(ids))
    assert state.new_call("Heartbeat", {}) == Call("a", "Heartbeat", {})


def test_abandon_frees_the_slot_for_the_next_call():
    state = RpcState()
    state.new_call("Heartbeat", {})
    state.abandon()
    assert state.our_pending is None
    assert state.new_call("Reset", {"type": "Soft"}).action == "Reset"


@pytest.mark.parametrize("reply_of", [
    lambda uid: CallResult(uid, {"currentTime": "2026-11-25T12:00:00Z"}),
    lambda uid: CallError(uid, "NotImplemented"),
], ids=["callresult", "callerror"])
def test_a_matching_reply_clears_our_outstanding_call(reply_of):
    state = RpcState()
    call = state.new_call("Heartbeat", {})
    assert state.receive(reply_of(call.unique_id)) == []
    assert state.our_pending is None
    state.new_call("Heartbeat", {})  # the slot is free again


def test_a_reply_with_an_unknown_unique_id_is_an_unmatched_reply_and_keeps_our_call_pending():
    state = RpcState()
    call = state.new_call("Heartbeat", {})
    reply = CallResult("not-" + call.unique_id, {})
    (violation,) = state.receive(reply)
    assert violation.kind == "unmatched_reply"
    assert violation.message is reply
    assert call.unique_id in violation.description
    assert state.our_pending is call


def test_a_reply_when_nothing_is_outstanding_is_an_unmatched_reply():
    state = RpcState()
    (violation,) = state.receive(CallError("42", "GenericError"))
    assert violation.kind == "unmatched_reply"
    assert "CALLERROR" in violation.description and "no reply" in violation.description


def test_a_late_reply_to_an_abandoned_call_is_an_unmatched_reply():
    state = RpcState()
    call = state.new_call("Heartbeat", {})
    state.abandon()
    assert [v.kind for v in state.receive(CallResult(call.unique_id, {}))] == ["unmatched_reply"]


def test_a_second_peer_call_while_the_first_is_unanswered_is_a_concurrent_call():
    state = RpcState()
    assert state.receive(Call("p1", "Heartbeat", {})) == []
    (violation,) = state.receive(Call("p2", "StatusNotification", {}))
    assert violation.kind == "concurrent_call"
    assert "Heartbeat (p1)" in violation.description


def test_replied_clears_the_peer_call_so_the_next_one_is_fine():
    state = RpcState()
    state.receive(Call("p1", "Heartbeat", {}))
    state.replied("p1")
    assert state.peer_pending == {}
    assert state.receive(Call("p2", "Heartbeat", {})) == []


def test_replied_for_an_unknown_id_is_harmless():
    state = RpcState()
    state.replied("never-seen")
    assert state.peer_pending == {}


def test_a_peer_reusing_a_unique_id_is_a_duplicate_unique_id():
    state = RpcState()
    state.receive(Call("same", "Heartbeat", {}))
    state.replied("same")
    (violation,) = state.receive(Call("same", "Heartbeat", {}))
    assert violation.kind == "duplicate_unique_id"
    assert "'same'" in violation.description


def test_a_reused_id_while_still_unanswered_is_both_concurrent_and_duplicate():
    state = RpcState()
    state.receive(Call("same", "Heartbeat", {}))
    kinds = [v.kind for v in state.receive(Call("same", "Heartbeat", {}))]
    assert sorted(kinds) == ["concurrent_call", "duplicate_unique_id"]


def test_the_two_directions_are_independent():
    state = RpcState()
    ours = state.new_call("Reset", {"type": "Soft"})
    assert state.receive(Call("p1", "StatusNotification", {})) == []
    assert state.receive(CallResult(ours.unique_id, {"status": "Accepted"})) == []
    assert state.our_pending is None
    assert set(state.peer_pending) == {"p1"}


@pytest.mark.parametrize("type_id", [2.0, 3.0, "2"])
def test_a_message_type_id_that_is_not_an_integer_is_a_formation_violation(type_id):
    frame = parse(json.dumps([type_id, "1", "Heartbeat", {}]))
    assert isinstance(frame, MalformedFrame) and frame.kind == "unknown_message_type"
    assert frame.error_code is ErrorCode.FORMATION_VIOLATION
