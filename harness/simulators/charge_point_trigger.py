"""RemoteTrigger profile of the reference charge point (spec 5.17, 6.51, 6.52): TriggerMessage.

Every message TriggerMessage can ask for is sent: BootNotification, DiagnosticsStatusNotification,
FirmwareStatusNotification, Heartbeat, MeterValues and StatusNotification. The conf goes out
first (Accepted), the message after it, through the outbox like every other CALL of the
charge point. A connectorId is honoured where it matters (MeterValues, StatusNotification:
that connector only; without one, every connector and, for StatusNotification, connector 0)
and ignored where it does not. A connectorId the charge point does not have is Rejected where
it matters (catalog TC_055_CS). Triggered MeterValues carry the measurands of MeterValuesSampledData
with context Trigger; the two notifications report the running transfer's status, Idle
when none runs (spec 8, 6.17, 6.19).
"""

from __future__ import annotations

from typing import Any

from ..ocppj import Call, CallError
from .charge_point_connectors import Connector, now_iso

__all__ = ["FAULTS", "VARIANTS", "TriggerMixin"]

#: fault switches of this profile (merged into the charge point's --list-faults)
FAULTS: dict[str, str] = {
    "trigger_message_not_sent": "answer TriggerMessage Accepted but never send the requested message",
    "trigger_message_before_conf": "send the requested message before the TriggerMessage.conf (spec 5.17: the conf first)",
    "trigger_unknown_connector_accepted": "answer TriggerMessage for a connector it does not have with Accepted "
                                          "(and send the message for connector 1)",
    "trigger_idle_status_wrong": "a triggered Diagnostics/FirmwareStatusNotification with no transfer running reports "
                                 "Uploaded / Installed instead of Idle",
}
#: variants of this profile (merged into the charge point's --list-variants)
VARIANTS: dict[str, str] = {
    "trigger_firmware_status_not_implemented": "TriggerMessage for FirmwareStatusNotification is answered NotImplemented "
                                               "(catalog TC_054_CS step 18 allows it)",
    "trigger_unknown_connector_callerror": "TriggerMessage for a connector it does not have is answered with CALLERROR "
                                           "PropertyConstraintViolation (catalog TC_055_CS: Rejected OR a CallError)",
}

#: the messages a connectorId matters to (spec 5.17)
PER_CONNECTOR = frozenset({"MeterValues", "StatusNotification"})
#: what a boot announces (as the charge point's own BootNotification)
BOOT_PAYLOAD = {"chargePointVendor": "SimVendor", "chargePointModel": "RefCP-1", "firmwareVersion": "0.2.0",
                "chargePointSerialNumber": "SIM-0001"}


class TriggerMixin:
    """CS-initiated operations of this profile (handlers named on_<Action>, found by HandlersMixin.handle_call)."""

    connectors: dict[int, Connector]
    faults: Any
    variants: Any
    outbox: Any
    config: Any

    async def handle_call(self, call: Call) -> dict[str, Any] | CallError | None:
        profiles = self.config.csl("SupportedFeatureProfiles")
        if "RemoteTrigger" not in profiles:  # before GetConfiguration can report it
            self.config.set_internal("SupportedFeatureProfiles", ",".join([*profiles, "RemoteTrigger"]))
        return await super().handle_call(call)  # type: ignore[misc, no-any-return]

    async def on_TriggerMessage(self, payload: dict[str, Any]) -> dict[str, Any] | CallError:
        requested, connector = payload["requestedMessage"], payload.get("connectorId")
        if requested not in PER_CONNECTOR:
            connector = None  # spec 5.17: a connectorId that does not matter to the message is ignored
        elif connector is not None and connector not in self.connectors:
            if "trigger_unknown_connector_callerror" in self.variants:
                return CallError("", "PropertyConstraintViolation", f"connectorId {connector} does not exist")
            if "trigger_unknown_connector_accepted" not in self.faults:
                return {"status": "Rejected"}
            connector = 1
        if requested == "FirmwareStatusNotification" and "trigger_firmware_status_not_implemented" in self.variants:
            return {"status": "NotImplemented"}
        if "trigger_message_not_sent" in self.faults:
            return {"status": "Accepted"}
        if "trigger_message_before_conf" in self.faults:
            for action, body in self.triggered(requested, connector):
                await self.send(action, body)  # type: ignore[attr-defined]  # SimChargePoint.send
            return {"status": "Accepted"}
        self.later(lambda: self.send_triggered(requested, connector))  # type: ignore[attr-defined]  # HandlersMixin
        return {"status": "Accepted"}

    def send_triggered(self, requested: str, connector: int | None) -> None:
        """Queue the requested message(s) behind whatever the charge point has queued already."""
        for action, body in self.triggered(requested, connector):
            self.outbox.put(action, lambda body=body: body)

    def triggered(self, requested: str, connector: int | None) -> list[tuple[str, dict[str, Any]]]:
        """The CALLs a trigger of ``requested`` (for ``connector``, None: all that apply) makes, current values only."""
        if requested == "BootNotification":
            return [("BootNotification", dict(BOOT_PAYLOAD))]
        if requested == "Heartbeat":
            return [("Heartbeat", {})]
        if requested in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
            return [(requested, {"status": self.transfer_status(requested)})]
        if requested == "StatusNotification":
            ids = [connector] if connector is not None else sorted(self.connectors)
            return [("StatusNotification", self.status_payload(self.connectors[c])) for c in ids]
        if requested == "MeterValues":
            ids = [connector] if connector is not None else [c for c in sorted(self.connectors) if c > 0]
            return [("MeterValues", self.meter_values_payload(self.connectors[c])) for c in ids]
        return []

    def transfer_status(self, requested: str) -> str:
        """The running firmware update's / diagnostics upload's status; Idle when none runs (spec 6.17, 6.19)."""
        if requested == "FirmwareStatusNotification":
            status = getattr(self, "firmware_status", "Idle")
            wrong = "Installed"
        else:
            status = getattr(self, "diagnostics_status", "Idle")
            wrong = "Uploaded"
        return wrong if status == "Idle" and "trigger_idle_status_wrong" in self.faults else status

    def status_payload(self, c: Connector) -> dict[str, Any]:
        status, error, info = self.status_of(c)  # type: ignore[attr-defined]  # ChargingMixin
        body: dict[str, Any] = {"connectorId": c.id, "errorCode": error, "status": status, "timestamp": now_iso()}
        if info:
            body["info"] = info
        return body

    def meter_values_payload(self, c: Connector) -> dict[str, Any]:
        """The latest values of MeterValuesSampledData, context Trigger (spec 5.17), with the running transaction's id."""
        values = self.sampled_values(c, self.config.csl("MeterValuesSampledData"), "Trigger")  # type: ignore[attr-defined]
        body: dict[str, Any] = {"connectorId": c.id, "meterValue": [{"timestamp": now_iso(), "sampledValue": values}]}
        if c.transaction is not None and c.transaction.tx_id is not None:
            body["transactionId"] = c.transaction.tx_id
        return body
