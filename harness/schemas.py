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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import jsonschema
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.validators import validator_for

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
    """The compiled validator of one action's request or response schema (cached)."""
    if action not in ACTIONS:
        raise KeyError(f"{action!r} is not an OCPP 1.6 action")
    name = f"{action}.json" if kind == "request" else f"{action}Response.json"
    text = resources.files("ocpp.v16").joinpath("schemas", name).read_text(encoding="utf-8")
    schema = json.loads(text)
    # Core 1.6 schemas declare draft-04, the security extension's draft-06: judge each by its own draft.
    cls = validator_for(schema, default=Draft4Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=FormatChecker())


def _path(error: jsonschema.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(action: str, kind: Kind, payload: Any) -> list[SchemaViolation]:
    """Check a payload against its schema; return every violation, most specific first.

    Most specific = deepest JSON path first, and at one path the type before other rules;
    the first violation decides the CALLERROR code the harness answers with.
    """
    errors = sorted(validator(action, kind).iter_errors(payload),
                    key=lambda e: (-len(e.absolute_path), _RULE_RANK.get(str(e.validator), 9), _path(e)))
    return [
        SchemaViolation(
            path=_path(e),
            rule=str(e.validator),
            message=e.message,
            error_code=_CODE_BY_RULE.get(str(e.validator), ErrorCode.FORMATION_VIOLATION),
        )
        for e in errors
    ]
