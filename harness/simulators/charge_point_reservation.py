"""Reservation profile of the reference charge point (spec 3.11, 5.1, 5.13): ReserveNow, CancelReservation, reserved connectors."""

from __future__ import annotations

__all__ = ["FAULTS", "VARIANTS", "ReservationMixin"]

#: fault switches of this profile (merged into the charge point's --list-faults)
FAULTS: dict[str, str] = {}
#: variants of this profile (merged into the charge point's --list-variants)
VARIANTS: dict[str, str] = {}


class ReservationMixin:
    """CS-initiated operations of this profile (handlers named on_<Action>, found by HandlersMixin.handle_call)."""
