"""Core profile, charge point under test: power loss, availability across reboots, offline queueing, meter values.

Transaction-related messages sent while offline must arrive in order after reconnect
(spec 3.7); meter values at the configured intervals (spec 3.16, 4.7).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from harness.errors import PayloadMismatch, StepFailure, StepTimeout, UnexpectedMessage
from harness.inbox import Expectation, Received
from harness.matching import OneOf, Where
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import (
    connector_status,
    boot_statuses, charging, check_stop_transaction, configure, connector_under_test, get_configuration,
    id_tag_cached, require, set_connector_unavailable, setting, tx_of,
)


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@pytest.mark.core
@pytest.mark.tc("TC_032_1_CS", "Power failure boot charging point - configured to stop transaction(s) before going down")
async def test_tc_032_1_cs_power_failure_stop_before_going_down(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_032_1_CS, OCPP 1.6 sections 4.10, 7.36, 4.2.

    A charge point with back-up power stops its transactions when the power goes:
    StopTransaction reason PowerLoss and Finishing, in either order (spec 4.10 does not
    order them; the catalog does for TC_005_1, TC_012, TC_038); when power returns it
    boots and reports the connector Finishing or Preparing and the others Available.
    """
    cs = central_system
    require(sut, "backup_power")
    tx = await charging(cs, sut, step="before (Charging)")
    await sut.act("power_loss", step="1")
    stop, _ = await cs.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, "Finishing"),
                                  step="1-4 (StopTransaction.req PowerLoss, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "1", tx, ("PowerLoss",))
    await cs.expect("BootNotification", step="5-6 (BootNotification.req, answered Accepted)")
    await cs.expect_all(*boot_statuses(sut, {tx.connector: OneOf("Finishing", "Preparing")}),
                        step="7-8 (StatusNotification per connector after boot)")


