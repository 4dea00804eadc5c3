"""Charging profiles as the reference charge point keeps them: decoding, install checks, the store.

Written from the spec (OCPP 1.6 sections 3.13, 5.5, 5.16, 7.8, 7.13, 7.14, 9.4; notes in
shared/smart_charging.md sections 2.1, 2.2, 2.9, 2.10), deliberately *not* from the
harness's models/charging_profile*.py: the harness judges the simulator with that model, so
the simulator must be a second, separately written opinion for the compliance suite to
cross-check the model. Times are whole UTC seconds (``int``), floored.

Rules (spec section, and the reading taken where smart_charging.md section 4 lists a
disagreement — the same one the harness takes by default):

- SetChargingProfile is Rejected when one of :data:`RULES` is broken (spec 3.13.1, 5.16, 7.8,
  7.13, 7.14, 9.4, smart_charging.md 2.2): ChargePointMaxProfile only on connector 0;
  TxProfile only on a connector with a running transaction (one the central system has
  numbered) and with that transactionId if one is given; stackLevel within
  0..ChargeProfileMaxStackLevel; at most ChargingScheduleMaxPeriods periods, starting at 0
  and increasing; unit listed in ChargingScheduleAllowedChargingRateUnit; Absolute and
  Recurring need startSchedule, Recurring a recurrencyKind, Relative has none;
  MaxChargingProfilesInstalled counted after the replacements the install makes.
- Installing replaces the profile with the same chargingProfileId and the one with the
  same stackLevel and purpose *on the same connector* (A11: per connector, as libocpp and
  MicroOcpp; spec 3.13.2 says "in a Charge Point").
- ClearChargingProfile: an ``id`` alone decides, the other fields are then ignored (A8,
  libocpp); without ``id`` connectorId / purpose / stackLevel are AND-ed, absent = any.
  Accepted iff something was removed, else Unknown (spec 5.5), also for a clear-all.
- A connector's TxProfiles go when its transaction ends (spec 3.13.1, A13).
"""

from __future__ import annotations

import calendar
import itertools
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "KINDS",
    "PURPOSES",
    "RULES",
    "Context",
    "Period",
    "Profile",
    "ProfileStore",
    "Stored",
    "allowed_units",
    "broken_rules",
    "decode_profile",
    "epoch",
    "stamp",
]

PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")  # spec 7.10
KINDS = ("Absolute", "Recurring", "Relative")  # spec 7.9
RECURRENCE = {"Daily": 86_400, "Weekly": 604_800}  # spec 7.41, UTC days (A12: no DST)
UNIT_OF_KEY_VALUE = {"current": "A", "power": "W"}  # spec 9.4.3 spells units Current / Power

_STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,]\d+)?(?:([Zz])|([+-])(\d\d):?(\d\d))?")


def epoch(text: str) -> int:
    """An OCPP dateTime as whole seconds since 1970 UTC, fraction dropped; no offset counts as UTC."""
    m = _STAMP.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"not an OCPP dateTime: {text!r}")
    seconds = calendar.timegm(tuple(int(g) for g in m.groups()[:6]) + (0, 0, 0))
    if m.group(8):
        shift = (int(m.group(9)) * 60 + int(m.group(10))) * 60
        seconds += -shift if m.group(8) == "+" else shift
    return seconds


def stamp(seconds: int) -> str:
    """Whole UTC seconds as an OCPP dateTime with a ``Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def allowed_units(csl: str) -> frozenset[str]:
    """ChargingScheduleAllowedChargingRateUnit ("Current,Power") as units "A" / "W"; unknown words ignored."""
    return frozenset(UNIT_OF_KEY_VALUE[w] for w in (s.strip().lower() for s in csl.split(",")) if w in UNIT_OF_KEY_VALUE)


class Period(NamedTuple):
    """ChargingSchedulePeriod (spec 7.14): offset, limit in the profile's unit, numberPhases as given."""

    start: int
    limit: float
    phases: int | None


