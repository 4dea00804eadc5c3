"""The official OCPP 1.6 JSON schemas (harness/schemas.py) and the violation -> OCPP-J error code mapping."""

from __future__ import annotations

import pytest
from jsonschema import Draft4Validator

from harness import schemas
from harness.ocppj import ErrorCode
from harness.schemas import ACTIONS, CENTRAL_SYSTEM_ACTIONS, CHARGE_POINT_ACTIONS, SchemaViolation, validate, validator

BOOT_REQUEST = {"chargePointVendor": "OpenOCTT", "chargePointModel": "HarnessCP"}


def boot_response(current_time: str = "2026-11-25T12:00:00Z") -> dict:
    return {"status": "Accepted", "currentTime": current_time, "interval": 60}


def only(violations: list[SchemaViolation]) -> SchemaViolation:
    assert len(violations) == 1, violations
    return violations[0]


@pytest.mark.parametrize("kind", ["request", "response"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_has_a_loadable_request_and_response_schema(action, kind):
    compiled = validator(action, kind)
    # judged by the draft the file declares: draft-04 for core 1.6, draft-06 for the security extension
    declared = compiled.schema.get("$schema", "")
    assert ("draft-06" in declared) == (not isinstance(compiled, Draft4Validator))
    # the schema is a real object schema that judges a payload without raising
    assert compiled.schema.get("type") == "object"
    assert isinstance(validate(action, kind, {}), list)


def test_validators_are_compiled_once_and_cached():
    assert validator("Heartbeat", "request") is validator("Heartbeat", "request")


def test_charge_point_and_central_system_actions_overlap_only_in_data_transfer():
    assert CHARGE_POINT_ACTIONS & CENTRAL_SYSTEM_ACTIONS == {"DataTransfer"}
    assert ACTIONS == CHARGE_POINT_ACTIONS | CENTRAL_SYSTEM_ACTIONS


def test_the_action_sets_include_the_security_extension_messages():
    assert {"SecurityEventNotification", "SignCertificate"} <= CHARGE_POINT_ACTIONS
    assert {"CertificateSigned", "GetLog", "InstallCertificate"} <= CENTRAL_SYSTEM_ACTIONS


def test_a_valid_boot_notification_request_and_response_pass():
    assert validate("BootNotification", "request", BOOT_REQUEST) == []
    assert validate("BootNotification", "response", boot_response()) == []


def test_a_missing_required_field_is_an_occurence_constraint_violation_at_its_parent_path():
    violation = only(validate("BootNotification", "request", {"chargePointVendor": "OpenOCTT"}))
    assert violation.error_code is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert violation.rule == "required"
    assert violation.path == "$"
    assert "chargePointModel" in violation.message


def test_a_missing_nested_required_field_names_the_nested_object():
    violation = only(validate("StartTransaction", "response", {"transactionId": 1, "idTagInfo": {}}))
    assert violation.error_code is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert violation.path == "$.idTagInfo"
    assert "status" in violation.message


def test_a_cistring_longer_than_its_maximum_is_a_type_constraint_violation():
    violation = only(validate("BootNotification", "request", {**BOOT_REQUEST, "chargePointVendor": "V" * 21}))
    assert violation.error_code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert violation.rule == "maxLength"
    assert violation.path == "$.chargePointVendor"


def test_a_cistring_at_its_maximum_length_passes():
    assert validate("BootNotification", "request", {**BOOT_REQUEST, "chargePointVendor": "V" * 20}) == []


def test_a_value_of_the_wrong_json_type_is_a_type_constraint_violation():
    violation = only(validate("BootNotification", "response", {**boot_response(), "interval": "60"}))
    assert violation.error_code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert violation.rule == "type"
    assert violation.path == "$.interval"


@pytest.mark.parametrize("value", [True, 1.5])
def test_a_boolean_or_fraction_is_not_an_integer(value):
    violation = only(validate("StatusNotification", "request",
                              {"connectorId": value, "errorCode": "NoError", "status": "Available"}))
    assert (violation.rule, violation.error_code) == ("type", ErrorCode.TYPE_CONSTRAINT_VIOLATION)


def test_a_value_outside_an_enum_is_a_property_constraint_violation():
    violation = only(validate("BootNotification", "response", {**boot_response(), "status": "Maybe"}))
    assert violation.error_code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert violation.rule == "enum"
    assert violation.path == "$.status"


def test_an_extra_property_is_a_formation_violation():
    violation = only(validate("Heartbeat", "request", {"extra": 1}))
    assert violation.error_code is ErrorCode.FORMATION_VIOLATION
    assert violation.rule == "additionalProperties"
    assert "extra" in violation.message


def test_a_payload_that_is_not_an_object_is_a_type_constraint_violation_at_the_root():
    violation = only(validate("Heartbeat", "request", []))
    assert (violation.path, violation.rule) == ("$", "type")


@pytest.mark.parametrize("stamp", [
    "2026-11-25T12:00:00",  # no zone designator
    "2026-11-25 12:00:00Z",  # space instead of T
    "2026-11-25",  # a date only
    "25.11.2026 12:00",
    "2026-13-25T12:00:00Z",  # month 13
])
def test_a_date_time_that_is_not_rfc3339_is_a_type_constraint_violation(stamp):
    violation = only(validate("BootNotification", "response", boot_response(stamp)))
    assert violation.error_code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert violation.rule == "format"
    assert violation.path == "$.currentTime"


@pytest.mark.parametrize("stamp", [
    "2026-11-25T12:00:00Z",
    "2026-11-25T12:00:00.123+01:00",
    "2026-11-25T12:00:00-05:30",
    "2026-11-25T12:00:00.5Z",
])
def test_a_date_time_with_a_zone_passes(stamp):
    assert validate("BootNotification", "response", boot_response(stamp)) == []


def test_a_violation_inside_a_nested_object_renders_a_dotted_path():
    violation = only(validate("StartTransaction", "response", {"transactionId": 1, "idTagInfo": {"status": "Bogus"}}))
    assert violation.path == "$.idTagInfo.status"
    assert violation.error_code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_a_violation_inside_an_array_renders_the_index_in_brackets():
    payload = {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-25T12:00:00Z", "sampledValue": []}]}
    violation = only(validate("MeterValues", "request", payload))
    assert violation.path == "$.meterValue[0].sampledValue"
    assert violation.rule == "minItems"
    assert violation.error_code is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION


def test_a_violation_deep_in_an_array_element_renders_the_full_path():
    payload = {"connectorId": 1, "meterValue": [
        {"timestamp": "2026-11-25T12:00:00Z", "sampledValue": [{"value": "1"}]},
        {"timestamp": "2026-11-25T12:00:00Z", "sampledValue": [{"value": "1"}, {"value": 2}]},
    ]}
    violation = only(validate("MeterValues", "request", payload))
    assert violation.path == "$.meterValue[1].sampledValue[1].value"
    assert violation.error_code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_a_security_extension_message_resolves_its_definitions():
    assert validate("GetLog", "request", {"logType": "SecurityLog", "requestId": 1,
                                          "log": {"remoteLocation": "ftp://example.invalid/logs"}}) == []
    violation = only(validate("GetLog", "request", {"logType": "Bogus", "requestId": 1,
                                                   "log": {"remoteLocation": "ftp://example.invalid/logs"}}))
    assert (violation.path, violation.error_code) == ("$.logType", ErrorCode.PROPERTY_CONSTRAINT_VIOLATION)


def test_every_violation_is_reported_not_only_the_first():
    violations = validate("BootNotification", "request", {"chargePointVendor": "V" * 21, "foo": 1})
    assert {v.rule for v in violations} == {"required", "maxLength", "additionalProperties"}


def test_a_violation_renders_path_message_rule_and_code():
    text = str(only(validate("BootNotification", "response", {**boot_response(), "status": "Maybe"})))
    assert text.startswith("$.status: ")
    assert "rule 'enum'" in text and "PropertyConstraintViolation" in text


@pytest.mark.parametrize("call", [
    lambda: validator("FooBar", "request"),
    lambda: validate("FooBar", "response", {}),
    lambda: validator("bootnotification", "request"),
], ids=["validator", "validate", "wrong-case"])
def test_an_unknown_action_raises_key_error(call):
    with pytest.raises(KeyError, match="not an OCPP 1.6 action"):
        call()


def test_a_number_in_an_enum_string_field_is_reported_first_as_a_type_constraint_violation():
    violations = validate("StartTransaction", "response", {"transactionId": 1, "idTagInfo": {"status": 1}})
    assert violations[0].error_code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_violations_are_listed_most_specific_first():
    violations = validate("StartTransaction", "response", {"idTagInfo": {"status": "Bogus"}})
    assert [v.path for v in violations] == ["$.idTagInfo.status", "$"]


def test_a_draft06_security_schema_is_judged_by_draft06_rules():
    assert validate("LogStatusNotification", "request", {"status": "Uploaded", "requestId": 1.0}) == []


def test_schemas_module_exports_the_documented_names():
    assert set(schemas.__all__) == {"CHARGE_POINT_ACTIONS", "CENTRAL_SYSTEM_ACTIONS", "ACTIONS",
                                    "SchemaViolation", "validate", "validator"}
