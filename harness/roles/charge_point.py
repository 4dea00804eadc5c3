"""The harness as charge point, for a central system under test (``--ocpp-sut cs``).

Connects to ``{endpoint}/{chargePointId}``; the test drives what the charge point
sends with :meth:`Role.call`. CALLs from the central system wait for a step to
claim them and otherwise get the conservative default replies below (a harness
charge point never starts, stops or resets anything on its own).
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping

from .. import schemas
from ..config import SutConfig
from ..errors import ConnectionFailure, StepFailure
from ..inbox import ErrorReply
from ..ocppj import Call
from ..session import Session
from ..trace import Trace
from ..transport import connect_charge_point
from .base import Role

__all__ = ["ChargePoint"]

_DEFAULT_REPLIES: dict[str, Mapping[str, Any]] = {
    "ChangeAvailability": {"status": "Rejected"},
    "ClearCache": {"status": "Rejected"},
    "DataTransfer": {"status": "UnknownVendorId"},
    "RemoteStartTransaction": {"status": "Rejected"},
    "RemoteStopTransaction": {"status": "Rejected"},
    "Reset": {"status": "Rejected"},
    "UnlockConnector": {"status": "NotSupported"},
    "GetLocalListVersion": {"listVersion": -1},
    "TriggerMessage": {"status": "NotImplemented"},
    "ExtendedTriggerMessage": {"status": "NotImplemented"},
}


class ChargePoint(Role):
    """Impersonates an OCPP 1.6 charge point."""

    peer_actions = schemas.CENTRAL_SYSTEM_ACTIONS
    background_actions: frozenset[str] = frozenset()

    def __init__(self, config: SutConfig) -> None:
        super().__init__(config)
        self._connections = itertools.count(1)
        # Configuration keys this charge point reports (GetConfiguration) and accepts (ChangeConfiguration):
        # every required Core key of spec 9.1 with the accessibility OCTT TC_019_1 expects.
        rw, r = False, True
        keys: dict[str, tuple[Any, bool]] = {
            "AuthorizeRemoteTxRequests": ("true", r),
            "ClockAlignedDataInterval": (0, rw),
            "ConnectionTimeOut": (config.extra.get("connection_timeout", 30), rw),
            "ConnectorPhaseRotation": ("Unknown", rw),
            "GetConfigurationMaxKeys": (50, r),
            "HeartbeatInterval": (config.heartbeat_interval, rw),
            "LocalAuthorizeOffline": ("true", rw),
            "LocalPreAuthorize": ("false", rw),
            "MeterValuesAlignedData": ("Energy.Active.Import.Register", rw),
            "MeterValuesSampledData": ("Energy.Active.Import.Register", rw),
            "MeterValueSampleInterval": (0, rw),
            "NumberOfConnectors": (config.connectors, r),
            "ResetRetries": (1, rw),
            "StopTransactionOnEVSideDisconnect": ("true", rw),
            "StopTransactionOnInvalidId": ("true", rw),
            "StopTxnAlignedData": ("", rw),
            "StopTxnSampledData": ("", rw),
            "SupportedFeatureProfiles": ("Core", r),
            "TransactionMessageAttempts": (3, rw),
            "TransactionMessageRetryInterval": (10, rw),
            "UnlockConnectorOnEVSideDisconnect": ("true", rw),
        }
        self.configuration: dict[str, dict[str, Any]] = {
            key: {"value": str(value), "readonly": readonly} for key, (value, readonly) in keys.items()}
        # Transactions the central system started for this charge point during the run, by transactionId:
        # {"connector", "idTag", "open"}; kept by the test cases' shared steps.
        self.transactions: dict[int, dict[str, Any]] = {}

    async def connect(self, step: str = "connect") -> None:
        """Open a new connection (a fresh boot of the impersonated charge point)."""
        if self.session is not None:
            await self.session.close()
        try:
            ws = await connect_charge_point(
                self.config.endpoint, self.config.charge_point_id,
                password=self.config.basic_auth_password, open_timeout=self.timeouts.connect,
            )
        except ConnectionFailure as exc:
            self.trace.event(f"connection failed: {exc.problem}")
            raise ConnectionFailure(step, exc.problem, exc.detail) from None
        self.new_session(ws, f"{self.config.charge_point_id}#{next(self._connections)}")

    async def disconnect(self) -> None:
        if self.session is not None:
            await self.session.close()

    stop = disconnect

    async def begin_test(self, name: str) -> Trace:
        """Each test starts disconnected: its first CALL opens a fresh connection."""
        await self.disconnect()
        return await super().begin_test(name)

    async def end_test(self) -> list[StepFailure]:
        unraised = await super().end_test()
        await self.disconnect()
        return unraised

    async def wait_connected(self, step: str, timeout: float | None = None) -> Session:
        """The live session; connects first when there is none (a charge point opens the connection)."""
        if self.session is None or self.session.closed.is_set():
            await self.connect(step)
        assert self.session is not None
        return self.session

    def default_reply(self, call: Call) -> Mapping[str, Any] | ErrorReply:
        action, payload = call.action, call.payload
        if action == "GetConfiguration":
            wanted = payload.get("key")
            keys = [k for k in self.configuration if wanted is None or k in wanted]
            reply: dict[str, Any] = {"configurationKey": [
                {"key": k, "readonly": self.configuration[k]["readonly"], "value": self.configuration[k]["value"]} for k in keys]}
            unknown = [k for k in (wanted or []) if k not in self.configuration]
            if unknown:
                reply["unknownKey"] = unknown
            return reply
        if action == "ChangeConfiguration":
            entry = self.configuration.get(payload["key"])
            if entry is None:
                return {"status": "NotSupported"}
            if entry["readonly"] or (entry["value"].isdigit() and not payload["value"].isdigit()):
                return {"status": "Rejected"}  # read-only, or not a non-negative integer for an integer key
            entry["value"] = payload["value"]
            return {"status": "Accepted"}
        if action in _DEFAULT_REPLIES:
            return _DEFAULT_REPLIES[action]
        return ErrorReply("NotSupported", f"the harness charge point does not support {action}")
