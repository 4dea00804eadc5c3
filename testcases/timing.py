"""Checks of the SUT's timers (boot retry, heartbeat) against the interval the harness set."""

from __future__ import annotations

from harness.errors import StepFailure
from harness.inbox import Received

__all__ = ["check_not_before", "check_gap"]


def check_not_before(step: str, what: str, earliest: float, received: Received, tolerance: float, rule: str) -> None:
    """``received`` must not arrive before ``earliest`` (monotonic seconds), within ``tolerance``."""
    early = earliest - received.arrived
    if early > tolerance:
        raise StepFailure(step, f"{what} arrived {early:.2f}s too early", rule)


def check_gap(step: str, what: str, since: float, received: Received, interval: float, tolerance: float,
              *, lower: bool = True) -> None:
    """``received`` must arrive ``interval`` (+/- ``tolerance``) seconds after ``since``."""
    gap = received.arrived - since
    if gap > interval + tolerance or (lower and gap < interval - tolerance):
        bounds = f"{interval:g}s +/- {tolerance:g}s" if lower else f"at most {interval:g}s + {tolerance:g}s"
        raise StepFailure(step, f"{what} came {gap:.2f}s after the previous one; expected {bounds}")
