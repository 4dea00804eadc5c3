"""Smart Charging profile, central system under test (the harness is the charge point): TC_xxx_CSMS.

The harness charge point supports SmartCharging (``features``); it reports the 9.4 keys
(ChargeProfileMaxStackLevel 8, ChargingScheduleAllowedChargingRateUnit Current,
ChargingScheduleMaxPeriods 10, MaxChargingProfilesInstalled 10; ``extra`` overrides them),
keeps the profiles the central system installs during a case and answers from the pure
models (:mod:`harness.models.charging_profile`, :mod:`harness.models.composite_schedule`).

Every profile the central system sends is judged twice: against the step's own checks (the
catalog's "=>") and against the rules of the spec for this charge point (purpose vs
connectorId, transactionId of a TxProfile, startSchedule of an Absolute profile, unit
allowed, stackLevel and number of periods within the keys). A profile with problems is
answered Rejected, as a conforming charge point would, and fails the step with every
problem listed. What a charge point installs but ignores or never applies (a Relative
profile's startSchedule, a validity window over already) and OCTT's readings beyond the
catalog (TC_057_CSMS) are warnings: failures only with ``strict: true``.

The catalog's "configured" values come from the SUT config's ``extra``: ``connector_id``
(1), ``stack_level`` (0), ``charging_rate_unit`` (A), ``schedule_duration`` (300 s),
``start_period`` (0), ``number_phases`` (3); the operator is asked for exactly these. For a
central system that schedules in W, set ``charging_rate_unit: W`` and
``allowed_charging_rate_units: "Current,Power"`` (or ``Power``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import pytest

from harness.errors import PayloadMismatch, UnexpectedMessage
from harness.matching import ANY, Where, mismatches
from harness.models.charging_profile import ChargingProfile, ChargingProfileKind
from harness.models.charging_profile_rules import ignored_fields
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import (
    authorize, booted, charging, end_open_transactions, fail_on, operator_sends, start_transaction, status, warn_all,
)


@dataclass(frozen=True)
class Configured:
    """The catalog's <Configured ...> values for the smart-charging cases."""

    connector: int
    stack_level: int
    unit: str
    duration: int
    start_period: int
    number_phases: int

    @property
    def limit(self) -> float:
        """The catalog's "limit 6.0 or 6000.0": 6 A, or 6000 W."""
        return 6.0 if self.unit == "A" else 6000.0

    def profile_params(self, purpose: str, **more: Any) -> dict[str, Any]:
        return {"connector": self.connector, "purpose": purpose, "stack_level": self.stack_level, "unit": self.unit,
                "duration": self.duration, "start_period": self.start_period, "limit": self.limit,
                "number_phases": self.number_phases, **more}


def configured(sut: SutHandle) -> Configured:
    extra = sut.config.extra
    return Configured(int(extra.get("connector_id", 1)), int(extra.get("stack_level", 0)),
                      str(extra.get("charging_rate_unit", "A")), int(extra.get("schedule_duration", 300)),
                      int(extra.get("start_period", 0)), int(extra.get("number_phases", 3)))


def first_period(start_period: int, limit: float | None = None, phases: int | None = None) -> Where:
    """The first chargingSchedulePeriod: its startPeriod, limit, and numberPhases (3 may be omitted, spec 7.14)."""
    def ok(periods: list[dict[str, Any]]) -> bool:
        first = periods[0]
        return (first["startPeriod"] == start_period and (limit is None or first["limit"] == limit)
                and (phases is None or first.get("numberPhases", 3 if phases == 3 else None) == phases))
    words = [f"startPeriod {start_period}"] + ([f"limit {limit}"] if limit is not None else []) + (
        [f"numberPhases {phases}" + (" or omitted" if phases == 3 else "")] if phases is not None else [])
    return Where(ok, "a first chargingSchedulePeriod with " + ", ".join(words))


