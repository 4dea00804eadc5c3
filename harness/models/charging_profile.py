"""OCPP 1.6 charging profiles: the types (enums, dateTime codec, profile dataclasses).

Pure logic (no I/O, no clock): callers pass every time and every piece of charge point
state, so both harness roles judge SetChargingProfile / ClearChargingProfile with the
same rules.

Rules for what lives here:

1. The wire types (spec 7.8 ChargingProfile, 7.13 ChargingSchedule, 7.14 ChargingSchedulePeriod)
   as frozen dataclasses with ``from_payload`` / ``to_payload`` in OCPP JSON camelCase.
2. Nothing about whether a profile may be installed or what installing / clearing does:
   that is ``charging_profile_rules`` (``validate_profile``, ``ChargingProfileStore``).
3. Nothing about what limit applies when: that is ``composite_schedule``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Mapping, Sequence

__all__ = [
    "ChargingProfile", "ChargingProfileKind", "ChargingProfilePurpose", "ChargingProfileStatus",
    "ChargingRateUnit", "ChargingSchedule", "ChargingSchedulePeriod", "ClearChargingProfileStatus",
    "RecurrencyKind", "format_datetime", "parse_datetime",
]


class ChargingProfilePurpose(str, Enum):
    """ChargingProfilePurposeType (spec 7.10)."""

    CHARGE_POINT_MAX_PROFILE = "ChargePointMaxProfile"
    TX_DEFAULT_PROFILE = "TxDefaultProfile"
    TX_PROFILE = "TxProfile"


class ChargingProfileKind(str, Enum):
    """ChargingProfileKindType (spec 7.9)."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(str, Enum):
    """RecurrencyKindType (spec 7.41); ``seconds`` is the recurrence period (UTC, no DST)."""

    DAILY = "Daily"
    WEEKLY = "Weekly"

    @property
    def seconds(self) -> int:
        return 86400 if self is RecurrencyKind.DAILY else 604800


class ChargingRateUnit(str, Enum):
    """ChargingRateUnitType (spec 7.12): A = amperes per phase, W = total watts."""

    A = "A"
    W = "W"


class ChargingProfileStatus(str, Enum):
    """SetChargingProfile.conf status (spec 7.11)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_SUPPORTED = "NotSupported"


class ClearChargingProfileStatus(str, Enum):
    """ClearChargingProfile.conf status (spec 7.17)."""

    ACCEPTED = "Accepted"
    UNKNOWN = "Unknown"


_FRACTION = re.compile(r"\.(\d+)")


def parse_datetime(text: str) -> datetime:
    """Parse an OCPP dateTime; a value without offset is taken as UTC (libocpp fixtures do that)."""
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "00000")[:6], text.strip(), count=1)
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def format_datetime(value: datetime) -> str:
    """Format an aware datetime as OCPP dateTime in UTC with a ``Z`` suffix."""
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"


# Wire codec, table-driven: (attribute, JSON key, required, decode, encode or None), in JSON order.
_Field = tuple[str, str, bool, Any, Any]


def _enum_value(value: Enum) -> Any:
    return value.value


def _decode(cls: Any, payload: Mapping[str, Any], table: Sequence[_Field]) -> Any:
    kwargs = {}
    for attr, key, required, decode, _ in table:
        value = payload.get(key)
        if value is None and required:
            raise ValueError(f"{cls.__name__}: missing required field {key!r}")
        kwargs[attr] = None if value is None else decode(value)
    return cls(**kwargs)


def _encode(obj: Any, table: Sequence[_Field]) -> dict[str, Any]:
    out = {}
    for attr, key, _, _, encode in table:
        value = getattr(obj, attr)
        if value is not None:
            out[key] = value if encode is None else encode(value)
    return out


def _check_aware(obj: Any, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{type(obj).__name__}.{name} must be timezone-aware")


@dataclass(frozen=True)
class ChargingSchedulePeriod:
    """One period of a schedule (spec 7.14); numberPhases absent means 3 where it matters."""

    start_period: int
    limit: float
    number_phases: int | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ChargingSchedulePeriod:
        return _decode(cls, payload, _PERIOD_FIELDS)  # type: ignore[no-any-return]

    def to_payload(self) -> dict[str, Any]:
        return _encode(self, _PERIOD_FIELDS)


@dataclass(frozen=True)
class ChargingSchedule:
    """A charging schedule (spec 7.13); ``duration`` None = the last period never ends."""

    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: tuple[ChargingSchedulePeriod, ...]
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "charging_schedule_period", tuple(self.charging_schedule_period))
        _check_aware(self, "start_schedule")

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ChargingSchedule:
        return _decode(cls, payload, _SCHEDULE_FIELDS)  # type: ignore[no-any-return]

    def to_payload(self) -> dict[str, Any]:
        return _encode(self, _SCHEDULE_FIELDS)


@dataclass(frozen=True)
class ChargingProfile:
    """A charging profile as in SetChargingProfile.req ``csChargingProfiles`` (spec 7.8)."""

    charging_profile_id: int
    stack_level: int
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: ChargingProfileKind
    charging_schedule: ChargingSchedule
    transaction_id: int | None = None
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        _check_aware(self, "valid_from", "valid_to")

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ChargingProfile:
        """Build from camelCase JSON; raises ValueError on missing fields or bad enum values."""
        return _decode(cls, payload, _PROFILE_FIELDS)  # type: ignore[no-any-return]

    def to_payload(self) -> dict[str, Any]:
        return _encode(self, _PROFILE_FIELDS)


_PERIOD_FIELDS: tuple[_Field, ...] = (
    ("start_period", "startPeriod", True, int, None),
    ("limit", "limit", True, float, None),
    ("number_phases", "numberPhases", False, int, None),
)
_SCHEDULE_FIELDS: tuple[_Field, ...] = (
    ("duration", "duration", False, int, None),
    ("start_schedule", "startSchedule", False, parse_datetime, format_datetime),
    ("charging_rate_unit", "chargingRateUnit", True, ChargingRateUnit, _enum_value),
    ("charging_schedule_period", "chargingSchedulePeriod", True,
     lambda items: tuple(ChargingSchedulePeriod.from_payload(i) for i in items),
     lambda periods: [p.to_payload() for p in periods]),
    ("min_charging_rate", "minChargingRate", False, float, None),
)
_PROFILE_FIELDS: tuple[_Field, ...] = (
    ("charging_profile_id", "chargingProfileId", True, int, None),
    ("transaction_id", "transactionId", False, int, None),
    ("stack_level", "stackLevel", True, int, None),
    ("charging_profile_purpose", "chargingProfilePurpose", True, ChargingProfilePurpose, _enum_value),
    ("charging_profile_kind", "chargingProfileKind", True, ChargingProfileKind, _enum_value),
    ("recurrency_kind", "recurrencyKind", False, RecurrencyKind, _enum_value),
    ("valid_from", "validFrom", False, parse_datetime, format_datetime),
    ("valid_to", "validTo", False, parse_datetime, format_datetime),
    ("charging_schedule", "chargingSchedule", True, ChargingSchedule.from_payload, ChargingSchedule.to_payload),
)
