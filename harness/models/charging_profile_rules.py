"""OCPP 1.6 charging profile rules: validation and the installed-profiles store.

Split from ``charging_profile`` (the wire types) so that module stays vocabulary only. The
store lives here, not with the types, because the two are one rule set: installing validates
first (``ChargingProfileStore.set_charging_profile`` calls ``validate_profile``) and validation
counts MaxChargingProfilesInstalled after the replacements the store would make, both under the
same ``ProfileRules`` readings.

Pure logic (no I/O, no clock), like ``charging_profile``. What lives here:

1. Whether a profile may be installed (``validate_profile``: human-readable violations, empty
   list = valid) and what installing / clearing does to the set of installed profiles
   (``ChargingProfileStore``, an immutable value: every operation returns a new store).
2. Nothing about what limit applies when: that is ``composite_schedule``.

Theory of operation (spec 3.13 Smart Charging, 5.5 ClearChargingProfile, 5.16 SetChargingProfile,
9.4 configuration keys; notes in shared/smart_charging.md sections 2.1, 2.2, 2.9, 2.10):

- ChargePointMaxProfile only on connector 0; TxProfile only on a connector > 0 with an active
  transaction (and a matching transactionId when one is given); TxDefaultProfile on 0 applies to
  every connector, on N > 0 only to N.
- A Relative profile's startSchedule is no violation: it is ignored (``ignored_fields``).
- Installing replaces any profile with the same chargingProfileId, and any profile with the same
  stackLevel and purpose on the same connector (``ProfileRules.replace_scope``, ambiguity A11).
- ClearChargingProfile: ``id`` alone clears by id (other fields ignored, libocpp; A8), otherwise
  connectorId / purpose / stackLevel are AND-ed, absent = wildcard. Accepted iff something was
  removed, else Unknown (spec 5.5 literally, also for an empty clear-all).
- TxProfiles of a connector are removed when its transaction ends (spec 3.13.1, A13).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Mapping, Sequence

from harness.models.charging_profile import (
    ChargingProfile, ChargingProfileKind, ChargingProfilePurpose, ChargingProfileStatus, ChargingRateUnit,
    ChargingSchedule, ClearChargingProfileStatus,
)

__all__ = [
    "ChargePointSmartChargingState", "ChargingProfileStore", "ClearIdReading", "InstalledProfile",
    "ProfileRules", "ReplaceScope", "ignored_fields", "parse_allowed_units", "validate_profile",
]


# --------------------------------------------------------------------------- validation

_UNIT_BY_CONFIG_VALUE = {"current": ChargingRateUnit.A, "power": ChargingRateUnit.W}


def parse_allowed_units(csl: str) -> frozenset[ChargingRateUnit]:
    """Parse ChargingScheduleAllowedChargingRateUnit ("Current,Power"; spec 9.4.3)."""
    items = [item.strip().lower() for item in csl.split(",") if item.strip()]
    unknown = [item for item in items if item not in _UNIT_BY_CONFIG_VALUE]
    if unknown:
        raise ValueError(f"unknown ChargingScheduleAllowedChargingRateUnit value(s): {unknown}")
    return frozenset(_UNIT_BY_CONFIG_VALUE[item] for item in items)


@dataclass(frozen=True)
class ChargePointSmartChargingState:
    """What validation needs to know about the charge point: config keys (9.4) and transactions.

    ``active_transactions`` maps connectorId -> running transactionId; ``number_of_connectors``
    None skips the unknown-connector check.
    """

    max_stack_level: int
    max_periods: int
    max_installed: int
    allowed_units: frozenset[ChargingRateUnit] = frozenset(ChargingRateUnit)
    active_transactions: Mapping[int, int] = field(default_factory=dict)
    number_of_connectors: int | None = None


class ReplaceScope(str, Enum):
    """Ambiguity A11: scope of replace-on-same-(stackLevel, purpose)."""

    PER_CONNECTOR = "per-connector (libocpp, MicroOcpp)"
    CHARGE_POINT = "charge-point-wide (spec 3.13.2 wording)"


class ClearIdReading(str, Enum):
    """Ambiguity A8: ClearChargingProfile with ``id`` and other fields."""

    ID_ONLY = "id alone decides, other fields ignored (libocpp)"
    AND_ALL = "id AND-ed with the other fields"


@dataclass(frozen=True)
class ProfileRules:
    """Readings for the install/clear ambiguities; defaults are what implementations and OCTT use."""

    replace_scope: ReplaceScope = ReplaceScope.PER_CONNECTOR
    clear_id: ClearIdReading = ClearIdReading.ID_ONLY
    recurring_requires_start_schedule: bool = True

    def describe(self) -> dict[str, str]:
        return {
            "A11 replace scope": self.replace_scope.value,
            "A8 clear by id": self.clear_id.value,
            "Recurring startSchedule": "required (libocpp rejects without)"
            if self.recurring_requires_start_schedule
            else "optional (anchored at transaction start, MicroOcpp)",
        }


def _schedule_violations(schedule: ChargingSchedule, state: ChargePointSmartChargingState) -> list[str]:
    out: list[str] = []
    periods = schedule.charging_schedule_period
    if not periods:
        out.append("chargingSchedulePeriod must hold at least one period (spec 7.13)")
    elif periods[0].start_period != 0:
        out.append(f"first startPeriod must be 0, got {periods[0].start_period} (spec 7.13)")
    if len(periods) > state.max_periods:
        out.append(f"{len(periods)} periods exceed ChargingScheduleMaxPeriods={state.max_periods}")
    starts = [p.start_period for p in periods]
    if any(b <= a for a, b in zip(starts, starts[1:])):
        out.append(f"startPeriod values must strictly increase, got {starts}")
    for p in periods:
        if p.limit < 0:
            out.append(f"limit {p.limit} at startPeriod {p.start_period} is negative")
        if p.number_phases is not None and p.number_phases not in (1, 2, 3):
            out.append(f"numberPhases {p.number_phases} at startPeriod {p.start_period} not in 1..3")
    if schedule.duration is not None and schedule.duration < 0:
        out.append(f"duration {schedule.duration} is negative")
    if schedule.charging_rate_unit not in state.allowed_units:
        allowed = sorted(u.value for u in state.allowed_units)
        out.append(
            f"chargingRateUnit {schedule.charging_rate_unit.value} not in "
            f"ChargingScheduleAllowedChargingRateUnit {allowed}"
        )
    return out


def validate_profile(
    profile: ChargingProfile,
    connector_id: int,
    state: ChargePointSmartChargingState,
    *,
    installed: Sequence[InstalledProfile] = (),
    remote_start: bool = False,
    rules: ProfileRules = ProfileRules(),
) -> list[str]:
    """Return the OCPP 1.6 rules ``profile`` breaks when sent for ``connector_id`` (empty = valid).

    ``installed`` is the current store content (for MaxChargingProfilesInstalled, counted after the
    replacements the install would make). ``remote_start`` = the profile came in
    RemoteStartTransaction.req: TxProfile without transactionId, no active transaction needed
    (spec 5.11). Spec 3.13, 5.16, 7.8, 9.4.
    """
    out: list[str] = []
    purpose, kind = profile.charging_profile_purpose, profile.charging_profile_kind
    n = state.number_of_connectors
    if connector_id < 0 or (n is not None and connector_id > n):
        out.append(f"connectorId {connector_id} does not exist")
    if not 0 <= profile.stack_level <= state.max_stack_level:
        out.append(f"stackLevel {profile.stack_level} outside 0..ChargeProfileMaxStackLevel={state.max_stack_level}")
    if purpose is ChargingProfilePurpose.CHARGE_POINT_MAX_PROFILE and connector_id != 0:
        out.append(f"ChargePointMaxProfile only allowed on connectorId 0, got {connector_id} (spec 3.13.1)")
    if remote_start:
        if purpose is not ChargingProfilePurpose.TX_PROFILE:
            out.append(f"RemoteStartTransaction profile must be TxProfile, got {purpose.value} (spec 5.11)")
        if profile.transaction_id is not None:
            out.append("RemoteStartTransaction profile must not carry a transactionId (spec 5.11)")
    if purpose is ChargingProfilePurpose.TX_PROFILE and connector_id == 0:
        out.append("TxProfile not allowed on connectorId 0 (spec 3.13.1)")
    elif purpose is ChargingProfilePurpose.TX_PROFILE and not remote_start:
        running = state.active_transactions.get(connector_id)
        if running is None:
            out.append(f"TxProfile without an active transaction on connector {connector_id} (spec 3.13.1)")
        elif profile.transaction_id is not None and profile.transaction_id != running:
            out.append(f"TxProfile transactionId {profile.transaction_id} != running transaction {running}")
    schedule = profile.charging_schedule
    if kind is ChargingProfileKind.ABSOLUTE and schedule.start_schedule is None:
        out.append("Absolute profile needs startSchedule")
    if kind is ChargingProfileKind.RECURRING:
        if profile.recurrency_kind is None:
            out.append("Recurring profile needs recurrencyKind")
        if schedule.start_schedule is None and rules.recurring_requires_start_schedule:
            out.append("Recurring profile needs startSchedule (the recurrence anchor)")
    if profile.valid_from and profile.valid_to and profile.valid_from >= profile.valid_to:
        out.append("validFrom must be before validTo")
    out.extend(_schedule_violations(schedule, state))
    kept = ChargingProfileStore(tuple(installed), rules)._without_replaced(connector_id, profile)
    if len(kept) + 1 > state.max_installed:
        out.append(f"MaxChargingProfilesInstalled={state.max_installed} would be exceeded")
    return out


def ignored_fields(profile: ChargingProfile) -> list[str]:
    """Fields of ``profile`` a conforming charge point installs it with but ignores (empty = none).

    Not violations: the profile is valid and :func:`validate_profile` accepts it. A Relative
    schedule starts with the transaction (spec 7.9, 7.13: startSchedule is the start of an
    Absolute or Recurring schedule), so a startSchedule there has no effect; OCTT's
    TC_057_CSMS reading (2025-06 draft) expects it omitted, which a harness reports as a warning.
    """
    out: list[str] = []
    if profile.charging_profile_kind is ChargingProfileKind.RELATIVE and profile.charging_schedule.start_schedule:
        out.append("a Relative profile carries chargingSchedule.startSchedule, which a charge point ignores "
                   "(a Relative schedule starts with the transaction)")
    return out


# --------------------------------------------------------------------------- store


@dataclass(frozen=True)
class InstalledProfile:
    """A profile together with the connectorId it was installed for."""

    connector_id: int
    profile: ChargingProfile


@dataclass(frozen=True)
class ChargingProfileStore:
    """The profiles installed in a charge point, as an immutable value (spec 3.13.2, 5.5, 5.16)."""

    entries: tuple[InstalledProfile, ...] = ()
    rules: ProfileRules = ProfileRules()

    def __len__(self) -> int:
        return len(self.entries)

    def _replaced(self, entry: InstalledProfile, connector_id: int, profile: ChargingProfile) -> bool:
        old = entry.profile
        if old.charging_profile_id == profile.charging_profile_id:
            return True
        same_slot = (
            old.stack_level == profile.stack_level
            and old.charging_profile_purpose is profile.charging_profile_purpose
        )
        if self.rules.replace_scope is ReplaceScope.PER_CONNECTOR:
            same_slot = same_slot and entry.connector_id == connector_id
        return same_slot

    def _without_replaced(self, connector_id: int, profile: ChargingProfile) -> tuple[InstalledProfile, ...]:
        return tuple(e for e in self.entries if not self._replaced(e, connector_id, profile))

    def install(self, connector_id: int, profile: ChargingProfile) -> ChargingProfileStore:
        """Add ``profile``, first removing the ones it replaces (same id; same stackLevel+purpose)."""
        kept = self._without_replaced(connector_id, profile)
        return replace(self, entries=kept + (InstalledProfile(connector_id, profile),))

    def set_charging_profile(
        self, connector_id: int, profile: ChargingProfile, state: ChargePointSmartChargingState
    ) -> tuple[ChargingProfileStore, ChargingProfileStatus, list[str]]:
        """Validate then install: what a conforming CP does with SetChargingProfile.req (spec 5.16)."""
        violations = validate_profile(profile, connector_id, state, installed=self.entries, rules=self.rules)
        if violations:
            return self, ChargingProfileStatus.REJECTED, violations
        return self.install(connector_id, profile), ChargingProfileStatus.ACCEPTED, []

    def _matches_clear(
        self, e: InstalledProfile, id: int | None, connector_id: int | None,
        purpose: ChargingProfilePurpose | None, stack_level: int | None,
    ) -> bool:
        p = e.profile
        if id is not None:
            if p.charging_profile_id != id:
                return False
            if self.rules.clear_id is ClearIdReading.ID_ONLY:
                return True
        return (
            (connector_id is None or e.connector_id == connector_id)
            and (purpose is None or p.charging_profile_purpose is purpose)
            and (stack_level is None or p.stack_level == stack_level)
        )

    def clear(
        self,
        *,
        id: int | None = None,
        connector_id: int | None = None,
        purpose: ChargingProfilePurpose | None = None,
        stack_level: int | None = None,
    ) -> tuple[ChargingProfileStore, ClearChargingProfileStatus]:
        """Apply ClearChargingProfile.req; Accepted iff at least one profile was removed (spec 5.5)."""
        kept = tuple(
            e for e in self.entries if not self._matches_clear(e, id, connector_id, purpose, stack_level)
        )
        status = ClearChargingProfileStatus.ACCEPTED if len(kept) < len(self.entries) else (
            ClearChargingProfileStatus.UNKNOWN
        )
        return replace(self, entries=kept), status

    def end_transaction(self, connector_id: int) -> ChargingProfileStore:
        """Drop the TxProfiles of ``connector_id``: they cease to be valid with the transaction (3.13.1)."""
        return replace(self, entries=tuple(
            e for e in self.entries
            if not (e.connector_id == connector_id
                    and e.profile.charging_profile_purpose is ChargingProfilePurpose.TX_PROFILE)
        ))

    def for_connector(self, connector_id: int) -> tuple[InstalledProfile, ...]:
        """Entries installed on ``connector_id`` or on 0 (the ones its composite may use)."""
        return tuple(e for e in self.entries if e.connector_id in (0, connector_id))