@dataclass(frozen=True)
class Profile:
    """The fields of a ChargingProfile (spec 7.8, 7.13) the charge point acts on; times in epoch seconds."""

    id: int
    stack: int
    purpose: str
    kind: str
    unit: str
    periods: tuple[Period, ...]
    duration: int | None = None
    start: int | None = None  # startSchedule
    recurrency: str | None = None  # recurrencyKind as sent (Absolute ignores it, smart_charging.md 2.4)
    tx_id: int | None = None
    valid_from: int | None = None
    valid_to: int | None = None

    @property
    def cycle(self) -> int | None:
        """Seconds between occurrences of a Recurring profile (None for the others)."""
        return RECURRENCE.get(self.recurrency or "") if self.kind == "Recurring" else None


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {allowed}")
    return str(value)


def _opt(value: Any, convert: Callable[[Any], Any]) -> Any:
    return None if value is None else convert(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def decode_profile(p: Mapping[str, Any]) -> Profile:
    """csChargingProfiles / chargingProfile JSON to a :class:`Profile`; KeyError, ValueError or TypeError if malformed."""
    s = p["chargingSchedule"]
    periods = tuple(Period(_whole(q["startPeriod"]), float(q["limit"]), _opt(q.get("numberPhases"), _whole))
                    for q in s["chargingSchedulePeriod"])
    return Profile(
        id=_whole(p["chargingProfileId"]), stack=_whole(p["stackLevel"]),
        purpose=_one_of(p["chargingProfilePurpose"], PURPOSES), kind=_one_of(p["chargingProfileKind"], KINDS),
        unit=_one_of(s["chargingRateUnit"], ("A", "W")), periods=periods,
        duration=_opt(s.get("duration"), _whole), start=_opt(s.get("startSchedule"), epoch),
        recurrency=_opt(p.get("recurrencyKind"), lambda v: _one_of(v, tuple(RECURRENCE))),
        tx_id=_opt(p.get("transactionId"), _whole),
        valid_from=_opt(p.get("validFrom"), epoch), valid_to=_opt(p.get("validTo"), epoch))


# --------------------------------------------------------------------------- the install rules

@dataclass(frozen=True)
class Context:
    """What the install rules look at: the target connector, the charge point's keys (9.4), its transactions.

    ``running`` maps connectorId -> transactionId of the running transactions the central
    system has numbered; ``remote_start``: the profile came in RemoteStartTransaction.req (5.11).
    """

    connector: int
    connectors: int
    max_stack: int
    max_periods: int
    max_installed: int
    units: frozenset[str]
    running: Mapping[int, int]
    installed_after: int  # profiles left once the ones this install replaces are gone
    remote_start: bool = False


def _periods_broken(p: Profile, c: Context) -> bool:
    starts = [q.start for q in p.periods]
    return (not starts or starts[0] != 0 or any(b <= a for a, b in itertools.pairwise(starts))
            or any(q.limit < 0 or q.phases not in (None, 1, 2, 3) for q in p.periods))


def _tx_profile(p: Profile, c: Context) -> bool:
    return p.purpose == "TxProfile" and c.connector > 0 and not c.remote_start


#: (name, broken when, why) in the order they are checked; a name is what a fault switch may waive.
RULES: tuple[tuple[str, Callable[[Profile, Context], bool], str], ...] = (
    ("unknown_connector", lambda p, c: not 0 <= c.connector <= c.connectors, "no such connector (5.16)"),
    ("stack_level", lambda p, c: not 0 <= p.stack <= c.max_stack, "stackLevel outside 0..ChargeProfileMaxStackLevel (9.4)"),
    ("cp_max_connector", lambda p, c: p.purpose == "ChargePointMaxProfile" and c.connector != 0,
     "ChargePointMaxProfile only on connectorId 0 (3.13.1)"),
    ("not_tx_profile", lambda p, c: c.remote_start and p.purpose != "TxProfile",
     "RemoteStartTransaction carries a TxProfile only (5.11)"),
    ("remote_start_tx_id", lambda p, c: c.remote_start and p.tx_id is not None,
     "no transactionId is known at RemoteStartTransaction (5.11)"),
    ("tx_profile_connector_zero", lambda p, c: p.purpose == "TxProfile" and c.connector == 0,
     "TxProfile only on a connector > 0 (3.13.1)"),
    ("no_transaction", lambda p, c: _tx_profile(p, c) and c.connector not in c.running,
     "TxProfile only during a transaction (3.13.1)"),
    ("wrong_transaction", lambda p, c: _tx_profile(p, c) and c.connector in c.running and p.tx_id is not None
     and p.tx_id != c.running[c.connector], "transactionId is not the running transaction's (3.13.1)"),
    ("relative_start", lambda p, c: p.kind == "Relative" and p.start is not None, "Relative has no startSchedule (7.13)"),
    ("absolute_start", lambda p, c: p.kind == "Absolute" and p.start is None, "Absolute needs startSchedule (7.13)"),
    ("recurring_kind", lambda p, c: p.kind == "Recurring" and p.recurrency is None, "Recurring needs recurrencyKind (7.8)"),
    ("recurring_start", lambda p, c: p.kind == "Recurring" and p.start is None,
     "Recurring needs startSchedule, the recurrence anchor (smart_charging.md 2.2)"),
    ("validity", lambda p, c: p.valid_from is not None and p.valid_to is not None and p.valid_from >= p.valid_to,
     "validFrom must lie before validTo (7.8)"),
    ("periods", _periods_broken, "periods start at 0, increase, limits >= 0, numberPhases 1..3 (7.13, 7.14)"),
    ("max_periods", lambda p, c: len(p.periods) > c.max_periods, "more periods than ChargingScheduleMaxPeriods (9.4)"),
    ("duration", lambda p, c: p.duration is not None and p.duration < 0, "negative duration (7.13)"),
    ("unit", lambda p, c: p.unit not in c.units, "unit not in ChargingScheduleAllowedChargingRateUnit (9.4)"),
    ("capacity", lambda p, c: c.installed_after + 1 > c.max_installed, "MaxChargingProfilesInstalled reached (9.4)"),
)


def broken_rules(profile: Profile, context: Context) -> list[str]:
    """Names of the :data:`RULES` ``profile`` breaks (empty: it may be installed)."""
    return [name for name, broken, _ in RULES if broken(profile, context)]


# --------------------------------------------------------------------------- the store

@dataclass(frozen=True)
class Stored:
    """An installed profile, the connector it was set for and when (install order, for a fault)."""

    connector: int
    profile: Profile
    order: int


class ProfileStore:
    """The profiles installed in the charge point (mutable; spec 3.13.2, 5.5, 5.16)."""

    def __init__(self) -> None:
        self.items: list[Stored] = []
        self._counter = itertools.count()

    def __iter__(self) -> Iterator[Stored]:
        return iter(list(self.items))

    @staticmethod
    def _displaced(old: Stored, connector: int, new: Profile) -> bool:
        same_slot = (old.connector == connector and old.profile.stack == new.stack
                     and old.profile.purpose == new.purpose)
        return old.profile.id == new.id or same_slot

    def count_after_install(self, connector: int, profile: Profile) -> int:
        """How many profiles stay when ``profile`` is installed for ``connector`` (before adding it)."""
        return sum(1 for old in self.items if not self._displaced(old, connector, profile))

    def install(self, connector: int, profile: Profile) -> None:
        self.items = [old for old in self.items if not self._displaced(old, connector, profile)]
        self.items.append(Stored(connector, profile, next(self._counter)))

    def clear(self, *, id: int | None = None, connector: int | None = None, purpose: str | None = None,
              stack: int | None = None, remove: bool = True) -> bool:
        """ClearChargingProfile.req (spec 5.5): True if a profile matched (and, with ``remove``, was removed)."""
        def hit(s: Stored) -> bool:
            if id is not None:
                return s.profile.id == id
            return ((connector is None or s.connector == connector) and (purpose is None or s.profile.purpose == purpose)
                    and (stack is None or s.profile.stack == stack))
        kept = [s for s in self.items if not hit(s)]
        matched = len(kept) < len(self.items)
        if remove:
            self.items = kept
        return matched

    def end_transaction(self, connector: int) -> None:
        """The transaction on ``connector`` ended: its TxProfiles cease to be valid (spec 3.13.1)."""
        self.items = [s for s in self.items if not (s.connector == connector and s.profile.purpose == "TxProfile")]
