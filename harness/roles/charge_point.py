"""The harness as charge point, for a central system under test (``--ocpp-sut cs``).

Connects to ``{endpoint}/{chargePointId}``; the test drives what the charge point
sends with :meth:`Role.call`. CALLs from the central system wait for a step to
claim them and otherwise get the conservative default replies below (a harness
charge point never starts, stops or resets anything on its own).

With the SmartCharging feature profile (``features`` of the SUT config) it keeps the
charging profiles the central system installed (a :class:`ChargingProfileStore`, fresh
for each test: each case installs what it needs) and answers SetChargingProfile,
ClearChargingProfile and GetCompositeSchedule from the pure models. With
LocalAuthListManagement it keeps a Local Authorization List (empty at the start of each
case: OCTT's common state has no list) and answers SendLocalList and GetLocalListVersion
from :mod:`harness.models.local_auth_list`. :meth:`ChargePoint.reset_state` makes it a fresh
charge point before every case (harness.common_state).
Without the profile SetChargingProfile and SendLocalList get NotSupported, GetCompositeSchedule
Rejected, ClearChargingProfile Unknown and GetLocalListVersion -1.
"""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, timezone
from typing import Any, Mapping

from .. import schemas
from ..config import SutConfig
from ..errors import ConnectionFailure, StepFailure
from ..inbox import ErrorReply
from ..models.charging_profile import (
    ChargePointSmartChargingState, ChargingProfile, ChargingProfilePurpose, ChargingProfileStore, ChargingRateUnit,
    format_datetime, parse_allowed_units, validate_profile,
)
from ..models.composite_schedule import Transaction, composite_schedule
from ..models.local_auth_list import LocalAuthList, PayloadError, apply_send_local_list, get_local_list_version
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
    "TriggerMessage": {"status": "NotImplemented"},
    "ExtendedTriggerMessage": {"status": "NotImplemented"},
}


_PROFILE_NAMES = {"smart_charging": "SmartCharging", "local_auth_list_management": "LocalAuthListManagement",
                  "firmware_management": "FirmwareManagement", "remote_trigger": "RemoteTrigger",
                  "reservation": "Reservation"}


