"""Smart Charging profile, central system under test (the harness is the charge point): TC_xxx_CSMS.

The harness charge point supports SmartCharging (``features``); it reports the 9.4 keys
(ChargeProfileMaxStackLevel 8, ChargingScheduleAllowedChargingRateUnit Current,
ChargingScheduleMaxPeriods 10, MaxChargingProfilesInstalled 10; ``extra`` overrides them),
keeps the profiles the central system installs during a case and answers from the pure
models (:mod:`harness.models.charging_profile`, :mod:`harness.models.composite_schedule`).

Every profile the central system sends is judged twice: against the step's own checks (the
catalog's "=>") and against the rules of the spec for this charge point (purpose vs
connectorId, transactionId of a TxProfile, startSchedule of Relative and Absolute profiles,
validity window, unit allowed, stackLevel and number of periods within the keys). A
profile with problems is answered Rejected, as a conforming charge point would, and fails
the step with every problem listed.

The catalog's "configured" values come from the SUT config's ``extra``: ``connector_id``
(1), ``stack_level`` (0), ``charging_rate_unit`` (A), ``schedule_duration`` (300 s),
``start_period`` (0), ``number_phases`` (3); the operator is asked for exactly these. For a
central system that schedules in W, set ``charging_rate_unit: W`` and
``allowed_charging_rate_units: "Current,Power"`` (or ``Power``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from harness.errors import PayloadMismatch
from harness.matching import ANY, Where
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import (
    authorize, booted, charging, end_open_transactions, operator_clears_profiles, operator_sends, operator_sets_profile,
    profile_problems, start_transaction, status,
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


@pytest.mark.smart_charging
@pytest.mark.tc("TC_056_CSMS", "Central Smart Charging - TxDefaultProfile")
async def test_tc_056_csms_central_smart_charging_tx_default_profile(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_056_CSMS, OCPP 1.6 sections 3.13.1, 5.16 (SetChargingProfile), 7.8, 7.13, 7.14, 9.4.

    The operator installs a default profile for new transactions on the configured
    connector: the central system sends a TxDefaultProfile of kind Absolute with
    validFrom, validTo and startSchedule, the configured stackLevel, unit and duration,
    and a first period at the configured startPeriod with limit 6 A (6000 W); numberPhases
    as configured (3 may be omitted). The profile must also be one this charge point can
    install (unit allowed, stackLevel and periods within its keys) and its schedule must
    fall inside its validity. The charge point accepts it.
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


def tx_profile_reading(profile: dict[str, Any]) -> list[str]:
    """What OCTT checks of a TxProfile beyond the catalog line (smart_charging.md section 5, TC_057_CSMS)."""
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
    the configured connector carrying the transactionId it gave that transaction. Reading
    taken from OCTT (the catalog line is short): no recurrencyKind; kind Absolute (then
    validFrom, validTo, startSchedule and duration present) or Relative (then no
    startSchedule). The spec rules apply as in TC_056_CSMS. The charge point accepts it.
    """
    cfg = configured(sut)
    await booted(charge_point, sut)
    tx = await charging(charge_point, sut, connector=cfg.connector)
    await operator_sets_profile(charge_point, sut, step="1-2", connector=cfg.connector,
                                catalog={"chargingProfilePurpose": "TxProfile", "transactionId": tx},
                                params=cfg.profile_params("TxProfile", transaction_id=tx), extra_checks=tx_profile_reading)
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
    without transactionId (there is none yet), first startPeriod 0 and, being Relative, no
    startSchedule; the other rules as in TC_056_CSMS. The charge point accepts and installs
    it, then the central system authorizes the tag, acknowledges Preparing, accepts the
    transaction and acknowledges Charging (AuthorizeRemoteTxRequests=true, hence Authorize).
    """
    cfg = configured(sut)
    tag = sut.id_tags.valid
    await booted(charge_point, sut)
    problems: list[str] = []

    def reply(payload: dict[str, Any]) -> dict[str, str]:
        profile = payload["chargingProfile"]
        found = profile_problems(charge_point, cfg.connector, profile,
                                 {"chargingSchedule": {"chargingSchedulePeriod": first_period(0)}},
                                 where="$.chargingProfile", remote_start=True)
        problems.extend(found)
        return {"status": "Rejected" if found else charge_point.install_profile(cfg.connector, profile, remote_start=True)}

    await operator_sends(charge_point, sut, "cs_remote_start_with_profile", "RemoteStartTransaction", step="1-2",
                         reply=reply, params={"connector": cfg.connector, "id_tag": tag, "unit": cfg.unit,
                                              "limit": cfg.limit, "stack_level": cfg.stack_level},
                         idTag=tag, connectorId=cfg.connector,
                         chargingProfile={"chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative"})
    if problems:
        raise PayloadMismatch("1-2", f"RemoteStartTransaction.req: {problems[0]}", "\n".join(f"  - {p}" for p in problems)
                              + "\nspec 5.11, 3.13, 7.8 (the charge point answered Rejected)")
    await authorize(charge_point, tag, step="3-4")
    await status(charge_point, cfg.connector, "Preparing", step="5-6")
    await start_transaction(charge_point, step="7-8", connector=cfg.connector, id_tag=tag)
    await status(charge_point, cfg.connector, "Charging", step="9-10")
    await end_open_transactions(charge_point)
