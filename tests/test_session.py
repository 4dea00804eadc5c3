"""Session and role behaviour over an in-memory WebSocket: replies, timeouts, defects, expectations."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from harness.config import SutConfig, Timeouts
from harness.errors import (ConnectionFailure, PayloadMismatch, ProtocolFailure, SchemaFailure, StepTimeout,
                            UnexpectedMessage)
from harness.inbox import ErrorReply, Expectation
from harness.roles.central_system import CentralSystem, now_iso
from harness.roles.charge_point import ChargePoint

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


class FakeWebSocket:
    """Both ends of a connection in memory: the test plays the SUT with ``sut_send`` / ``sut_recv``."""

    def __init__(self) -> None:
        self.to_harness: asyncio.Queue[Any] = asyncio.Queue()
        self.to_sut: asyncio.Queue[str] = asyncio.Queue()

    async def send(self, message: str) -> None:
        await self.to_sut.put(message)

    async def recv(self) -> str | bytes:
        item = await self.to_harness.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        await self.to_harness.put(ConnectionError("closed"))

    def sut_send(self, frame: Any) -> None:
        self.to_harness.put_nowait(frame if isinstance(frame, (str, bytes, Exception)) else json.dumps(frame))

    async def sut_recv(self, timeout: float = 2.0) -> list[Any]:
        return json.loads(await asyncio.wait_for(self.to_sut.get(), timeout))


def config(sut: str = "cp", **timeouts: float) -> SutConfig:
    base = dict(step=1.0, call=1.0, unsolicited_reply=0.3, connect=1.0, test=10.0)
    base.update(timeouts)
    return SutConfig(sut=sut, charge_point_id="CP_1", connectors=1, heartbeat_interval=30,  # type: ignore[arg-type]
                     timeouts=Timeouts(**base))


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


async def central_system(**timeouts: float) -> tuple[CentralSystem, FakeWebSocket]:
    role = CentralSystem(config(**timeouts))
    await role.begin_test("t")
    role.housekeeping = False  # a case's steps are running: the SUT's CALLs wait for them
    ws = FakeWebSocket()
    role.new_session(ws, "CP_1#1")
    return role, ws


def test_expect_replies_to_the_matching_call_with_the_given_payload() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send([2, "a", "Authorize", {"idTag": "T1"}])
        got = await cs.expect("Authorize", step="3", idTag="T1", reply={"idTagInfo": {"status": "Blocked"}})
        assert got.payload == {"idTag": "T1"}
        assert await ws.sut_recv() == [3, "a", {"idTagInfo": {"status": "Blocked"}}]
    run(scenario())


def test_a_held_call_of_the_expected_action_with_other_content_fails_the_step_at_once() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(step=5)
        ws.sut_send([2, "a", "StartTransaction", {"connectorId": 2, "idTag": "T", "meterStart": 0,
                                                  "timestamp": now_iso()}])
        with pytest.raises(UnexpectedMessage) as info:
            await cs.expect("StartTransaction", step="5", connectorId=1)
        assert "Step 5" in str(info.value) and "$.connectorId: expected 1, got 2" in str(info.value)
    run(scenario())


def test_an_expectation_that_times_out_says_what_arrived_and_shows_a_diff() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(step=0.3)
        ws.sut_send([2, "s", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}])
        with pytest.raises(StepTimeout) as info:
            await cs.expect("StatusNotification", step="7", status="Charging")
        text = str(info.value)
        assert "Step 7: expected StatusNotification.req with status='Charging' within 0.3s" in text
        assert "'Preparing'" in text and "closest StatusNotification.req" in text
    run(scenario())


def test_background_traffic_is_answered_at_once_and_recorded() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send([2, "h", "Heartbeat", {}])
        reply = await ws.sut_recv()
        assert reply[0] == 3 and "currentTime" in reply[2]
        assert [r.action for r in cs.inbox.items] == ["Heartbeat"]
        assert any('"Heartbeat"' in e.text for e in cs.trace.entries)
    run(scenario())


def test_an_unclaimed_held_call_gets_the_default_reply_after_the_hold_time() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(unsolicited_reply=0.1)
        ws.sut_send([2, "b", "BootNotification", BOOT])
        reply = await ws.sut_recv()
        assert reply[2]["status"] == "Accepted"
        assert "default reply" in cs.trace.entries[-1].note
    run(scenario())


def test_steps_that_may_be_reversed_match_in_either_order() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send([2, "s", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}])
        ws.sut_send([2, "t", "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0,
                                                  "timestamp": now_iso()}])
        start, status = await cs.expect_all(
            Expectation("StartTransaction", {"connectorId": 1}),
            Expectation("StatusNotification", {"status": "Charging"}), step="5-8")
        assert start.action == "StartTransaction" and status.action == "StatusNotification"
    run(scenario())


def test_expectations_only_look_after_the_last_consumed_message() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(step=0.3)
        for uid, status in (("1", "Available"), ("2", "Preparing")):
            ws.sut_send([2, uid, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status}])
        await cs.expect("StatusNotification", step="1", status="Preparing")
        with pytest.raises(StepTimeout):
            await cs.expect("StatusNotification", step="2", status="Available")
    run(scenario())


def test_a_schema_invalid_call_gets_a_callerror_and_fails_the_running_step() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send([2, "b", "BootNotification", {"chargePointVendor": "V" * 21, "chargePointModel": "M"}])
        reply = await ws.sut_recv()
        assert reply[:3] == [4, "b", "TypeConstraintViolation"]
        with pytest.raises(SchemaFailure) as info:
            await cs.expect("BootNotification", step="1")
        assert "Step 1" in str(info.value) and "$.chargePointVendor" in str(info.value)
    run(scenario())


@pytest.mark.parametrize(("frame", "answer"), [
    ("not json", None),
    ([2, "x", "Heartbeat"], [4, "x", "ProtocolError"]),
    ([2, "y", "FooBar", {}], [4, "y", "NotImplemented"]),
    ([2, "z", "Reset", {"type": "Hard"}], [4, "z", "NotSupported"]),
])
def test_malformed_or_misdirected_frames_are_answered_and_reported(frame: Any, answer: Any) -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send(frame)
        if answer is not None:
            assert (await ws.sut_recv())[:3] == answer
        with pytest.raises(ProtocolFailure):
            await cs.expect("Heartbeat", step="1")
    run(scenario())


def test_a_call_is_answered_and_its_reply_checked_against_the_pattern() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        task = asyncio.ensure_future(cs.call("ChangeConfiguration", {"key": "K", "value": "1"}, step="5",
                                             expect={"status": "Accepted"}))
        sent = await ws.sut_recv()
        assert sent[0] == 2 and sent[2] == "ChangeConfiguration"
        ws.sut_send([3, sent[1], {"status": "Rejected"}])
        with pytest.raises(PayloadMismatch) as info:
            await task
        assert "Step 5: ChangeConfiguration.conf does not carry" in str(info.value)
    run(scenario())


def test_a_call_without_reply_times_out_and_frees_the_slot() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(call=0.2)
        with pytest.raises(StepTimeout, match="no reply to ClearCache.req"):
            await cs.call("ClearCache", {}, step="1")
        await ws.sut_recv()
        task = asyncio.ensure_future(cs.call("ClearCache", {}, step="2"))
        sent = await ws.sut_recv()
        ws.sut_send([3, sent[1], {"status": "Accepted"}])
        assert await task == {"status": "Accepted"}
    run(scenario())


def test_a_callerror_fails_the_step_unless_the_step_allows_it() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        for allow in (False, True):
            task = asyncio.ensure_future(cs.call("ClearCache", {}, step="3", allow_error=allow))
            sent = await ws.sut_recv()
            ws.sut_send([4, sent[1], "NotSupported", "", {}])
            if allow:
                assert (await task).error_code == "NotSupported"
            else:
                with pytest.raises(PayloadMismatch, match="CALLERROR NotSupported"):
                    await task
    run(scenario())


def test_a_reply_with_a_2_0_1_error_code_is_a_protocol_failure() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        task = asyncio.ensure_future(cs.call("ClearCache", {}, step="3", allow_error=True))
        sent = await ws.sut_recv()
        ws.sut_send([4, sent[1], "FormatViolation", "", {}])
        with pytest.raises(ProtocolFailure, match="not an OCPP-J 1.6 error code"):
            await task
    run(scenario())


def test_a_dropped_connection_fails_a_waiting_call_clearly() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        task = asyncio.ensure_future(cs.call("ClearCache", {}, step="4"))
        await ws.sut_recv()
        ws.sut_send(ConnectionError("gone"))
        with pytest.raises(ConnectionFailure, match="Step 4: ClearCache.req unanswered"):
            await task
    run(scenario())


def test_a_forbidden_status_transition_fails_the_test() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        for uid, status in (("1", "Available"), ("2", "Finishing")):
            ws.sut_send([2, uid, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status}])
        await ws.sut_recv()
        await ws.sut_recv()
        with pytest.raises(ProtocolFailure, match="Available -> Finishing is not an allowed transition"):
            await cs.expect("Heartbeat", step="9")
    run(scenario())


def test_expect_none_fails_when_the_forbidden_message_arrives() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send([2, "a", "Authorize", {"idTag": "T2"}])
        with pytest.raises(UnexpectedMessage, match="must not send Authorize.req"):
            await cs.expect_none("Authorize", step="1", within=1.0)
    run(scenario())


def test_the_harness_charge_point_answers_configuration_requests_by_default() -> None:
    async def scenario() -> None:
        cp = ChargePoint(config("cs", unsolicited_reply=0.05))
        ws = FakeWebSocket()
        cp.new_session(ws, "CP_1#1")
        ws.sut_send([2, "g", "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}])
        reply = await ws.sut_recv()
        assert reply[2]["configurationKey"][0]["key"] == "HeartbeatInterval" and reply[2]["unknownKey"] == ["Nope"]
        ws.sut_send([2, "r", "Reset", {"type": "Hard"}])
        assert (await ws.sut_recv())[2] == {"status": "Rejected"}
    run(scenario())


def test_an_error_reply_answers_with_a_callerror() -> None:
    async def scenario() -> None:
        cs, ws = await central_system()
        ws.sut_send([2, "d", "DataTransfer", {"vendorId": "X"}])
        await cs.expect("DataTransfer", step="1", reply=ErrorReply("NotSupported", "no"))
        assert await ws.sut_recv() == [4, "d", "NotSupported", "no", {}]
    run(scenario())


@pytest.mark.parametrize("strict", [False, True])
def test_a_second_call_while_one_is_unanswered_is_a_warning_unless_strict(strict: bool) -> None:
    async def scenario() -> None:
        role = CentralSystem(config().with_overrides(strict=strict))
        await role.begin_test("t")
        role.housekeeping = False
        ws = FakeWebSocket()
        role.new_session(ws, "CP_1#1")
        ws.sut_send([2, "a", "Authorize", {"idTag": "T1"}])
        ws.sut_send([2, "b", "Heartbeat", {}])
        await ws.sut_recv()  # the Heartbeat is answered at once; the Authorize is held
        if strict:
            with pytest.raises(ProtocolFailure, match="one outstanding CALL per direction"):
                await role.expect("Authorize", step="1")
        else:
            await role.expect("Authorize", step="1")
            assert any("warning" in e.text and "still unanswered" in e.text for e in role.trace.entries)
    run(scenario())


def test_a_step_that_times_out_after_the_connection_dropped_says_so() -> None:
    async def scenario() -> None:
        cs, ws = await central_system(step=0.3)
        ws.sut_send(ConnectionError("gone"))
        with pytest.raises(StepTimeout) as info:
            await cs.expect("BootNotification", step="1")
        assert "the connection to the SUT is closed: connection ended: ConnectionError" in str(info.value)
    run(scenario())
