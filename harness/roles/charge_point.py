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

import asyncio
import copy
import itertools
import ssl
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from .. import schemas
from ..config import Secret, SutConfig
from ..errors import ConnectionFailure, StepFailure
from ..inbox import ErrorReply
from ..models.charging_profile_rules import ChargingProfileStore
from ..models.local_auth_list import LocalAuthList
from ..ocppj import Call
from ..session import Session
from ..trace import Trace
from ..transport import TlsInfo, basic_auth_header, connect_charge_point, tls_info
from .base import Role
from .charge_point_holdings import ChargePointHoldings

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
    # security extension: what no step claimed is refused (the harness charge point signs, installs, uploads nothing unasked)
    "CertificateSigned": {"status": "Rejected"},
    "GetLog": {"status": "Rejected"},
    "SignedUpdateFirmware": {"status": "Rejected"},
}


_PROFILE_NAMES = {"smart_charging": "SmartCharging", "local_auth_list_management": "LocalAuthListManagement",
                  "firmware_management": "FirmwareManagement", "remote_trigger": "RemoteTrigger",
                  "reservation": "Reservation"}


class ChargePoint(ChargePointHoldings, Role):
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
        # -- security extension: what the central system holds for this charge point, kept across cases --
        #: the run's certificates, keys and password (harness.sut.SecurityMaterial), None without security
        self.security: Any = None
        #: the security profile it connects with (the run's; a case may move it, harness.common_state puts it back)
        self.profile = config.security_profile
        #: the AuthorizationKey the central system set (None: the run's basic_auth_password)
        self.authorization_key: Secret | None = None
        #: (certificate chain, key) files of a charge point certificate the central system signed (None: the configured)
        self.identity: tuple[Path, Path] | None = None
        #: the TLS session of the last connection (None on ws://)
        self.tls: TlsInfo | None = None
        #: installed root certificates (PEM) by certificateType; the factory ones at the start of each case
        self.certificates: dict[str, list[str]] = {}

    def reset_state(self) -> None:
        """A fresh charge point for the next case (OCTT common state): configuration as built, no profiles, no list.

        Transactions stay on record (their ids must not be reused), but none is open.
        """
        self.configuration = copy.deepcopy(self._fresh_configuration)
        self.charging_profiles = ChargingProfileStore()
        self.local_list = LocalAuthList()
        for tx in self.transactions.values():
            tx["open"] = False
        self.certificates = {}
        if self.security is not None:  # a fresh charge point holds the roots it was delivered with
            self.certificates["CentralSystemRootCertificate"] = [self.security.root_pem]
            if self.security.manufacturer_root_pem:
                self.certificates["ManufacturerRootCertificate"] = [self.security.manufacturer_root_pem]

    # -- connections (security profiles 0-3) -----------------------------------------------------------------
    def endpoint_for(self, profile: int) -> str:
        """The central system's endpoint for ``profile``: ``endpoint`` for the run's, ``tls.endpoints`` for the others."""
        if profile == self.config.security_profile:
            return self.config.endpoint
        endpoint = self.config.tls.endpoints.get(profile)
        if not endpoint:
            raise ConnectionFailure("", f"no endpoint for security profile {profile}: set tls.endpoints.{profile} in the "
                                        "SUT config")
        return endpoint

    def password(self) -> Secret | None:
        """The basic-auth password it sends now: the AuthorizationKey the central system set, else the run's."""
        if self.authorization_key is not None:
            return self.authorization_key
        return self.security.password if self.security is not None else self.config.basic_auth_password

    def tls_context(self, profile: int, *, client_certificate: bool = True) -> ssl.SSLContext | None:
        if profile < 2 or self.security is None:
            return None
        return self.security.client_context(profile if client_certificate else 2, self.identity)

    async def connect(self, step: str = "connect", *, profile: int | None = None, basic_auth: bool = True,
                      client_certificate: bool = True) -> None:
        """Open a new connection (a fresh boot of the impersonated charge point) over its security profile.

        ``profile`` overrides :attr:`profile` for this connection; ``basic_auth=False`` leaves the
        Authorization header out, ``client_certificate=False`` the profile 3 certificate (negative steps).
        """
        if self.session is not None:
            await self.session.close()
        profile = self.profile if profile is None else profile
        try:
            sends = profile in (1, 2) or (profile == self.config.security_profile and self.config.basic_auth_password)
            ws = await connect_charge_point(
                self.endpoint_for(profile), self.config.charge_point_id,
                password=self.password() if basic_auth and sends else None,
                open_timeout=self.timeouts.connect, ssl=self.tls_context(profile, client_certificate=client_certificate),
            )
        except ConnectionFailure as exc:
            self.trace.event(f"connection failed: {exc.problem}")
            raise ConnectionFailure(step, exc.problem, exc.detail) from None
        self.tls = tls_info(ws)
        session = self.new_session(ws, f"{self.config.charge_point_id}#{next(self._connections)}")
        if self.security is not None:
            tls = f", {self.tls.version} {self.tls.cipher}" if self.tls is not None else ""
            self.trace.event(f"{session.name}: over security profile {profile}{tls}", session.name)

    async def probe_upgrade(self, subprotocols: list[str]) -> tuple[bool, str | None, str]:
        """An upgrade offering only ``subprotocols`` (TC_088_CSMS): (kept open, selected subprotocol, what happened).

        "Kept open" is false for an HTTP refusal and for a handshake the central system closes
        within the timing tolerance (OCPP-J 1.6 section 3.2: it completes the handshake without the
        Sec-WebSocket-Protocol header, then closes). Nothing is sent on the connection.
        """
        url = f"{self.endpoint_for(self.profile).rstrip('/')}/{self.config.charge_point_id}"
        password = self.password() if self.profile in (1, 2) else None
        headers = {"Authorization": basic_auth_header(self.config.charge_point_id, password)} if password else {}
        tls = {"ssl": self.tls_context(self.profile)} if self.profile >= 2 else {}
        try:
            async with ws_connect(url, subprotocols=subprotocols, additional_headers=headers, proxy=None,  # type: ignore[arg-type]
                                  open_timeout=self.timeouts.connect, close_timeout=2, ping_interval=None, **tls) as ws:
                said = f"upgraded with Sec-WebSocket-Protocol {ws.subprotocol!r}"
                try:
                    await asyncio.wait_for(ws.wait_closed(), self.timeouts.timing_tolerance)
                except asyncio.TimeoutError:
                    result = (True, ws.subprotocol, said + "; the connection stayed open")
                else:
                    result = (False, ws.subprotocol, said + f"; the central system closed it ({ws.close_code} "
                                                            f"{ws.close_reason!r})")
        except InvalidStatus as exc:
            result = (False, None, f"refused: HTTP {exc.response.status_code} {exc.response.reason_phrase}")
        except Exception as exc:  # noqa: BLE001 - the refusal may come as a closed connection or a handshake error
            result = (False, None, f"refused: {type(exc).__name__}: {exc}")
        self.trace.event(f"upgrade offering Sec-WebSocket-Protocol {', '.join(subprotocols)}: {result[2]}")
        return result

    async def probe_cipher(self, cipher: str) -> str | None:
        """A bare TLS 1.2 handshake offering only ``cipher`` (OpenSSL name): None when the central system takes it."""
        context = self.tls_context(max(self.profile, 2))
        assert context is not None
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(cipher)
        parts = urlsplit(self.endpoint_for(max(self.profile, 2)))
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(
                parts.hostname, parts.port or 443, ssl=context, server_hostname=parts.hostname), self.timeouts.connect)
        except (OSError, asyncio.TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 2)
        except (OSError, asyncio.TimeoutError):
            pass
        return None

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

    def default_reply(self, call: Call) -> Mapping[str, Any] | ErrorReply:
        action, payload = call.action, call.payload
        if action in ("InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate"):
            return self.certificate_reply(action, payload)
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
