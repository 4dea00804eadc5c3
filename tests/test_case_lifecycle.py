"""Permitted behaviour in the judge itself: intermediate statuses, manual steps beside the steps, warnings.

Over an in-memory WebSocket (tests/test_session.py's double): the SUT is played by the test.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from harness.actuators import Actuations, Actuators
from harness.errors import StepFailure, StepTimeout, UnexpectedMessage
from harness.inbox import Expectation
from harness.models.connector_status import on_the_way
from harness.roles.central_system import CentralSystem
from test_session import FakeWebSocket, config, run


def status(connector: int, value: str) -> list[Any]:
    return [2, f"s{time.monotonic_ns()}", "StatusNotification",
            {"connectorId": connector, "errorCode": "NoError", "status": value}]


async def central_system(**timeouts: float) -> tuple[CentralSystem, FakeWebSocket]:
    role = CentralSystem(config(**timeouts))
    await role.begin_test("t")
    role.housekeeping = False
    ws = FakeWebSocket()
    role.new_session(ws, "CP_1#1")
    return role, ws


@pytest.mark.parametrize(("seen", "target", "permitted"), [
    ("SuspendedEV", "Charging", True),        # D3: the EV starts drawing a moment later
    ("SuspendedEVSE", "Charging", True),      # E3
    ("SuspendedEV", "Finishing", True),       # D6: the EV stopped drawing before the stop
    ("Available", "Unavailable", True),       # A8: Available first after a boot, then the persisted Unavailable
    ("Preparing", "Charging", True),          # the same Preparing sent again
    ("Faulted", "Charging", False),           # a fault is never a step on the way
    ("Finishing", "Charging", False),         # F3 is not in the table
    ("Charging", "Charging", False),          # the target itself: its other fields decide
])
def test_a_status_is_on_the_way_only_where_the_table_leads_to_the_target(seen: str, target: str, permitted: bool) -> None:
    assert on_the_way(1, seen, (target,)) is permitted


def test_connector_zero_is_on_the_way_between_its_three_statuses_but_not_when_faulted() -> None:
    assert on_the_way(0, "Available", ("Unavailable",))
    assert not on_the_way(0, "Faulted", ("Available",))


def test_a_status_step_is_met_through_a_permitted_intermediate_status() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send(status(1, "Preparing"))
        ws.sut_send(status(1, "SuspendedEV"))
        ws.sut_send(status(1, "Charging"))
        got = await cs.expect("StatusNotification", step="7", connectorId=1, status="Charging")
        assert got.payload["status"] == "Charging"
    run(scenario())


def test_a_status_step_fails_at_once_on_a_status_that_cannot_lead_to_it() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(step=5.0)
        ws.sut_send(status(1, "Faulted"))
        began = time.monotonic()
        with pytest.raises(UnexpectedMessage, match="expected 'Charging', got 'Faulted'"):
            await cs.expect("StatusNotification", step="7", connectorId=1, status="Charging")
        assert time.monotonic() - began < 2, "a status off the way fails at once, not after the step timeout"
    run(scenario())


def test_an_exact_status_step_allows_no_intermediate() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send(status(1, "SuspendedEV"))
        with pytest.raises(UnexpectedMessage, match="got 'SuspendedEV'"):
            await cs.expect_all(Expectation("StatusNotification", {"connectorId": 1, "status": "Charging"}, exact=True),
                                step="7")
    run(scenario())


def test_a_status_step_that_stays_on_the_way_times_out_naming_what_the_connector_reported() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(step=0.5)
        ws.sut_send(status(1, "SuspendedEV"))
        with pytest.raises(StepTimeout, match="reported SuspendedEV: on the way"):
            await cs.expect("StatusNotification", step="7", connectorId=1, status="Charging")
    run(scenario())


def test_a_step_does_not_time_out_while_the_manual_step_it_waits_on_is_still_queued() -> None:
    """An operator still busy with the previous prompt: the next step's clock starts when its manual step does."""
    async def scenario() -> None:
        cs, ws = await central_system(step=0.5)
        released = asyncio.Event()

        async def slow_then_quick(action: str, **params: Any) -> str:
            if action == "plug_in":
                await released.wait()  # the operator confirms the first prompt late
            return "done"

        actuators = Actuators({}, timeout=10)
        actuators._run = lambda kind, how, action, params: slow_then_quick(action, **params)  # type: ignore[method-assign]
        actuators.how = lambda action: {"python": "x:y"}  # type: ignore[method-assign]
        cs.actuations = Actuations(actuators, cs.inbox.notify)
        cs.actuations.start("plug_in", step="1", connector=1)
        cs.actuations.start("present_id_tag", step="3", connector=1, id_tag="T")  # queued behind plug_in

        async def operator() -> None:
            await asyncio.sleep(1.0)  # longer than the step timeout (the test plays the slow operator)
            released.set()
            await asyncio.sleep(0.2)
            ws.sut_send([2, "a", "Authorize", {"idTag": "T"}])

        task = asyncio.ensure_future(operator())
        got = await cs.expect("Authorize", step="3-4", idTag="T")
        assert got.payload == {"idTag": "T"}
        await task
    run(scenario())


def test_a_failed_manual_step_fails_the_next_step_that_checks() -> None:
    async def scenario() -> None:
        cs, _ = await central_system(step=2.0)

        async def broken(kind: str, how: Any, action: str, params: Any) -> None:
            raise StepFailure("", "manual step 'plug_in': HTTP 500")

        actuators = Actuators({}, timeout=10)
        actuators._run = broken  # type: ignore[method-assign]
        cs.actuations = Actuations(actuators, cs.inbox.notify)
        cs.actuations.start("plug_in", step="1", connector=1)
        with pytest.raises(StepFailure, match=r"^Step 1: manual step 'plug_in': HTTP 500"):
            await cs.expect("StatusNotification", step="1-2", connectorId=1, status="Preparing")
    run(scenario())


def test_manual_steps_a_case_did_not_undo_are_listed_for_the_teardown() -> None:
    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        actuators = Actuators({}, timeout=1)
        actuators._run = lambda *args: asyncio.sleep(0)  # type: ignore[method-assign]
        actuators.how = lambda action: {"python": "x:y"}  # type: ignore[method-assign]
        done = Actuations(actuators)
        for action, connector in [("lock_failure", 1), ("drop_connection", None), ("restore_connection", None),
                                  ("fault_charge_point", None), ("ev_suspend", 2)]:
            done.start(action, **({"connector": connector} if connector else {}))
        await done.settle(2)
        return done.not_undone()
    assert run(scenario()) == [("clear_fault", {"connector": 1}), ("clear_fault", {"connector": 0}),
                               ("ev_resume", {"connector": 2})]


@pytest.mark.parametrize("strict", [False, True])
def test_a_check_beyond_the_catalog_is_a_warning_unless_strict(strict: bool) -> None:
    async def scenario() -> None:
        role = CentralSystem(config().with_overrides(strict=strict))
        await role.begin_test("t")
        if strict:
            with pytest.raises(StepFailure, match="strict: true"):
                role.warn("2", "accepted an unknown vendorId", "the catalog allows it")
        else:
            with pytest.warns(UserWarning, match="unknown vendorId"):
                role.warn("2", "accepted an unknown vendorId", "the catalog allows it")
            assert [w.text for w in role.warnings] == ["accepted an unknown vendorId"]
            assert any("warning (step 2)" in e.text for e in role.trace.entries)
    run(scenario())
