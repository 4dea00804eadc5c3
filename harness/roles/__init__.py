"""The side of the connection the harness impersonates."""

from .central_system import CentralSystem
from .charge_point import ChargePoint

__all__ = ["CentralSystem", "ChargePoint"]
