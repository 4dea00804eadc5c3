"""Beyond OCTT: load in both roles (ids RPC_020_CS / RPC_020_CSMS, markers ocppj and robustness).

OCTT drives one charge point, one message at a time. A central system in the field serves
hundreds of charge points at once, and a charge point gets bursts of commands from its
back office while it charges. These cases measure and judge that, bounded in count and
time and on whatever network the SUT is on (loopback against the simulators):

* RPC_020_CSMS: ``extra.load_charge_points`` charge points (200 against the reference
  central system, 10 by default against a configured one) connect at once, each boots,
  heartbeats, runs a short transaction and heartbeats again;
* RPC_020_CS: ``extra.burst_calls`` CALLs (200 / 50) back to back to a charge point that
  is charging.

Nothing may be lost: every CALL answered within timeouts.call, every transaction started
is stopped and acknowledged. Latency per message goes to the report as properties
(``load_latency_ms``, ``burst_latency_ms``: count, mean, p50, p95, p99, max) and to the trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from harness import schemas
from harness.errors import ConnectionFailure, PayloadMismatch, ProtocolFailure, StepFailure
from harness.inbox import ErrorReply, Expectation
from harness.ocppj import Call, CallError
from harness.probe_run import latency_summary, probe_step
from harness.roles.central_system import CentralSystem, now_iso
from harness.roles.charge_point import ChargePoint
from harness.session import Session
from harness.sut import SutHandle, SutProvider
from harness.trace import Entry, Trace
from harness.transport import connect_charge_point
from testcases.states_central_system import METER_START, METER_STOP, boot_notification_payload
from testcases.states_charge_point import charging, check_stop_transaction, connector_status, connector_under_test
from testcases.states_rpc import reach

#: the CALLs of a burst, in turn: read-only for the charge point (their answers change nothing)
BURST = [("GetConfiguration", {"key": ["HeartbeatInterval"]}), ("DataTransfer", {"vendorId": "org.openocpp.harness.burst"}),
         ("GetConfiguration", {})]
CONNECTING_AT_ONCE = 50  # opening handshakes in flight at a time (all connections stay open together)


def _count(sut: SutHandle, provider: SutProvider, key: str, simulator: int, configured: int) -> int:
    """``extra.<key>``, else ``simulator`` against the reference simulators and ``configured`` against a real SUT."""
    return int(sut.config.extra.get(key, simulator if provider.user_config is None else configured))


# -- a charge point under a burst of CALLs -------------------------------------------------------------------------
@pytest.mark.ocppj
@pytest.mark.robustness
@pytest.mark.tc("RPC_020_CS", "A burst of CALLs while charging: every CALL answered, nothing lost")
async def test_rpc_020_cs_burst_of_calls(central_system: CentralSystem, sut: SutHandle, ocpp_provider: SutProvider,
                                         request: pytest.FixtureRequest) -> None:
    """RPC_020_CS, OCPP-J 1.6 section 4.1.1 (one CALL at a time per direction: the harness keeps to it), spec 3.7.

    While a transaction runs, ``extra.burst_calls`` CALLs (GetConfiguration and DataTransfer,
    in turn) go out back to back, each as soon as the previous one is answered; every one
    must be answered within timeouts.call. Then the transaction is stopped remotely: its
    StopTransaction.req must come with its transactionId (nothing was lost meanwhile), and
    the charge point's own CALLs during the burst were all answered. Latency per CALL is
    reported (property burst_latency_ms).
    """
    cs, cid = central_system, connector_under_test(sut)
    count = _count(sut, ocpp_provider, "burst_calls", 200, 50)
    tx = await charging(cs, sut, step="before (Charging)", connector=cid)
    session = await cs.wait_connected("1")
    latencies: list[float] = []
    began = time.monotonic()
    with probe_step(cs, f"1 ({count} CALLs back to back)", f"{count} x GetConfiguration / DataTransfer",
                    "every CALL answered"):
        for n in range(count):
            action, payload = BURST[n % len(BURST)]
            sent = time.monotonic()
            reply = await session.call(action, dict(payload), timeout=cs.timeouts.call,
                                       step=f"1 (CALL {n + 1} of {count}: {action})")
            latencies.append(time.monotonic() - sent)
            if isinstance(reply, CallError):
                raise PayloadMismatch(f"1 (CALL {n + 1} of {count}: {action})",
                                      f"{action}.req was answered with CALLERROR {reply.error_code} in the burst")
        cs.check("1")
    elapsed = time.monotonic() - began
    meter_values = sum(1 for r in cs.inbox.items if r.action == "MeterValues" and r.arrived >= began)
    figures = {**latency_summary(latencies), "calls_per_s": round(count / elapsed, 1) if elapsed else 0.0,
               "charge_point_meter_values_meanwhile": meter_values}
    request.node.user_properties.append(("burst_latency_ms", figures))
    cs.trace.event(f"burst of {count} CALLs in {elapsed:.2f}s: {figures}")
    await cs.call("RemoteStopTransaction", {"transactionId": tx.transaction_id}, step="2 (RemoteStopTransaction)",
                  expect={"status": "Accepted"})
    stop, _ = await cs.expect_all(Expectation("StopTransaction", {"transactionId": tx.transaction_id}),
                                  connector_status(cid, "Finishing"), step="3 (StopTransaction.req, Finishing)")
    check_stop_transaction(cs, stop, "3", tx, ("Remote",))
    await sut.act("unplug", step="after", connector=cid)
    await cs.expect("StatusNotification", step="after (StatusNotification Available)", connectorId=cid, status="Available")


# -- many charge points at a central system --------------------------------------------------------------------------
class _Load:
    """The load charge points' sessions, their latencies and the defects they saw (one process, one loop)."""

    def __init__(self, cp: ChargePoint, sample: str) -> None:
        self.cp = cp
        self.sample = sample  # the one charge point whose frames go to the case's trace
        self.quiet = Trace("load (not reported)")
        self.sessions: dict[str, Session] = {}
        self.latency: dict[str, list[float]] = {}
        self.defects: list[str] = []
        self.transactions: dict[str, int] = {}
        self.stopped: set[str] = set()

    def trace_of(self, identity: str) -> Trace:
        return self.cp.trace if identity == self.sample else self.quiet

    async def connect(self, identity: str, gate: asyncio.Semaphore) -> float:
        endpoint, password, tls = reach(self.cp)
        async with gate:
            began = time.monotonic()
            ws = await connect_charge_point(endpoint, identity, password=password, open_timeout=self.cp.timeouts.connect,
                                            ssl=tls)
        session = Session(ws, name=identity, trace=lambda: self.trace_of(identity),
                          peer_actions=schemas.CENTRAL_SYSTEM_ACTIONS, on_call=self._answer,
                          on_violation=lambda failure: self.defects.append(f"{identity}: {failure.problem}"),
                          strict=self.cp.config.strict)
        self.sessions[identity] = session
        session.start()
        return time.monotonic() - began

    async def _answer(self, session: Session, call: Call, entry: Entry) -> None:
        """A CALL of the central system to a load charge point: the harness charge point's default answer."""
        reply = self.cp.default_reply(call)
        if isinstance(reply, ErrorReply):
            await session.reply_error(call, reply.code, reply.description)
        else:
            await session.reply(call, dict(reply))

    async def call(self, identity: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        session = self.sessions[identity]
        began = time.monotonic()
        reply = await session.call(action, payload, timeout=self.cp.timeouts.call, step=f"2 ({identity}: {action})")
        self.latency.setdefault(action, []).append(time.monotonic() - began)
        if isinstance(reply, CallError):
            raise PayloadMismatch(f"2 ({identity}: {action})", f"{action}.req was answered with CALLERROR "
                                  f"{reply.error_code} ({reply.error_description!r})")
        return reply.payload

    async def run(self, identity: str, sut: SutHandle) -> None:
        """Boot, heartbeat, a short transaction, heartbeat: what a charge point does in its first minute."""
        boot = await self.call(identity, "BootNotification", boot_notification_payload(sut))
        if boot["status"] != "Accepted":
            raise PayloadMismatch(f"2 ({identity}: BootNotification)", f"BootNotification.conf status is "
                                  f"{boot['status']!r}; the load charge points must be known to the central system "
                                  "(extra.load_charge_point_id names them)")
        await self.call(identity, "Heartbeat", {})
        start = await self.call(identity, "StartTransaction", {"connectorId": 1, "idTag": sut.id_tags.valid,
                                                               "meterStart": METER_START, "timestamp": now_iso()})
        tx = int(start["transactionId"])
        self.transactions[identity] = tx
        await self.call(identity, "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
            {"timestamp": now_iso(), "sampledValue": [{"value": str(METER_START + 100), "measurand":
                                                       "Energy.Active.Import.Register", "unit": "Wh"}]}]})
        await self.call(identity, "StopTransaction", {"transactionId": tx, "meterStop": METER_STOP,
                                                      "timestamp": now_iso(), "reason": "Local"})
        self.stopped.add(identity)
        await self.call(identity, "Heartbeat", {})

    async def close(self) -> None:
        """Close every connection, bounded; what does not close in time is cut."""
        sessions = list(self.sessions.values())
        await asyncio.gather(*(s.close(timeout=2) for s in sessions), return_exceptions=True)
        for session in sessions:
            transport = getattr(session.ws, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.abort()


@pytest.mark.ocppj
@pytest.mark.robustness
@pytest.mark.tc("RPC_020_CSMS", "Many charge points at once: every one boots, charges, stops; nothing lost")
async def test_rpc_020_csms_many_charge_points(charge_point: ChargePoint, sut: SutHandle, ocpp_provider: SutProvider,
                                               request: pytest.FixtureRequest) -> None:
    """RPC_020_CSMS, OCPP-J 1.6 section 3 (one WebSocket per charge point), spec 4.2, 4.6, 4.8, 4.10.

    ``extra.load_charge_points`` charge points (identities ``extra.load_charge_point_id``, a
    format with {charge_point_id} and {n}; default "{charge_point_id}-L{n:03d}") connect at
    once (at most 50 opening handshakes in flight), all stay connected together, and each
    boots, sends a Heartbeat, starts a transaction, sends MeterValues, stops it and sends a
    Heartbeat. Every connection must be accepted, every CALL answered (schema-valid) within
    timeouts.call, every BootNotification Accepted, the open transactions' ids distinct, every
    StopTransaction acknowledged. Figures: properties load_latency_ms (per action and all),
    load_connect_ms, load_seconds. Every connection is closed at the end, also on failure.
    """
    cp = charge_point
    count = _count(sut, ocpp_provider, "load_charge_points", 200, 10)
    pattern = str(sut.config.extra.get("load_charge_point_id", "{charge_point_id}-L{n:03d}"))
    identities = [pattern.format(charge_point_id=sut.config.charge_point_id, n=n) for n in range(1, count + 1)]
    load = _Load(cp, identities[0])
    began, connect_ms = time.monotonic(), {}
    try:
        with probe_step(cp, f"1 ({count} charge points connect)", f"{count} WebSocket upgrades", "all accepted"):
            gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
            results = await asyncio.gather(*(load.connect(i, gate) for i in identities), return_exceptions=True)
            refused = [(i, r) for i, r in zip(identities, results) if isinstance(r, BaseException)]
            if refused:
                first = refused[0][1]
                cause = first.problem if isinstance(first, StepFailure) else f"{type(first).__name__}: {first}"
                raise ConnectionFailure("1", f"{len(refused)} of {count} charge points could not connect; the first, "
                                             f"{refused[0][0]}: {cause}")
            connect_ms = latency_summary([r for r in results if isinstance(r, float)])
            cp.trace.event(f"load: {count} connections open at once; opening handshake (ms) {connect_ms}")
        with probe_step(cp, f"2 ({count} charge points boot, heartbeat, charge, stop)", "6 CALLs each",
                        "every CALL answered"):
            outcomes = await asyncio.gather(*(load.run(i, sut) for i in identities), return_exceptions=True)
            failed = [(i, o) for i, o in zip(identities, outcomes) if isinstance(o, BaseException)]
            if failed:
                first = failed[0][1]
                if isinstance(first, StepFailure):
                    raise type(first)(first.step, f"{len(failed)} of {count} charge points failed; the first: "
                                                  f"{first.problem}", first.detail)
                raise first
        with probe_step(cp, "3 (nothing lost)", "-", "distinct transaction ids, every stop acknowledged, no defect"):
            ids = list(load.transactions.values())
            if len(set(ids)) != len(ids):
                doubled = sorted({t for t in ids if ids.count(t) > 1})
                raise PayloadMismatch("3", f"transactionIds given to more than one of the concurrent transactions: "
                                           f"{doubled[:10]}", "spec 4.8: the transactionId identifies the transaction")
            if len(load.stopped) != count:
                raise ProtocolFailure("3", f"{count - len(load.stopped)} transactions were not stopped and acknowledged")
            if load.defects:
                raise ProtocolFailure("3", f"{len(load.defects)} OCPP-J defects on the load connections; the first: "
                                           f"{load.defects[0]}")
    finally:
        elapsed = time.monotonic() - began
        await load.close()
        every = [v for values in load.latency.values() for v in values]
        figures = {"all": latency_summary(every), **{a: latency_summary(v) for a, v in load.latency.items()}}
        request.node.user_properties.append(("load_latency_ms", figures))
        request.node.user_properties.append(("load_connect_ms", connect_ms))
        request.node.user_properties.append(("load_seconds", round(elapsed, 2)))
        cp.trace.event(f"load: {count} charge points, {len(every)} CALLs answered in {elapsed:.2f}s; latency (ms) "
                       f"{figures['all']}")
        with contextlib.suppress(Exception):
            load.quiet.entries.clear()
