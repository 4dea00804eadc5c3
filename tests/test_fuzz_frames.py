"""Every probe a bad SUT can send, generated: the harness's parser, schema check and session survive it.

Hypothesis generates arbitrary text and bytes, JSON of any shape, arrays that look like
OCPP-J frames with one thing wrong, JSON beyond what a parser must accept (NaN, 1e400,
duplicate names, deep nesting, lone surrogates, a BOM), and valid CALLs of every OCPP 1.6
action with one field mutated. The properties:

* :func:`ocppj.parse` never raises and classifies every frame: a message, or a
  MalformedFrame whose kind and OCPP-J 1.6 error code follow the framing rules (an
  oracle below restates them from OCPP-J sections 4.1-4.2 and the error code table);
  ``serialize(parse(x))`` gives the same frame back as sendable UTF-8 text.
* :func:`schemas.validate` never raises, accepts every schema-valid payload, and names
  a mutated field with the code the OCPP-J table gives for the rule it breaks.
* A :class:`Session` keeps reading after every frame, finishes each within a deadline,
  records every frame both ways in the trace, reports every defect, and answers every
  answerable bad CALL with a CALLERROR carrying the right code.
* :class:`RpcState` agrees with a model of the one-outstanding-CALL rule on any interleaving.

``benchmarks/bench_fuzz_frames.py`` runs the same strategies over 10^5 inputs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta, timezone
from functools import cache
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import ocppj, schemas
from harness.errors import StepFailure
from harness.ocppj import (
    MAX_NESTING_DEPTH,
    MAX_UNIQUE_ID_LENGTH,
    Call,
    CallError,
    CallResult,
    ErrorCode,
    MalformedFrame,
    RpcState,
    parse,
    serialize,
)
from harness.session import Session
from harness.trace import Trace
from harness.waits import within

FV = ErrorCode.FORMATION_VIOLATION
PE = ErrorCode.PROTOCOL_ERROR
TCV = ErrorCode.TYPE_CONSTRAINT_VIOLATION
PCV = ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
OCV = ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
VALID_CODES = frozenset(code.value for code in ErrorCode)
ELEMENTS = {2: 4, 3: 3, 4: 5}  # elements of a CALL, CALLRESULT, CALLERROR (OCPP-J 4.2)
FRAME_DEADLINE = 2.0  # seconds a session may take over one frame; in practice it takes well under 1 ms


def fuzz(examples: int) -> settings:
    """Bounded example counts (the whole module runs in a few seconds); no example database in the repo."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


# --- strategies: JSON values and frame-shaped arrays ------------------------------------------------
huge_ints = st.sampled_from([2**31, 2**63, -(2**63) - 1, 2**64, 10**30, 10**400, -(10**400)])
json_scalars = (st.none() | st.booleans() | st.integers() | huge_ints
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=6,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=3)

type_ids = st.sampled_from([2, 3, 4]) | st.sampled_from([2.0, 3.0, "2", "3", True, False, 0, 1, 5, -1, 2**64, None, [], {}])
lone_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
unique_ids = st.one_of(
    st.text(max_size=MAX_UNIQUE_ID_LENGTH),
    st.just(""),
    st.text(min_size=MAX_UNIQUE_ID_LENGTH + 1, max_size=80),  # CiString36 overrun
    st.text(alphabet=st.characters(min_codepoint=0x80), min_size=1, max_size=MAX_UNIQUE_ID_LENGTH),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), lone_surrogates, st.text(max_size=5)),
    st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2),  # not strings
)
actions = st.sampled_from(sorted(schemas.ACTIONS)) | st.sampled_from(["FooBar", "", "heartbeat", "Heartbeat "]) | st.text(max_size=20)
error_codes = st.sampled_from(sorted(VALID_CODES)) | st.sampled_from(["FormatViolation", "OccurrenceConstraintViolation",
                                                                       "MessageTypeNotSupported", "RpcFrameworkError", ""])


@st.composite
def frame_like_values(draw: st.DrawFn) -> Any:
    """A JSON array shaped like an OCPP-J frame: right or wrong type id, arity, element types."""
    type_id = draw(type_ids)
    uid = draw(unique_ids)
    shape = type_id if type(type_id) is int and type_id in ELEMENTS else draw(st.sampled_from(sorted(ELEMENTS)))
    if shape == 2:
        rest = [draw(actions | json_values), draw(json_objects | json_values)]
    elif shape == 3:
        rest = [draw(json_objects | json_values)]
    else:
        rest = [draw(error_codes | json_values), draw(st.text(max_size=30) | json_values), draw(json_objects | json_values)]
    frame = [type_id, uid, *rest]
    arity = draw(st.sampled_from([len(frame)] * 4 + list(range(8))))  # mostly right, sometimes wrong
    return frame[:arity] + [draw(json_scalars) for _ in range(arity - len(frame))]


