"""Smart charging in the reference central system: the profiles its operator installs, clears and asks about.

``POST /act/cs_set_charging_profile`` and its siblings build SetChargingProfile,
GetCompositeSchedule, ClearChargingProfile and RemoteStartTransaction-with-profile from
the JSON body (spec 3.13, 5.5, 5.7, 5.11, 5.16). Parameters (all optional but
``connector``):

* ``connector``, ``purpose`` (TxDefaultProfile), ``kind`` (Absolute; Relative for a
  TxProfile), ``stack_level`` (0), ``unit`` (A), ``limit`` (6 A / 6000 W), ``start_period``
  (0), ``number_phases`` (left out), ``duration`` (left out), ``transaction_id`` (TxProfile);
* GetCompositeSchedule: ``connector``, ``duration``, ``unit`` (left out when absent);
* ClearChargingProfile: ``id``, ``connector``, ``purpose``, ``stack_level``: each one given
  becomes a criterion, the ones left out are omitted (none at all = clear everything).

Absolute profiles start now and are valid from now for a day (or their duration, if
longer). Each profile gets a new chargingProfileId. The central system keeps, per charge
point, the profiles the charge point accepted and forgets the ones it cleared.

Variants (:mod:`.central_system_variants`): ``relative_with_start_schedule``,
``absolute_txprofile``, ``decimal_limits`` and ``optional_fields_everywhere`` shape the
profiles within what the schema and spec 3.13 / 7.8 / 7.13 allow.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

from .central_system_handlers import iso

__all__ = ["FAULTS", "SmartCharging"]

FAULTS = {
    "txprofile_without_transaction_id": "send a TxProfile (SetChargingProfile) without its transactionId",
    "txprofile_wrong_transaction_id": "send a TxProfile for the requested transactionId + 1",
    "cpmax_on_connector": "send the requested profile as a ChargePointMaxProfile on the requested connector",
    "unit_not_allowed": "send the schedule in the other unit than requested (A <-> W, limit converted)",
    "stack_level_too_high": "send stackLevel 1000 above the requested one (beyond any ChargeProfileMaxStackLevel)",
    "clear_profile_wrong_id": "ClearChargingProfile by id names an id no profile has (the id + 1000)",
    "composite_wrong_connector": "send GetCompositeSchedule for the requested connector + 1",
    "remote_start_profile_with_transaction_id": "the TxProfile of RemoteStartTransaction carries a transactionId",
}

_WATTS_PER_AMP = 230.0 * 3


class SmartCharging:
    """Builds the smart-charging CALLs and keeps what the charge point accepted."""

    def __init__(self, faults: Any, variants: Any = frozenset()) -> None:
        self.faults = faults
        self.variants = variants
        self._ids = itertools.count(1)

    # -- builders: params (and the charge point's record) -> (action, payload) ---------------------------
    def profile(self, p: dict[str, Any], *, remote_start: bool = False) -> dict[str, Any]:
        purpose = "TxProfile" if remote_start else str(p.get("purpose", "TxDefaultProfile"))
        kind = str(p.get("kind") or ("Relative" if purpose == "TxProfile" else "Absolute"))
        minimal_absolute = purpose == "TxProfile" and not remote_start and "absolute_txprofile" in self.variants
        kind = "Absolute" if minimal_absolute else kind
        unit = str(p.get("unit", "A"))
        limit = float(p["limit"]) if p.get("limit") is not None else (6.0 if unit == "A" else 6000.0)
        if "unit_not_allowed" in self.faults:
            unit, limit = ("W", limit * _WATTS_PER_AMP) if unit == "A" else ("A", round(limit / _WATTS_PER_AMP, 1))
        schedule = self._schedule(p, purpose, unit, limit)
        if minimal_absolute:
            schedule.pop("duration", None)
        now = datetime.now(timezone.utc)
        profile: dict[str, Any] = {
            "chargingProfileId": next(self._ids),
            "stackLevel": int(p.get("stack_level", 0)) + (1000 if "stack_level_too_high" in self.faults else 0),
            "chargingProfilePurpose": "ChargePointMaxProfile" if "cpmax_on_connector" in self.faults else purpose,
            "chargingProfileKind": kind,
            "chargingSchedule": schedule,
        }
        if kind == "Absolute":
            schedule["startSchedule"] = iso(now)
        elif kind == "Relative" and "relative_with_start_schedule" in self.variants:
            schedule["startSchedule"] = iso(now)
        if (kind == "Absolute" and not minimal_absolute) or "optional_fields_everywhere" in self.variants:
            profile["validFrom"] = iso(now)
            profile["validTo"] = iso(now + max(timedelta(days=1), timedelta(seconds=schedule.get("duration", 0))))
        if "optional_fields_everywhere" in self.variants and kind == "Absolute" and purpose == "TxDefaultProfile":
            profile["recurrencyKind"] = "Daily"  # ignored by an Absolute profile (spec 7.9), allowed by the schema
        if purpose == "TxProfile" and not remote_start and "txprofile_without_transaction_id" not in self.faults:
            tx = int(p["transaction_id"])
            profile["transactionId"] = tx + 1 if "txprofile_wrong_transaction_id" in self.faults else tx
        if remote_start and "remote_start_profile_with_transaction_id" in self.faults:
            profile["transactionId"] = 1
        return profile

    def _schedule(self, p: dict[str, Any], purpose: str, unit: str, limit: float) -> dict[str, Any]:
        """The chargingSchedule without startSchedule: one period at the asked limit, more with some variants."""
        decimals = "decimal_limits" in self.variants
        first = round(limit + 0.3, 1) if decimals and purpose == "TxProfile" else limit
        period: dict[str, Any] = {"startPeriod": int(p.get("start_period", 0)), "limit": first}
        if p.get("number_phases") is not None or "optional_fields_everywhere" in self.variants:
            period["numberPhases"] = int(p.get("number_phases") or 3)
        periods = [period]
        if decimals:  # one fraction digit: the schema's multipleOf 0.1, judged on the decimal as written
            periods += [{**period, "startPeriod": period["startPeriod"] + 60, "limit": round(limit + 0.3, 1)},
                        {**period, "startPeriod": period["startPeriod"] + 120, "limit": 0.3}]
        schedule: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": periods}
        if p.get("duration") is not None:
            schedule["duration"] = int(p["duration"])
        elif "optional_fields_everywhere" in self.variants:
            schedule["duration"] = 86400
        if decimals:
            schedule["minChargingRate"] = 0.3
        elif "optional_fields_everywhere" in self.variants:
            schedule["minChargingRate"] = round(limit / 4, 1)
        return schedule

    def set_charging_profile(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "SetChargingProfile", {"connectorId": int(p["connector"]), "csChargingProfiles": self.profile(p)}

    def remote_start_with_profile(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        payload: dict[str, Any] = {"idTag": p["id_tag"], "chargingProfile": self.profile(p, remote_start=True)}
        if p.get("connector") is not None:
            payload["connectorId"] = int(p["connector"])
        return "RemoteStartTransaction", payload

    def get_composite_schedule(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        connector = int(p["connector"]) + (1 if "composite_wrong_connector" in self.faults else 0)
        payload: dict[str, Any] = {"connectorId": connector, "duration": int(p["duration"])}
        if p.get("unit"):
            payload["chargingRateUnit"] = str(p["unit"])
        return "GetCompositeSchedule", payload

    def clear_charging_profile(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        payload: dict[str, Any] = {}
        for name, key, kind in (("id", "id", int), ("connector", "connectorId", int),
                                ("purpose", "chargingProfilePurpose", str), ("stack_level", "stackLevel", int)):
            if p.get(name) is not None:
                payload[key] = kind(p[name])
        if "id" in payload and "clear_profile_wrong_id" in self.faults:
            payload["id"] += 1000
        return "ClearChargingProfile", payload

    # -- what the replies teach -----------------------------------------------------------------------------
    @staticmethod
    def learn(record: dict[str, Any], action: str, payload: dict[str, Any], reply: dict[str, Any]) -> None:
        """Keep accepted profiles per charge point (``profiles``: id -> connectorId and profile); forget cleared ones."""
        profiles: dict[str, Any] = record.setdefault("profiles", {})
        if reply.get("status") != "Accepted":
            return
        if action == "SetChargingProfile":
            profile = payload["csChargingProfiles"]
            profiles[str(profile["chargingProfileId"])] = {"connectorId": payload["connectorId"], "profile": profile}
        elif action == "RemoteStartTransaction" and "chargingProfile" in payload:
            profile = payload["chargingProfile"]
            profiles[str(profile["chargingProfileId"])] = {"connectorId": payload.get("connectorId"), "profile": profile}
        elif action == "ClearChargingProfile":
            for key in [k for k, v in profiles.items() if _cleared(v, payload)]:
                del profiles[key]


def _cleared(kept: dict[str, Any], criteria: dict[str, Any]) -> bool:
    """ClearChargingProfile semantics (spec 5.5): id alone decides; otherwise the criteria given are AND-ed."""
    profile = kept["profile"]
    if "id" in criteria:
        return bool(profile["chargingProfileId"] == criteria["id"])
    return all(criteria[key] == value for key, value in (
        ("connectorId", kept["connectorId"]), ("chargingProfilePurpose", profile["chargingProfilePurpose"]),
        ("stackLevel", profile["stackLevel"])) if key in criteria)
