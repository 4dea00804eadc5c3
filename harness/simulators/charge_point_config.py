"""Configuration keys of the reference charge point (OCPP 1.6 section 9.1, Core profile).

Each key has a value (always a string on the wire), an accessibility (read-only or
read-write) and a validator; ChangeConfiguration answers Accepted, Rejected (read-only
key, value out of range or of the wrong format, unsupported measurand: section 3.16.4),
RebootRequired (keys that act only after a reboot) or NotSupported (unknown key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Key", "Configuration", "MEASURANDS"]

#: measurands the simulator's meter can sample (spec 7.31 spellings)
MEASURANDS = {
    "Energy.Active.Import.Register": "Wh",
    "Power.Active.Import": "W",
    "Current.Import": "A",
    "Current.Offered": "A",
    "Voltage": "V",
}
PROFILES = {"Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation", "SmartCharging", "RemoteTrigger"}


def _int(minimum: int = 0) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            return int(value) >= minimum
        except ValueError:
            return False
    return check


def _bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def _measurands(value: str) -> bool:
    items = [v.strip() for v in value.split(",") if v.strip()]
    return all(item.split(".L")[0] in MEASURANDS for item in items)


def _rotation(value: str) -> bool:
    rotations = {"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"}
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return all(p.partition(".")[2] in rotations and p.partition(".")[0].isdigit() for p in parts)


@dataclass
class Key:
    value: str
    readonly: bool = False
    check: Callable[[str], bool] = lambda value: True
    reboot_required: bool = False


class Configuration:
    """The charge point's configuration keys, with ChangeConfiguration semantics."""

    def __init__(self, connectors: int, *, faults: Any, variants: Any = frozenset()) -> None:
        self.faults = faults
        self.variants = variants
        self.pending: dict[str, str] = {}  # RebootRequired changes, applied at the next boot
        rotation = ",".join(f"{c}.RST" for c in range(connectors + 1))
        self.keys: dict[str, Key] = {
            # Core, required (spec 9.1)
            "AuthorizeRemoteTxRequests": Key("false", False, _bool),
            "ClockAlignedDataInterval": Key("0", False, _int()),
            "ConnectionTimeOut": Key("30", False, _int(1)),
            "ConnectorPhaseRotation": Key(rotation, False, _rotation),
            "GetConfigurationMaxKeys": Key("10", True),
            "HeartbeatInterval": Key("0", False, _int()),
            "LocalAuthorizeOffline": Key("true", False, _bool),
            "LocalPreAuthorize": Key("false", False, _bool),
            "MeterValuesAlignedData": Key("Energy.Active.Import.Register", False, _measurands),
            "MeterValuesSampledData": Key("Energy.Active.Import.Register", False, _measurands),
            "MeterValueSampleInterval": Key("0", False, _int()),
            "NumberOfConnectors": Key(str(connectors), True),
            "ResetRetries": Key("1", False, _int()),
            "StopTransactionOnEVSideDisconnect": Key("true", False, _bool),
            "StopTransactionOnInvalidId": Key("true", False, _bool),
            "StopTxnAlignedData": Key("", False, _measurands),
            "StopTxnSampledData": Key("", False, _measurands),
            "SupportedFeatureProfiles": Key("Core", True),
            "TransactionMessageAttempts": Key("3", False, _int(1)),
            "TransactionMessageRetryInterval": Key("5", False, _int()),
            "UnlockConnectorOnEVSideDisconnect": Key("true", False, _bool),
            # Core, optional
            "AllowOfflineTxForUnknownId": Key("false", False, _bool),
            "AuthorizationCacheEnabled": Key("true", False, _bool),
            "MinimumStatusDuration": Key("0", False, _int()),
            "MeterValuesSampledDataMaxLength": Key("5", True),
            "MeterValuesAlignedDataMaxLength": Key("5", True),
            "WebSocketPingInterval": Key("0", False, _int(), reboot_required=True),
        }
        if "wrong_key_accessibility" in faults:
            self.keys["HeartbeatInterval"].readonly = True
        if "authorize_from_cache" in variants:
            self.keys["LocalPreAuthorize"].value = "true"
        if "optional_keys_missing" in variants:
            for name in ("MinimumStatusDuration", "AllowOfflineTxForUnknownId", "MaxEnergyOnInvalidId"):
                self.keys.pop(name, None)
        if "reboot_required" in variants:
            wanted = variants.option("reboot_required_keys", [
                "StopTransactionOnEVSideDisconnect", "UnlockConnectorOnEVSideDisconnect", "LocalAuthorizeOffline",
                "AllowOfflineTxForUnknownId", "StopTransactionOnInvalidId"])
            for name in wanted:
                if name in self.keys:
                    self.keys[name].reboot_required = True

    # -- reading ------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> str:
        return self.keys[name].value

    def int(self, name: str) -> int:
        try:
            return int(self.keys[name].value)
        except ValueError:
            return 0

    def bool(self, name: str) -> bool:
        return self.keys[name].value.lower() == "true"

    def csl(self, name: str) -> list[str]:
        return [v.strip() for v in self.keys[name].value.split(",") if v.strip()]

    def set_internal(self, name: str, value: str) -> None:
        """A change made by the charge point itself (e.g. the interval from BootNotification.conf)."""
        self.keys[name].value = value

    # -- OCPP --------------------------------------------------------------------------------------
    def get_configuration(self, wanted: list[str] | None) -> dict[str, Any]:
        names = list(self.keys) if not wanted else [k for k in wanted if k in self.keys]
        reply: dict[str, Any] = {
            "configurationKey": [{"key": k, "readonly": self.keys[k].readonly, "value": self.keys[k].value} for k in names]}
        unknown = [k for k in wanted or [] if k not in self.keys]
        if unknown:
            reply["unknownKey"] = unknown
        return reply

    def change(self, name: str, value: str) -> str:
        key = self.keys.get(name)
        if key is None:
            return "Rejected" if "unknown_key_rejected" in self.faults else "NotSupported"
        if key.readonly and "readonly_key_accepted" not in self.faults:  # the fault: accepted and stored
            return "Rejected"
        if not key.check(value) and "accept_invalid_value" not in self.faults:
            return "Rejected"
        if key.reboot_required:
            self.pending[name] = value  # takes effect at the next boot
            return "RebootRequired"
        if "change_configuration_not_applied" not in self.faults:
            key.value = value
        return "Accepted"

    def apply_pending(self) -> None:
        """A boot: RebootRequired changes take effect."""
        for name, value in self.pending.items():
            if name in self.keys:
                self.keys[name].value = value
        self.pending.clear()
