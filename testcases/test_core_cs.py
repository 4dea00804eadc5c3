"""Core profile, charge point under test (the harness is the central system): TC_xxx_CS."""

from __future__ import annotations

import pytest

from harness.errors import UnexpectedMessage
from harness.inbox import Expectation
from harness.roles.central_system import CentralSystem, now_iso
from harness.sut import SutHandle
from testcases.timing import check_gap, check_not_before


@pytest.mark.core
@pytest.mark.tc("TC_001_CS", "Cold Boot Charge Point")
async def test_tc_001_cs_cold_boot_charge_point(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_001_CS, OCPP 1.6 sections 4.2 (boot), 4.6 (heartbeat), 4.9 (status).

    A charge point that is switched on registers with BootNotification, obeys a
    Rejected answer by staying silent for the interval it was given, then reports
    every connector and connector 0 as Available and keeps its heartbeat at the
    interval of the accepting BootNotification.conf.
    """
    cfg = sut.config
    tol = cfg.timeouts.timing_tolerance
    retry, heartbeat = cfg.boot_retry_interval, cfg.heartbeat_interval

    await sut.act("power_cycle", step="1")
    rejected = await central_system.expect(
        "BootNotification", step="1-2 (BootNotification.req, answered Rejected)",
        reply=lambda _: {"status": "Rejected", "currentTime": now_iso(), "interval": retry},
    )
    assert rejected.replied_at is not None

    retried = await central_system.expect(
        "BootNotification", step="3 (BootNotification.req after the interval)",
        timeout=retry + cfg.timeouts.step,
        reply=lambda _: {"status": "Accepted", "currentTime": now_iso(), "interval": heartbeat},
    )
    check_not_before(
        "3", "the BootNotification after Rejected", rejected.replied_at + retry, retried, tol,
        f"section 4.2: after Rejected the charge point SHALL NOT send any message until the interval ({retry}s) has passed",
    )
    silent = [r for r in central_system.inbox.items if rejected.arrived < r.arrived < retried.arrived]
    if silent:
        raise UnexpectedMessage("3", f"the charge point sent {silent[0].action}.req while Rejected",
                                "section 4.2: while Rejected it SHALL NOT send any OCPP message until the interval expires")

    await central_system.expect_all(
        *[Expectation("StatusNotification", {"connectorId": c, "status": "Available"}, key=("connectorId",))
          for c in range(sut.connectors + 1)],
        step="5-6 (StatusNotification Available for connector 0 and every connector)",
    )

    first = await central_system.expect("Heartbeat", step="7-8 (first Heartbeat.req)", timeout=2 * heartbeat + tol)
    last_before = max(r.arrived for r in central_system.inbox.items if r is not first and r.arrived <= first.arrived)
    check_gap("7", "the first Heartbeat.req", last_before, first, heartbeat, tol, lower=False)
    second = await central_system.expect("Heartbeat", step="7-8 (next Heartbeat.req)", timeout=2 * heartbeat + tol)
    between = [r for r in central_system.inbox.items if first.arrived < r.arrived < second.arrived]
    check_gap("7", "the next Heartbeat.req", max([first.arrived, *(r.arrived for r in between)]), second,
              heartbeat, tol, lower=not between)
