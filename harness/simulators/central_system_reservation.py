"""Reservations in the reference central system (Reservation profile; spec 5.1, 5.13, 6.5, 6.37).

Operator words (scripts: the reply teaches the central system which reservations a charge
point holds, shown in ``GET /state`` under the charge point's ``reservations``):

* ``cs_reserve_now``: ReserveNow with ``connector`` (0 = any), ``id_tag``, ``expiry``
  (seconds from now; default 3600), ``reservation_id`` (default: the next of its own
  counter) and ``parent_id_tag`` (optional; None or "" = without);
* ``cs_cancel_reservation``: CancelReservation of ``reservation_id``.

A reservation is kept when the charge point answers Accepted and forgotten when a
CancelReservation of it is Accepted. Faults make it send a wrong request on purpose;
variants take other paths the spec allows: ``reserve_now_with_parent_id_tag`` (every
ReserveNow carries the id tag's parentIdTag from the id-tag store), ``own_reservation_ids``
(it numbers reservations itself, whatever the operator asked) and ``cancel_before_expiry``
(it cancels each of its reservations ``options.cancel_margin`` seconds, default 0.5, before
its expiryDate, while the charge point is still on the connection it reserved on).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from .central_system_handlers import iso
from .common import Background

__all__ = ["FAULTS", "VARIANTS", "builders", "scripts"]

FAULTS: dict[str, str] = {
    "reserve_now_wrong_connector": "send ReserveNow for the connector after the one the operator named (0 -> 1)",
    "reserve_now_expiry_in_past": "send ReserveNow with an expiryDate one hour before now",
    "reserve_now_expiry_ignored": "send ReserveNow with an expiryDate one day from now, whatever expiry the operator asked",
    "reserve_now_missing_id_tag": "send ReserveNow without the (required) idTag",
    "reserve_now_without_parent_id_tag": "leave out the parentIdTag the operator gave from ReserveNow",
    "cancel_reservation_wrong_id": "send CancelReservation for the reservationId the operator named + 1",
    "cancel_reservation_latest": "send CancelReservation for its latest reservation, whatever reservationId the operator named",
}

VARIANTS: dict[str, str] = {
    "reserve_now_with_parent_id_tag": "every ReserveNow carries the optional parentIdTag: the id tag's parent from its "
                                      "id-tag store (when it has one)",
    "own_reservation_ids": "reservationIds come from its own counter (from 9001), not from the operator's command",
    "cancel_before_expiry": "it cancels each of its reservations options.cancel_margin seconds (default 0.5) before "
                            "the expiryDate, while the charge point is on the connection it reserved on",
}

#: op.send(cp_id, record, word, action, payload) -> the charge point's reply (or callerror) as a dict
Send = Callable[[str, dict[str, Any], str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Reservations:
    """Builds ReserveNow / CancelReservation and keeps each charge point's accepted reservations."""

    def __init__(self, operator: Any) -> None:
        self.operator = operator
        self.faults = operator.faults
        self.variants = operator.variants
        self._ids = itertools.count(9001)
        self._background = Background()

    @staticmethod
    def held(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """reservationId (as text) -> the ReserveNow payload the charge point Accepted."""
        return record.setdefault("reservations", {})

    async def reserve_now(self, send: Send, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        word, now = "cs_reserve_now", datetime.now(timezone.utc)
        connector = int(p.get("connector") or 0)
        if "reserve_now_wrong_connector" in self.faults:
            connector += 1
        expiry = now + timedelta(seconds=float(p.get("expiry") or 3600))
        if "reserve_now_expiry_in_past" in self.faults:
            expiry = now - timedelta(hours=1)
        elif "reserve_now_expiry_ignored" in self.faults:
            expiry = now + timedelta(days=1)
        asked = p.get("reservation_id")
        reservation_id = next(self._ids) if asked is None or "own_reservation_ids" in self.variants else int(asked)
        id_tag = str(p["id_tag"])
        payload: dict[str, Any] = {"connectorId": connector, "expiryDate": iso(expiry), "idTag": id_tag,
                                   "reservationId": reservation_id}
        parent = p.get("parent_id_tag") or None
        if parent is None and "reserve_now_with_parent_id_tag" in self.variants:
            parent = self.operator.store.id_tags.info(id_tag, now).get("parentIdTag")
        if parent and "reserve_now_without_parent_id_tag" not in self.faults:
            payload["parentIdTag"] = str(parent)
        if "reserve_now_missing_id_tag" in self.faults:
            del payload["idTag"]
        peer = self.operator.peers.get(cp_id)
        reply = await send(cp_id, record, word, "ReserveNow", payload)
        if reply.get("status") == "Accepted":
            self.held(record)[str(reservation_id)] = payload
            record["latest_reservation"] = reservation_id
            if "cancel_before_expiry" in self.variants:
                margin = float(self.variants.option("cancel_margin", 0.5))
                delay = (expiry - now).total_seconds() - margin
                self._background.start(self._cancel_at(send, cp_id, record, peer, reservation_id, delay))
        return {"action": "ReserveNow", "sent": payload, "reply": reply}

    async def cancel_reservation(self, send: Send, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        reservation_id = int(p["reservation_id"])
        if "cancel_reservation_wrong_id" in self.faults:
            reservation_id += 1
        if "cancel_reservation_latest" in self.faults and record.get("latest_reservation") is not None:
            reservation_id = int(record["latest_reservation"])
        payload = {"reservationId": reservation_id}
        reply = await send(cp_id, record, "cs_cancel_reservation", "CancelReservation", payload)
        if reply.get("status") == "Accepted":
            self.held(record).pop(str(reservation_id), None)
        return {"action": "CancelReservation", "sent": payload, "reply": reply}

    async def _cancel_at(self, send: Send, cp_id: str, record: dict[str, Any], peer: Any, reservation_id: int,
                         delay: float) -> None:
        """Variant cancel_before_expiry: the back-end's own clean-up of a reservation about to expire."""
        await asyncio.sleep(max(0.0, delay))
        if self.operator.peers.get(cp_id) is not peer or str(reservation_id) not in self.held(record):
            return  # the charge point reconnected (another case) or the reservation is gone already
        reply = await send(cp_id, record, "cancel_before_expiry", "CancelReservation", {"reservationId": reservation_id})
        if reply.get("status") == "Accepted":
            self.held(record).pop(str(reservation_id), None)



def builders(operator: Any) -> dict[str, Any]:
    """No single-CALL words: both words learn from the reply (scripts)."""
    return {}


def scripts(operator: Any) -> dict[str, Any]:
    reservations = Reservations(operator)
    operator.reservations = reservations
    return {"cs_reserve_now": reservations.reserve_now, "cs_cancel_reservation": reservations.cancel_reservation}
