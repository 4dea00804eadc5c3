"""Reusable states of the catalog for a central system under test (the harness is the charge point).

Central system under test (harness = charge point): Booted.
"""

from __future__ import annotations

from datetime import datetime, timezone

from harness.errors import PayloadMismatch
from harness.roles.charge_point import ChargePoint
from harness.roles.central_system import now_iso
from harness.sut import SutHandle

__all__ = ["booted", "check_current_time", "boot_notification_payload"]


def boot_notification_payload(sut: SutHandle) -> dict[str, str]:
    return {"chargePointVendor": sut.config.charge_point_vendor, "chargePointModel": sut.config.charge_point_model,
            "firmwareVersion": "harness"}


def check_current_time(step: str, value: str, deviation: float) -> None:
    """A central system's currentTime (schema-checked RFC 3339) must be close to the harness's clock."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise PayloadMismatch(step, f"currentTime {value!r} has no time zone (RFC 3339 requires one)")
    off = abs((moment - datetime.now(timezone.utc)).total_seconds())
    if off > deviation:
        raise PayloadMismatch(step, f"currentTime {value!r} is {off:.0f}s away from the harness clock ({now_iso()}); "
                                    f"at most {deviation:g}s allowed (timeouts.clock_deviation)",
                              "section 4.2: the central system sends its current time so the charge point can set its clock")


async def booted(charge_point: ChargePoint, sut: SutHandle, *, step: str = "Booted") -> int:
    """Reusable state Booted: BootNotification Accepted, then StatusNotification for connector 0 and each connector.

    Returns the heartbeat interval the central system granted.
    """
    reply = await charge_point.call("BootNotification", boot_notification_payload(sut), step=f"{step} (BootNotification)",
                                    expect={"status": "Accepted"})
    check_current_time(f"{step} (BootNotification.conf)", reply["currentTime"], sut.config.timeouts.clock_deviation)
    if reply["interval"] <= 0:
        raise PayloadMismatch(f"{step} (BootNotification.conf)", f"interval is {reply['interval']}; "
                              "an accepting central system must grant a heartbeat interval > 0")
    for connector in range(sut.connectors + 1):
        await charge_point.call(
            "StatusNotification",
            {"connectorId": connector, "errorCode": "NoError", "status": "Available", "timestamp": now_iso()},
            step=f"{step} (StatusNotification connector {connector})",
        )
    return int(reply["interval"])