@st.composite
def json_texts(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> str:
    """``values`` written as JSON text in any legal spelling: escaped or not, spaced, indented, padded."""
    text = json.dumps(draw(values), ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : ")])),
                      indent=draw(st.sampled_from([None, None, 0, 2])))
    pad = st.sampled_from(["", "", " ", "\n", "\t", "\r\n", " \n\t "])
    return draw(pad) + text + draw(pad)


# --- JSON beyond what a parser must accept: each literal with the value it stands for -------------
class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


NOT_JSON = _Marker("NOT_JSON")  # parse must refuse the frame as not_json
DUPLICATE = _Marker("DUPLICATE")  # an object with a repeated name (a lenient decoder reads {"a": 2})
ODD_KEY = "odd-literal-member"  # longer than any generated name, so never a duplicate by accident
ODD_LITERALS: list[tuple[str, Any]] = [
    ("NaN", NOT_JSON), ("Infinity", NOT_JSON), ("-Infinity", NOT_JSON),  # not JSON (RFC 8259 section 6)
    ("1e400", NOT_JSON), ("-1E999", NOT_JSON),  # beyond a double: read as inf by Python
    ("9" * 5000, NOT_JSON),  # beyond Python's 4300-digit integer conversion limit
    (_nested(MAX_NESTING_DEPTH + 1), NOT_JSON),
    ('{"a":' * (MAX_NESTING_DEPTH + 1) + "0" + "}" * (MAX_NESTING_DEPTH + 1), NOT_JSON),
    (_nested(5000), NOT_JSON),  # deeper than the interpreter's recursion limit
    ("tru", NOT_JSON), ("01", NOT_JSON), (".5", NOT_JSON), ("'x'", NOT_JSON), ('"open', NOT_JSON),
    ('"tab\there"', NOT_JSON), ('"\\x41"', NOT_JSON), ("[1,]", NOT_JSON), ('{"a":1,}', NOT_JSON), (",", NOT_JSON),
    ('{"a":1,"a":2}', DUPLICATE),
    ('"\\ud800"', "\ud800"), ('"\\udfff"', "\udfff"), ('"\\ude00\\ud83d"', "\ude00\ud83d"),  # lone surrogates
    ('"\\ud83d\\ude00"', "\U0001f600"), ('"\\u0000"', "\x00"), ('"\\/"', "/"),
    ("1e-400", 0.0), ("-0", 0), ("0.1e1", 1.0), ("-0.0", -0.0), ("1E+2", 100.0),
    (_nested(MAX_NESTING_DEPTH - 2), json.loads(_nested(MAX_NESTING_DEPTH - 2))),  # deep, allowed where it fits
]


@st.composite
def odd_frames(draw: st.DrawFn) -> tuple[str, Any]:
    """A frame-shaped array with one element (or a payload member) written as an odd literal.

    Returns the text and the Python value it stands for (NOT_JSON when parse must refuse it;
    the value holds DUPLICATE where the repeated name is).
    """
    frame = draw(frame_like_values())
    literal, value = draw(st.sampled_from(ODD_LITERALS))
    parts = [json.dumps(element) for element in frame]
    where = draw(st.integers(0, len(parts)))
    if where < len(parts) and isinstance(frame[where], dict) and draw(st.booleans()):
        # inside an object: {ODD_KEY: <literal>, ...the members it had...}
        member = json.dumps(frame[where])[1:]
        parts[where] = f'{{"{ODD_KEY}":' + literal + ("," + member if member != "}" else "}")
        frame[where] = {ODD_KEY: value, **frame[where]}
    elif where < len(parts):
        parts[where], frame[where] = literal, value
    else:
        parts.append(literal)
        frame.append(value)
    text = "[" + ",".join(parts) + "]"
    if draw(st.integers(0, 9)) == 0:
        return "\ufeff" + text, NOT_JSON  # a byte order mark is not JSON text (RFC 8259 section 8.1)
    return text, NOT_JSON if _contains(frame, NOT_JSON) or _depth(frame) > MAX_NESTING_DEPTH else frame


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _contains(value: Any, marker: _Marker) -> bool:
    if value is marker:
        return True
    if isinstance(value, dict):
        return any(_contains(v, marker) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v, marker) for v in value)
    return False


