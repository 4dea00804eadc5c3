"""Connectors, authorization and transactions of the reference charge point.

A connector's status is never set directly: it is computed from its inputs
(:meth:`ChargingMixin.status_of`), in this precedence (spec 4.9, as MicroOcpp does):
Faulted > a running transaction (SuspendedEV when the EV is unplugged or paused,
SuspendedEVSE when the central system invalidated the id, else Charging) > Unavailable
(inoperative) > Reserved (an idle connector a reservation holds; see below) > a cable in
(Finishing after a transaction, else Preparing) > an authorization waiting for the cable
(Preparing) > Available. Every change is reported
with StatusNotification through the outbox, so the 4.9 transitions follow from the
inputs rather than from a second table.

Authorization (spec 3.5): the authorization cache holds every IdTagInfo received;
online a presented id is sent in Authorize.req; offline it is accepted from the cache
(LocalAuthorizeOffline) or when unknown (AllowOfflineTxForUnknownId).

Reservations (charge_point_reservation) plug in through four hooks, no-ops here:
``reserved`` (the status precedence above), ``may_start`` (a reserved connector refuses
other id tags, before and after Authorize.req), ``use_reservation`` (the reservationId a
StartTransaction.req carries; the reservation ends) and ``status_changed`` (a Faulted or
Unavailable connector ends its reservations).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .charge_point_config import MEASURANDS

__all__ = ["Connector", "Transaction", "ChargingMixin", "now_iso", "iso"]

#: fault switch -> (reason the spec requires, reason the faulty charge point sends)
REASON_FAULTS = {
    "remote_stop_reason_local": ("Remote", "Local"),
    "ev_disconnect_reason_local": ("EVDisconnected", "Local"),
    "unlock_stop_reason_local": ("UnlockCommand", "Local"),
    "power_loss_reason_local": ("PowerLoss", "Local"),
}


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(time.time())


@dataclass
class Transaction:
    connector: int
    id_tag: str
    parent: str | None
    meter_start: int
    started: float  # wall-clock seconds
    tx_id: int | None = None  # issued by the central system in StartTransaction.conf
    invalid: bool = False  # StartTransaction.conf said the id is not Accepted


@dataclass
class Connector:
    id: int
    status: str = "Available"
    reported: str | None = None  # the status the central system last acknowledged
    plugged: bool = False
    ev_connected: bool = True
    ev_suspended: bool = False
    finishing: bool = False  # a transaction ended and the cable is still in
    authorized: tuple[str, str | None] | None = None  # (idTag, parentIdTag) waiting for the cable
    transaction: Transaction | None = None
    operative: bool = True  # persistent (spec 5.2)
    scheduled: bool | None = None  # availability to apply when the transaction ends
    faulted: bool = False
    lock_broken: bool = False
    lock_fault: bool = False
    energy: float = 0.0
    metered_at: float = field(default_factory=time.monotonic)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


class ChargingMixin:
    """Connector behaviour of SimChargePoint (which provides config, faults, outbox, cache)."""

    connectors: dict[int, Connector]
    cache: dict[str, dict[str, Any]]
    cp_faulted: bool
    variants: Any

    # -- status --------------------------------------------------------------------------------
    def status_of(self, c: Connector) -> tuple[str, str, str | None]:
        """(status, errorCode, info) computed from the connector's inputs."""
        if c.id == 0:
            if self.cp_faulted:
                return "Faulted", "OtherError", "charge point fault"
            return ("Available" if c.operative else "Unavailable"), "NoError", None
        if c.lock_fault:
            return "Faulted", "ConnectorLockFailure", None
        if c.faulted or self.cp_faulted:
            return "Faulted", "OtherError", "simulated fault"
        tx = c.transaction
        if tx is not None:
            if not c.ev_connected:
                return "SuspendedEV", "NoError", "EV side disconnected"
            if tx.invalid and "ignore_invalid_id" not in self.faults:
                return "SuspendedEVSE", "NoError", None
            return ("SuspendedEV" if c.ev_suspended else "Charging"), "NoError", None
        if not c.operative:
            return "Unavailable", "NoError", None
        if self.reserved(c):  # reservation hook
            return "Reserved", "NoError", None
        if c.plugged:
            return ("Finishing" if c.finishing else "Preparing"), "NoError", None
        if c.authorized is not None:
            return "Preparing", "NoError", None
        return "Available", "NoError", None

    def update(self, c: Connector, *, report: bool = True, override: str | None = None) -> None:
        status, error, info = self.status_of(c)
        if override:
            status = override
        if status == c.status:
            return
        self.meter(c)
        c.status = status
        self.status_changed(c, status)  # reservation hook
        if report:
            self.report(c, status, error, info)

    def report(self, c: Connector, status: str, error: str = "NoError", info: str | None = None) -> None:
        payload: dict[str, Any] = {"connectorId": c.id, "errorCode": error, "status": status, "timestamp": now_iso()}
        if info:
            payload["info"] = info

        def heard(_: dict[str, Any]) -> None:
            c.reported = status
        self.outbox.put("StatusNotification", lambda: payload, heard)
        if "repeated_status" in self.variants:  # the same status again: not a transition (spec 4.9)
            self.outbox.put("StatusNotification", lambda: {**payload, "timestamp": now_iso()}, heard)

    async def resync_statuses(self) -> None:
        """After reconnecting: report every status that changed while offline (spec 4.9)."""
        for c in self.connectors.values():
            if c.status != c.reported:
                _, error, info = self.status_of(c)
                self.report(c, c.status, error, info)

    # -- reservation hooks (no-ops; charge_point_reservation overrides them) ------------------------------
    def reserved(self, c: Connector) -> bool:
        """Whether idle connector ``c`` shows Reserved."""
        return False

    def may_start(self, c: Connector, id_tag: str, parent: str | None, *, parent_known: bool = True) -> bool:
        """Whether ``id_tag`` may charge on ``c`` as far as reservations go (``parent_known``: Authorize.conf came)."""
        return True

    def use_reservation(self, c: Connector, id_tag: str, parent: str | None) -> int | None:
        """The reservationId a transaction starting on ``c`` uses (and ends), or None."""
        return None

    def status_changed(self, c: Connector, status: str) -> None:
        """``c`` now has ``status``."""

    # -- metering ----------------------------------------------------------------------------------
    def meter(self, c: Connector) -> int:
        """The connector's energy register (Wh); it rises while the connector charges."""
        now = time.monotonic()
        if c.status == "Charging":
            c.energy += (now - c.metered_at) * 11000 / 3600
        c.metered_at = now
        return int(c.energy)

    def sampled_values(self, c: Connector, measurands: list[str], context: str) -> list[dict[str, Any]]:
        energy = self.meter(c)
        if "register_decreasing" in self.faults and c.transaction is not None:  # RPC_016_CS: runs backwards
            energy = c.transaction.meter_start + 100 - (energy - c.transaction.meter_start)
        charging = c.status == "Charging"
        readings = {"Energy.Active.Import.Register": energy, "Power.Active.Import": 11000 if charging else 0,
                    "Current.Import": 16 if charging else 0, "Current.Offered": 16, "Voltage": 230}
        values = []
        for measurand in measurands or ["Energy.Active.Import.Register"]:
            base = measurand.split(".L")[0]
            value = {"value": str(readings.get(base, 0)), "context": context, "measurand": base,
                     "unit": MEASURANDS.get(base, "Wh")}
            if base == "Energy.Active.Import.Register" and "register_kwh_as_wh" in self.faults:  # RPC_016_CS
                value["value"] = f"{energy / 1000:.3f}"  # kWh, while the unit still says Wh
            if base != measurand:
                value["phase"] = measurand[len(base) + 1:]
            values.append(value)
        return values

    def queue_meter_values(self, c: Connector, tx: Transaction, moment: float, context: str, key: str) -> None:
        values = self.sampled_values(c, self.config.csl(key), context)
        self.outbox.put("MeterValues", lambda: {
            "connectorId": c.id, "transactionId": tx.tx_id if tx.tx_id is not None else -1,
            "meterValue": [{"timestamp": iso(0 if "meter_values_1970" in self.faults else moment),  # RPC_016_CS
                            "sampledValue": values}]})

    async def sample_periodically(self, c: Connector, tx: Transaction) -> None:
        """Sample.Periodic MeterValues every MeterValueSampleInterval from the transaction start."""
        start, n = tx.started, 0
        while c.transaction is tx:
            interval = self.config.int("MeterValueSampleInterval") * (2 if "sample_interval_doubled" in self.faults else 1)
            if interval <= 0:
                await asyncio.sleep(0.5)
                start, n = time.time(), 0
                continue
            n += 1
            await asyncio.sleep(max(0.0, start + n * interval - time.time()))
            if c.transaction is tx:
                self.queue_meter_values(c, tx, start + n * interval, "Sample.Periodic", "MeterValuesSampledData")

    async def sample_clock_aligned(self) -> None:
        """Sample.Clock MeterValues at every multiple of ClockAlignedDataInterval since midnight (UTC)."""
        while True:
            interval = self.config.int("ClockAlignedDataInterval")
            if interval <= 0:
                await asyncio.sleep(0.5)
                continue
            boundary = math.floor(time.time() / interval + 1) * interval
            await asyncio.sleep(max(0.0, boundary - time.time()))
            stamp = boundary + (interval / 2 if "clock_values_not_aligned" in self.faults else 0)
            for c in self.connectors.values():
                if c.transaction is not None:
                    self.queue_meter_values(c, c.transaction, stamp, "Sample.Clock", "MeterValuesAlignedData")

    # -- authorization -------------------------------------------------------------------------------
    def remember(self, id_tag: str, info: dict[str, Any] | None) -> None:
        if info and self.config.bool("AuthorizationCacheEnabled"):
            self.cache[id_tag] = dict(info)

    async def authorize(self, id_tag: str) -> dict[str, Any] | None:
        """IdTagInfo for ``id_tag``: from the central system when online, else from local data (or None).

        With LocalPreAuthorize an id the cache holds as Accepted starts without Authorize.req (spec 9.1.13).
        """
        cached = self.cache.get(id_tag) if self.config.bool("AuthorizationCacheEnabled") else None
        if cached is not None and cached.get("status") == "Accepted" and self.config.bool("LocalPreAuthorize"):
            return cached
        reply = await self.outbox.call("Authorize", lambda: {"idTag": id_tag})
        if reply is not None:
            self.remember(id_tag, reply["idTagInfo"])
            return reply["idTagInfo"]  # type: ignore[no-any-return]
        cached = self.cache.get(id_tag) if self.config.bool("AuthorizationCacheEnabled") else None
        if cached is not None and self.config.bool("LocalAuthorizeOffline"):
            return cached
        if cached is None and self.config.bool("AllowOfflineTxForUnknownId"):
            return {"status": "Accepted"}
        return None

    async def present_id_tag(self, c: Connector, id_tag: str) -> str:
        if (self.cp_faulted or c.faulted or c.lock_fault or not c.operative) and "charge_while_faulted" not in self.faults:
            return "ignored: connector not operative"
        tx = c.transaction
        if tx is not None:
            if id_tag == tx.id_tag or "stop_with_any_tag" in self.faults:
                self.stop_transaction(c, "Local", id_tag)
                return "stopped"
            if tx.parent is None:
                return "ignored: the transaction's id has no parentIdTag"
            info = await self.authorize(id_tag)
            if (info and info.get("status") == "Accepted" and info.get("parentIdTag") == tx.parent
                    and "ignore_parent_id_tag" not in self.faults):
                self.stop_transaction(c, "Local", id_tag)
                return "stopped (same parentIdTag)"
            return "ignored: not allowed to stop"
        if c.authorized is not None and c.authorized[0] == id_tag:
            c.authorized = None
            self.update(c)
            return "deauthorized"
        if not self.may_start(c, id_tag, None, parent_known=False):  # reservation hook: no Authorize.req for it
            return "refused: the connector is reserved for another id tag"
        info = await self.authorize(id_tag)
        if not info or (info.get("status") != "Accepted" and "start_despite_invalid" not in self.faults):
            return "rejected"
        self.authorized_on(c, id_tag, info.get("parentIdTag"))
        return "authorized"

    def authorized_on(self, c: Connector, id_tag: str, parent: str | None) -> None:
        """An id may charge on ``c``: start at once if the cable is in, else wait ConnectionTimeOut for it."""
        if not self.may_start(c, id_tag, parent):  # reservation hook: reserved for another id tag
            return
        if c.plugged:
            c.authorized = (id_tag, parent)
            self.update(c)  # Reserved -> Preparing (G2); otherwise already Preparing: no change
            self.cable_ready(c)
            return
        c.authorized = (id_tag, parent)
        self.update(c)
        c.tasks.append(asyncio.get_running_loop().create_task(self.connection_timeout(c, c.authorized)))

    async def connection_timeout(self, c: Connector, authorization: tuple[str, str | None]) -> None:
        if "ignore_connection_timeout" in self.faults:
            return
        await asyncio.sleep(self.config.int("ConnectionTimeOut"))
        if c.authorized is authorization and c.transaction is None:
            c.authorized = None
            self.update(c)

    def cable_ready(self, c: Connector) -> None:
        """The cable is in and an id is authorized: lock the connector and start, or fault on a broken lock."""
        if "no_start_after_plug_in" in self.faults:
            self.update(c)
            return
        if c.lock_broken:
            c.authorized = None
            if "lock_failure_not_reported" not in self.faults:
                c.lock_fault = True
            self.update(c)
            return
        tag, parent = c.authorized  # type: ignore[misc]
        c.authorized = None
        self.start_transaction(c, tag, parent)

    # -- transactions --------------------------------------------------------------------------------------
    def start_transaction(self, c: Connector, id_tag: str, parent: str | None) -> None:
        if "offline_start_lost" in self.faults and not self.outbox.open.is_set():
            return
        self.meter(c)
        tx = Transaction(c.id, id_tag, parent, int(c.energy), time.time())
        c.transaction, c.finishing, c.ev_suspended = tx, False, False
        if "suspended_ev_before_charging" in self.variants and self.outbox.open.is_set():  # the EV takes a moment
            c.ev_suspended = True
            c.tasks.append(asyncio.get_running_loop().create_task(self.ev_draws(c, tx)))

        def started(conf: dict[str, Any]) -> None:
            tx.tx_id = conf["transactionId"]
            info = conf["idTagInfo"]
            self.remember(id_tag, info)
            tx.parent = info.get("parentIdTag")
            if info.get("status") != "Accepted" and "ignore_invalid_id" not in self.faults:
                self.outbox.task(lambda: self.invalidated(c, tx))

        stamp = "yesterday" if "invalid_start_timestamp" in self.faults else iso(tx.started)
        payload: dict[str, Any] = {"connectorId": c.id, "idTag": id_tag, "meterStart": tx.meter_start, "timestamp": stamp}
        reservation = self.use_reservation(c, id_tag, parent)  # reservation hook (spec 4.8)
        if reservation is not None:
            payload["reservationId"] = reservation
        self.outbox.put("StartTransaction", lambda: payload, started)
        self.update(c)
        c.tasks.append(asyncio.get_running_loop().create_task(self.sample_periodically(c, tx)))

    async def ev_draws(self, c: Connector, tx: Transaction, after: float = 0.3) -> None:
        await asyncio.sleep(after)
        if c.transaction is tx and c.ev_suspended:
            c.ev_suspended = False
            self.update(c)

    async def invalidated(self, c: Connector, tx: Transaction) -> None:
        """StartTransaction.conf did not accept the id (spec 3.5.4, errata 3.17)."""
        if c.transaction is not tx:
            return
        if self.config.bool("StopTransactionOnInvalidId"):
            self.stop_transaction(c, "DeAuthorized")
        else:
            tx.invalid = True
            self.update(c)

    def stop_transaction(self, c: Connector, reason: str, id_tag: str | None = None, *, report: bool = True) -> None:
        tx = c.transaction
        if tx is None:
            return
        if report and "suspended_ev_before_finishing" in self.variants and c.status == "Charging":
            c.ev_suspended = True  # the EV stopped drawing energy first
            self.update(c)
        meter_stop = self.meter(c)
        for fault, (wanted, sent) in REASON_FAULTS.items():
            if reason == wanted and fault in self.faults:
                reason = sent
        if "reset_reason_swapped" in self.faults and reason in ("HardReset", "SoftReset"):
            reason = "SoftReset" if reason == "HardReset" else "HardReset"
        c.transaction, c.finishing, c.ev_connected = None, c.plugged, True
        if c.scheduled is not None:
            c.operative, c.scheduled = c.scheduled, None
        wrong_id = "power_cut_stop_wrong_transaction_id" in self.faults and reason == "PowerLoss"

        def payload() -> dict[str, Any]:
            body: dict[str, Any] = {"transactionId": (tx.tx_id if tx.tx_id is not None else -1) + (7 if wrong_id else 0),
                                    "meterStop": meter_stop, "timestamp": now_iso(), "reason": reason}
            if id_tag:
                body["idTag"] = id_tag
            return body

        def stopped(conf: dict[str, Any]) -> None:
            if id_tag and "idTagInfo" in conf:
                self.remember(id_tag, conf["idTagInfo"])
        self.last_stop = payload  # fault stop_resent_after_reconnect sends it again (charge_point.py)
        finishing_first = "finishing_before_stop" in self.variants
        if finishing_first:
            self.update(c, report=report)
        if not ("offline_stop_lost" in self.faults and not self.outbox.open.is_set()):
            self.outbox.put("StopTransaction", payload, stopped)
        if not finishing_first:
            self.update(c, report=report)
