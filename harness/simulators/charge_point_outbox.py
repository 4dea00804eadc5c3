"""The reference charge point's outgoing CALLs: one ordered pipeline, with the offline queue.

Every CALL the charge point makes of its own accord (Authorize, StatusNotification,
Start/StopTransaction, MeterValues) goes through :class:`Outbox`, so the central
system sees them in the order the charge point decided them. Rules (spec 3.7, 4.2):

- Nothing leaves before the registration is Accepted (the gate is closed while booting).
- Transaction-related messages (StartTransaction, StopTransaction, periodic and
  clock-aligned MeterValues) are queued while offline and sent in order after
  reconnect; a CALLERROR is retried TransactionMessageAttempts times,
  TransactionMessageRetryInterval x (transmissions so far) apart.
- Other messages are dropped while offline; an Authorize then fails at once (the
  caller falls back to local authorization), a status change is reported after the
  queue has drained if it still differs from what the central system last heard.
- An item's payload is built when it is sent, so a message queued before its
  transaction's StartTransaction.conf carries the transactionId the central system issued.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from ..ocppj import CallError, CallResult

__all__ = ["Item", "Outbox", "TX_RELATED"]

TX_RELATED = frozenset({"StartTransaction", "StopTransaction", "MeterValues"})


@dataclass
class Item:
    action: str
    build: Callable[[], dict[str, Any]] | None = None  # None: a task item (run in order, nothing sent)
    on_reply: Callable[[dict[str, Any]], Any] | None = None
    run: Callable[[], Awaitable[None]] | None = None
    tx_related: bool = False
    done: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    attempts: int = 0


class Outbox:
    def __init__(self, send: Callable[[str, dict[str, Any]], Awaitable[CallResult | CallError]],
                 retry: Callable[[], tuple[int, int]], on_resync: Callable[[], Awaitable[None]]) -> None:
        self._send = send
        self._retry = retry  # -> (TransactionMessageAttempts, TransactionMessageRetryInterval)
        self._on_resync = on_resync
        self.items: deque[Item] = deque()
        self.open = asyncio.Event()  # connected and registration Accepted
        self._wake = asyncio.Event()
        self.reorder_offline_meter_values = False  # a fault switch
        self.statuses_before_replay = False  # a variant: on reconnect, report statuses before the queued messages

    # -- producing ---------------------------------------------------------------------------
    def put(self, action: str, build: Callable[[], dict[str, Any]], on_reply: Callable[[dict[str, Any]], Any] | None = None,
            *, front: bool = False) -> Item | None:
        """Queue a CALL; returns None (dropped) for a non-transaction message while offline."""
        tx = action in TX_RELATED
        if not tx and not self.open.is_set():
            return None
        item = Item(action, build, on_reply, tx_related=tx)
        self.items.appendleft(item) if front else self.items.append(item)
        self._wake.set()
        return item

    def task(self, run: Callable[[], Awaitable[None]]) -> Item:
        """Run ``run`` when every item queued before it has been sent."""
        item = Item("task", run=run)
        self.items.append(item)
        self._wake.set()
        return item

    async def call(self, action: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        """Queue and wait for the reply payload (None: offline or no usable reply)."""
        item = self.put(action, build)
        if item is None:
            return None
        return await item.done  # type: ignore[no-any-return]

    # -- connection events -------------------------------------------------------------------------
    def opened(self, *, resync: bool) -> None:
        if self.reorder_offline_meter_values:
            meters = [i for i in self.items if i.action == "MeterValues"]
            if len(meters) > 1:
                positions = [n for n, i in enumerate(self.items) if i.action == "MeterValues"]
                for n, item in zip(positions, reversed(meters)):
                    self.items[n] = item
        if resync:
            resync_item = Item("task", run=self._on_resync)
            self.items.appendleft(resync_item) if self.statuses_before_replay else self.items.append(resync_item)
        self.open.set()
        self._wake.set()

    def closed(self) -> None:
        self.open.clear()
        for item in [i for i in self.items if not i.tx_related and i.run is None]:
            self.items.remove(item)
            if not item.done.done():
                item.done.set_result(None)

    # -- the sender ------------------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            if not self.items:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self.open.wait()
            item = self.items[0]
            if item.run is not None:
                self.items.popleft()
                await item.run()
                item.done.set_result(None)
                continue
            try:
                reply = await self._send(item.action, item.build())  # type: ignore[misc]
            except Exception:  # connection lost or no reply: offline, keep it (tx) or drop it
                if not item.tx_related:
                    self._finish(item, None)
                else:
                    await asyncio.sleep(1.0)  # then wait for the connection (open) and resend
                continue
            if isinstance(reply, CallResult):
                self._finish(item, reply.payload)
                if item.on_reply is not None:
                    result = item.on_reply(reply.payload)
                    if asyncio.iscoroutine(result):
                        await result
                continue
            item.attempts += 1
            attempts, interval = self._retry()
            if not item.tx_related or item.attempts >= attempts:
                self._finish(item, None)
            else:
                await asyncio.sleep(interval * item.attempts)

    def _finish(self, item: Item, payload: dict[str, Any] | None) -> None:
        if self.items and self.items[0] is item:
            self.items.popleft()
        if not item.done.done():
            item.done.set_result(payload)
