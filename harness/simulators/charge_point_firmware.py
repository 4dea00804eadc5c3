"""FirmwareManagement profile of the reference charge point (spec 4.4, 4.5, 5.9, 5.19, 8): UpdateFirmware and GetDiagnostics with real transfers."""

from __future__ import annotations

__all__ = ["FAULTS", "VARIANTS", "FirmwareMixin"]

#: fault switches of this profile (merged into the charge point's --list-faults)
FAULTS: dict[str, str] = {}
#: variants of this profile (merged into the charge point's --list-variants)
VARIANTS: dict[str, str] = {}


class FirmwareMixin:
    """CS-initiated operations of this profile (handlers named on_<Action>, found by HandlersMixin.handle_call)."""