def _without_marker(value: Any) -> Any:
    """The value a lenient decoder reads: DUPLICATE is {"a": 2}."""
    if value is DUPLICATE:
        return {"a": 2}
    if isinstance(value, dict):
        return {k: _without_marker(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_marker(v) for v in value]
    return value


# --- the oracle: OCPP-J framing rules restated from the spec, not from harness/ocppj.py ------------


def expected_verdict(frame: Any) -> tuple[str, ErrorCode] | None:
    """(kind, code) a MalformedFrame must carry for this decoded value, or None for a message.

    Codes from the OCPP-J 1.6 error code table: not the PDU structure -> FormationViolation;
    too few elements (payload incomplete) -> ProtocolError; unique id over CiString36 -> TypeConstraintViolation.
    """
    duplicate, frame = _contains(frame, DUPLICATE), _without_marker(frame)
    if not isinstance(frame, list):
        return "not_array", FV
    if not frame:
        return "empty_array", FV
    if type(frame[0]) is not int or frame[0] not in ELEMENTS:
        return "unknown_message_type", FV
    want = ELEMENTS[frame[0]]
    if len(frame) != want:
        return "wrong_element_count", PE if len(frame) < want else FV
    if not isinstance(frame[1], str):
        return "unique_id_not_string", FV
    if len(frame[1]) > MAX_UNIQUE_ID_LENGTH:
        return "unique_id_too_long", TCV
    typed = {2: [(2, str, "action_not_string"), (3, dict, "payload_not_object")],
             3: [(2, dict, "payload_not_object")],
             4: [(2, str, "error_code_not_string"), (3, str, "error_description_not_string"),
                 (4, dict, "error_details_not_object")]}[frame[0]]
    for index, want_type, kind in typed:
        if not isinstance(frame[index], want_type):
            return kind, FV
    return ("duplicate_name", FV) if duplicate else None


def check_parse(raw: str | bytes, meaning: Any = None) -> ocppj.Message | MalformedFrame:
    """Parse ``raw`` and check the universal properties; ``meaning`` = the value it stands for, if known."""
    result = parse(raw)
    assert isinstance(result, (Call, CallResult, CallError, MalformedFrame)), result
    if isinstance(result, MalformedFrame):
        assert isinstance(result.error_code, ErrorCode) and result.error_code.value in VALID_CODES
        assert result.description and len(result.description) < 600, result.description
        assert result.raw == (raw if isinstance(raw, str) else repr(bytes(raw)[:200]))
        if result.answerable:
            assert result.message_type == 2 and isinstance(result.unique_id, str)
        if result.unique_id is not None:  # a CALLERROR to it can be serialized and sent as UTF-8
            serialize(CallError(result.unique_id, result.error_code, result.description)).encode("utf-8")
    else:
        text = serialize(result)
        text.encode("utf-8")  # a WebSocket text frame can carry it
        assert parse(text) == result, "serialize(parse(x)) does not parse back to the same message"
        assert serialize(parse(text)) == text
        if isinstance(raw, str):
            assert json.loads(text) == json.loads(raw)
    if meaning is not None:
        if meaning is NOT_JSON:
            assert isinstance(result, MalformedFrame) and (result.kind, result.error_code) == ("not_json", FV), result
        else:
            verdict = expected_verdict(meaning)
            if verdict is None:
                assert not isinstance(result, MalformedFrame), f"{raw!r} should be a message, got {result}"
                assert json.loads(serialize(result)) == _without_marker(meaning)
            else:
                assert isinstance(result, MalformedFrame), f"{raw!r} should be {verdict}, got {result}"
                assert (result.kind, result.error_code) == verdict, f"{raw!r}: {result}"
                typed = result.kind not in ("not_array", "empty_array", "unknown_message_type")
                addressed = meaning[1] if typed and len(meaning) > 1 else None
                assert result.message_type == (meaning[0] if typed else None)
                assert result.unique_id == (addressed if isinstance(addressed, str) else None)
                assert result.answerable == (typed and meaning[0] == 2 and isinstance(addressed, str))
    return result


# --- parse ---------------------------------------------------------------------------------------
@fuzz(150)
@given(st.text())
def test_parse_classifies_any_text_without_raising(text: str) -> None:
    check_parse(text)


@fuzz(60)
@given(st.binary())
def test_parse_classifies_any_bytes_as_a_binary_frame(data: bytes) -> None:
    assert check_parse(data).kind == "binary_frame"  # type: ignore[union-attr]


@fuzz(60)
@given(json_texts(json_values))
def test_parse_classifies_valid_json_of_any_shape_by_the_framing_rules(text: str) -> None:
    check_parse(text, json.loads(text))


@fuzz(80)
@given(json_texts(frame_like_values()))
def test_parse_gives_each_frame_shaped_array_the_kind_and_code_of_its_first_defect(text: str) -> None:
    check_parse(text, json.loads(text))


@fuzz(60)
@given(odd_frames())
def test_json_a_parser_need_not_accept_is_refused_as_a_formation_violation_and_the_rest_round_trips(case: tuple[str, Any]) -> None:
    text, meaning = case
    check_parse(text, meaning)


@fuzz(25)
@given(json_texts(frame_like_values()), st.data())
def test_garbling_one_character_of_a_frame_never_makes_parse_raise(text: str, data: st.DataObject) -> None:
    where = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.sampled_from(['"', "\\", "[", "]", "{", "}", ",", ":", "\x00", "\ud800", "\ufeff", ""]))
    check_parse(text[:where] + junk + text[where + 1:])


