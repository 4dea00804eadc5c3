"""Named variants of the reference central system (``--variant NAME``; ``--list-variants``).

Each one makes the simulator take another path that OCPP 1.6 or the OCTT document
permits. The harness's own tests run every case a variant touches against it, and all
of them must pass.
"""

from __future__ import annotations

__all__ = ["VARIANTS"]

VARIANTS: dict[str, str] = {
    "late_actuator": "the operator API answers only after the charge point answered the CALL it sent (and a moment more)",
    "slow_operator": "the operator API answers options.slow_operator_delay seconds (default 30) after sending the CALL",
}
