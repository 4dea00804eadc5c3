"""OCPP-J 1.6 RPC framing, sans-I/O.

Parses and serializes the three OCPP-J message types (OCPP-J 1.6 section 4):

    CALL        [2, uniqueId, action, payload]
    CALLRESULT  [3, uniqueId, payload]
    CALLERROR   [4, uniqueId, errorCode, errorDescription, errorDetails]

Nothing here raises on bad input: :func:`parse` returns a :class:`MalformedFrame`
that says what is wrong and which OCPP-J error code answers it, so the harness can
reply with the right CALLERROR and report the defect as a test failure.

:class:`RpcState` tracks the one-outstanding-CALL rule of section 4.1.1 for both
directions and matches replies to CALLs; it owns no socket and no clock.
"""

from __future__ import annotations

import enum
import itertools
import json
import re
import reprlib
from dataclasses import dataclass, field
from typing import Any, Callable, Union

__all__ = [
    "MAX_UNIQUE_ID_LENGTH",
    "MAX_NESTING_DEPTH",
    "MessageType",
    "ErrorCode",
    "Call",
    "CallResult",
    "CallError",
    "MalformedFrame",
    "Message",
    "parse",
    "serialize",
    "RpcState",
    "RpcViolation",
]

MAX_UNIQUE_ID_LENGTH = 36
#: Deepest array/object nesting parse accepts, counting the frame array as 1. OCPP 1.6 PDUs nest
#: at most 6 deep (MeterValues.req, SetChargingProfile.req); RFC 8259 section 9 lets a parser limit
#: nesting, and the limit keeps every later consumer (schema check, repr, diff) clear of recursion limits.
MAX_NESTING_DEPTH = 32