# -- shared steps: what the central system's operator makes it install or clear -----------------------------
def profile_problems(charge_point: ChargePoint, connector: int, profile: dict[str, Any], catalog: dict[str, Any], *,
                     where: str, remote_start: bool = False) -> list[str]:
    """Why a charging profile the central system sent is not what the step asks for or breaks the spec (failures).

    ``catalog`` is a pattern of the step's own checks ("=>" of the catalog); the rules of
    spec 3.13 / 5.16 / 7.8 / 9.4 come from :func:`harness.models.charging_profile_rules.validate_profile`
    against this charge point's keys and transactions (a conforming charge point would answer
    Rejected, and the steps require Accepted).
    """
    problems = [f"{m} (the step's check)" for m in mismatches(catalog, profile, where)]
    problems += [f"{where}: {v}" for v in charge_point.profile_violations(connector, profile, remote_start=remote_start)]
    return problems


def profile_warnings(profile: dict[str, Any], *, where: str) -> list[str]:
    """What a charge point installs but ignores or never applies in ``profile`` (warnings: the spec allows it).

    A Relative profile's startSchedule (:func:`harness.models.charging_profile_rules.ignored_fields`);
    an Absolute profile's validity window that is over already, or that its schedule
    (startSchedule + duration) does not overlap: the profile never applies.
    """
    try:
        parsed = ChargingProfile.from_payload(profile)
    except ValueError:
        return []  # a failure already (profile_problems)
    found = [f"{where}: {note}" for note in ignored_fields(parsed)]
    schedule = parsed.charging_schedule
    valid_from, valid_to, start = parsed.valid_from, parsed.valid_to, schedule.start_schedule
    if valid_to is not None and valid_to <= datetime.now(timezone.utc):
        found.append(f"{where}.validTo {profile['validTo']} lies in the past: the profile never applies")
    absolute = parsed.charging_profile_kind is ChargingProfileKind.ABSOLUTE
    if absolute and start is not None and schedule.duration is not None:
        end = start.timestamp() + schedule.duration
        if (valid_to is not None and start >= valid_to) or (valid_from is not None and end <= valid_from.timestamp()):
            found.append(f"{where}: the schedule [{profile['chargingSchedule']['startSchedule']}, +{schedule.duration}s) "
                         f"lies outside the profile's validity [{profile.get('validFrom')}, {profile.get('validTo')}): "
                         "it never applies")
    return found


PROFILE_READING = ("spec 3.13 / 7.8 / 7.13 allow it (a charge point installs the profile) and the catalog step does "
                   "not check it; OCTT's TC_057_CSMS reading (2025-06 draft) expects no startSchedule in a Relative profile")


async def operator_sets_profile(charge_point: ChargePoint, sut: SutHandle, *, step: str, connector: int,
                                catalog: dict[str, Any], params: dict[str, Any],
                                readings: Callable[[dict[str, Any]], list[str]] | None = None,
                                reading: str = "") -> dict[str, Any]:
    """The operator makes the central system send SetChargingProfile for ``connector`` (spec 5.16); returns the profile.

    The profile must match ``catalog`` (the step's checks) and pass the model's rules for
    this charge point; the charge point then installs it and answers Accepted. A profile
    with problems is answered Rejected (what a conforming charge point does) and fails the
    step. :func:`profile_warnings` and ``readings(profile) -> list[str]`` (checks beyond the
    catalog and the spec, explained by ``reading``) are warnings.
    """
    problems: list[str] = []
    found: list[str] = []
    read: list[str] = []

    def reply(payload: dict[str, Any]) -> dict[str, str]:
        profile = payload["csChargingProfiles"]
        problems.extend(profile_problems(charge_point, connector, profile, catalog, where="$.csChargingProfiles"))
        found.extend(profile_warnings(profile, where="$.csChargingProfiles"))
        read.extend(readings(profile) if readings else [])
        return {"status": "Rejected" if problems else charge_point.install_profile(connector, profile)}

    got = await operator_sends(charge_point, sut, "cs_set_charging_profile", "SetChargingProfile", step=step,
                               reply=reply, params=params, connectorId=connector)
    fail_on(problems, step, "SetChargingProfile.req", "spec 3.13, 5.16, 7.8, 9.4 (the charge point answered Rejected)")
    if got.replied != {"status": "Accepted"}:
        raise PayloadMismatch(step, f"the harness charge point could not install the profile: {got.replied}")
    warn_all(charge_point, step, found, PROFILE_READING)
    warn_all(charge_point, step, read, reading)
    return dict(got.payload["csChargingProfiles"])


