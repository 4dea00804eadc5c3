"""The reference central system's further feature profiles: their operator words, faults and variants.

Each module in :data:`PROFILES` (Reservation, FirmwareManagement and RemoteTrigger, the
security extension) provides ``FAULTS`` and ``VARIANTS`` (name -> description) and
``builders(operator)`` / ``scripts(operator)``: the operator words it adds (see
central_system_operator.Operator: a builder returns one CALL, a script sends several).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["PROFILES", "FAULTS", "VARIANTS", "builders", "scripts"]

PROFILES: list[ModuleType] = []


def _load() -> None:
    import importlib

    for name in ("central_system_reservation", "central_system_firmware", "central_system_security"):
        try:
            PROFILES.append(importlib.import_module(f"{__package__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise


_load()
FAULTS: dict[str, str] = {k: v for m in PROFILES for k, v in m.FAULTS.items()}
VARIANTS: dict[str, str] = {k: v for m in PROFILES for k, v in m.VARIANTS.items()}


def builders(operator: Any) -> dict[str, Any]:
    return {word: build for m in PROFILES for word, build in m.builders(operator).items()}


def scripts(operator: Any) -> dict[str, Any]:
    return {word: script for m in PROFILES for word, script in m.scripts(operator).items()}
