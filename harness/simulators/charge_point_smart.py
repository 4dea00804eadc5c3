"""Smart charging in the reference charge point (SmartCharging profile; spec 3.13, 5.5, 5.7, 5.11, 5.16, 9.4).

An implementation of its own, on purpose: the harness judges this charge point with its
own models (models/charging_profile*.py, composite_schedule.py, composite_compare.py), so a
simulator answering with those models could only agree with them. Here the install rules and the
store are charge_point_smart_profiles, the composite schedule charge_point_smart_composite
(a walk over a per-profile point query, not the model's algorithm); both written from the
spec and shared/smart_charging.md, taking the readings the harness takes by default (listed
in those modules' docstrings, sections 2 and 4 of the notes).

- SetChargingProfile: Rejected when a rule of charge_point_smart_profiles.RULES is broken,
  else installed (replacing same id / same stackLevel+purpose on the connector) and Accepted.
- ClearChargingProfile: Accepted iff a profile matched (id alone, or the AND of the filters).
- GetCompositeSchedule: Rejected for an unknown connector or a unit the charge point does not
  allow; else the composite from now (floored to the second) for ``duration`` seconds, in
  the requested unit (A when none is asked for). Spans where no profile applies carry the
  charge point's own maximum: :data:`MAX_CURRENT` A per phase on 3 phases, or with the
  variant ``decimal_limits`` ``options.max_limit_a`` (default 31.7 A), converted for W.
- RemoteStartTransaction.req with a chargingProfile: TxProfile only, no transactionId
  (spec 5.11); installed for the transaction it starts. TxProfiles of a connector are
  dropped when its transaction ends (spec 3.13.1).

Faults (``SMART_FAULTS``) break one of these rules each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .charge_point_config import Configuration, Key
from .charge_point_connectors import Connector
from .charge_point_smart_composite import VOLTAGE, Request, composite_periods
from .charge_point_smart_profiles import (
    PURPOSES,
    Context,
    Profile,
    ProfileStore,
    Stored,
    allowed_units,
    broken_rules,
    decode_profile,
    stamp,
)

__all__ = ["MAX_CURRENT", "SMART_FAULTS", "SmartChargingMixin", "add_smart_keys"]

#: the charge point's own maximum, per phase (what it reports where no profile applies)
MAX_CURRENT = 32.0
PHASES = 3

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

#: install rules (charge_point_smart_profiles.RULES) a fault waives
_WAIVED = {
    "txprofile_accepted_without_transaction": "no_transaction",
    "wrong_transaction_id_accepted": "wrong_transaction",
    "remote_start_any_purpose_accepted": "not_tx_profile",
}


def _int(value: str) -> bool:
    return value.isdigit()


def add_smart_keys(config: Configuration, *, power_only: bool = False) -> None:
    """The Smart Charging configuration keys (spec 9.4), all read-only (variant power_only: schedules in W only)."""
    config.keys.update({
        "ChargeProfileMaxStackLevel": Key("8", True, _int),
        "ChargingScheduleAllowedChargingRateUnit": Key("Power" if power_only else "Current,Power", True),
        "ChargingScheduleMaxPeriods": Key("10", True, _int),
        "ConnectorSwitch3to1PhaseSupported": Key("false", True),
        "MaxChargingProfilesInstalled": Key("10", True, _int),
    })


class SmartChargingMixin:
    """SetChargingProfile, ClearChargingProfile, GetCompositeSchedule and RemoteStartTransaction with a profile."""

    connectors: dict[int, Connector]
    config: Configuration
    faults: Any
    variants: Any

    @property
    def charging_profiles(self) -> ProfileStore:
        """The installed profiles (kept across reboots of the simulated charge point, like its configuration)."""
        store = self.__dict__.get("_charging_profiles")
        if store is None:
            store = self.__dict__["_charging_profiles"] = ProfileStore()
        return store  # type: ignore[no-any-return]

    # -- SetChargingProfile / RemoteStartTransaction ------------------------------------------------
    def _violations(self, profile: Profile, connector_id: int, *, remote_start: bool = False) -> list[str]:
        running = {c.id: c.transaction.tx_id for c in self.connectors.values()
                   if c.transaction is not None and c.transaction.tx_id is not None}
        context = Context(
            connector=connector_id, connectors=len(self.connectors) - 1,
            max_stack=self.config.int("ChargeProfileMaxStackLevel"),
            max_periods=self.config.int("ChargingScheduleMaxPeriods"),
            max_installed=self.config.int("MaxChargingProfilesInstalled"),
            units=allowed_units(self.config["ChargingScheduleAllowedChargingRateUnit"]), running=running,
            installed_after=self.charging_profiles.count_after_install(connector_id, profile), remote_start=remote_start)
        waived = {rule for fault, rule in _WAIVED.items() if fault in self.faults}
        return [rule for rule in broken_rules(profile, context) if rule not in waived]

    async def on_SetChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            profile, cid = decode_profile(payload["csChargingProfiles"]), int(payload["connectorId"])
        except (KeyError, ValueError, TypeError):
            return {"status": "Rejected"}
        if self._violations(profile, cid):
            return {"status": "Rejected"}
        self.charging_profiles.install(cid, profile)
        return {"status": "Accepted"}

    def remote_start_profile(self, payload: dict[str, Any], connector_id: int | None) -> str | None:
        """Check RemoteStartTransaction.req's chargingProfile (spec 5.11): None if fine, else the .conf status."""
        if "chargingProfile" not in payload:
            return None
        try:
            profile = decode_profile(payload["chargingProfile"])
        except (KeyError, ValueError, TypeError):
            return "Rejected"
        return "Rejected" if self._violations(profile, connector_id or 1, remote_start=True) else None

    def install_remote_start_profile(self, c: Connector, payload: dict[str, Any]) -> None:
        """Install the accepted chargingProfile of a RemoteStartTransaction.req for the transaction on ``c``."""
        if "chargingProfile" in payload and "remote_start_profile_ignored" not in self.faults:
            self.charging_profiles.install(c.id, decode_profile(payload["chargingProfile"]))

    def stop_transaction(self, c: Connector, reason: str, id_tag: str | None = None, *, report: bool = True) -> None:
        had = c.transaction is not None
        super().stop_transaction(c, reason, id_tag, report=report)  # type: ignore[misc]
        if had and c.transaction is None:
            self.charging_profiles.end_transaction(c.id)

    # -- ClearChargingProfile ------------------------------------------------------------------------
    async def on_ClearChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        purpose = payload.get("chargingProfilePurpose")
        if purpose is not None and purpose not in PURPOSES:
            return {"status": "Unknown"}
        keep = "profile_kept_after_clear" in self.faults and payload.get("id") is not None
        matched = self.charging_profiles.clear(id=payload.get("id"), connector=payload.get("connectorId"),
                                               purpose=purpose, stack=payload.get("stackLevel"), remove=not keep)
        return {"status": "Accepted" if matched else "Unknown"}

    # -- GetCompositeSchedule ------------------------------------------------------------------------
    def own_max_current(self) -> float:
        """Amperes per phase the charge point allows where no profile applies (variant decimal_limits: 31.7)."""
        if "decimal_limits" in self.variants:
            return float(self.variants.option("max_limit_a", 31.7))
        return MAX_CURRENT

    def _composite_inputs(self, connector_id: int, running: bool) -> tuple[list[Stored], Callable[[Stored], Any]]:
        """The profiles the composite takes into account, and how a stack ranks them (faults change both)."""
        dropped: set[str] = set()
        if running and "txdefault_ignored_during_transaction" in self.faults:
            dropped.add("TxDefaultProfile")
        if not running and "txdefault_ignored_without_transaction" in self.faults:
            dropped.add("TxDefaultProfile")
        if "txdefault_beats_txprofile" in self.faults:
            dropped.add("TxProfile")
        if "cpmax_not_capping" in self.faults:
            dropped.add("ChargePointMaxProfile")
        chosen = [s for s in self.charging_profiles if s.profile.purpose not in dropped]
        if "stack_level_ignored" in self.faults:
            return chosen, lambda s: -s.order  # the one installed first wins
        return chosen, lambda s: (s.profile.stack, s.order)

    async def on_GetCompositeSchedule(self, payload: dict[str, Any]) -> dict[str, Any]:
        cid, duration, unit = payload.get("connectorId"), payload.get("duration"), payload.get("chargingRateUnit", "A")
        units = allowed_units(self.config["ChargingScheduleAllowedChargingRateUnit"])
        if (not isinstance(cid, int) or not 0 <= cid < len(self.connectors) or not isinstance(duration, int)
                or duration < 0 or unit not in units):
            return {"status": "Rejected"}
        start = int(time.time()) - (60 if "composite_start_in_the_past" in self.faults else 0)
        tx = self.connectors[cid].transaction if cid > 0 else None
        request = Request(cid, start, duration, unit, None if tx is None else int(tx.started),
                          None if tx is None else tx.tx_id)
        own_max = self.own_max_current() * (VOLTAGE * PHASES if unit == "W" else 1.0)
        profiles, rank = self._composite_inputs(cid, tx is not None)
        periods = composite_periods(profiles, request, rank=rank, own_max=own_max)
        return {"status": "Accepted", "connectorId": cid, "scheduleStart": stamp(start),
                "chargingSchedule": {"duration": duration, "startSchedule": stamp(start), "chargingRateUnit": unit,
                                     "chargingSchedulePeriod": periods}}
