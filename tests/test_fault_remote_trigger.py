"""The RemoteTrigger cases (TC_054, TC_055, both roles) fail, at the violated step, under the simulators' faults and
pass under their variants; the reference charge point answers every requestable message, with and without connectorId.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness import schemas
from harness.simulators.charge_point import FAULTS, VARIANTS, SimChargePoint
from harness.simulators.common import Faults, Variants


def fault(tc_id: str, name: str, step: str, phrases: list[str]) -> tuple[str, str, str, list[str]]:
    """One fault test: ``tc_id`` run with simulator fault ``name`` (cp: or cs:) must fail at ``step`` saying ``phrases``."""
    return tc_id, name, step, phrases


FAULT_RUNS = [
    fault("TC_054_CS", "cp:trigger_message_not_sent", "3-4", ["expected MeterValues.req with connectorId=1",
                                                             "did not arrive"]),
    fault("TC_054_CS", "cp:trigger_message_before_conf", "3-4", ["MeterValues.req came before the TriggerMessage.conf",
                                                                "SHALL send the TriggerMessage.conf first"]),
    fault("TC_054_CS", "cp:trigger_idle_status_wrong", "15-16", ["status='Idle'", "got 'Uploaded'"]),
    fault("TC_055_CS", "cp:trigger_unknown_connector_accepted", "2", ["status is 'Accepted' for connectorId 3"]),
    fault("TC_054_CSMS", "cs:trigger_message_wrong_message", "1-2", ["requestedMessage='MeterValues'",
                                                                    "got 'Heartbeat'"]),
    fault("TC_055_CSMS", "cs:trigger_unknown_connector_refused", "1-2", ["TriggerMessage.req", "did not arrive",
                                                                        "connector 3 is unknown"]),
]


def test_every_remote_trigger_case_has_a_fault() -> None:
    assert {tc for tc, *_ in FAULT_RUNS} == {"TC_054_CS", "TC_055_CS", "TC_054_CSMS", "TC_055_CSMS"}


@pytest.mark.parametrize(("tc_id", "fault", "step", "phrases"), FAULT_RUNS,
                         ids=[f"{tc.lower()}-fault-{name.split(':')[1]}" for tc, name, *_ in FAULT_RUNS])
def test_remote_trigger_fault_fails_at_the_violated_step(run_case, tc_id: str, fault: str, step: str,
                                                         phrases: list[str]) -> None:
    run_case(tc_id, fault).assert_failed_at(step, *phrases)


@pytest.mark.parametrize(("variant", "tc_id"), [
    ("trigger_firmware_status_not_implemented", "TC_054_CS"),  # catalog step 18: Accepted OR NotImplemented
    ("trigger_unknown_connector_callerror", "TC_055_CS"),  # catalog step 2: Rejected OR a CallError
])
def test_a_remote_trigger_variant_passes(run_case, variant: str, tc_id: str) -> None:
    run = run_case(tc_id, variants=(f"cp:{variant}",))
    assert {k: v for k, v in run.outcomes().items() if k not in ("deselected", "warnings")} == {"passed": 1}, \
        run.output[-6000:]


# -- the reference charge point's TriggerMessage, without a connection ----------------------------------
REQUESTABLE = ["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
               "MeterValues", "StatusNotification"]


def _charge_point(**variants: Any) -> SimChargePoint:
    return SimChargePoint("ws://127.0.0.1:1/ocpp", "CP_T", 2, Faults(FAULTS), None,
                          variants=Variants(VARIANTS, frozenset(variants)))


@pytest.mark.parametrize("connector", [None, 1, 2])
@pytest.mark.parametrize("requested", REQUESTABLE)
def test_every_requestable_message_is_triggered_schema_valid_for_the_right_connectors(requested: str,
                                                                                   connector: int | None) -> None:
    cp = _charge_point()
    calls = cp.triggered(requested, connector)
    assert calls and all(action == requested for action, _ in calls)
    for action, payload in calls:
        assert schemas.validate(action, "request", payload) == [], payload
    connectors = [p.get("connectorId") for _, p in calls]
    if requested == "StatusNotification":
        assert connectors == ([0, 1, 2] if connector is None else [connector])
    elif requested == "MeterValues":
        assert connectors == ([1, 2] if connector is None else [connector])
        assert {v["context"] for _, p in calls for mv in p["meterValue"] for v in mv["sampledValue"]} == {"Trigger"}
    elif requested.endswith("StatusNotification"):
        assert calls[0][1] == {"status": "Idle"}


def test_trigger_message_answers_accepted_rejected_and_not_implemented() -> None:
    """An unknown connector is Rejected where the connectorId matters, ignored where it does not (spec 5.17)."""
    async def scenario() -> list[Any]:
        cp = _charge_point()
        cp.later = lambda work, delay=0.05: None  # type: ignore[method-assign]  # nothing is sent without a connection
        answers = [await cp.on_TriggerMessage({"requestedMessage": "MeterValues", "connectorId": 3}),
                   await cp.on_TriggerMessage({"requestedMessage": "Heartbeat", "connectorId": 7}),
                   await cp.on_TriggerMessage({"requestedMessage": "StatusNotification", "connectorId": 0}),
                   await cp.on_TriggerMessage({"requestedMessage": "FirmwareStatusNotification"})]
        other = _charge_point(trigger_firmware_status_not_implemented=True)
        answers.append(await other.on_TriggerMessage({"requestedMessage": "FirmwareStatusNotification"}))
        return answers

    assert asyncio.run(scenario()) == [{"status": "Rejected"}, {"status": "Accepted"}, {"status": "Accepted"},
                                       {"status": "Accepted"}, {"status": "NotImplemented"}]


def test_a_triggered_notification_reports_the_running_transfer() -> None:
    cp = _charge_point()
    cp.firmware_status, cp.diagnostics_status = "Downloading", "Uploading"
    assert cp.triggered("FirmwareStatusNotification", None) == [("FirmwareStatusNotification", {"status": "Downloading"})]
    assert cp.triggered("DiagnosticsStatusNotification", 1) == [("DiagnosticsStatusNotification", {"status": "Uploading"})]