async def operator_clears_profiles(charge_point: ChargePoint, sut: SutHandle, *, step: str, params: dict[str, Any],
                                   omitted: tuple[str, ...], **pattern: Any) -> None:
    """The operator makes the central system send ClearChargingProfile (spec 5.5) matching ``pattern``.

    The fields in ``omitted`` must be absent. The charge point answers from its store:
    Accepted when the request removed a profile; the step requires Accepted, so a
    request that matches no installed profile (Unknown) fails it.
    """
    status: list[str] = []

    def reply(payload: dict[str, Any]) -> dict[str, str]:
        status.append(charge_point.clear_profiles(payload))
        return {"status": status[-1]}

    got = await operator_sends(charge_point, sut, "cs_clear_charging_profile", "ClearChargingProfile", step=step,
                               reply=reply, params=params, **pattern)
    present = [name for name in omitted if name in got.payload]
    if present:
        raise UnexpectedMessage(step, f"ClearChargingProfile.req carries {', '.join(present)}; the step requires "
                                      f"{', '.join(omitted)} to be omitted", f"payload: {got.payload}")
    if status and status[0] != "Accepted":
        raise PayloadMismatch(step, f"ClearChargingProfile.req {got.payload} matches none of the profiles the central "
                                    f"system installed (the charge point answered {status[0]})",
                              f"installed: {[e.profile.charging_profile_id for e in charge_point.charging_profiles.entries]}")



