"""What the reference central system answers to the CALLs a charge point sends (spec 4.x, 6.x).

The store of the simulator lives here too: registration per charge point, the id-tag
store, transactions with their meter values, and what it learnt of each charge
point's configuration. Everything it accepted stays for the length of the run and
is shown by ``GET /state``.

Fault switches named in :data:`FAULTS` make it break one rule each, on purpose; the
variants ``optional_fields_everywhere`` and ``data_transfer_accepted``
(:mod:`.central_system_variants`) change its answers within what the spec allows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..ocppj import Call, CallError
from .common import RPC_FAULTS

__all__ = ["FAULTS", "DEFAULT_ID_TAGS", "IdTagStore", "CentralSystemStore", "iso"]

FAULTS = {
    # boot and heartbeat (TC_001, TC_013, TC_014, TC_032)
    "boot_rejected": "answer every BootNotification with Rejected",
    "boot_interval_zero": "answer BootNotification with interval 0",
    "boot_time_not_rfc3339": "answer BootNotification with a currentTime without 'T' and time zone",
    "boot_time_wrong": "answer BootNotification with a currentTime one day in the past",
    "boot_pending_after_reset": "after it sent a Reset, answer that charge point's BootNotification with Pending, forever",
    "boot_closes_transactions": "on BootNotification, drop the charge point's open transactions (a later StopTransaction gets CALLERROR)",
    "heartbeat_no_reply": "never answer Heartbeat",
    # status
    "status_callerror": "answer StatusNotification with CALLERROR InternalError",
    "status_preparing_to_available_callerror": "answer CALLERROR to a StatusNotification Available right after Preparing (connection time-out)",
    "status_lock_failure_callerror": "answer CALLERROR to a StatusNotification with errorCode ConnectorLockFailure",
    # authorization
    "authorize_accepts_invalid": "answer Authorize of an unknown (invalid) id tag with Accepted",
    "expired_tag_accepted": "answer Authorize and StartTransaction of the expired id tag with Accepted",
    "blocked_tag_accepted": "answer Authorize and StartTransaction of the blocked id tag with Accepted",
    # transactions
    "start_tx_no_transaction_id": "answer StartTransaction without a transactionId",
    "start_tx_accepts_invalid": "answer StartTransaction of an unknown (invalid) id tag with Accepted",
    "start_tx_requires_authorize": "answer Invalid to a StartTransaction whose id tag was not authorized on this connection first",
    "duplicate_transaction_id": "give every transaction the transactionId 1",
    "rejects_offline_old_timestamps": "answer CALLERROR to Start/StopTransaction whose timestamp is over 0.5 s old (no offline messages)",
    "stop_tx_callerror": "answer StopTransaction with CALLERROR InternalError",
    # data transfer
    "data_transfer_wrong_status": "answer DataTransfer with status 'NotKnown' (not in the schema's enum)",
}
# the harness's own cases beyond OCTT (testcases/test_rpc_*csms.py, test_robustness.py): the OCPP-J layer
# (common.RpcPeer carries out RPC_FAULTS) and the connections (central_system.SimCentralSystem.admit / connection)
FAULTS.update(RPC_FAULTS)
FAULTS.update({
    "no_subprotocol_accepted": "a client that offers no ocpp1.6 subprotocol is served on a connection without one "
                               "(RPC_013_CSMS)",
    "stale_connection_kept": "a charge point that reconnects while its old connection is still open is refused "
                             "(HTTP 409); the stale connection is kept (RPC_014_CSMS)",
    "oversize_frame_wedges": "after a frame over its size limit (close 1009) the charge point's CALLs are never "
                             "answered again (RPC_010_CSMS)",
    "slow_peer_stalls": "connections are served one at a time, each until it has sent a whole frame: a silent or "
                        "slow peer stalls the others (RPC_011_CSMS)",
    "max_connections_100": "at most 100 connections at once; more are refused with HTTP 503 (RPC_020_CSMS)",
})

#: The id tags of fixtures/simulator_central_system.yaml (also the harness's defaults): tag -> (status, parent).
DEFAULT_ID_TAGS: dict[str, tuple[str, str | None]] = {
    "VALID_TAG_1": ("Accepted", "PARENT_TAG"),
    "VALID_TAG_2": ("Accepted", "PARENT_TAG"),
    "PARENT_TAG": ("Accepted", None),
    "BLOCKED_TAG": ("Blocked", None),
    "EXPIRED_TAG": ("Expired", None),
    # INVALID_TAG is deliberately unknown: unknown tags are Invalid (spec 7.2)
}

OLD_TIMESTAMP = 0.5  # seconds: what the fault rejects_offline_old_timestamps calls "old"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class IdTagStore:
    """Known id tags with status and parent; anything else is Invalid.

    ``complete`` (variant optional_fields_everywhere): every IdTagInfo carries an expiryDate,
    also of a Blocked or Invalid tag (how long a charge point may cache that answer).
    """

    tags: dict[str, tuple[str, str | None]] = field(default_factory=lambda: dict(DEFAULT_ID_TAGS))
    complete: bool = False

    def info(self, id_tag: str, now: datetime) -> dict[str, Any]:
        """IdTagInfo for ``id_tag`` (spec 7.27); id tags are case-insensitive (spec 3.9)."""
        known = {k.upper(): v for k, v in self.tags.items()}.get(id_tag.upper())
        status, parent = known if known is not None else ("Invalid", None)
        info: dict[str, Any] = {"status": status}
        if status == "Expired":
            info["expiryDate"] = iso(now - timedelta(days=1))
        elif status == "Accepted" or self.complete:
            info["expiryDate"] = iso(now + timedelta(days=1))
        if parent:
            info["parentIdTag"] = parent
        return info


@dataclass
class CentralSystemStore:
    """Everything the simulator knows; ``handle`` answers one CALL of a charge point."""

    heartbeat_interval: int
    registration: dict[str, str]
    faults: Any
    id_tags: IdTagStore = field(default_factory=IdTagStore)
    variants: Any = frozenset()
    charge_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[int, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def record(self, cp_id: str) -> dict[str, Any]:
        return self.charge_points.setdefault(cp_id, {
            "id": cp_id, "boots": 0, "registration": None, "status": {}, "heartbeats": 0, "configuration": {},
            "authorized": [], "reset_sent": None, "data_transfers": [], "meter_values": [], "operations": [],
        })

    def new_connection(self, cp_id: str) -> None:
        self.record(cp_id)["authorized"] = []  # what was authorized on the previous connection is gone

    def state(self) -> dict[str, Any]:
        return {"charge_points": self.charge_points, "transactions": {str(k): v for k, v in self.transactions.items()},
                "id_tags": {k: {"status": s, "parent": p} for k, (s, p) in self.id_tags.tags.items()},
                "faults": sorted(self.faults.enabled)}

    # -- CALLs from the charge point ----------------------------------------------------------
    async def handle(self, cp_id: str, call: Call) -> dict[str, Any] | CallError | None:
        handler = getattr(self, "on_" + call.action, None)
        if handler is None:
            return CallError(call.unique_id, "NotSupported", f"{call.action} is not supported by this central system")
        record = self.record(cp_id)
        if record["registration"] == "Rejected" and call.action != "BootNotification":
            # spec 4.2: a rejected charge point may send nothing but BootNotification; answered SecurityError
            return CallError(call.unique_id, "SecurityError", "the charge point is not registered (BootNotification Rejected)")
        return handler(record, call, datetime.now(timezone.utc))  # type: ignore[no-any-return]

    def on_BootNotification(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any]:
        record["boots"] += 1
        record["boot"] = call.payload
        status = self.registration.get(record["id"], "Accepted")
        if "boot_rejected" in self.faults:
            status = "Rejected"
        elif "boot_pending_after_reset" in self.faults and record["reset_sent"]:
            status = "Pending"
        if "boot_closes_transactions" in self.faults:
            for tx_id in [k for k, tx in self.transactions.items() if tx["charge_point"] == record["id"] and tx["stop"] is None]:
                del self.transactions[tx_id]
        current = iso(now)
        if "boot_time_not_rfc3339" in self.faults:
            current = now.strftime("%Y-%m-%d %H:%M:%S")
        elif "boot_time_wrong" in self.faults:
            current = iso(now - timedelta(days=1))
        interval = 0 if "boot_interval_zero" in self.faults else self.heartbeat_interval
        record["registration"] = status
        return {"status": status, "currentTime": current, "interval": interval}

    def on_Heartbeat(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any] | None:
        if "heartbeat_no_reply" in self.faults:
            return None
        record["heartbeats"] += 1
        return {"currentTime": iso(now)}

    def on_StatusNotification(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any] | CallError:
        p = call.payload
        connector = str(p["connectorId"])
        previous = record["status"].get(connector, {}).get("status")
        if "status_callerror" in self.faults:
            return CallError(call.unique_id, "InternalError", "simulated failure")
        if "status_preparing_to_available_callerror" in self.faults and previous == "Preparing" and p["status"] == "Available":
            return CallError(call.unique_id, "InternalError", "a Preparing connector must start a transaction")
        if "status_lock_failure_callerror" in self.faults and p["errorCode"] == "ConnectorLockFailure":
            return CallError(call.unique_id, "PropertyConstraintViolation", "errorCode ConnectorLockFailure not handled")
        record["status"][connector] = {"status": p["status"], "errorCode": p["errorCode"], "timestamp": p.get("timestamp")}
        return {}

    def on_Authorize(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any]:
        id_tag = call.payload["idTag"]
        info = self._checked(id_tag, now, "authorize_accepts_invalid")
        if info["status"] == "Accepted":
            record["authorized"].append(id_tag.upper())
        return {"idTagInfo": info}

    def _checked(self, id_tag: str, now: datetime, accepts_invalid: str) -> dict[str, Any]:
        info = self.id_tags.info(id_tag, now)
        wrongly = {"Invalid": accepts_invalid, "Expired": "expired_tag_accepted", "Blocked": "blocked_tag_accepted"}
        if wrongly.get(info["status"]) in self.faults:
            info = {"status": "Accepted"}
        return info

    def _old(self, payload: dict[str, Any], now: datetime) -> bool:
        moment = parse_time(payload["timestamp"])
        return "rejects_offline_old_timestamps" in self.faults and moment is not None and \
            (now - moment).total_seconds() > OLD_TIMESTAMP

    def on_StartTransaction(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any] | CallError:
        p = call.payload
        if self._old(p, now):
            return CallError(call.unique_id, "PropertyConstraintViolation", "timestamp lies in the past")
        info = self._checked(p["idTag"], now, "start_tx_accepts_invalid")
        if "start_tx_requires_authorize" in self.faults and p["idTag"].upper() not in record["authorized"]:
            info = {"status": "Invalid"}
        tx_id = 1 if "duplicate_transaction_id" in self.faults else next(self._ids)
        self.transactions[tx_id] = {
            "charge_point": record["id"], "connectorId": p["connectorId"], "idTag": p["idTag"],
            "meterStart": p["meterStart"], "timestamp": p["timestamp"], "received": iso(now),
            "reservationId": p.get("reservationId"), "idTagInfo": info, "meter_values": [], "stop": None,
        }
        if "start_tx_no_transaction_id" in self.faults:
            return {"idTagInfo": info}
        return {"idTagInfo": info, "transactionId": tx_id}

    def on_StopTransaction(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any] | CallError:
        p = call.payload
        if "stop_tx_callerror" in self.faults:
            return CallError(call.unique_id, "InternalError", "simulated failure")
        if self._old(p, now):
            return CallError(call.unique_id, "PropertyConstraintViolation", "timestamp lies in the past")
        tx = self.transactions.get(p["transactionId"])
        if tx is None and "boot_closes_transactions" in self.faults:
            return CallError(call.unique_id, "PropertyConstraintViolation", f"unknown transaction {p['transactionId']}")
        if tx is None:  # a central system cannot refuse a stop (spec 4.10); errata 3.18: -1 too
            tx = self.transactions.setdefault(p["transactionId"], {"charge_point": record["id"], "meter_values": [],
                                                                   "unknown_start": True})
        tx["stop"] = {"meterStop": p["meterStop"], "timestamp": p["timestamp"], "reason": p.get("reason", "Local"),
                      "idTag": p.get("idTag"), "received": iso(now)}
        tx["meter_values"].extend(p.get("transactionData", []))
        id_tag = p.get("idTag") or (tx.get("idTag") if "optional_fields_everywhere" in self.variants else None)
        return {"idTagInfo": self.id_tags.info(id_tag, now)} if id_tag else {}

    def on_MeterValues(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any]:
        p = call.payload
        tx = self.transactions.get(p.get("transactionId", -2))
        (tx["meter_values"] if tx is not None else record["meter_values"]).extend(p["meterValue"])
        return {}

    def on_DataTransfer(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any]:
        record["data_transfers"].append(call.payload)
        if "data_transfer_wrong_status" in self.faults:
            return {"status": "NotKnown"}
        if "data_transfer_accepted" in self.variants:
            return {"status": "Accepted"}
        return {"status": "UnknownVendorId"}  # this central system knows no vendor extensions

    def on_DiagnosticsStatusNotification(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any]:
        record["diagnostics_status"] = call.payload["status"]
        return {}

    def on_FirmwareStatusNotification(self, record: dict[str, Any], call: Call, now: datetime) -> dict[str, Any]:
        record["firmware_status"] = call.payload["status"]
        return {}

