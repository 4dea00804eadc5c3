"""Core profile, central system under test (the harness is the charge point): TC_xxx_CSMS."""

from __future__ import annotations

import pytest

from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import booted, check_current_time


@pytest.mark.core
@pytest.mark.tc("TC_001_CSMS", "Cold Boot Charge Point")
async def test_tc_001_csms_cold_boot_charge_point(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_001_CSMS, OCPP 1.6 sections 4.2 (boot), 4.6 (heartbeat), 4.9 (status).

    A central system accepts a booting, known charge point with its real time and
    a usable heartbeat interval, acknowledges the StatusNotification of every
    connector and of connector 0, and answers the heartbeats that follow at that
    interval with its current time. The harness waits the granted interval
    between heartbeats, capped by ``timeouts.heartbeat_wait_cap`` (a central
    system does not judge the charge point's timer here).
    """
    interval = await booted(charge_point, sut, step="1-4")

    wait = min(interval, sut.config.timeouts.heartbeat_wait_cap)
    for n in (1, 2):
        await charge_point.idle(wait, step=f"5 (the charge point's heartbeat timer, {wait:g}s)")
        reply = await charge_point.call("Heartbeat", {}, step=f"5-6 (Heartbeat #{n})")
        check_current_time(f"6 (Heartbeat.conf #{n})", reply["currentTime"], sut.config.timeouts.clock_deviation)
