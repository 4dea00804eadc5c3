"""The official OCPP 1.6 JSON schemas, compiled once, with violations mapped to OCPP-J codes.

The schema files (draft-04, including the security extension's messages) come from
the ``ocpp`` package's data files. ``date-time`` formats are enforced (RFC 3339, so
a zone designator is required), which needs the ``rfc3339-validator`` package.

Rule to error code (OCPP-J 1.6 error code table):

    type, maxLength, minLength, format  -> TypeConstraintViolation (a data type: CiStringNType, dateTime, integer)
    required, minItems, maxItems        -> OccurenceConstraintViolation (cardinality)
    enum, minimum, maximum, pattern,
    multipleOf                          -> PropertyConstraintViolation (a value outside the allowed set)
    additionalProperties and the rest   -> FormationViolation (not the PDU's structure)

``multipleOf`` (0.1 for charging rate limits) is judged on the decimal number as written,
not in binary floating point, where 0.3 / 0.1 is 2.9999999999999996 and jsonschema's own
check would reject one valid limit in three (and raise OverflowError on a huge integer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import jsonschema
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.validators import extend, validator_for

from .ocppj import ErrorCode

__all__ = [
    "CHARGE_POINT_ACTIONS",
    "CENTRAL_SYSTEM_ACTIONS",
    "ACTIONS",
    "SchemaViolation",
    "validate",
    "validator",
]

Kind = Literal["request", "response"]

# Actions a charge point initiates (CP -> CS), core spec section 4 and the security extension.
CHARGE_POINT_ACTIONS = frozenset({
    "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
    "StatusNotification", "StopTransaction",
    "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
    "SignedFirmwareStatusNotification",
})
# Actions a central system initiates (CS -> CP), core spec section 5 and the security extension.
CENTRAL_SYSTEM_ACTIONS = frozenset({
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
    "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
    "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction", "RemoteStopTransaction",
    "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile", "TriggerMessage",
    "UnlockConnector", "UpdateFirmware",
    "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds",
    "GetLog", "InstallCertificate", "SignedUpdateFirmware",
})
ACTIONS = CHARGE_POINT_ACTIONS | CENTRAL_SYSTEM_ACTIONS

_CODE_BY_RULE = {
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "minLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "format": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "required": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
}


# At one path, the data type is judged before the values allowed for it (a number in an
# enum string field is a TypeConstraintViolation first).
_RULE_RANK = {"type": 0, "required": 1, "additionalProperties": 2, "format": 3, "maxLength": 3, "minLength": 3}


@dataclass(frozen=True)
class SchemaViolation:
    """One schema rule broken: where (JSON path), which rule, and the OCPP-J code for it."""

    path: str
    rule: str
    message: str
    error_code: ErrorCode

    def __str__(self) -> str:
        return f"{self.path}: {self.message} (rule '{self.rule}', {self.error_code.value})"


@lru_cache(maxsize=None)
def validator(action: str, kind: Kind) -> Draft4Validator:
    """The compiled validator of one action's request or response schema (cached).

    It applies jsonschema's own keyword checks; :func:`validate`, the harness's judge, uses
    the same schema with ``multipleOf`` checked exactly.
    """
    if action not in ACTIONS:
        raise KeyError(f"{action!r} is not an OCPP 1.6 action")
    name = f"{action}.json" if kind == "request" else f"{action}Response.json"
    text = resources.files("ocpp.v16").joinpath("schemas", name).read_text(encoding="utf-8")
    schema = json.loads(text)
    # Core 1.6 schemas declare draft-04, the security extension's draft-06: judge each by its own draft.
    cls = validator_for(schema, default=Draft4Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=FormatChecker())


def _exact(number: float) -> Fraction:
    # repr gives the shortest text that reads back as the same double: for a number parsed
    # from JSON, the digits the sender wrote (0.3 -> Fraction(3, 10), not the double's 0.29999...).
    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


def _multiple_of(checker: Any, divisor: Any, instance: Any, schema: Any) -> Any:
    if not checker.is_type(instance, "number"):
        return
    try:
        ok = (_exact(instance) / _exact(divisor)).denominator == 1
    except (ValueError, OverflowError, ZeroDivisionError):  # inf or nan: no decimal, no multiple
        ok = False
    if not ok:
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {divisor}")


@lru_cache(maxsize=None)
def _exact_class(cls: type) -> Any:
    return extend(cls, {"multipleOf": _multiple_of})


@lru_cache(maxsize=None)
def _judge(action: str, kind: Kind) -> Any:
    """:func:`validator` with ``multipleOf`` judged exactly (see the module docstring)."""
    plain = validator(action, kind)
    return _exact_class(type(plain))(plain.schema, format_checker=plain.format_checker)


def _path(error: jsonschema.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(action: str, kind: Kind, payload: Any) -> list[SchemaViolation]:
    """Check a payload against its schema; return every violation, most specific first.

    Most specific = deepest JSON path first, and at one path the type before other rules;
    the first violation decides the CALLERROR code the harness answers with. Raises only
    KeyError (an action OCPP 1.6 does not have); a payload nested too deep to judge (never
    one from :func:`harness.ocppj.parse`, which limits nesting) is one FormationViolation.
    """
    judge = _judge(action, kind)
    try:
        errors = sorted(judge.iter_errors(payload),
                        key=lambda e: (-len(e.absolute_path), _RULE_RANK.get(str(e.validator), 9), _path(e)))
    except RecursionError:
        return [SchemaViolation("$", "depth", "nested too deep to judge against the schema",
                                ErrorCode.FORMATION_VIOLATION)]
    return [
        SchemaViolation(
            path=_path(e),
            rule=str(e.validator),
            message=e.message,
            error_code=_CODE_BY_RULE.get(str(e.validator), ErrorCode.FORMATION_VIOLATION),
        )
        for e in errors
    ]