@pytest.mark.core
@pytest.mark.tc("TC_032_2_CS", "Power failure boot charging point-configured to stop transaction(s)")
async def test_tc_032_2_cs_power_failure_stop_after_boot(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_032_2_CS, OCPP 1.6 sections 4.2, 4.10, 7.36.

    A charge point without back-up power, cut during a transaction, boots and then
    either resumes the transaction (Charging; the driver then stops it: reason Local or
    none) or ends it itself (reason PowerLoss), with the transactionId of the cut
    transaction. Reading: the power cut is the actuator power_cycle; the catalog lets
    steps 3-7 come in another order, but the StopTransaction is looked for after the
    connector's status (its reason depends on that status).
    """
    cs = central_system
    require(sut, "power_cut_without_backup")
    tx = await charging(cs, sut, step="before (Charging)")
    await sut.act("power_cycle", step="1")
    await cs.expect("BootNotification", step="1-2 (BootNotification.req, answered Accepted)")
    others = [connector_status(c, "Available") for c in range(sut.connectors + 1) if c != tx.connector]
    got = await cs.expect_all(Expectation("StatusNotification", {"connectorId": tx.connector,
                                                                 "status": OneOf("Preparing", "Finishing", "Charging")}),
                              *others, step="3-4 (StatusNotification per connector after boot)")
    status = got[0].payload["status"]
    if status == "Charging":
        await sut.act("present_id_tag", step="5", connector=tx.connector, id_tag=tx.id_tag)
        stop = await cs.expect("StopTransaction", step="5-6 (StopTransaction.req, stopped by the driver)")
        check_stop_transaction(cs, stop, "5", tx, ("Local",))
    else:
        stop = await cs.expect("StopTransaction", step="5-6 (StopTransaction.req PowerLoss)")
        check_stop_transaction(cs, stop, "5", tx, ("PowerLoss",))
    if status != "Finishing":
        await cs.expect("StatusNotification", step="7-8 (StatusNotification Preparing or Finishing)", connectorId=tx.connector,
                        status=OneOf("Preparing", "Finishing"))


@pytest.mark.core
@pytest.mark.tc("TC_034_CS", "Power Failure with Unavailable Status")
async def test_tc_034_cs_power_failure_with_unavailable_status(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_034_CS, OCPP 1.6 sections 5.2, 4.9.

    A charge point made Inoperative (connectorId 0) stays Unavailable, connector 0 and
    every connector, across a power cycle.
    """
    cs = central_system
    await set_connector_unavailable(cs, sut, 0, step="1-4 (ChangeAvailability 0 Inoperative)")
    await sut.act("power_cycle", step="5")
    await cs.expect("BootNotification", step="5-6 (BootNotification.req, answered Accepted)")
    await cs.expect_all(*boot_statuses(sut, {c: "Unavailable" for c in range(sut.connectors + 1)}),
                        step="7-8 (StatusNotification Unavailable per connector and connector 0)")


def _values_ok(step: str, received: Received, context: str, measurands: list[str]) -> None:
    """One MeterValue per message, each sampledValue of ``context``, one per configured measurand."""
    wanted = sorted(measurands or ["Energy.Active.Import.Register"])
    for mv in received.payload["meterValue"]:
        values = mv["sampledValue"]
        contexts = {v.get("context", "Sample.Periodic") for v in values}
        if contexts != {context}:
            raise PayloadMismatch(step, f"sampledValue.context is {sorted(contexts)}; expected {context}", f"payload: {received.payload}")
        got = sorted(v.get("measurand", "Energy.Active.Import.Register") + ("." + v["phase"] if "phase" in v else "")
                     for v in values)
        if got != wanted:
            raise PayloadMismatch(step, f"the sampled measurands are {got}; the configuration asks for {wanted} (one each)",
                                  f"payload: {received.payload}")


def _context_is(context: str) -> Any:
    return Where(lambda mvs: all(v.get("context", "Sample.Periodic") == context for mv in mvs for v in mv["sampledValue"]),
                 f"meter values of context {context}")


async def _collect(cs: CentralSystem, step: str, cid: int, tx_id: int, context: str, count: int, until: float) -> list[Received]:
    """MeterValues of the transaction and context, until ``count`` arrived or the monotonic deadline ``until``."""
    got: list[Received] = []
    while len(got) < count:
        try:
            got.append(await cs.expect("MeterValues", step=step, timeout=max(0.01, until - time.monotonic()),
                                       connectorId=cid, transactionId=tx_id, meterValue=_context_is(context)))
        except StepTimeout:
            raise StepFailure(step, f"only {len(got)} of the {count} MeterValues.req ({context}) due by now arrived",
                              "spec 4.7, errata 3.15: with a sample/aligned interval > 0 the charge point SHALL send "
                              "meter values at that interval") from None
    return got


def _spacing(step: str, stamps: list[float], interval: float, tol: float, what: str) -> None:
    for a, b in zip(stamps, stamps[1:]):
        if abs(b - a - interval) > tol:
            raise StepFailure(step, f"{what}: timestamps {b - a:.2f}s apart; expected {interval:g}s (+/- {tol:g}s)")


async def _meter_values_case(cs: CentralSystem, sut: SutHandle, *, sampled: bool) -> None:
    interval = int(setting(sut, "meter_value_sample_interval" if sampled else "clock_aligned_data_interval"))
    key, context = ("MeterValuesSampledData", "Sample.Periodic") if sampled else ("MeterValuesAlignedData", "Sample.Clock")
    tol = sut.config.timeouts.timing_tolerance
    await configure(cs, sut, "before", {"MeterValueSampleInterval": interval if sampled else 0,
                                              "ClockAlignedDataInterval": 0 if sampled else interval})
    keys = await get_configuration(cs, f"before (GetConfiguration {key})", key)
    measurands = [m.strip() for m in keys.get(key, {}).get("value", "").split(",") if m.strip()]
    tx = await charging(cs, sut, step="before (Charging)")
    until = time.monotonic() + 3 * interval + tol + (interval if not sampled else 0)
    got = await _collect(cs, "1-2 (MeterValues.req)", tx.connector, tx.transaction_id, context, 1, until)
    got += await _collect(cs, "3 (MeterValues.req over three intervals)", tx.connector, tx.transaction_id, context, 2, until)
    for received in got:
        _values_ok("3", received, context, measurands)
    stamps = [_seconds(r.payload["meterValue"][0]["timestamp"]) for r in got]
    _spacing("3", stamps, interval, tol, "MeterValues")
    if not sampled:
        for stamp in stamps:
            off = min(stamp % interval, interval - stamp % interval)
            if off > tol:
                raise StepFailure("3", f"MeterValue.timestamp {datetime.utcfromtimestamp(stamp).time()} is {off:.2f}s off the "
                                       f"clock-aligned boundary (every {interval}s from midnight)")


@pytest.mark.core
@pytest.mark.tc("TC_070_CS", "Sampled Meter Values")
async def test_tc_070_cs_sampled_meter_values(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_070_CS, OCPP 1.6 sections 3.16, 4.7, 9.1.

    During a transaction the charge point sends Sample.Periodic MeterValues every
    MeterValueSampleInterval, one sampledValue per measurand of MeterValuesSampledData.
    """
    await _meter_values_case(central_system, sut, sampled=True)


@pytest.mark.core
@pytest.mark.tc("TC_071_CS", "Clock-aligned Meter Values")
async def test_tc_071_cs_clock_aligned_meter_values(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_071_CS, OCPP 1.6 sections 3.16, 4.7, 9.1.

    The charge point sends Sample.Clock MeterValues at every multiple of
    ClockAlignedDataInterval since midnight, one sampledValue per measurand of
    MeterValuesAlignedData. Reading: the values looked at are those of the connector of
    the transaction, with its transactionId.
    """
    await _meter_values_case(central_system, sut, sampled=False)


@pytest.mark.core
@pytest.mark.tc("TC_036_CS", "Connection Loss During Transaction")
async def test_tc_036_cs_connection_loss_during_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_036_CS, OCPP 1.6 sections 3.7, 4.7.

    Meter values sampled while the connection is down are queued and, after reconnect,
    delivered in chronological order before any new ones, MeterValueSampleInterval apart.
    Reading: "queued" values are those timestamped while the connection was down; at
    least three must come, followed by one sampled after reconnect.
    """
    cs = central_system
    interval = int(setting(sut, "meter_value_sample_interval"))
    tol = sut.config.timeouts.timing_tolerance
    await configure(cs, sut, "before", {"MeterValueSampleInterval": interval})
    tx = await charging(cs, sut, step="before (Charging)")
    await sut.act("drop_connection", step="1")
    down = time.time()
    await cs.idle(3 * interval + tol, step="1 (connection removed while the charge point samples)")
    await sut.act("restore_connection", step="1")
    up = time.time()
    queued: list[float] = []
    while True:
        got = await cs.expect("MeterValues", step="1-2 (queued MeterValues.req after reconnect)",
                              timeout=2 * interval + sut.config.timeouts.step, connectorId=tx.connector,
                              transactionId=tx.transaction_id, meterValue=_context_is("Sample.Periodic"))
        stamp = _seconds(got.payload["meterValue"][0]["timestamp"])
        if stamp < down - tol:
            continue  # sampled before the connection went
        if queued and stamp < queued[-1]:
            raise StepFailure("1", "the queued MeterValues.req are not in chronological order",
                              f"a value of {got.payload['meterValue'][0]['timestamp']} came after one "
                              f"{stamp and queued[-1] - stamp:.2f}s later; spec 3.7: deliver in the order they were queued")
        if stamp > up:
            break
        queued.append(stamp)
    if len(queued) < 3:
        raise StepFailure("1", f"only {len(queued)} MeterValues.req were sampled while offline; {3} were due "
                               f"(MeterValueSampleInterval {interval}s, offline for {up - down:.1f}s)")
    _spacing("1", queued, interval, tol, "queued MeterValues")


async def _offline_before(cs: CentralSystem, sut: SutHandle, id_tag: str, extra: dict[str, Any] | None = None) -> None:
    """The Before section of TC_037_x/TC_039: offline authorization on, the id tag cached."""
    require(sut, "offline_transactions")
    await configure(cs, sut, "before", {"LocalAuthorizeOffline": True, "AuthorizationCacheEnabled": True,
                                   "AllowOfflineTxForUnknownId": True, **(extra or {})},
                    optional=("AuthorizationCacheEnabled", "AllowOfflineTxForUnknownId", "MaxEnergyOnInvalidId"))
    if sut.config.extra.get("authorization_cache"):
        await id_tag_cached(cs, sut, id_tag)


async def _offline_start(sut: SutHandle, cid: int, id_tag: str, step: str) -> None:
    await sut.act("drop_connection", step=step)
    await sut.act("present_id_tag", step=step, connector=cid, id_tag=id_tag)
    await sut.act("plug_in", step=step, connector=cid)


@pytest.mark.core
@pytest.mark.tc("TC_037_1_CS", "Offline Start Transaction - Valid IdTag")
async def test_tc_037_1_cs_offline_start_transaction_valid(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_037_1_CS, OCPP 1.6 sections 3.5, 3.7.

    A transaction started offline with a locally valid id is reported after reconnect:
    StartTransaction.req and Charging. Reading: IdTagLocalAuthList (Local Auth List
    Management) is not part of a Core run; the id comes from the cache. The two may come
    in either order: a charge point may report its current status on reconnect before it
    replays the queued transaction messages (spec 3.7 orders only the transaction messages).
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    await _offline_before(cs, sut, tag)
    await _offline_start(sut, cid, tag, "1")
    await sut.act("restore_connection", step="1")
    await cs.expect_all(Expectation("StartTransaction", {"connectorId": cid, "idTag": tag}),
                        connector_status(cid, "Charging"),
                        step="1-4 (StartTransaction.req after reconnect, StatusNotification Charging)")


@pytest.mark.core
@pytest.mark.tc("TC_037_2_CS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = false")
async def test_tc_037_2_cs_offline_start_invalid_keep_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_037_2_CS, OCPP 1.6 sections 3.5.4, 4.8, 9.1.

    An offline transaction whose id the central system answers Invalid is not stopped
    when StopTransactionOnInvalidId is false: the connector goes SuspendedEVSE (C5).
    Assumption: IdTagCached for <Configured invalid IdTag> means the cache holds it as
    Accepted (the harness answers Accepted while caching it). StartTransaction and
    Charging may come in either order (the status may precede the replayed queue).
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.invalid
    await _offline_before(cs, sut, tag, {"StopTransactionOnInvalidId": False, "MaxEnergyOnInvalidId": 0})
    await _offline_start(sut, cid, tag, "1")
    await sut.act("restore_connection", step="1")
    await cs.expect_all(_invalid_start(cs, cid, tag), connector_status(cid, "Charging"),
                        step="1-4 (StartTransaction.req answered Invalid, StatusNotification Charging)")
    await cs.expect("StatusNotification", step="5-6 (StatusNotification SuspendedEVSE)", connectorId=cid, status="SuspendedEVSE")


def _invalid_start(cs: CentralSystem, cid: int, tag: str) -> Expectation:
    """The replayed offline StartTransaction.req, answered idTagInfo Invalid."""
    return Expectation("StartTransaction", {"connectorId": cid, "idTag": tag},
                       lambda p: cs.start_transaction_reply(p, {"status": "Invalid"}))


@pytest.mark.core
@pytest.mark.tc("TC_037_3_CS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = true")
async def test_tc_037_3_cs_offline_start_invalid_stop_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_037_3_CS, OCPP 1.6 sections 3.5.4, 4.8, 7.36.

    As TC_037_2_CS with StopTransactionOnInvalidId true: the transaction is stopped with
    reason DeAuthorized, and Finishing (either order, as for every stop: spec 4.10).
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.invalid
    await _offline_before(cs, sut, tag, {"StopTransactionOnInvalidId": True, "MaxEnergyOnInvalidId": 0})
    await _offline_start(sut, cid, tag, "1")
    await sut.act("restore_connection", step="1")
    start, _ = await cs.expect_all(_invalid_start(cs, cid, tag), connector_status(cid, "Charging"),
                                   step="1-4 (StartTransaction.req answered Invalid, StatusNotification Charging)")
    stop, _ = await cs.expect_all(Expectation("StopTransaction"), connector_status(cid, "Finishing"),
                                  step="5-8 (StopTransaction.req DeAuthorized, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "5", tx_of(start), ("DeAuthorized",))


@pytest.mark.core
@pytest.mark.tc("TC_038_CS", "Offline Stop Transaction")
async def test_tc_038_cs_offline_stop_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_038_CS, OCPP 1.6 sections 3.7, 4.10.

    A transaction the driver stops while the charge point is offline is reported after
    reconnect: StopTransaction (reason Local or none, the transaction's id), and Finishing.
    """
    cs = central_system
    tx = await charging(cs, sut, step="before (Charging)")
    await sut.act("drop_connection", step="1")
    await sut.act("present_id_tag", step="1", connector=tx.connector, id_tag=tx.id_tag)
    await sut.act("restore_connection", step="1")
    stop, _ = await cs.expect_all(Expectation("StopTransaction"), connector_status(tx.connector, "Finishing"),
                                  step="1-4 (StopTransaction.req after reconnect, StatusNotification Finishing)")
    check_stop_transaction(cs, stop, "1", tx, ("Local",))


@pytest.mark.core
@pytest.mark.tc("TC_039_CS", "Offline Transaction")
async def test_tc_039_cs_offline_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_039_CS, OCPP 1.6 sections 3.7, 4.8, 4.10.

    A whole transaction done offline (start, stop, unplug) is reported after reconnect
    in order: StartTransaction, then StopTransaction (reason Local or none) carrying the
    transactionId the central system gave in StartTransaction.conf.
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    await _offline_before(cs, sut, tag)
    await _offline_start(sut, cid, tag, "1")
    await sut.act("present_id_tag", step="1", connector=cid, id_tag=tag)
    await sut.act("unplug", step="1", connector=cid)
    offline_until = len(cs.inbox.items)
    await sut.act("restore_connection", step="1")
    start = await cs.expect("StartTransaction", step="1-2 (StartTransaction.req after reconnect)", connectorId=cid, idTag=tag)
    early = [r for r in cs.inbox.items[offline_until:] if r.action == "StopTransaction" and r.arrived < start.arrived]
    if early:
        raise UnexpectedMessage("3", "StopTransaction.req came before the StartTransaction.req of its transaction",
                                "spec 3.7: transaction-related messages queued offline are delivered in the order they were queued")
    stop = await cs.expect("StopTransaction", step="3-4 (StopTransaction.req)")
    check_stop_transaction(cs, stop, "3", tx_of(start), ("Local",))
