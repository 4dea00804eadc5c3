"""What the reference charge point does with CALLs from the central system (Core profile, spec 5).

Each handler returns the .conf payload; work the conf announces (stopping a transaction,
a reset, a status change) is started after the reply has gone out, as the spec's
sequence diagrams show it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from ..ocppj import Call, CallError
from .charge_point_connectors import Connector

__all__ = ["HandlersMixin"]


class HandlersMixin:
    """CS-initiated operations of SimChargePoint."""

    connectors: dict[int, Connector]

    def later(self, work: Callable[[], Awaitable[None] | None], delay: float = 0.05) -> None:
        """Run ``work`` shortly after the current reply is sent."""
        async def run() -> None:
            await asyncio.sleep(delay)
            result = work()
            if asyncio.iscoroutine(result):
                await result
        asyncio.get_running_loop().create_task(run())

    async def handle_call(self, call: Call) -> dict[str, Any] | CallError | None:
        handler = getattr(self, f"on_{call.action}", None)
        if handler is None:
            return CallError(call.unique_id, "NotImplemented", f"{call.action} is not supported by this charge point")
        return await handler(call.payload)  # type: ignore[no-any-return]

    def connector(self, connector_id: Any) -> Connector | None:
        if isinstance(connector_id, int) and connector_id > 0:
            return self.connectors.get(connector_id)
        return None

    # -- configuration ------------------------------------------------------------------------------
    async def on_GetConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.config.get_configuration(payload.get("key"))

    async def on_ChangeConfiguration(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": self.config.change(payload["key"], payload["value"])}

    async def on_ClearCache(self, payload: dict[str, Any]) -> dict[str, Any]:
        if "clear_cache_rejected" in self.faults:
            return {"status": "Rejected"}
        self.cache.clear()
        return {"status": "Accepted"}

    async def on_DataTransfer(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        if "data_transfer_no_answer" in self.faults:
            return None
        return {"status": "UnknownVendorId"}

    # -- remote start / stop ----------------------------------------------------------------------------
    async def on_RemoteStartTransaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        if "remote_start_rejected" in self.faults:
            return {"status": "Rejected"}
        wanted = payload.get("connectorId")
        refused = self.remote_start_profile(payload, wanted)  # type: ignore[attr-defined]  # charge_point_smart
        if refused:
            return {"status": refused}
        if wanted is None:
            c = next((c for c in self.connectors.values() if c.id > 0 and self.idle(c)), None)
        else:
            c = self.connector(wanted)
        if c is None or not self.idle(c):
            return {"status": "Accepted" if "remote_start_always_accepted" in self.faults else "Rejected"}
        self.install_remote_start_profile(c, payload)  # type: ignore[attr-defined]
        self.later(lambda: self.remote_start(c, payload["idTag"]))
        return {"status": "Accepted"}

    def idle(self, c: Connector) -> bool:
        return (c.transaction is None and c.authorized is None and c.operative and not c.faulted
                and not c.lock_fault and not self.cp_faulted and not c.finishing)

    async def remote_start(self, c: Connector, id_tag: str) -> None:
        """Spec 5.11: with AuthorizeRemoteTxRequests the id is authorized like a local one first."""
        parent = None
        if self.config.bool("AuthorizeRemoteTxRequests"):
            cached = self.cache.get(id_tag) if self.config.bool("AuthorizationCacheEnabled") else None
            if cached and cached.get("status") == "Accepted" and self.config.bool("LocalPreAuthorize"):
                if "cached_id_not_started" in self.faults:
                    return
                info: dict[str, Any] | None = cached
            else:
                info = await self.authorize(id_tag)
            if not info or info.get("status") != "Accepted":
                return
            parent = info.get("parentIdTag")
        self.authorized_on(c, id_tag, parent)

    async def on_RemoteStopTransaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        c = next((c for c in self.connectors.values()
                  if c.transaction is not None and c.transaction.tx_id == payload["transactionId"]), None)
        if c is None:
            return {"status": "Accepted" if "remote_stop_always_accepted" in self.faults else "Rejected"}
        tx = c.transaction
        self.later(lambda: self.stop_transaction(c, "Remote") if c.transaction is tx else None)
        return {"status": "Accepted"}

    # -- connectors -----------------------------------------------------------------------------------------
    async def on_UnlockConnector(self, payload: dict[str, Any]) -> dict[str, Any]:
        c = self.connector(payload["connectorId"])
        if c is None:
            return {"status": "UnlockFailed" if "unlock_unknown_connector_failed" in self.faults else "NotSupported"}
        if self.fixed_cable:
            return {"status": "Unlocked" if "unlock_fixed_cable" in self.faults else "NotSupported"}
        if "unlock_not_supported" in self.faults:
            return {"status": "NotSupported"}
        if c.lock_broken and "unlock_failure_ignored" not in self.faults:
            return {"status": "UnlockFailed"}
        if c.transaction is not None:
            tx = c.transaction
            self.later(lambda: self.stop_transaction(c, "UnlockCommand") if c.transaction is tx else None)
        return {"status": "Unlocked"}

    async def on_ChangeAvailability(self, payload: dict[str, Any]) -> dict[str, Any]:
        target, operative = payload["connectorId"], payload["type"] == "Operative"
        if target != 0 and self.connector(target) is None:
            return {"status": "Rejected"}
        affected = list(self.connectors.values()) if target == 0 else [self.connectors[target]]
        scheduled = False
        for c in affected:
            if c.transaction is not None and c.operative != operative:
                c.scheduled, scheduled = operative, True
            else:
                c.operative, c.scheduled = operative, None
        self.later(lambda: [self.update(c) for c in sorted(affected, key=lambda c: c.id)] and None)
        return {"status": "Scheduled" if scheduled else "Accepted"}

    # -- reset -----------------------------------------------------------------------------------------------
    async def on_Reset(self, payload: dict[str, Any]) -> dict[str, Any]:
        kind = payload["type"]
        self.later(lambda: self.reset(kind))
        return {"status": "Accepted"}

    async def reset(self, kind: str) -> None:
        """Spec 5.14: stop every transaction (reason HardReset/SoftReset), then reboot."""
        for c in self.connectors.values():
            self.stop_transaction(c, f"{kind}Reset")
        await self.drain(5.0)
        self.reboot()