@pytest.mark.parametrize("opener, closer", [("[", "]"), ('{"a":', "}")], ids=["arrays", "objects"])
def test_nesting_is_accepted_up_to_the_limit_and_refused_beyond_it_at_any_depth(opener: str, closer: str) -> None:
    limit = sys.getrecursionlimit()
    for depth in [*range(1, MAX_NESTING_DEPTH + 3), *range(limit - 60, limit + 60), 100_000]:
        inner = opener * depth + ("0" if opener != "[" else "") + closer * depth
        result = check_parse(f'[3,"1",{{"v":{inner}}}]')
        if depth + 2 <= MAX_NESTING_DEPTH:  # + the frame array and the payload object
            assert isinstance(result, CallResult), depth
        else:
            assert isinstance(result, MalformedFrame) and (result.kind, result.error_code) == ("not_json", FV), depth


def test_the_verdict_on_a_deep_frame_does_not_depend_on_how_deep_the_callers_stack_is() -> None:
    # the session parses in its reader task and checks replies in the caller's (deeper) stack
    frames = [f'[3,"1",{{"v":{_nested(d)}}}]' for d in (MAX_NESTING_DEPTH - 2, MAX_NESTING_DEPTH - 1, 900, 990)]

    def at_depth(levels: int) -> list[tuple[str, str]]:
        if levels:
            return at_depth(levels - 1)
        return [(type(r).__name__, getattr(r, "kind", "")) for r in map(parse, frames)]

    expected = [("CallResult", ""), ("MalformedFrame", "not_json"), ("MalformedFrame", "not_json"), ("MalformedFrame", "not_json")]
    for levels in (0, 200, 600, sys.getrecursionlimit() - 250):
        assert at_depth(levels) == expected, levels


def test_a_description_stays_short_whatever_value_it_names() -> None:
    big = json.dumps(list(range(100_000)))
    for raw in (f'[2,"1",{big},{{}}]', f"[{big}]", f'[4,"1",{big},"",{{}}]', f'[2,"1","{"x" * 100_000}",[]]'):
        result = check_parse(raw)
        assert isinstance(result, MalformedFrame) and len(result.description) < 300


# --- schemas: valid payloads of every action, and one field mutated -----------------------------
@cache
def _schema(action: str, kind: str) -> dict[str, Any]:
    name = f"{action}.json" if kind == "request" else f"{action}Response.json"
    return json.loads(resources.files("ocpp.v16").joinpath("schemas", name).read_text(encoding="utf-8"))


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


zones = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
date_times = st.builds(lambda dt, z: dt.isoformat().replace("+00:00", "Z" if z else "+00:00"),
                       st.datetimes(timezones=st.just(timezone.utc) | zones), st.booleans())


