"""One asyncio event loop in a background thread for the whole test run.

Connections and servers outlive single tests (a charge point stays connected to the
harness between test cases, as it would to a real central system), so they live
on one loop; each test case's coroutine is submitted to it and waited for with a
hard deadline, so no test can hang the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Coroutine, TypeVar

__all__ = ["LoopThread", "TestTimeLimit"]

T = TypeVar("T")


class TestTimeLimit(AssertionError):
    """A whole test case ran past its time limit."""

    __test__ = False  # not a pytest test class


class LoopThread:
    """An event loop running in a daemon thread; :meth:`run` executes coroutines on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="ocpp-harness-loop", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop; cancel it and raise TestTimeLimit after ``timeout`` seconds."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            try:
                future.result(5)
            except BaseException:
                pass
            raise TestTimeLimit(f"the test case did not finish within its time limit of {timeout:g}s") from None

    def close(self, timeout: float = 5.0) -> None:
        """Cancel what is left, stop the loop and join the thread (bounded)."""
        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)
        try:
            asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop).result(timeout + 1)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
