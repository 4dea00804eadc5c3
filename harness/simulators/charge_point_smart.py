"""Smart charging in the reference charge point (SmartCharging profile; spec 3.13, 5.5, 5.7, 5.11, 5.16, 9.4).

The charge point keeps its installed profiles in a :class:`ChargingProfileStore` and
judges them with the same model the harness uses: SetChargingProfile is validated with
``validate_profile`` and installed with the store's replace rules; ClearChargingProfile is
``ChargingProfileStore.clear``; GetCompositeSchedule is ``composite_schedule`` from the
current time, with spans where no profile applies filled with the charge point's own
maximum (:data:`MAX_CURRENT` A per phase, 3 phases). A RemoteStartTransaction.req with a
chargingProfile (TxProfile only) installs it for the transaction it starts; TxProfiles
are dropped when their transaction ends (spec 3.13.1).

Faults (``SMART_FAULTS``) break one of these rules each.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from ..models.charging_profile import (
    ChargePointSmartChargingState,
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingProfileStore,
    ChargingRateUnit,
    InstalledProfile,
    format_datetime,
    parse_allowed_units,
    validate_profile,
)
from ..models.composite_schedule import Transaction as ModelTransaction
from ..models.composite_schedule import composite_schedule, convert_limit
from .charge_point_config import Configuration, Key
from .charge_point_connectors import Connector

__all__ = ["SMART_FAULTS", "SmartChargingMixin", "MAX_CURRENT", "add_smart_keys"]

#: the charge point's own maximum, per phase (what it reports where no profile applies)
MAX_CURRENT = 32.0
PHASES = 3
VOLTAGE = 230.0

SMART_FAULTS = {
    "txdefault_ignored_without_transaction": "GetCompositeSchedule ignores TxDefaultProfiles while no transaction runs",
    "composite_start_in_the_past": "GetCompositeSchedule.conf scheduleStart (and the schedule) lies 60 s before now",
    "txprofile_accepted_without_transaction": "accept a TxProfile when no transaction runs on the connector",
    "wrong_transaction_id_accepted": "accept a TxProfile whose transactionId is not the running transaction's",
    "txdefault_ignored_during_transaction": "GetCompositeSchedule ignores TxDefaultProfiles while a transaction runs",
    "txdefault_beats_txprofile": "GetCompositeSchedule ignores TxProfiles (TxDefault governs the transaction)",
    "cpmax_not_capping": "GetCompositeSchedule ignores ChargePointMaxProfiles (no cap)",
    "profile_kept_after_clear": "ClearChargingProfile by id answers Accepted but keeps the profile",
    "stack_level_ignored": "stackLevel ignored: of the profiles of one purpose the one installed first wins",
    "remote_start_profile_ignored": "RemoteStartTransaction.req: the chargingProfile is accepted but never installed",
    "remote_start_any_purpose_accepted": "RemoteStartTransaction.req with a non-TxProfile chargingProfile is accepted",
}


def _int(value: str) -> bool:
    return value.isdigit()


def add_smart_keys(config: Configuration) -> None:
    """The Smart Charging configuration keys (spec 9.4), all read-only."""
    config.keys.update({
        "ChargeProfileMaxStackLevel": Key("8", True, _int),
        "ChargingScheduleAllowedChargingRateUnit": Key("Current,Power", True),
        "ChargingScheduleMaxPeriods": Key("10", True, _int),
        "ConnectorSwitch3to1PhaseSupported": Key("false", True),
        "MaxChargingProfilesInstalled": Key("10", True, _int),
    })


class SmartChargingMixin:
    """SetChargingProfile, ClearChargingProfile, GetCompositeSchedule and RemoteStartTransaction with a profile."""

    connectors: dict[int, Connector]
    config: Configuration
    faults: Any
    profiles: ChargingProfileStore = ChargingProfileStore()

    def smart_state(self) -> ChargePointSmartChargingState:
        return ChargePointSmartChargingState(
            max_stack_level=self.config.int("ChargeProfileMaxStackLevel"),
            max_periods=self.config.int("ChargingScheduleMaxPeriods"),
            max_installed=self.config.int("MaxChargingProfilesInstalled"),
            allowed_units=parse_allowed_units(self.config["ChargingScheduleAllowedChargingRateUnit"]),
            active_transactions={c.id: c.transaction.tx_id for c in self.connectors.values()
                                 if c.transaction is not None and c.transaction.tx_id is not None},
            number_of_connectors=len(self.connectors) - 1,
        )

    async def on_SetChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            profile = ChargingProfile.from_payload(payload["csChargingProfiles"])
        except (ValueError, KeyError, TypeError):
            return {"status": "Rejected"}
        cid = payload["connectorId"]
        violations = validate_profile(profile, cid, self.smart_state(), installed=self.profiles.entries)
        if "txprofile_accepted_without_transaction" in self.faults:
            violations = [v for v in violations if "without an active transaction" not in v]
        if "wrong_transaction_id_accepted" in self.faults:
            violations = [v for v in violations if "!= running transaction" not in v]
        if violations:
            return {"status": "Rejected"}
        self.profiles = self.profiles.install(cid, profile)
        return {"status": "Accepted"}

    async def on_ClearChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        purpose = payload.get("chargingProfilePurpose")
        store, status = self.profiles.clear(
            id=payload.get("id"), connector_id=payload.get("connectorId"),
            purpose=ChargingProfilePurpose(purpose) if purpose else None, stack_level=payload.get("stackLevel"))
        if not ("profile_kept_after_clear" in self.faults and payload.get("id") is not None):
            self.profiles = store
        return {"status": status.value}

    def _profiles_for_composite(self, connector_id: int) -> list[InstalledProfile]:
        entries = list(self.profiles.entries)
        running = self.connectors[connector_id].transaction if connector_id in self.connectors else None
        drop: set[ChargingProfilePurpose] = set()
        if "txdefault_ignored_without_transaction" in self.faults and running is None:
            drop.add(ChargingProfilePurpose.TX_DEFAULT_PROFILE)
        if "txdefault_ignored_during_transaction" in self.faults and running is not None:
            drop.add(ChargingProfilePurpose.TX_DEFAULT_PROFILE)
        if "txdefault_beats_txprofile" in self.faults:
            drop.add(ChargingProfilePurpose.TX_PROFILE)
        if "cpmax_not_capping" in self.faults:
            drop.add(ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE)
        entries = [e for e in entries if e.profile.charging_profile_purpose not in drop]
        if "stack_level_ignored" in self.faults:  # equal ranks: the model lets the later one win, so reverse
            entries = [InstalledProfile(e.connector_id, _with_stack_level(e.profile, 0)) for e in reversed(entries)]
        return entries

    async def on_GetCompositeSchedule(self, payload: dict[str, Any]) -> dict[str, Any]:
        cid, duration = payload["connectorId"], payload["duration"]
        allowed = parse_allowed_units(self.config["ChargingScheduleAllowedChargingRateUnit"])
        unit = ChargingRateUnit(payload.get("chargingRateUnit", "A"))
        if not 0 <= cid < len(self.connectors) or unit not in allowed:
            return {"status": "Rejected"}
        now = time.time() - (60 if "composite_start_in_the_past" in self.faults else 0)
        start = datetime.fromtimestamp(int(now), timezone.utc)
        tx = self.connectors[cid].transaction if cid > 0 else None
        running = None if tx is None else ModelTransaction(datetime.fromtimestamp(int(tx.started), timezone.utc), tx.tx_id)
        composite = composite_schedule(self._profiles_for_composite(cid), cid, start, duration, unit=unit,
                                       transaction=running, nominal_voltage=VOLTAGE)
        own_max = convert_limit(MAX_CURRENT, ChargingRateUnit.A, unit, PHASES, VOLTAGE)
        return {"status": "Accepted", "connectorId": cid, "scheduleStart": format_datetime(start),
                "chargingSchedule": composite.to_payload(no_limit=own_max)}

    def remote_start_profile(self, payload: dict[str, Any], connector_id: int | None) -> str | None:
        """Check RemoteStartTransaction.req's chargingProfile (spec 5.11): None if fine, else the .conf status."""
        if "chargingProfile" not in payload:
            return None
        try:
            profile = ChargingProfile.from_payload(payload["chargingProfile"])
        except (ValueError, KeyError, TypeError):
            return "Rejected"
        violations = validate_profile(profile, connector_id or 1, self.smart_state(), installed=self.profiles.entries,
                                      remote_start=True)
        if "remote_start_any_purpose_accepted" in self.faults:
            violations = [v for v in violations if "must be TxProfile" not in v]
        return "Rejected" if violations else None

    def install_remote_start_profile(self, c: Connector, payload: dict[str, Any]) -> None:
        """Install the accepted chargingProfile of a RemoteStartTransaction.req for the transaction on ``c``."""
        if "chargingProfile" in payload and "remote_start_profile_ignored" not in self.faults:
            self.profiles = self.profiles.install(c.id, ChargingProfile.from_payload(payload["chargingProfile"]))

    def stop_transaction(self, c: Connector, reason: str, id_tag: str | None = None, *, report: bool = True) -> None:
        had = c.transaction is not None
        super().stop_transaction(c, reason, id_tag, report=report)  # type: ignore[misc]
        if had and c.transaction is None:
            self.profiles = self.profiles.end_transaction(c.id)


def _with_stack_level(profile: ChargingProfile, level: int) -> ChargingProfile:
    from dataclasses import replace
    return replace(profile, stack_level=level)