class MessageType(enum.IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


class ErrorCode(str, enum.Enum):
    """The OCPP-J 1.6 error codes, spelled as 1.6 spells them (not 2.0.1)."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"


@dataclass(frozen=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]

    @property
    def message_type(self) -> MessageType:
        return MessageType.CALL


@dataclass(frozen=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]

    @property
    def message_type(self) -> MessageType:
        return MessageType.CALLRESULT


@dataclass(frozen=True)
class CallError:
    unique_id: str
    error_code: str
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)

    @property
    def message_type(self) -> MessageType:
        return MessageType.CALLERROR


@dataclass(frozen=True)
class MalformedFrame:
    """A frame that is not valid OCPP-J.

    ``kind`` names the defect (``not_json``, ``not_array``, ``empty_array``,
    ``unknown_message_type``, ``wrong_element_count``, ``unique_id_not_string``,
    ``unique_id_too_long``, ``action_not_string``, ``payload_not_object``,
    ``error_code_not_string``, ``error_description_not_string``,
    ``error_details_not_object``, ``duplicate_name``, ``binary_frame``). ``not_json``
    also covers JSON beyond this parser's limits (RFC 8259 section 9): a number
    outside the range of a double (``1e400``), an integer of more than 4300 digits,
    nesting deeper than :data:`MAX_NESTING_DEPTH`. ``unique_id`` is set when a
    CALLERROR can still be addressed to the sender; ``message_type`` when known.
    ``description`` is bounded (values in it are abbreviated), so it can be sent back.
    """

    kind: str
    error_code: ErrorCode
    description: str
    raw: str
    unique_id: str | None = None
    message_type: int | None = None

    @property
    def answerable(self) -> bool:
        """True when the frame looks like a CALL we can answer with a CALLERROR."""
        return self.message_type == MessageType.CALL and self.unique_id is not None


Message = Union[Call, CallResult, CallError]

# Element counts per message type (section 4.2).
_LENGTHS = {MessageType.CALL: 4, MessageType.CALLRESULT: 3, MessageType.CALLERROR: 5}


def _malformed(kind: str, code: ErrorCode, description: str, raw: str, **kw: Any) -> MalformedFrame:
    return MalformedFrame(kind=kind, error_code=code, description=description, raw=raw, **kw)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")  # Python's json accepts NaN/Infinity; JSON does not


def _finite_float(text: str) -> float:
    value = float(text)
    if value - value != 0:  # inf: 1e400 overflows a double, and serialize could not write it back
        raise ValueError(f"number {text[:40]} is outside the range of a double")
    return value


class _DuplicateName(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _DuplicateName(name)
            seen.add(name)
    return obj


# Built once: json.loads(text, **hooks) would build a decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique_names)
# Only to find the type id and unique id of a frame with a duplicate name (last value wins).
_LENIENT_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)

_short = reprlib.Repr()
_short.maxstring = _short.maxother = _short.maxlong = 60
_short.maxlevel = 3


def _too_deep(raw: str, value: Any) -> bool:
    """Whether ``value`` (decoded from ``raw``) nests arrays/objects deeper than MAX_NESTING_DEPTH."""
    if raw.count("[") + raw.count("{") <= MAX_NESTING_DEPTH:
        return False  # too few brackets to be too deep: the common case costs two C scans of the text
    level, depth = [value], 0
    while level:  # one nesting level at a time, without recursion; each value is looked at once
        containers = [v for v in level if isinstance(v, (list, dict))]
        if containers:
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                return True
        level = [child for node in containers for child in (node.values() if isinstance(node, dict) else node)]
    return False


def _decode(raw: str) -> tuple[Any, str | None]:
    """The JSON value of ``raw`` and the first object name it repeats (None if none).

    Raises ValueError or RecursionError for text that is not JSON this parser accepts.
    """
    try:
        return _DECODER.decode(raw), None
    except _DuplicateName as exc:
        return _LENIENT_DECODER.decode(raw), exc.name


def parse(raw: str | bytes) -> Message | MalformedFrame:
    """Parse one WebSocket message into a Call, CallResult, CallError or MalformedFrame.

    Error codes for malformed frames: structure that is not the PDU structure is a
    FormationViolation, a frame too short to carry its parts is a ProtocolError
    (payload incomplete), an over-long unique id is a TypeConstraintViolation
    (CiString36), as the OCPP-J 1.6 error code table describes them. A name repeated
    within one JSON object (RFC 8259 section 4: names SHOULD be unique; receivers
    disagree on which value counts) is a FormationViolation.
    """
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return _malformed(
            "binary_frame", ErrorCode.FORMATION_VIOLATION,
            "binary WebSocket frame; OCPP-J uses text frames only", repr(bytes(raw)[:200]),
        )
    try:
        frame, duplicate = _decode(raw)
    except (ValueError, RecursionError) as exc:
        return _malformed("not_json", ErrorCode.FORMATION_VIOLATION, f"not valid JSON: {str(exc)[:200]}", raw)
    if _too_deep(raw, frame):
        return _malformed(
            "not_json", ErrorCode.FORMATION_VIOLATION,
            f"JSON nested more than {MAX_NESTING_DEPTH} levels deep, the most this parser accepts "
            "(an OCPP 1.6 PDU nests at most 6)", raw,
        )
    if not isinstance(frame, list):
        return _malformed(
            "not_array", ErrorCode.FORMATION_VIOLATION,
            f"frame is a JSON {type(frame).__name__}, not an array", raw,
        )
    if not frame:
        return _malformed("empty_array", ErrorCode.FORMATION_VIOLATION, "frame is an empty array", raw)
    type_id = frame[0]
    if type(type_id) is not int or type_id not in (2, 3, 4):  # not 2.0, not true
        return _malformed(
            "unknown_message_type", ErrorCode.FORMATION_VIOLATION,
            f"message type id {_short.repr(type_id)} is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)", raw,
        )
    mtype = MessageType(type_id)
    unique_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else None
    addr = {"message_type": int(mtype), "unique_id": unique_id}
    expected = _LENGTHS[mtype]
    if len(frame) != expected:
        code = ErrorCode.PROTOCOL_ERROR if len(frame) < expected else ErrorCode.FORMATION_VIOLATION
        return _malformed(
            "wrong_element_count", code,
            f"{mtype.name} must have {expected} elements, this one has {len(frame)}", raw, **addr,
        )
    if not isinstance(frame[1], str):
        return _malformed(
            "unique_id_not_string", ErrorCode.FORMATION_VIOLATION,
            f"unique id {_short.repr(frame[1])} is a {type(frame[1]).__name__}, not a string", raw,
            message_type=int(mtype),
        )
    if len(frame[1]) > MAX_UNIQUE_ID_LENGTH:
        return _malformed(
            "unique_id_too_long", ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            f"unique id is {len(frame[1])} characters, at most {MAX_UNIQUE_ID_LENGTH} allowed", raw, **addr,
        )
    message: Message
    if mtype is MessageType.CALL:
        _, uid, action, payload = frame
        if not isinstance(action, str):
            return _malformed(
                "action_not_string", ErrorCode.FORMATION_VIOLATION,
                f"action {_short.repr(action)} is not a string", raw, **addr,
            )
        if not isinstance(payload, dict):
            return _malformed(
                "payload_not_object", ErrorCode.FORMATION_VIOLATION,
                f"payload of {_short.repr(action)} is a JSON {type(payload).__name__}, not an object", raw, **addr,
            )
        message = Call(uid, action, payload)
    elif mtype is MessageType.CALLRESULT:
        _, uid, payload = frame
        if not isinstance(payload, dict):
            return _malformed(
                "payload_not_object", ErrorCode.FORMATION_VIOLATION,
                f"CALLRESULT payload is a JSON {type(payload).__name__}, not an object", raw, **addr,
            )
        message = CallResult(uid, payload)
    else:
        _, uid, code, description, details = frame
        for value, name, kind, want in (
            (code, "errorCode", "error_code_not_string", str),
            (description, "errorDescription", "error_description_not_string", str),
            (details, "errorDetails", "error_details_not_object", dict),
        ):
            if not isinstance(value, want):
                return _malformed(
                    kind, ErrorCode.FORMATION_VIOLATION,
                    f"CALLERROR {name} {_short.repr(value)} is not a {'string' if want is str else 'object'}", raw, **addr,
                )
        message = CallError(uid, code, description, details)
    if duplicate is not None:
        return _malformed(
            "duplicate_name", ErrorCode.FORMATION_VIOLATION,
            f"the name {_short.repr(duplicate)} appears twice in one JSON object; which value counts is undefined", raw, **addr,
        )
    return message


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def serialize(message: Message) -> str:
    """Serialize a message as compact JSON text (no spaces, UTF-8 kept).

    A lone surrogate (a peer may send ``"\\ud800"`` in a unique id or action, and we
    echo it back) is written as a ``\\uXXXX`` escape: the text stays encodable as
    UTF-8, so a WebSocket text frame can carry it, and parses back to the same string.
    """
    if isinstance(message, Call):
        frame: list[Any] = [2, message.unique_id, message.action, message.payload]
    elif isinstance(message, CallResult):
        frame = [3, message.unique_id, message.payload]
    elif isinstance(message, CallError):
        code = message.error_code.value if isinstance(message.error_code, ErrorCode) else message.error_code
        frame = [4, message.unique_id, code, message.error_description, message.error_details]
    else:  # pragma: no cover - defensive
        raise TypeError(f"not an OCPP-J message: {message!r}")
    text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not text.isascii() and _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


@dataclass(frozen=True)
class RpcViolation:
    """A breach of the RPC rules by the peer (not a framing error)."""

    kind: str  # "unmatched_reply" | "concurrent_call" | "duplicate_unique_id"
    description: str
    message: Message


class RpcState:
    """Who owes whom a reply, for one connection, seen from our side.

    Usage: ``call = state.new_call(action, payload)`` before sending a CALL; feed
    every parsed frame from the peer to :meth:`receive`, which returns the
    violations it shows; call :meth:`replied` when we answer a peer's CALL.
    """

    def __init__(self, id_factory: Callable[[], str] | None = None) -> None:
        counter = itertools.count(1)
        self._next_id = id_factory or (lambda: str(next(counter)))
        self.our_pending: Call | None = None
        self.peer_pending: dict[str, Call] = {}
        self._peer_ids_seen: set[str] = set()

    def new_call(self, action: str, payload: dict[str, Any]) -> Call:
        """Create our next CALL; raises RuntimeError while one is still unanswered."""
        if self.our_pending is not None:
            raise RuntimeError(
                f"CALL {self.our_pending.action} ({self.our_pending.unique_id}) is still unanswered; "
                "OCPP-J allows one outstanding CALL per direction"
            )
        call = Call(self._next_id(), action, payload)
        self.our_pending = call
        return call

    def abandon(self) -> None:
        """Forget our outstanding CALL (it timed out): the slot is free again."""
        self.our_pending = None

    def receive(self, message: Message) -> list[RpcViolation]:
        """Account for one frame from the peer; return the RPC rules it breaks."""
        found: list[RpcViolation] = []
        if isinstance(message, Call):
            if self.peer_pending:
                waiting = ", ".join(f"{c.action} ({c.unique_id})" for c in self.peer_pending.values())
                found.append(RpcViolation(
                    "concurrent_call",
                    f"{message.action} ({message.unique_id}) sent while its earlier CALL {waiting} "
                    "was still unanswered (OCPP-J 4.1.1: one outstanding CALL per direction)",
                    message,
                ))
            if message.unique_id in self._peer_ids_seen:
                found.append(RpcViolation(
                    "duplicate_unique_id",
                    f"unique id {message.unique_id!r} of {message.action} was already used on this connection",
                    message,
                ))
            self._peer_ids_seen.add(message.unique_id)
            self.peer_pending[message.unique_id] = message
            return found
        pending = self.our_pending
        if pending is None or pending.unique_id != message.unique_id:
            expected = f"the reply to {pending.action} ({pending.unique_id})" if pending else "no reply"
            kind = "CALLRESULT" if isinstance(message, CallResult) else "CALLERROR"
            found.append(RpcViolation(
                "unmatched_reply",
                f"{kind} for unique id {message.unique_id!r} answers no outstanding CALL; expected {expected}",
                message,
            ))
            return found
        self.our_pending = None
        return found

    def replied(self, unique_id: str) -> None:
        """We answered the peer's CALL ``unique_id``."""
        self.peer_pending.pop(unique_id, None)