def valid_values(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the (OCPP 1.6, draft-04/06) schema ``node`` accepts; strings kept short."""
    node = _resolve(node, root)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node["type"]
    if kind == "object":
        props, required = node.get("properties", {}), set(node.get("required", []))
        return st.fixed_dictionaries({k: valid_values(v, root) for k, v in props.items() if k in required},
                                     optional={k: valid_values(v, root) for k, v in props.items() if k not in required})
    if kind == "array":
        low = node.get("minItems", 0)
        return st.lists(valid_values(node["items"], root), min_size=low, max_size=low + 2)
    if kind == "string":
        if node.get("format") == "date-time":
            return date_times
        return st.text(max_size=min(node.get("maxLength", 40), 40))
    if kind == "integer":
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "number":
        if node.get("multipleOf") == 0.1:  # a one-decimal value, as a SUT writes it: 0.3, 6.7, -12.1
            return st.integers(-10**6, 10**6).map(lambda tenths: tenths / 10)
        return st.integers(-(2**31), 2**31) | st.floats(allow_nan=False, allow_infinity=False)
    assert kind == "boolean", node
    return st.booleans()


def _sites(value: Any, node: dict[str, Any], root: dict[str, Any], path: str, parent: Any, key: Any,
           required: bool) -> list[tuple[str, dict[str, Any], Any, Any, bool]]:
    """Every place in ``value`` a mutation can go: (JSON path, schema node, container, key, required)."""
    node = _resolve(node, root)
    found = [(path, node, parent, key, required)]
    if isinstance(value, dict) and node.get("type") == "object":
        needed = set(node.get("required", []))
        for name, item in value.items():
            found += _sites(item, node["properties"][name], root, f"{path}.{name}", value, name, name in needed)
    elif isinstance(value, list) and node.get("type") == "array":
        for index, item in enumerate(value):
            found += _sites(item, node["items"], root, f"{path}[{index}]", value, index, False)
    return found


WRONG_TYPED = {"string": [12, None, True, [], {}], "integer": ["1", 1.5, None, [], {}], "number": ["1.0", None, True, []],
               "boolean": ["true", 1, None], "object": [[], "x", 1, None], "array": [{}, "x", 1, None]}
BAD_DATE_TIMES = ["2026-11-25T12:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "yesterday", "", "2026-11-25 12:00:00Z"]


@st.composite
def mutated_payloads(draw: st.DrawFn, kinds: tuple[str, ...] = ("request", "response")
                     ) -> tuple[str, str, dict[str, Any], tuple[str, str, ErrorCode] | None]:
    """(action, kind, payload, expected first violation (path, rule, code) or None when left valid)."""
    action = draw(st.sampled_from(sorted(schemas.ACTIONS)))
    kind = draw(st.sampled_from(kinds))
    root = _schema(action, kind)
    payload = draw(valid_values(root, root))
    if draw(st.integers(0, 4)) == 0:
        return action, kind, payload, None
    path, node, parent, key, required = draw(st.sampled_from(_sites(payload, root, root, "$", None, None, False)))
    options = ["extra_property"] if node["type"] == "object" else []
    if parent is not None:
        options.append("wrong_type")
        options += ["drop_required"] if required else []
        options += ["too_long"] if "maxLength" in node else []
        options += ["not_in_enum"] if "enum" in node else []
        options += ["bad_date_time"] if node.get("format") == "date-time" else []
        options += ["not_a_multiple"] if "multipleOf" in node else []
        options += ["too_few_items"] if node.get("minItems") else []
    mutation = draw(st.sampled_from(options))
    if mutation == "extra_property":
        _at(payload, path)["harnessFuzzExtra"] = draw(json_values)
        return action, kind, payload, (path, "additionalProperties", FV)
    if mutation == "drop_required":
        del parent[key]
        return action, kind, payload, (path.rsplit(".", 1)[0], "required", OCV)
    expected = {"wrong_type": ("type", TCV), "too_long": ("maxLength", TCV), "not_in_enum": ("enum", PCV),
                "bad_date_time": ("format", TCV), "not_a_multiple": ("multipleOf", PCV),
                "too_few_items": ("minItems", OCV)}[mutation]
    parent[key] = {
        "wrong_type": lambda: draw(st.sampled_from(WRONG_TYPED[node["type"]])),
        "too_long": lambda: "x" * (node["maxLength"] + draw(st.integers(1, 3))),
        "not_in_enum": lambda: draw(st.sampled_from(["NotAnOcppValue", "accepted", ""])),
        "bad_date_time": lambda: draw(st.sampled_from(BAD_DATE_TIMES)),
        "not_a_multiple": lambda: draw(st.integers(-1000, 1000)) / 10 + 0.05,
        "too_few_items": list,
    }[mutation]()
    return action, kind, payload, (path, *expected)


def _at(payload: Any, path: str) -> Any:
    node = payload
    for part in path.replace("[", ".[").split(".")[1:]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


RULE_CODES = {"type": TCV, "maxLength": TCV, "minLength": TCV, "format": TCV, "required": OCV, "minItems": OCV,
              "maxItems": OCV, "enum": PCV, "minimum": PCV, "maximum": PCV, "pattern": PCV, "multipleOf": PCV}


def check_violations(problems: list[schemas.SchemaViolation]) -> None:
    for problem in problems:
        assert problem.path.startswith("$") and problem.message
        assert problem.error_code is RULE_CODES.get(problem.rule, FV), problem


@fuzz(100)
@given(mutated_payloads())
def test_a_valid_payload_passes_and_one_mutated_field_gets_the_code_of_the_rule_it_breaks(case: Any) -> None:
    action, kind, payload, expected = case
    problems = schemas.validate(action, kind, payload)
    check_violations(problems)
    if expected is None:
        assert problems == [], f"{action} {kind} {payload} is schema-valid: {problems}"
    else:
        first = problems[0] if problems else None
        assert first is not None and (first.path, first.rule, first.error_code) == expected, (payload, problems)
        assert {p.path for p in problems} == {expected[0]}  # one mutation, one place


def test_every_one_decimal_charging_limit_is_a_multiple_of_0_1() -> None:
    # in binary floating point 0.3 / 0.1 is 2.9999999999999996: a third of these were refused
    refused = []
    for tenths in range(-200, 1000):
        limit = json.loads(f"{'-' if tenths < 0 else ''}{abs(tenths) // 10}.{abs(tenths) % 10}")
        period = {"startPeriod": 0, "limit": limit}
        payload = {"connectorId": 1, "csChargingProfiles": {
            "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [period]}}}
        if schemas.validate("SetChargingProfile", "request", payload):
            refused.append(limit)
    assert refused == []


@fuzz(60)
@given(st.sampled_from(sorted(schemas.ACTIONS)), st.sampled_from(["request", "response"]),
       json_values | json_objects | st.dictionaries(st.sampled_from(["limit", "connectorId", "idTag", "status", "csChargingProfiles",
                                                                      "chargingSchedule", "timestamp", "meterValue"]),
                                                     json_values | huge_ints, max_size=4))
def test_validate_never_raises_on_any_json_value_and_codes_every_violation(action: str, kind: str, payload: Any) -> None:
    check_violations(schemas.validate(action, kind, payload))


@pytest.mark.parametrize("limit", [10**400, -(10**400), 1e308, float("inf"), float("nan"), 5e-324])
def test_a_huge_or_odd_number_in_a_multiple_of_field_is_judged_without_raising(limit: Any) -> None:
    payload = {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}
    problems = schemas.validate("GetCompositeSchedule", "response", {"status": "Accepted", "chargingSchedule": payload})
    check_violations(problems)
    assert [p.rule for p in problems] == ([] if isinstance(limit, int) or limit == 1e308 else ["multipleOf"])


def test_validate_reports_a_payload_too_deep_to_judge_instead_of_raising() -> None:
    deep: Any = "x"
    for _ in range(5 * sys.getrecursionlimit()):
        deep = [deep]
    (problem,) = schemas.validate("DataTransfer", "request", {"vendorId": "v", "data": deep})
    assert problem.error_code is FV


# --- the session, over a WebSocket double --------------------------------------------------------
class FakeWebSocket:
    """The SUT's end in memory. Like websockets, ``send`` encodes the text as UTF-8 (unsendable text fails here too).

    ``idle`` is set while the session's reader waits on an empty queue: the previous frame is fully handled.
    """

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[Any] = asyncio.Queue()
        self.sent: list[str] = []
        self.idle = asyncio.Event()
        self.something_sent = asyncio.Event()

    async def send(self, message: str) -> None:
        message.encode("utf-8")
        self.sent.append(message)
        self.something_sent.set()

    async def recv(self) -> str | bytes:
        if self.inbound.empty():
            self.idle.set()
        item = await self.inbound.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        self.inbound.put_nowait(ConnectionError("closed by the harness"))

    async def deliver(self, frame: str | bytes) -> None:
        """Hand the session one frame and wait (bounded) until its reader is back waiting for the next."""
        self.idle.clear()
        self.inbound.put_nowait(frame)
        await within(self.idle.wait(), FRAME_DEADLINE)


class Harness:
    """A bare Session on a FakeWebSocket: answers good CALLs with ``{}`` and collects defects."""

    def __init__(self, peer_actions: frozenset[str] = schemas.CHARGE_POINT_ACTIONS) -> None:
        self.ws = FakeWebSocket()
        self.peer_actions = peer_actions
        self.trace = Trace("fuzz")
        self.violations: list[StepFailure] = []
        self.calls: list[Call] = []
        self.session = Session(self.ws, name="sut#1", trace=lambda: self.trace, peer_actions=peer_actions,
                               on_call=self._on_call, on_violation=self.violations.append)
        self.peer_ids: set[str] = set()

    async def _on_call(self, session: Session, call: Call, entry: Any) -> None:
        self.calls.append(call)
        await session.reply(call, {})

    async def __aenter__(self) -> Harness:
        self.session.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close(timeout=FRAME_DEADLINE)
        assert self.session.closed.is_set()

    async def feed(self, frame: str | bytes) -> list[Any]:
        """Deliver one frame, check how the session took it, and return what it sent back (decoded)."""
        sent_before, defects_before = len(self.ws.sent), len(self.violations)
        received_before, traced_before = len(self._traced("received")), len(self._traced("sent"))
        await self.ws.deliver(frame)
        assert not self.session.closed.is_set(), f"the reader stopped: {self.session.close_reason}"  # no exception escaped
        replies = self.ws.sent[sent_before:]
        # every frame, both ways, is in the trace, in order
        assert self._traced("received")[received_before:] == [frame if isinstance(frame, str) else repr(frame)]
        assert self._traced("sent")[traced_before:] == replies
        decoded = [json.loads(text) for text in replies]
        for reply in decoded:
            assert reply[0] in (3, 4) and (reply[0] == 3 or reply[2] in VALID_CODES), reply
        self._judge(frame, decoded, self.violations[defects_before:])
        return decoded

    def _traced(self, direction: str) -> list[str]:
        return [e.text for e in self.trace.entries if e.direction == direction]

    def _judge(self, frame: str | bytes, replies: list[Any], defects: list[StepFailure]) -> None:
        message = parse(frame)
        if isinstance(message, MalformedFrame):
            assert defects, f"no defect reported for {frame!r}"
            if message.answerable:
                assert [r[:3] for r in replies] == [[4, message.unique_id, message.error_code.value]], replies
            else:
                assert replies == []
            return
        if not isinstance(message, Call):  # we sent no CALL: every reply is unmatched
            assert replies == [] and any("answers no outstanding CALL" in d.problem for d in defects), defects
            return
        duplicate = message.unique_id in self.peer_ids
        self.peer_ids.add(message.unique_id)
        if message.action not in schemas.ACTIONS:
            code = ErrorCode.NOT_IMPLEMENTED.value
        elif message.action not in self.peer_actions:
            code = ErrorCode.NOT_SUPPORTED.value
        else:
            problems = schemas.validate(message.action, "request", message.payload)
            code = problems[0].error_code.value if problems else None
        if code is None:
            assert replies == [[3, message.unique_id, {}]] and self.calls[-1] == message
            assert len(defects) == int(duplicate), defects
        else:
            assert [r[:3] for r in replies] == [[4, message.unique_id, code]], (frame, replies)
            assert len(defects) == 1 + int(duplicate), defects


@st.composite
def call_texts(draw: st.DrawFn) -> str:
    """A CALL of any OCPP 1.6 action, valid or with one field mutated, under a mostly valid unique id."""
    action, _, payload, _ = draw(mutated_payloads(kinds=("request",)))
    uid = draw(st.text(max_size=MAX_UNIQUE_ID_LENGTH) | unique_ids)
    return json.dumps([2, uid, action, payload])


any_frames = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=40),
    json_texts(json_values),
    json_texts(frame_like_values()),
    odd_frames().map(lambda case: case[0]),
    call_texts(),
)


def run(coro: Any) -> Any:
    return asyncio.run(within(coro, 30))


@fuzz(30)
@given(st.lists(any_frames, min_size=1, max_size=6), st.sampled_from([schemas.CHARGE_POINT_ACTIONS, schemas.CENTRAL_SYSTEM_ACTIONS]))
def test_a_session_survives_any_frames_and_answers_each_answerable_bad_call_with_the_right_code(
        frames: list[Any], peer_actions: frozenset[str]) -> None:
    async def scenario() -> None:
        async with Harness(peer_actions) as h:
            for frame in frames:
                await h.feed(frame)
    run(scenario())


async def _settled(task: asyncio.Future[Any]) -> None:
    """However a scenario ends, leave no task behind with an exception nobody retrieved."""
    task.cancel()  # a no-op once it is done
    await asyncio.wait([task], timeout=FRAME_DEADLINE)


@fuzz(20)
@given(st.lists(any_frames, max_size=6), st.sampled_from(['[3,"harness-call-1",{"status":"Accepted"}]',
                                                          '[4,"harness-call-1","NotSupported","",{}]']))
def test_our_outstanding_call_is_resolved_by_its_own_reply_and_by_nothing_else(frames: list[Any], answer: str) -> None:
    async def scenario() -> None:
        async with Harness() as h:
            h.session.rpc = RpcState(id_factory=lambda: "harness-call-1")
            call = asyncio.ensure_future(h.session.call("ClearCache", {}, timeout=FRAME_DEADLINE * 5))
            try:
                await within(h.ws.something_sent.wait(), FRAME_DEADLINE)
                assert json.loads(h.ws.sent[0]) == [2, "harness-call-1", "ClearCache", {}]
                for frame in frames:
                    reply = parse(frame)
                    if isinstance(reply, (CallResult, CallError)) and reply.unique_id == "harness-call-1":
                        continue  # that would be the real reply
                    await h.ws.deliver(frame)
                    assert not call.done()
                await h.ws.deliver(answer)
                assert await within(call, FRAME_DEADLINE) == parse(answer)
            finally:
                await _settled(call)
    run(scenario())


def test_a_reply_nested_too_deep_is_a_protocol_defect_not_an_exception_in_the_callers_stack() -> None:
    # Parsed in the reader task, a reply ~950 levels deep used to reach schemas.validate in the
    # (deeper) stack of the step that made the call, and raise RecursionError there.
    async def scenario() -> None:
        async with Harness() as h:
            async def from_deep_in_a_step(levels: int) -> Any:
                if levels:
                    return await from_deep_in_a_step(levels - 1)
                return await h.session.call("ClearCache", {}, timeout=FRAME_DEADLINE * 5)

            call = asyncio.ensure_future(from_deep_in_a_step(50))
            try:
                await within(h.ws.something_sent.wait(), FRAME_DEADLINE)
                uid = json.loads(h.ws.sent[0])[1]
                for depth in range(930, 990, 4):
                    await h.ws.deliver(f'[3,"{uid}",{{"status":{_nested(depth)}}}]')
                assert not call.done() and len(h.violations) == len(range(930, 990, 4))
                await h.ws.deliver(f'[3,"{uid}",{{"status":"Accepted"}}]')
                assert await within(call, FRAME_DEADLINE) == CallResult(uid, {"status": "Accepted"})
            finally:
                await _settled(call)
    run(scenario())


@pytest.mark.parametrize("frame, answer", [
    ('[2,"\\ud800","Heartbeat"]', [4, "\ud800", "ProtocolError"]),  # a lone surrogate in an id we echo back
    ('[2,"\\udfffx","FooBar",{}]', [4, "\udfffx", "NotImplemented"]),
    ('[2,"1","Foo\\ud800",{}]', [4, "1", "NotImplemented"]),  # ... and in the description we write
    ('[2,"2","Heartbeat",{"a":1,"a":2}]', [4, "2", "FormationViolation"]),
    ('[2,"3","Heartbeat",{"n":1e400}]', None),
], ids=["surrogate-id-malformed", "surrogate-id-unknown-action", "surrogate-action", "duplicate-name", "out-of-range-number"])
def test_frames_whose_answer_a_naive_serializer_could_not_send_are_answered(frame: str, answer: Any) -> None:
    async def scenario() -> None:
        async with Harness() as h:
            replies = await h.feed(frame)
            assert [r[:3] for r in replies] == ([answer] if answer else [])
    run(scenario())


# --- RpcState: the one-outstanding-CALL rule on any interleaving ---------------------------------
PEER_IDS = st.sampled_from(["1", "2", "p", ""])
operations = st.lists(st.one_of(
    st.tuples(st.just("new_call"), st.sampled_from(["Reset", "ClearCache"])),
    st.tuples(st.just("abandon")),
    st.tuples(st.just("peer_call"), PEER_IDS),
    st.tuples(st.sampled_from(["peer_result", "peer_error"]), PEER_IDS | st.just("<ours>")),
    st.tuples(st.just("replied"), PEER_IDS | st.text(max_size=3)),
), max_size=30)


@fuzz(80)
@given(operations)
def test_rpc_state_agrees_with_a_model_of_the_one_outstanding_call_rule_on_any_interleaving(ops: list[tuple[Any, ...]]) -> None:
    state = RpcState()
    ours: str | None = None  # the model
    ours_ever: set[str] = set()
    peer_pending: set[str] = set()
    peer_seen: set[str] = set()
    for op, *args in ops:
        if op == "new_call":
            if ours is not None:
                with pytest.raises(RuntimeError, match="still unanswered"):
                    state.new_call(args[0], {})
            else:
                call = state.new_call(args[0], {})
                assert call.unique_id not in ours_ever
                ours = call.unique_id
                ours_ever.add(ours)
        elif op == "abandon":
            state.abandon()
            ours = None
        elif op == "peer_call":
            kinds = [v.kind for v in state.receive(Call(args[0], "Heartbeat", {}))]
            assert sorted(kinds) == sorted(["concurrent_call"] * bool(peer_pending) + ["duplicate_unique_id"] * (args[0] in peer_seen))
            peer_pending.add(args[0])
            peer_seen.add(args[0])
        elif op in ("peer_result", "peer_error"):
            uid = (ours or "none") if args[0] == "<ours>" else args[0]
            reply = CallResult(uid, {}) if op == "peer_result" else CallError(uid, "GenericError")
            violations = state.receive(reply)
            if ours is not None and uid == ours:
                assert violations == []
                ours = None
            else:
                assert [v.kind for v in violations] == ["unmatched_reply"] and violations[0].message is reply
        else:
            state.replied(args[0])
            peer_pending.discard(args[0])
        assert (state.our_pending.unique_id if state.our_pending else None) == ours
        assert set(state.peer_pending) == peer_pending
