"""Failures a test case reports. All are AssertionErrors so pytest shows them as failures.

Every failure names the step it happened at (``step``), what was expected and what
arrived, so a vendor can act on the message without reading the harness's code.
"""

from __future__ import annotations

__all__ = [
    "StepFailure",
    "StepTimeout",
    "UnexpectedMessage",
    "PayloadMismatch",
    "SchemaFailure",
    "ProtocolFailure",
    "ConnectionFailure",
    "ConfigurationError",
]


class StepFailure(AssertionError):
    """A test-case step was not met by the SUT."""

    def __init__(self, step: str, problem: str, detail: str = "") -> None:
        self.step = step
        self.problem = problem
        self.detail = detail
        text = f"Step {step}: {problem}" if step else problem
        super().__init__(f"{text}\n{detail}" if detail else text)


class StepTimeout(StepFailure):
    """Nothing matching arrived before the step's deadline."""


class UnexpectedMessage(StepFailure):
    """A message of the expected action arrived with the wrong content, or one that is forbidden."""


class PayloadMismatch(StepFailure):
    """A reply or request carried values the step does not allow."""


class SchemaFailure(StepFailure):
    """A frame from the SUT breaks the official OCPP 1.6 JSON schema."""


class ProtocolFailure(StepFailure):
    """A frame from the SUT breaks OCPP-J framing or RPC rules."""


class ConnectionFailure(StepFailure):
    """The WebSocket connection could not be made, was refused, or dropped."""


class ConfigurationError(Exception):
    """The SUT configuration is missing or wrong (not a SUT failure)."""