class ChargePoint(Role):
    """Impersonates an OCPP 1.6 charge point."""

    peer_actions = schemas.CENTRAL_SYSTEM_ACTIONS
    background_actions: frozenset[str] = frozenset()
    meter_start = 1000  # Wh: the register at the start of each transaction of the harness charge point
    meter_stop = 1250  # Wh: at its end

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
            "SupportedFeatureProfiles": (",".join(["Core"] + [name for feature, name in _PROFILE_NAMES.items()
                                                            if feature in config.features]), r),
            "TransactionMessageAttempts": (3, rw),
            "TransactionMessageRetryInterval": (10, rw),
            "UnlockConnectorOnEVSideDisconnect": ("true", rw),
        }
        extra = config.extra
        if "smart_charging" in config.features:  # spec 9.4
            keys.update({
                "ChargeProfileMaxStackLevel": (extra.get("charge_profile_max_stack_level", 8), r),
                "ChargingScheduleAllowedChargingRateUnit": (extra.get("allowed_charging_rate_units", "Current"), r),
                "ChargingScheduleMaxPeriods": (extra.get("charging_schedule_max_periods", 10), r),
                "MaxChargingProfilesInstalled": (extra.get("max_charging_profiles_installed", 10), r),
            })
        if "reservation" in config.features:  # spec 9.3
            keys["ReserveConnectorZeroSupported"] = (str(bool(extra.get("reserve_connector_zero", True))).lower(), r)
        if "firmware_management" in config.features:  # errata 3.90 (9.5.1): what its transfer clients speak
            keys["SupportedFileTransferProtocols"] = ("FTP,HTTP,HTTPS", r)
        if "local_auth_list_management" in config.features:  # spec 9.2
            keys.update({
                "LocalAuthListEnabled": ("true", rw),
                "LocalAuthListMaxLength": (extra.get("local_auth_list_max_length", 50), r),
                "SendLocalListMaxLength": (extra.get("send_local_list_max_length", 20), r),
            })
        self.configuration: dict[str, dict[str, Any]] = {
            key: {"value": str(value), "readonly": readonly} for key, (value, readonly) in keys.items()}
        # Transactions the central system started for this charge point during the run, by transactionId:
        # {"connector", "idTag", "open"}; kept by the test cases' shared steps.
        self.transactions: dict[int, dict[str, Any]] = {}
        # Smart charging: the profiles installed by the central system (reset by begin_test).
        self.charging_profiles = ChargingProfileStore()
        # Local Authorization List: empty at the start of every case (OCTT common state: no local list).
        self.local_list = LocalAuthList()
        self._fresh_configuration = copy.deepcopy(self.configuration)

    def reset_state(self) -> None:
        """A fresh charge point for the next case (OCTT common state): configuration as built, no profiles, no list.

        Transactions stay on record (their ids must not be reused), but none is open.
        """
        self.configuration = copy.deepcopy(self._fresh_configuration)
        self.charging_profiles = ChargingProfileStore()
        self.local_list = LocalAuthList()
        for tx in self.transactions.values():
            tx["open"] = False

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

    async def lose_power(self, step: str) -> None:
        """A hard reset or power cut as hardware does it: TCP dropped without a close frame, a new connection at once.

        A central system that keeps the stale connection, or refuses the new one while it
        lingers, shows it here (a clean close would hide that).
        """
        if self.session is not None:
            await self.session.drop()
        await self.connect(step)

    stop = disconnect

    async def begin_test(self, name: str) -> Trace:
        """Each test starts disconnected (harness.common_state resets the rest): its first CALL opens a fresh connection."""
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

    # -- smart charging (spec 3.13, 5.5, 5.7, 5.16) ----------------------------------------------
    @property
    def supports_smart_charging(self) -> bool:
        return "smart_charging" in self.config.features

    @property
    def supports_local_list(self) -> bool:
        return "local_auth_list_management" in self.config.features

    def open_transactions(self) -> dict[int, int]:
        """connectorId -> transactionId of the transactions running at this charge point."""
        return {tx["connector"]: tx_id for tx_id, tx in self.transactions.items() if tx["open"]}

    def smart_charging_state(self) -> ChargePointSmartChargingState:
        """What validate_profile needs: this charge point's 9.4 keys, connectors and running transactions."""
        value = lambda key: self.configuration[key]["value"]  # noqa: E731
        return ChargePointSmartChargingState(
            max_stack_level=int(value("ChargeProfileMaxStackLevel")), max_periods=int(value("ChargingScheduleMaxPeriods")),
            max_installed=int(value("MaxChargingProfilesInstalled")),
            allowed_units=parse_allowed_units(value("ChargingScheduleAllowedChargingRateUnit")),
            active_transactions=self.open_transactions(), number_of_connectors=self.config.connectors)

    def profile_violations(self, connector_id: int, payload: Mapping[str, Any], *, remote_start: bool = False) -> list[str]:
        """The spec rules a received ``csChargingProfiles`` / ``chargingProfile`` breaks here (empty = installable)."""
        try:
            profile = ChargingProfile.from_payload(payload)
        except ValueError as exc:
            return [str(exc)]
        return validate_profile(profile, connector_id, self.smart_charging_state(),
                                installed=self.charging_profiles.entries, remote_start=remote_start)

    def install_profile(self, connector_id: int, payload: Mapping[str, Any], *, remote_start: bool = False) -> str:
        """Validate and install a profile as a conforming charge point does; returns the .conf status."""
        if not self.supports_smart_charging:
            return "NotSupported"
        if self.profile_violations(connector_id, payload, remote_start=remote_start):
            return "Rejected"
        self.charging_profiles = self.charging_profiles.install(connector_id, ChargingProfile.from_payload(payload))
        return "Accepted"

    def clear_profiles(self, payload: Mapping[str, Any]) -> str:
        """ClearChargingProfile.req on the store: Accepted iff a profile was removed, else Unknown."""
        purpose = payload.get("chargingProfilePurpose")
        self.charging_profiles, status = self.charging_profiles.clear(
            id=payload.get("id"), connector_id=payload.get("connectorId"),
            purpose=None if purpose is None else ChargingProfilePurpose(purpose), stack_level=payload.get("stackLevel"))
        return status.value

    def composite_reply(self, payload: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """GetCompositeSchedule.conf from composite_schedule() of the installed profiles (spec 5.7).

        Spans without any profile get the charge point's hardware maximum (``extra.max_current``
        amperes per phase, 32 by default; in W for three phases at 230 V).
        """
        connector = int(payload["connectorId"])
        if connector < 0 or connector > self.config.connectors:
            return {"status": "Rejected"}
        allowed = parse_allowed_units(self.configuration["ChargingScheduleAllowedChargingRateUnit"]["value"])
        unit = ChargingRateUnit(payload.get("chargingRateUnit") or min(u.value for u in allowed))
        if unit not in allowed:
            return {"status": "Rejected"}
        tx_id = self.open_transactions().get(connector)
        now = now or datetime.now(timezone.utc)
        transaction = None if tx_id is None else Transaction(self.transactions[tx_id].get("start", now), tx_id)
        schedule = composite_schedule(self.charging_profiles, connector, now, int(payload["duration"]), unit=unit,
                                      transaction=transaction)
        amps = float(self.config.extra.get("max_current", 32))
        no_limit = amps if unit is ChargingRateUnit.A else amps * 230.0 * 3
        return {"status": "Accepted", "connectorId": connector, "scheduleStart": format_datetime(schedule.start_schedule),
                "chargingSchedule": schedule.to_payload(no_limit=no_limit)}

    def transaction_stopped(self, tx_id: int) -> None:
        """A transaction ended: its TxProfiles cease to be valid (spec 3.13.1)."""
        tx = self.transactions.get(tx_id)
        if tx is not None:
            tx["open"] = False
            self.charging_profiles = self.charging_profiles.end_transaction(tx["connector"])

    # -- local authorization list (spec 3.5.2, 5.10, 5.15) ---------------------------------------------------
    def local_list_version(self) -> int:
        """What GetLocalListVersion.conf reports: -1 without the profile, 0 for an empty list."""
        enabled = self.configuration.get("LocalAuthListEnabled", {}).get("value") == "true"
        return get_local_list_version(self.local_list, supported=self.supports_local_list, enabled=enabled)

    def apply_local_list(self, payload: Mapping[str, Any]) -> tuple[LocalAuthList, str]:
        """What SendLocalList.req would do to this charge point's list: (new list, .conf status)."""
        enabled = self.configuration.get("LocalAuthListEnabled", {}).get("value") == "true"
        if not self.supports_local_list:
            return self.local_list, "NotSupported"
        try:
            result = apply_send_local_list(
                self.local_list, payload, max_length=int(self.configuration["LocalAuthListMaxLength"]["value"]),
                send_max_length=int(self.configuration["SendLocalListMaxLength"]["value"]), enabled=enabled)
        except PayloadError:
            return self.local_list, "Failed"
        return result.local_list, result.status.value

    def default_reply(self, call: Call) -> Mapping[str, Any] | ErrorReply:
        action, payload = call.action, call.payload
        if action == "SetChargingProfile":
            return {"status": self.install_profile(int(payload["connectorId"]), payload["csChargingProfiles"])}
        if action == "ClearChargingProfile":
            return {"status": self.clear_profiles(payload) if self.supports_smart_charging else "Unknown"}
        if action == "GetCompositeSchedule":
            return self.composite_reply(payload) if self.supports_smart_charging else {"status": "Rejected"}
        if action == "GetLocalListVersion":
            return {"listVersion": self.local_list_version()}
        if action == "SendLocalList":
            self.local_list, status = self.apply_local_list(payload)
            return {"status": status}
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
