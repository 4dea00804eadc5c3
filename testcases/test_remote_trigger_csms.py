"""RemoteTrigger profile, central system under test (the harness is the charge point): TC_054_CSMS, TC_055_CSMS.

The operator makes the central system send TriggerMessage (``cs_trigger_message`` with
``requested_message`` and, where the catalog names one, ``connector``). The harness charge
point answers as the step says and, when it accepted, sends the requested message after the
TriggerMessage.conf (spec 5.17), with current values: MeterValues of the connector's register
with context Trigger, its StatusNotification, a Heartbeat, and the two notifications with
status Idle (no transfer runs). The central system must answer each of them.

Every case starts from the reusable state Booted, on ``extra.connector_id`` (1).
TC_055_CSMS asks for connectors + 1 (a connector the charge point does not have; the
catalog's prerequisite: the central system can send that).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.inbox import Received
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import booted, operator_sends, status


def _connector(sut: SutHandle) -> int:
    return int(sut.config.extra.get("connector_id", 1))


async def _triggered(charge_point: ChargePoint, sut: SutHandle, requested: str, *, step: str, answer: str = "Accepted",
                     connector: int | None = None) -> Received:
    """The operator's TriggerMessage for ``requested`` (of ``connector``, when the catalog names one), answered ``answer``."""
    params: dict[str, Any] = {"requested_message": requested}
    pattern: dict[str, Any] = {"requestedMessage": requested}
    if connector is not None:
        params["connector"] = pattern["connectorId"] = connector
    return await operator_sends(charge_point, sut, "cs_trigger_message", "TriggerMessage", step=step,
                                reply={"status": answer}, params=params, **pattern)


@pytest.mark.remote_trigger
@pytest.mark.tc("TC_054_CSMS", "Trigger Message")
async def test_tc_054_csms_trigger_message(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_054_CSMS, OCPP 1.6 sections 5.17, 6.51, 6.52.

    The central system triggers MeterValues and StatusNotification of the configured
    connector, a Heartbeat, a DiagnosticsStatusNotification and a FirmwareStatusNotification:
    each request names what the operator asked for, and each triggered message (sent after
    the Accepted conf) is answered.
    """
    cid = _connector(sut)
    await booted(charge_point, sut)
    await _triggered(charge_point, sut, "MeterValues", connector=cid, step="1-2")
    reading = {"value": str(charge_point.meter_start), "context": "Trigger", "measurand": "Energy.Active.Import.Register",
               "unit": "Wh"}
    await charge_point.call("MeterValues", {"connectorId": cid, "meterValue": [{"timestamp": now_iso(),
                                                                               "sampledValue": [reading]}]}, step="3-4")
    await _triggered(charge_point, sut, "Heartbeat", step="5-6")
    await charge_point.call("Heartbeat", {}, step="7-8")
    await _triggered(charge_point, sut, "StatusNotification", connector=cid, step="9-10")
    await status(charge_point, cid, "Available", step="11-12")
    await _triggered(charge_point, sut, "DiagnosticsStatusNotification", step="13-14")
    await charge_point.call("DiagnosticsStatusNotification", {"status": "Idle"}, step="15-16")
    await _triggered(charge_point, sut, "FirmwareStatusNotification", step="17-18")
    await charge_point.call("FirmwareStatusNotification", {"status": "Idle"}, step="19-20")


@pytest.mark.remote_trigger
@pytest.mark.tc("TC_055_CSMS", "Trigger Message - Rejected")
async def test_tc_055_csms_trigger_message_rejected(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_055_CSMS, OCPP 1.6 sections 5.17, 6.52.

    The central system triggers MeterValues of connector NumberOfConnectors + 1; the
    charge point answers Rejected, which the central system takes (no message follows).
    """
    await booted(charge_point, sut)
    await _triggered(charge_point, sut, "MeterValues", connector=sut.connectors + 1, answer="Rejected", step="1-2")