@pytest.mark.smart_charging
@pytest.mark.tc("TC_056_CSMS", "Central Smart Charging - TxDefaultProfile")
async def test_tc_056_csms_central_smart_charging_tx_default_profile(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_056_CSMS, OCPP 1.6 sections 3.13.1, 5.16 (SetChargingProfile), 7.8, 7.13, 7.14, 9.4.

    The operator installs a default profile for new transactions on the configured
    connector: the central system sends a TxDefaultProfile of kind Absolute with
    validFrom, validTo and startSchedule, the configured stackLevel, unit and duration,
    and a first period at the configured startPeriod with limit 6 A (6000 W); numberPhases
    as configured (3 may be omitted). The profile must also be one this charge point can
    install (unit allowed, stackLevel and periods within its keys); a schedule outside its
    validity, or a validity over already, is a warning (the profile never applies, but the
    spec allows it). The charge point accepts it.
    """
    cfg = configured(sut)
    await booted(charge_point, sut)
    catalog = {
        "stackLevel": cfg.stack_level, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
        "validFrom": ANY, "validTo": ANY,
        "chargingSchedule": {"startSchedule": ANY, "chargingRateUnit": cfg.unit, "duration": cfg.duration,
                             "chargingSchedulePeriod": first_period(cfg.start_period, cfg.limit, cfg.number_phases)},
    }
    await operator_sets_profile(charge_point, sut, step="1-2", connector=cfg.connector, catalog=catalog,
                                params=cfg.profile_params("TxDefaultProfile", kind="Absolute"))


TX_PROFILE_READING = ("OCTT's TC_057_CSMS reading (test case document 2025-06 draft, smart_charging.md section 5); "
                      "the catalog step (FINAL 2024-04) checks only purpose and transactionId, and the spec allows it")


def tx_profile_reading(profile: dict[str, Any]) -> list[str]:
    """What OCTT checks of a TxProfile beyond the catalog line (smart_charging.md section 5, TC_057_CSMS): warnings."""
    problems = []
    where = "$.csChargingProfiles"
    if "recurrencyKind" in profile:
        problems.append(f"{where}.recurrencyKind is present; a TxProfile for a running transaction is not Recurring")
    kind = profile.get("chargingProfileKind")
    if kind not in ("Absolute", "Relative"):
        problems.append(f"{where}.chargingProfileKind is {kind}; a TxProfile must be Absolute or Relative")
    if kind == "Absolute":
        schedule = profile.get("chargingSchedule", {})
        missing = [name for name, there in (("validFrom", "validFrom" in profile), ("validTo", "validTo" in profile),
                                            ("chargingSchedule.startSchedule", "startSchedule" in schedule),
                                            ("chargingSchedule.duration", "duration" in schedule)) if not there]
        if missing:
            problems.append(f"{where}: an Absolute TxProfile needs {', '.join(missing)}")
    return problems


@pytest.mark.smart_charging
@pytest.mark.tc("TC_057_CSMS", "Central Smart Charging - TxProfile")
async def test_tc_057_csms_central_smart_charging_tx_profile(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_057_CSMS, sections 3.13.1, 5.16, 7.8.

    During a transaction the operator limits it: the central system sends a TxProfile for
    the configured connector carrying the transactionId it gave that transaction (the
    catalog's check). OCTT's later reading (no recurrencyKind; kind Absolute with validFrom,
    validTo, startSchedule and duration, or Relative without startSchedule) is a warning:
    neither the catalog step nor the spec requires it. The spec rules apply as in
    TC_056_CSMS. The charge point accepts it.
    """
    cfg = configured(sut)
    await booted(charge_point, sut)
    tx = await charging(charge_point, sut, connector=cfg.connector)
    await operator_sets_profile(charge_point, sut, step="1-2", connector=cfg.connector,
                                catalog={"chargingProfilePurpose": "TxProfile", "transactionId": tx},
                                params=cfg.profile_params("TxProfile", transaction_id=tx), readings=tx_profile_reading,
                                reading=TX_PROFILE_READING)
    await end_open_transactions(charge_point)


@pytest.mark.smart_charging
@pytest.mark.tc("TC_066_CSMS", "Get Composite Schedule")
async def test_tc_066_csms_get_composite_schedule(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_066_CSMS, sections 5.7 (GetCompositeSchedule), 6.23.

    The operator asks for the composite schedule of the configured connector: the central
    system sends GetCompositeSchedule with that connectorId, the configured duration and
    the configured chargingRateUnit (present: the catalog requires it). The charge point
    answers Accepted with the composite of its installed profiles (none here: one period
    at its hardware maximum, ``extra.max_current`` A, 32 by default).
    """
    cfg = configured(sut)
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_get_composite_schedule", "GetCompositeSchedule", step="1-2",
                         reply=charge_point.composite_reply,
                         params={"connector": cfg.connector, "duration": cfg.duration, "unit": cfg.unit},
                         connectorId=cfg.connector, duration=cfg.duration, chargingRateUnit=cfg.unit)


@pytest.mark.smart_charging
@pytest.mark.tc("TC_067_CSMS", "Clear Charging Profile")
async def test_tc_067_csms_clear_charging_profile(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_067_CSMS, sections 5.5 (ClearChargingProfile), 5.16, 3.13.2.

    The operator installs three TxDefaultProfiles on the configured connector at stack
    levels L, L+1, L+2 (steps 1-2, three times), then clears: profile 1 by its id alone
    (connectorId, purpose and stackLevel omitted), the profile at L+1 by criteria (id
    omitted; connectorId, TxDefaultProfile, L+1), and the rest with no fields at all. The
    charge point answers each clear from its store; the step requires Accepted, so a clear
    that matches no installed profile (Unknown) fails. The profiles are judged as in TC_056_CSMS.
    """
    cfg = configured(sut)
    await booted(charge_point, sut)
    ids = []
    for n in range(3):
        level = cfg.stack_level + n
        profile = await operator_sets_profile(
            charge_point, sut, step=f"1-2 (profile {n + 1})", connector=cfg.connector,
            catalog={"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": level},
            params=cfg.profile_params("TxDefaultProfile", stack_level=level))
        ids.append(profile["chargingProfileId"])
    await operator_clears_profiles(charge_point, sut, step="3-4", params={"id": ids[0]}, id=ids[0],
                                   omitted=("connectorId", "chargingProfilePurpose", "stackLevel"))
    level = cfg.stack_level + 1
    await operator_clears_profiles(
        charge_point, sut, step="5-6", params={"connector": cfg.connector, "purpose": "TxDefaultProfile", "stack_level": level},
        omitted=("id",), connectorId=cfg.connector, chargingProfilePurpose="TxDefaultProfile", stackLevel=level)
    await operator_clears_profiles(charge_point, sut, step="7-8", params={},
                                   omitted=("id", "connectorId", "chargingProfilePurpose", "stackLevel"))


@pytest.mark.smart_charging
@pytest.mark.tc("TC_059_CSMS", "Remote Start Transaction with Charging Profile")
async def test_tc_059_csms_remote_start_transaction_with_charging_profile(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_059_CSMS, sections 5.11 (RemoteStartTransaction), 3.13.1, 7.8, then 4.1, 4.8, 4.9.

    The operator starts a session remotely with a charging profile: RemoteStartTransaction
    for the valid id tag and the configured connector with a TxProfile of kind Relative,
    without transactionId (there is none yet: errata 3.41) and first startPeriod 0 (the
    catalog's checks); the other rules as in TC_056_CSMS. A startSchedule, which a Relative
    profile ignores, is a warning. The charge point accepts and installs it, then the
    central system authorizes the tag, acknowledges Preparing, accepts the transaction and
    acknowledges Charging (AuthorizeRemoteTxRequests=true, hence Authorize).
    """
    cfg = configured(sut)
    tag = sut.id_tags.valid
    await booted(charge_point, sut)
    problems: list[str] = []
    found: list[str] = []

    def reply(payload: dict[str, Any]) -> dict[str, str]:
        profile = payload["chargingProfile"]
        problems.extend(profile_problems(charge_point, cfg.connector, profile,
                                         {"chargingSchedule": {"chargingSchedulePeriod": first_period(0)}},
                                         where="$.chargingProfile", remote_start=True))
        found.extend(profile_warnings(profile, where="$.chargingProfile"))
        if problems:
            return {"status": "Rejected"}
        return {"status": charge_point.install_profile(cfg.connector, profile, remote_start=True)}

    await operator_sends(charge_point, sut, "cs_remote_start_with_profile", "RemoteStartTransaction", step="1-2",
                         reply=reply, params={"connector": cfg.connector, "id_tag": tag, "unit": cfg.unit,
                                              "limit": cfg.limit, "stack_level": cfg.stack_level},
                         idTag=tag, connectorId=cfg.connector,
                         chargingProfile={"chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative"})
    fail_on(problems, "1-2", "RemoteStartTransaction.req", "spec 5.11, 3.13, 7.8 (the charge point answered Rejected)")
    warn_all(charge_point, "1-2", found, PROFILE_READING)
    await authorize(charge_point, tag, step="3-4")
    await status(charge_point, cfg.connector, "Preparing", step="5-6")
    await start_transaction(charge_point, step="7-8", connector=cfg.connector, id_tag=tag)
    await status(charge_point, cfg.connector, "Charging", step="9-10")
    await end_open_transactions(charge_point)
