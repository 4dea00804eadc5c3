"""Bounded waits that never swallow a cancellation.

``asyncio.wait_for`` before Python 3.12 can return normally when the awaited thing
completes in the same instant the waiter is cancelled (CPython gh-86296), so a
cancelled test or simulator task may run on. :func:`within` is built on
``asyncio.wait``, which always lets the cancellation through.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, TypeVar

__all__ = ["within"]

T = TypeVar("T")


async def within(awaitable: Awaitable[T], timeout: float) -> T:
    """Await ``awaitable`` for at most ``timeout`` seconds; raise asyncio.TimeoutError after that."""
    task: asyncio.Future[Any] = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(timeout, 0))
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=1)
        raise asyncio.TimeoutError
    return task.result()  # type: ignore[no-any-return]
