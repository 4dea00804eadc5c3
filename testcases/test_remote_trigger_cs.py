"""RemoteTrigger profile, charge point under test (the harness is the central system): TC_054_CS, TC_055_CS.

Spec 5.17: the charge point SHALL send the TriggerMessage.conf first, then the requested
message. A step that waits for the triggered message therefore counts only a message that
came after the conf (in the order of the frames on the connection); one of the same kind
sent before it, e.g. a periodic Heartbeat crossing the request, is not the triggered one.
When none comes after the conf but one came before it, the failure says so.

Readings: the triggered MeterValues and StatusNotification must be for the requested
connector; sampled values without context Trigger (spec 7.30: "value taken when triggered
by TriggerMessage.req") are a warning. TC_055_CS takes ``extra.unknown_connector_id``
(default: connectors + 1) as the connector the charge point does not have, and checks the
case's expected result: the charge point does not send the requested message (watched for
``timeouts.timing_tolerance`` seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from harness.errors import PayloadMismatch, StepTimeout
from harness.inbox import Expectation, Received
from harness.matching import OneOf
from harness.ocppj import CallError
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from harness.trace import Entry, Trace
from testcases.states_charge_point import connector_under_test

CONF_FIRST = "spec 5.17: the charge point SHALL send the TriggerMessage.conf first, then the requested message"


def _position(trace: Trace, entry: Entry) -> int:
    """Where ``entry`` is in the trace (the frames' order on the connection); -1 if it is not there."""
    for index in range(len(trace.entries) - 1, -1, -1):
        if trace.entries[index] is entry:
            return index
    return -1


def _conf_position(trace: Trace, start: int) -> int:
    """The trace position of the reply to the first TriggerMessage.req sent from ``start`` on."""
    sent = next(i for i in range(start, len(trace.entries))
                if trace.entries[i].direction == "sent" and '"TriggerMessage"' in trace.entries[i].text)
    return next(i for i in range(sent + 1, len(trace.entries))
                if trace.entries[i].direction == "received" and trace.entries[i].text.lstrip("[ ").startswith(("3", "4")))


@dataclass
class Triggered(Expectation):
    """The requested message: only one sent after the TriggerMessage.conf counts."""

    trace: Trace | None = None
    conf: int = -1
    #: every message of its kind after the conf is about this step (a notification with another status fails it)
    strict: bool = False

    def _after_conf(self, received: Received) -> bool:
        return self.trace is not None and _position(self.trace, received.entry) > self.conf

    def matches(self, received: Received) -> bool:
        return super().matches(received) and self._after_conf(received)

    def identifies(self, received: Received) -> bool:
        return self.strict and received.action == self.action and self._after_conf(received)


async def trigger(cs: CentralSystem, requested: str, *, call_step: str, message_step: str, connector: int | None = None,
                  answers: tuple[str, ...] = ("Accepted",), strict: bool = False, **pattern: Any) -> Received | None:
    """TriggerMessage for ``requested`` answered one of ``answers``; if Accepted, the message after the conf."""
    payload: dict[str, Any] = {"requestedMessage": requested}
    if connector is not None:
        payload["connectorId"] = connector
    start = len(cs.trace.entries)
    reply = await cs.call("TriggerMessage", payload, step=call_step, expect={"status": OneOf(*answers)})
    if reply["status"] != "Accepted":  # type: ignore[index]
        return None
    conf = _conf_position(cs.trace, start)
    try:
        (got,) = await cs.expect_all(Triggered(requested, pattern, trace=cs.trace, conf=conf, strict=strict),
                                     step=message_step)
    except StepTimeout as exc:
        early = [r for r in cs.inbox.items if r.action == requested and start <= _position(cs.trace, r.entry) < conf]
        if not early:
            raise
        raise StepTimeout(exc.step, f"{requested}.req came before the TriggerMessage.conf and none after it",
                          f"{CONF_FIRST}\nbefore the conf: {early[0].payload}\n{exc.detail}") from None
    return got


def _check_trigger_context(cs: CentralSystem, step: str, meter_values: Received) -> None:
    contexts = {value.get("context", "Sample.Periodic") for mv in meter_values.payload["meterValue"]
                for value in mv["sampledValue"]}
    if contexts != {"Trigger"}:
        cs.warn(step, f"the triggered MeterValues.req carries sampled values of context {sorted(contexts)}, not Trigger",
                "spec 7.30: ReadingContext Trigger is a value taken when triggered by TriggerMessage.req "
                "(an absent context means Sample.Periodic); the catalog step does not check it")


@pytest.mark.remote_trigger
@pytest.mark.tc("TC_054_CS", "Trigger Message")
async def test_tc_054_cs_trigger_message(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_054_CS, OCPP 1.6 sections 5.17, 6.51, 6.52.

    TriggerMessage for MeterValues and StatusNotification (of the configured connector),
    Heartbeat, DiagnosticsStatusNotification (Idle: no upload runs) and
    FirmwareStatusNotification (Accepted and Idle, or NotImplemented): each Accepted and
    followed by the message.
    """
    cs, cid = central_system, connector_under_test(sut)
    meter_values = await trigger(cs, "MeterValues", connector=cid, connectorId=cid, call_step="1-2 (TriggerMessage MeterValues)",
                                 message_step="3-4 (MeterValues.req)")
    assert meter_values is not None
    _check_trigger_context(cs, "3", meter_values)
    await trigger(cs, "Heartbeat", call_step="5-6 (TriggerMessage Heartbeat)", message_step="7-8 (Heartbeat.req)")
    await trigger(cs, "StatusNotification", connector=cid, connectorId=cid,
                  call_step="9-10 (TriggerMessage StatusNotification)", message_step="11-12 (StatusNotification.req)")
    await trigger(cs, "DiagnosticsStatusNotification", status="Idle", strict=True,
                  call_step="13-14 (TriggerMessage DiagnosticsStatusNotification)",
                  message_step="15-16 (DiagnosticsStatusNotification.req Idle)")
    await trigger(cs, "FirmwareStatusNotification", status="Idle", strict=True, answers=("Accepted", "NotImplemented"),
                  call_step="17-18 (TriggerMessage FirmwareStatusNotification)",
                  message_step="19-20 (FirmwareStatusNotification.req Idle)")


@pytest.mark.remote_trigger
@pytest.mark.tc("TC_055_CS", "Trigger Message - Rejected")
async def test_tc_055_cs_trigger_message_rejected(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_055_CS, OCPP 1.6 sections 5.17, 6.52.

    TriggerMessage for MeterValues of a connector the charge point does not have: Rejected,
    or a CALLERROR (the catalog allows both), and no MeterValues for it.
    """
    cs = central_system
    unknown = int(sut.config.extra.get("unknown_connector_id", sut.connectors + 1))
    reply = await cs.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": unknown},
                          step=f"1-2 (TriggerMessage MeterValues, connectorId {unknown})", allow_error=True)
    if not isinstance(reply, CallError) and reply["status"] != "Rejected":
        raise PayloadMismatch("2", f"TriggerMessage.conf status is {reply['status']!r} for connectorId {unknown}, which the "
                                   "charge point does not have; expected Rejected (or a CALLERROR)",
                              "spec 6.52: Rejected = the requested message will not be sent")
    await cs.expect_none("MeterValues", step="2 (expected: the charge point does not send the requested message)",
                         within=sut.config.timeouts.timing_tolerance, connectorId=unknown)
