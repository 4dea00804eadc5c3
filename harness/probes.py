"""Probes of the OCPP-J layer beyond OCTT: frames no OCTT step sends, and how to judge the SUT's answers.

OCTT never sends a malformed frame, an unknown action, a repeated or over-long unique id;
the harness's own cases (``RPC_nnn_CS`` / ``RPC_nnn_CSMS``, marker ``ocppj``) do, through
:meth:`harness.session.Session.send_raw`. This module builds those frames and says how to
judge what comes back by the OCPP-J 1.6 text (section 4.1.3 message type, 4.1.4 message id,
4.2.3 CallError and its table "Valid Error Codes"; section 3.2 server response):

* a :class:`Probe` is one frame and an :class:`Expect`: the codes the table gives for the
  defect (a pass), the codes another reading of the table permits (a warning: the spec
  leaves the boundary open), and how silence, a CALLRESULT or any other code count;
* :func:`harness.probe_run.judge` turns the SUT's answer into a verdict; it, the record of a
  probe step and :func:`harness.probe_run.run_probe` live in :mod:`harness.probe_run`.

Also pure helpers for the transport probes (an HTTP upgrade request cut short, a WebSocket
frame header announcing more than follows). Nothing here opens a socket: the cases in
``testcases/test_rpc_*.py`` and ``test_robustness.py`` send what this module builds, most of
it through :func:`harness.probe_run.run_probe`.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import struct
from dataclasses import dataclass
from typing import Any, Sequence

from .ocppj import ErrorCode

__all__ = [
    "Expect", "Probe", "probe_id", "call_frame", "SCHEMA_CODES", "UNKNOWN_ACTION", "NAMED_PAYLOADS",
    "unknown_action_probe", "unsupported_action_probe", "wrong_direction_probe", "schema_probes",
    "malformed_probes", "UNIQUE_ID_36", "upgrade_request", "partial_frame",
]

NOT_IMPLEMENTED, NOT_SUPPORTED = ErrorCode.NOT_IMPLEMENTED.value, ErrorCode.NOT_SUPPORTED.value
FORMATION, PROTOCOL = ErrorCode.FORMATION_VIOLATION.value, ErrorCode.PROTOCOL_ERROR.value
PROPERTY, OCCURENCE = ErrorCode.PROPERTY_CONSTRAINT_VIOLATION.value, ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION.value
TYPE = ErrorCode.TYPE_CONSTRAINT_VIOLATION.value
#: the codes the table gives for a payload that is not what the action's PDU allows
SCHEMA_CODES = frozenset({FORMATION, PROTOCOL, PROPERTY, OCCURENCE, TYPE})

TABLE = "OCPP-J 1.6 section 4.2.3, table 'Valid Error Codes'"
#: one id of each shape an OCPP-J 1.6 receiver must take: 36 characters (section 4.1.4 "maximum of 36 characters,
#: to allow for GUIDs"), a GUID and an id that is no GUID at all (ids need not be GUIDs)
UNIQUE_ID_36 = ("1b4e28ba-2fa1-11d2-883f-0016d3cca427", "probe-000000000000000000000000000036")

_counter = itertools.count(1)


def probe_id(tag: str = "") -> str:
    """A unique id for a raw CALL of the harness ("probe-<n>[-tag]", never one of its RPC ids "1", "2" ...)."""
    text = f"probe-{next(_counter)}" + (f"-{tag}" if tag else "")
    return text[:36]


def call_frame(unique_id: Any, action: Any, payload: Any) -> str:
    """A CALL as compact JSON text; any element may be of the wrong type on purpose."""
    return json.dumps([2, unique_id, action, payload], separators=(",", ":"))


# -- probes and what they accept -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    """What a probe accepts.

    ``exact``: the codes the OCPP-J table gives (a pass); ``readings``: codes another reading
    of the table's overlapping rows permits (a warning naming ``reading``). ``silence``,
    ``result``, ``other`` and ``close``: how no answer, a CALLRESULT, any other CALLERROR
    code and a closed connection count: "pass", "warn" or "fail".
    """

    exact: frozenset[str]
    readings: frozenset[str] = frozenset()
    reading: str = ""
    silence: str = "fail"
    result: str = "fail"
    other: str = "fail"
    close: str = "warn"  # the SUT closes the connection on the probe (it must then take or make a new one)


@dataclass(frozen=True)
class Probe:
    """One frame the harness sends raw, and how to judge the answer.

    ``unique_id``: the id an answer must carry (None: the frame has none the SUT can read,
    so an answer may carry any id). ``what``: the frame in words; ``rule``: the spec text
    the verdict rests on.
    """

    name: str
    frame: str | bytes
    unique_id: str | None
    expect: Expect
    what: str
    rule: str


# -- unknown, unsupported and wrong-direction actions ----------------------------------------------------------
#: base OCPP 1.6 actions by feature profile and direction, with a harmless schema-valid payload each
_PROFILE_PROBES: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "cp": {  # sent to a charge point (CS -> CP)
        "reservation": ("CancelReservation", {"reservationId": 2147480001}),
        "local_auth_list_management": ("GetLocalListVersion", {}),
        "remote_trigger": ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
        "smart_charging": ("GetCompositeSchedule", {"connectorId": 0, "duration": 60}),
        "firmware_management": ("GetDiagnostics", {"location": "ftp://127.0.0.1:1/probe"}),
    },
    "cs": {  # sent to a central system (CP -> CS)
        "firmware_management": ("FirmwareStatusNotification", {"status": "Idle"}),
    },
}
_EXTENSION_PROBES = {  # the security white paper's actions: known to a 1.6 stack with the extension
    "cp": ("GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"}),
    "cs": ("LogStatusNotification", {"status": "Idle"}),
}
#: an action no OCPP version has (section 4.2.3: "Requested Action is not known by receiver")
UNKNOWN_ACTION = "OpenOcttProbeAction"


def unknown_action_probe() -> Probe:
    uid = probe_id("unknown")
    return Probe(
        "unknown action", call_frame(uid, UNKNOWN_ACTION, {}), uid,
        Expect(frozenset({NOT_IMPLEMENTED})),
        f"a CALL of action {UNKNOWN_ACTION!r}, which no OCPP version has",
        f"{TABLE}: NotImplemented = 'Requested Action is not known by receiver'")


#: harmless schema-valid payloads of actions a vendor may name in ``extra.unsupported_actions``
NAMED_PAYLOADS: dict[str, dict[str, Any]] = {
    **{action: payload for probes in _PROFILE_PROBES.values() for action, payload in probes.values()},
    **dict(_EXTENSION_PROBES.values()),
    "ReserveNow": {"connectorId": 0, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "PROBE", "reservationId": 2147480002},
    "SendLocalList": {"listVersion": 2147480000, "updateType": "Differential"},
    "ClearChargingProfile": {"id": 2147480003}, "DiagnosticsStatusNotification": {"status": "Idle"},
    "UpdateFirmware": {"location": "ftp://127.0.0.1:1/probe.bin", "retrieveDate": "2030-01-01T00:00:00Z"},
    "SignedFirmwareStatusNotification": {"status": "Idle"},
}


def unsupported_action_probe(sut_role: str, features: frozenset[str], named: Sequence[str] = ()) -> Probe | None:
    """A known action the SUT does not support: the first of ``named`` (``extra.unsupported_actions``), else one of
    a profile its config does not list (base 1.6 first, then the security extension).

    None when nothing is named and the SUT lists every profile whose actions go its way (nothing to probe).
    """
    if named:
        action, uid = str(named[0]), probe_id("unsupported")
        return Probe("unsupported action", call_frame(uid, action, NAMED_PAYLOADS.get(action, {})), uid,
                     Expect(frozenset({NOT_SUPPORTED})), f"a CALL of {action} (named in extra.unsupported_actions)",
                     f"{TABLE}: NotSupported = 'Requested Action is recognized but not supported by the receiver'")
    supports = ("the SUT answered, so it supports the action although its config does not list the profile: "
                "nothing to judge (list the profile in features, or name an action it lacks in extra.unsupported_actions)")
    for profile, (action, payload) in _PROFILE_PROBES[sut_role].items():
        if profile not in features:
            uid = probe_id("unsupported")
            return Probe(
                "unsupported action", call_frame(uid, action, payload), uid,
                Expect(frozenset({NOT_SUPPORTED}), reading=supports, result="warn"),
                f"a CALL of {action} (profile {profile}, which the SUT config does not list)",
                f"{TABLE}: NotSupported = 'Requested Action is recognized but not supported by the receiver'")
    if "security" not in features:
        action, payload = _EXTENSION_PROBES[sut_role]
        uid = probe_id("unsupported")
        return Probe(
            "unsupported action", call_frame(uid, action, payload), uid,
            Expect(frozenset({NOT_SUPPORTED}), frozenset({NOT_IMPLEMENTED}),
                   "the action belongs to the security white paper, an addition to OCPP 1.6: a SUT without it may "
                   "not know the action at all (NotImplemented); a CALLRESULT: " + supports, result="warn"),
            f"a CALL of {action} (security extension, which the SUT config does not list)",
            f"{TABLE}: NotSupported = 'Requested Action is recognized but not supported by the receiver'")
    return None


def wrong_direction_probe(sut_role: str) -> Probe:
    """A valid CALL of an action only the SUT itself may send (spec section 4 / 5 direction)."""
    uid = probe_id("direction")
    if sut_role == "cp":
        action, payload, who = "Heartbeat", {}, "a charge point sends it to the central system (spec 4.6)"
    else:
        action, payload, who = "GetConfiguration", {}, "a central system sends it to the charge point (spec 5.8)"
    return Probe(
        "wrong direction", call_frame(uid, action, payload), uid,
        Expect(frozenset({NOT_SUPPORTED, NOT_IMPLEMENTED}), other="warn",
               reading="the spec names no code for a CALL in the wrong direction; NotSupported (recognized, not "
                       "supported here) or NotImplemented are the table's nearest rows"),
        f"a CALL of {action}, which {who}",
        f"{TABLE}: the receiver does not support the action in this direction")


# -- schema violations ----------------------------------------------------------------------------------------
def _schema_probe(name: str, action: str, payload: dict[str, Any], exact: set[str], readings: set[str], reading: str,
                  what: str, row: str) -> Probe:
    uid = probe_id(name.split()[0])
    return Probe(name, call_frame(uid, action, payload), uid,
                 Expect(frozenset(exact), frozenset(readings), reading),
                 f"{action}.req with {what}", f"{TABLE}: {row}")


_TYPE_ROW = "TypeConstraintViolation = 'at least one of the fields violates data type constraints'"
_OCC_ROW = ("OccurenceConstraintViolation = 'a field violates occurence constraints', ProtocolError = "
            "'Payload for Action is incomplete'")
_PROP_ROW = "PropertyConstraintViolation = 'at least one field contains an invalid value'"
_FORM_ROW = "FormationViolation = 'not conform the PDU structure for Action'"
_OVERLAP = "the table's rows overlap: the SUT's code is another reading of the same violation"


def schema_probes(sut_role: str) -> list[Probe]:
    """One CALL per kind of schema violation, each an action the SUT must support and harmless if wrongly obeyed."""
    if sut_role == "cp":
        return [
            _schema_probe("type violation", "GetConfiguration", {"key": "HeartbeatInterval"}, {TYPE},
                          {FORMATION, PROPERTY}, _OVERLAP, "key a string where the schema has an array", _TYPE_ROW),
            _schema_probe("string too long", "GetConfiguration", {"key": ["K" * 51]}, {TYPE}, {PROPERTY, FORMATION},
                          _OVERLAP, "a key of 51 characters (CiString50Type)", _TYPE_ROW),
            _schema_probe("required field missing", "RemoteStopTransaction", {}, {OCCURENCE, PROTOCOL}, {FORMATION},
                          _OVERLAP, "no transactionId (required)", _OCC_ROW),
            _schema_probe("enumeration value", "ChangeAvailability", {"connectorId": 99, "type": "Sideways"},
                          {PROPERTY}, {TYPE, FORMATION}, _OVERLAP, "type 'Sideways' (not Inoperative or Operative)",
                          _PROP_ROW),
            _schema_probe("additional property", "GetConfiguration", {"key": ["HeartbeatInterval"], "probe": 1},
                          {FORMATION}, {PROPERTY, PROTOCOL}, _OVERLAP, "a property the schema does not have", _FORM_ROW),
        ]
    return [
        _schema_probe("type violation", "Authorize", {"idTag": 12345678}, {TYPE}, {FORMATION, PROPERTY}, _OVERLAP,
                      "idTag a number where the schema has a string", _TYPE_ROW),
        _schema_probe("string too long", "Authorize", {"idTag": "T" * 21}, {TYPE}, {PROPERTY, FORMATION}, _OVERLAP,
                      "an idTag of 21 characters (IdToken, CiString20Type)", _TYPE_ROW),
        _schema_probe("required field missing", "Authorize", {}, {OCCURENCE, PROTOCOL}, {FORMATION}, _OVERLAP,
                      "no idTag (required)", _OCC_ROW),
        _schema_probe("enumeration value", "StatusNotification",
                      {"connectorId": 1, "errorCode": "NoError", "status": "Sideways"}, {PROPERTY}, {TYPE, FORMATION},
                      _OVERLAP, "status 'Sideways' (not a ChargePointStatus)", _PROP_ROW),
        _schema_probe("additional property", "Heartbeat", {"probe": 1}, {FORMATION}, {PROPERTY, PROTOCOL}, _OVERLAP,
                      "a property the schema does not have", _FORM_ROW),
        _schema_probe("too few items", "MeterValues", {"connectorId": 1, "meterValue": []}, {OCCURENCE},
                      {PROTOCOL, FORMATION, PROPERTY}, _OVERLAP, "an empty meterValue array (at least one item)",
                      "OccurenceConstraintViolation = 'a field violates occurence constraints'"),
    ]


# -- malformed frames ----------------------------------------------------------------------------------------
_UNADDRESSABLE = Expect(frozenset({FORMATION, PROTOCOL}), silence="pass", other="warn",
                        reading="a frame without a readable unique id cannot be answered by id; OCPP-J 1.6 names no "
                                "reaction, so silence and these codes pass")


def malformed_probes(sut_role: str) -> list[Probe]:
    """Frames that are not OCPP-J (section 4.1, 4.2), each about an action the SUT receives (harmless when obeyed)."""
    action = "GetConfiguration" if sut_role == "cp" else "Heartbeat"
    rule_ = "OCPP-J 1.6 section 4.2.3: a CALL whose content does not meet the requirements of a proper message " \
            "is answered with a CallError"
    addressed = Expect(frozenset({FORMATION, PROTOCOL}), silence="warn", other="warn",
                       reading=f"{TABLE}: FormationViolation (not the PDU structure) or ProtocolError (incomplete)")
    u_short, u_long, u_payload, u_action = (probe_id(t) for t in ("short", "long", "payload", "action"))
    return [
        Probe("not JSON", '[2,"' + probe_id("json") + '","' + action + '",{', None, _UNADDRESSABLE,
              "a text frame that is not valid JSON (cut off)",
              "OCPP-J 1.6 section 4.1.2: every message MUST be valid JSON"),
        Probe("not an array", json.dumps({"action": action}), None, _UNADDRESSABLE,
              "a JSON object instead of an array", "OCPP-J 1.6 section 4.2: every message is a JSON array"),
        Probe("unknown message type", json.dumps([9, probe_id("type9"), action, {}]), None,
              Expect(frozenset({FORMATION, PROTOCOL}), silence="pass", other="warn",
                     reading="section 4.1.3 says the receiver SHALL ignore the message payload"),
              "message type id 9 (not 2, 3 or 4)",
              "OCPP-J 1.6 section 4.1.3: a message with an unknown Message Type Number SHALL be ignored"),
        Probe("unique id not a string", json.dumps([2, 12345, action, {}]), None, _UNADDRESSABLE,
              "a CALL whose unique id is a number", "OCPP-J 1.6 section 4.2.1: the UniqueId is a string"),
        Probe("CALL too short", json.dumps([2, u_short, action]), u_short, addressed,
              "a CALL of 3 elements (no payload)", rule_),
        Probe("CALL too long", json.dumps([2, u_long, action, {}, {}]), u_long, addressed,
              "a CALL of 5 elements", rule_),
        Probe("payload not an object", json.dumps([2, u_payload, action, []]), u_payload, addressed,
              "a CALL whose payload is an array", rule_),
        Probe("action not a string", json.dumps([2, u_action, 42, {}]), u_action,
              Expect(frozenset({FORMATION, PROTOCOL}), frozenset({NOT_IMPLEMENTED}),
                     "a number is no known action (NotImplemented)", silence="warn", other="warn"),
              "a CALL whose action is the number 42", rule_),
        Probe("binary frame", b"\x02\x00probe", None, _UNADDRESSABLE,
              "a binary WebSocket frame", "OCPP-J 1.6 section 4: messages are text frames of JSON"),
    ]


# -- raw transport bytes (the slow-peer probes) ---------------------------------------------------------------
def upgrade_request(host: str, path: str, *, subprotocols: Sequence[str] = ("ocpp1.6",),
                    authorization: str | None = None) -> bytes:
    """The HTTP/1.1 request that opens a WebSocket (RFC 6455 section 4.1), as bytes."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if subprotocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
    if authorization:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def partial_frame(announced: int = 120, sent: int = 10) -> bytes:
    """A masked client text frame whose header announces ``announced`` payload bytes, of which ``sent`` follow.

    RFC 6455 section 5.2: a receiver must wait for the rest; it must not stall its other connections meanwhile.
    """
    if not 0 <= sent <= announced <= 125:
        raise ValueError("announced must be at most 125 (one-byte length) and at least sent")
    mask = os.urandom(4)
    payload = (b'[2,"probe","Heartbeat",{}]' + b" " * announced)[:sent]
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x81, 0x80 | announced) + mask + masked
