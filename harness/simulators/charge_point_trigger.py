"""RemoteTrigger profile of the reference charge point (spec 5.17): TriggerMessage."""

from __future__ import annotations

__all__ = ["FAULTS", "VARIANTS", "TriggerMixin"]

#: fault switches of this profile (merged into the charge point's --list-faults)
FAULTS: dict[str, str] = {}
#: variants of this profile (merged into the charge point's --list-variants)
VARIANTS: dict[str, str] = {}


class TriggerMixin:
    """CS-initiated operations of this profile (handlers named on_<Action>, found by HandlersMixin.handle_call)."""
