"""Smart Charging profile, charge point under test (spec 3.13, 5.5, 5.7, 5.11, 5.16, 7.8-7.15, 9.4).

The harness sends charging profiles and judges GetCompositeSchedule.conf against the
pure model (harness.models.composite_schedule) fed with the profiles the charge point
accepted, the transaction it runs and the scheduleStart it reported; the comparison
(harness.models.composite_compare) allows the configured clock deviation on period
boundaries, rounding on limits, and any limit at or above the charge point's own maximum
where no profile applies. Readings of the spec's open points are the model's defaults
(shared/smart_charging.md section 4), overridable per SUT with ``extra.composite_readings``.

<Configured ...> values, from ``extra:`` (defaults in brackets): charging_rate_unit [A],
number_phases [3], stack_level [0], composite_duration [300] (<Configured duration>),
composite_time_tolerance [3] (<Configured max time deviation>, s), charge_point_max_limit
[none: any limit] (<The local limit of the Charging Station>, A per phase).

OCTT's common state (no charging profiles, no transaction) is established before every
case and restored after it by the plugin's fixtures (harness.common_state).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from harness.errors import ConfigurationError, PayloadMismatch
from harness.inbox import Expectation, Received
from harness.models.charging_profile import ChargingProfile, ChargingRateUnit, parse_datetime
from harness.models.charging_profile_rules import ChargingProfileStore, parse_allowed_units
from harness.models.composite_compare import Tolerance, compare_composite
from harness.models.composite_schedule import Readings, Transaction, composite_schedule, convert_limit
from harness.ocppj import CallError
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import (
    Tx, accepted, charging, connector_under_test, get_configuration,
    set_charging_profile, setting,
)

_IDS = itertools.count(int(datetime.now(timezone.utc).timestamp()) % 100000 * 10)


# -- <Configured ...> values and the profiles of the catalog ----------------------------------------------------
def _unit(sut: SutHandle) -> str:
    return str(sut.config.extra.get("charging_rate_unit", "A"))


def _tolerance(sut: SutHandle) -> float:
    return float(sut.config.extra.get("composite_time_tolerance", 3))


def _duration(sut: SutHandle) -> int:
    return int(sut.config.extra.get("composite_duration", 300))


def _readings(sut: SutHandle) -> Readings:
    """The model's readings, with ``extra.composite_readings`` ({field: enum member name}) applied."""
    base = Readings()
    chosen: dict[str, Any] = {}
    for name, member in dict(sut.config.extra.get("composite_readings") or {}).items():
        current = getattr(base, name)
        chosen[name] = member if isinstance(current, bool) else type(current)[str(member)]
    return Readings(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **chosen})


def _profile(sut: SutHandle, purpose: str, stack_level: int, periods: list[tuple[int, float]], *, kind: str = "Absolute",
             duration: int | None = None, start: datetime | None = None, valid_for: int | None = None,
             transaction_id: int | None = None) -> dict[str, Any]:
    """A csChargingProfiles payload; limits are in A and multiplied by 1000 for a W unit (catalog note)."""
    unit = _unit(sut)
    phases = int(sut.config.extra.get("number_phases", 3))
    schedule: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": s, "limit": limit * (1000 if unit == "W" else 1), "numberPhases": phases} for s, limit in periods]}
    if duration is not None:
        schedule["duration"] = duration
    if kind == "Absolute":
        schedule["startSchedule"] = _iso(start or _profile_start(sut))
    profile: dict[str, Any] = {"chargingProfileId": next(_IDS), "stackLevel": stack_level,
                               "chargingProfilePurpose": purpose, "chargingProfileKind": kind, "chargingSchedule": schedule}
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    if valid_for is not None:
        begin = start or _profile_start(sut)
        profile["validFrom"], profile["validTo"] = _iso(begin), _iso(begin + timedelta(seconds=valid_for))
    return profile


def _profile_start(sut: SutHandle) -> datetime:
    """<current dateTime - <Configured max time deviation> seconds>."""
    return datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=int(_tolerance(sut)))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Installed:
    """The profiles the charge point accepted, as the model's store (what its composite must follow)."""

    def __init__(self) -> None:
        self.store = ChargingProfileStore()

    async def set(self, cs: CentralSystem, step: str, connector: int, profile: dict[str, Any]) -> dict[str, Any]:
        await set_charging_profile(cs, step, connector, profile)
        self.store = self.store.install(connector, ChargingProfile.from_payload(profile))
        return profile

    async def clear(self, cs: CentralSystem, step: str, criteria: dict[str, Any]) -> None:
        from harness.models.charging_profile import ChargingProfilePurpose
        purpose = criteria.get("chargingProfilePurpose")
        store, status = self.store.clear(id=criteria.get("id"), connector_id=criteria.get("connectorId"),
                                         purpose=ChargingProfilePurpose(purpose) if purpose else None,
                                         stack_level=criteria.get("stackLevel"))
        await cs.call("ClearChargingProfile", criteria, step=step, expect={"status": status.value})
        self.store = store


async def check_composite(cs: CentralSystem, sut: SutHandle, step: str, installed: Installed, *, duration: int,
                          tx: Tx | None = None, tx_start: datetime | None = None) -> dict[str, Any]:
    """GetCompositeSchedule.req/.conf: the fields of the catalog, then the periods against the model."""
    cid, unit, tol = connector_under_test(sut), _unit(sut), _tolerance(sut)
    sent = datetime.now(timezone.utc)
    reply = await cs.call("GetCompositeSchedule", {"connectorId": cid, "duration": duration, "chargingRateUnit": unit},
                          step=step, expect={"status": "Accepted", "connectorId": cid})
    assert not isinstance(reply, CallError)
    schedule = reply.get("chargingSchedule")
    if not schedule:
        raise PayloadMismatch(step, "GetCompositeSchedule.conf (Accepted) carries no chargingSchedule", f"payload: {reply}")
    if schedule.get("duration") != duration or schedule.get("chargingRateUnit") != unit:
        raise PayloadMismatch(step, f"chargingSchedule has duration {schedule.get('duration')!r} and chargingRateUnit "
                                    f"{schedule.get('chargingRateUnit')!r}; the request asked for {duration} and {unit!r}")
    text = schedule.get("startSchedule") or reply.get("scheduleStart")
    if not text:
        raise PayloadMismatch(step, "GetCompositeSchedule.conf gives neither scheduleStart nor chargingSchedule.startSchedule")
    start = parse_datetime(text)
    off = (start - sent).total_seconds()
    if abs(off) > tol + 1:  # +1: the charge point floors to the second
        raise PayloadMismatch(step, f"the composite schedule starts {off:+.1f}s from the time of the request; at most "
                                    f"{tol:g}s (<Configured max time deviation>) is allowed", f"startSchedule: {text}")
    running = None if tx is None else Transaction(tx_start or sent, tx.transaction_id)
    expected = composite_schedule(installed.store, cid, start, duration, unit=ChargingRateUnit(unit),
                                  transaction=running, readings=_readings(sut))
    floor = sut.config.extra.get("charge_point_max_limit")
    floor_in_unit = None if floor is None else convert_limit(float(floor), ChargingRateUnit.A, ChargingRateUnit(unit), 3, 230.0)
    result = compare_composite(expected, schedule, tolerance=Tolerance(seconds=tol), no_limit_floor=floor_in_unit)
    if not result.ok:
        raise PayloadMismatch(step, "the composite schedule is not what the installed charging profiles give "
                                    "(spec 3.13, 5.7)", result.message())
    # A passing verdict says which readings it rests on, too (the report keeps the trace).
    cs.trace.event(f"step {step}: composite schedule matches the model; readings: "
                   + ", ".join(f"{k}={v}" for k, v in expected.readings.describe().items()))
    return reply  # type: ignore[return-value]


def _tx_start(start: Received) -> datetime:
    return parse_datetime(start.payload["timestamp"])


@pytest.fixture(autouse=True)
def _configured_unit_is_allowed(central_system: CentralSystem, sut: SutHandle) -> None:
    """The configured chargingRateUnit must be one the charge point allows (spec 9.4.3), or no case here can run.

    Issue "Verdicts a vendor can trust", class 6: a charge point that allows only Power would
    answer every profile in A Rejected mid-case; this names the mismatch as a setup error
    before the first step instead. No check when the charge point does not report the key.
    """
    allowed = (central_system.baseline_configuration or {}).get("ChargingScheduleAllowedChargingRateUnit")
    if allowed is None:
        return
    try:
        units = parse_allowed_units(allowed)
    except ValueError as exc:
        raise ConfigurationError(f"the charge point reports {exc}") from None
    if ChargingRateUnit(_unit(sut)) not in units:
        raise ConfigurationError(
            f"extra.charging_rate_unit is {_unit(sut)!r}, but the charge point's ChargingScheduleAllowedChargingRateUnit "
            f"is {allowed!r}: it would reject every schedule of these cases; set extra.charging_rate_unit to "
            f"{' or '.join(sorted(u.value for u in units)) or 'a unit it allows'}")


async def _charging(cs: CentralSystem, sut: SutHandle, step: str) -> tuple[Tx, datetime]:
    """Reusable state Charging; the transaction and its start (the anchor of Relative profiles)."""
    tx = await charging(cs, sut, step=step)
    start = cs.inbox.find(lambda r: r.action == "StartTransaction" and r.replied
                          and r.replied.get("transactionId") == tx.transaction_id)
    return tx, _tx_start(start[-1]) if start else datetime.now(timezone.utc)


# -- Central Smart Charging ------------------------------------------------------------------------------------
@pytest.mark.smart_charging
@pytest.mark.tc("TC_056_CS", "Central Smart Charging - TxDefaultProfile")
async def test_tc_056_cs_central_smart_charging_txdefaultprofile(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_056_CS, OCPP 1.6 sections 3.13.1, 5.7, 5.16.

    A TxDefaultProfile installed while no transaction runs is accepted and shows in the
    composite schedule (reading A2: TxDefault applies without a transaction, as OCTT
    expects). Assumption: the catalog gives no startSchedule; it is now minus the max
    time deviation, as in the other Absolute profiles of the catalog.
    """
    cs, cid, installed = central_system, connector_under_test(sut), Installed()
    await installed.set(cs, "1-2", cid, _profile(sut, "TxDefaultProfile", int(setting(sut, "stack_level") or 0), [(0, 6)],
                                                 duration=_duration(sut)))
    await check_composite(cs, sut, "3-4 (GetCompositeSchedule)", installed, duration=_duration(sut))


@pytest.mark.smart_charging
@pytest.mark.tc("TC_057_CS", "Central Smart Charging - TxProfile")
async def test_tc_057_cs_central_smart_charging_txprofile(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_057_CS, OCPP 1.6 sections 3.13.1, 5.7, 5.16.

    During a transaction a TxProfile carrying that transaction's id is accepted and
    governs the composite schedule. The catalog gives no duration: the schedule has none
    (its single period lasts the whole transaction).
    """
    cs, cid, installed = central_system, connector_under_test(sut), Installed()
    tx, started = await _charging(cs, sut, "before (Charging)")
    await installed.set(cs, "1-2", cid, _profile(sut, "TxProfile", int(setting(sut, "stack_level") or 0), [(0, 6)],
                                                 transaction_id=tx.transaction_id))
    await check_composite(cs, sut, "3-4 (GetCompositeSchedule)", installed, duration=_duration(sut), tx=tx, tx_start=started)


@pytest.mark.smart_charging
@pytest.mark.tc("TC_058_1_CS", "Central Smart Charging - No ongoing transaction")
async def test_tc_058_1_cs_central_smart_charging_no_ongoing_transaction(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_058_1_CS, OCPP 1.6 sections 3.13.1, 5.16: a TxProfile while no transaction runs is rejected.

    Rejected or CALLERROR PropertyConstraintViolation. The profile carries no
    transactionId, so only the missing transaction can be the reason.
    """
    cs, cid = central_system, connector_under_test(sut)
    profile = _profile(sut, "TxProfile", 0, [(0, 6)])
    reply = await cs.call("SetChargingProfile", {"connectorId": cid, "csChargingProfiles": profile},
                          step="1-2 (SetChargingProfile TxProfile, no transaction)", allow_error=True)
    if isinstance(reply, CallError):
        if reply.error_code != "PropertyConstraintViolation":
            raise PayloadMismatch("2", f"SetChargingProfile.req was answered with CALLERROR {reply.error_code}; the step "
                                       "allows status Rejected or CALLERROR PropertyConstraintViolation")
    elif reply.get("status") != "Rejected":
        raise PayloadMismatch("2", f"SetChargingProfile.conf status is {reply.get('status')!r} for a TxProfile while no "
                                   "transaction runs; expected 'Rejected' (spec 3.13.1: a TxProfile needs a transaction)")


@pytest.mark.smart_charging
@pytest.mark.tc("TC_058_2_CS", "Central Smart Charging - Wrong transactionId")
async def test_tc_058_2_cs_central_smart_charging_wrong_transactionid(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_058_2_CS, OCPP 1.6 sections 3.13.1, 5.16, 7.8.

    A TxProfile whose transactionId is not the running transaction's is rejected. The
    wrong id is the running one + 1 (never issued yet by this central system).
    """
    cs, cid = central_system, connector_under_test(sut)
    tx, _ = await _charging(cs, sut, "before (Charging)")
    profile = _profile(sut, "TxProfile", 0, [(0, 6)], transaction_id=tx.transaction_id + 1)
    await set_charging_profile(cs, "1-2", cid, profile, status="Rejected")


@pytest.mark.smart_charging
@pytest.mark.tc("TC_082_CS", "Central Smart Charging - TxDefaultProfile - with ongoing transaction")
async def test_tc_082_cs_central_smart_charging_txdefaultprofile_ongoing(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_082_CS, OCPP 1.6 sections 3.13.1, 5.7, 5.16.

    A TxDefaultProfile installed during a transaction (with no TxProfile) applies to that
    transaction at once: the composite schedule shows it.
    """
    cs, cid, installed = central_system, connector_under_test(sut), Installed()
    tx, started = await _charging(cs, sut, "before (Charging)")
    await installed.set(cs, "1-2", cid, _profile(sut, "TxDefaultProfile", int(setting(sut, "stack_level") or 0), [(0, 6)],
                                                 duration=_duration(sut)))
    await check_composite(cs, sut, "3-4 (GetCompositeSchedule)", installed, duration=_duration(sut), tx=tx, tx_start=started)


# -- Get Composite Schedule, Clear Charging Profile, Stacking ------------------------------------------------
@pytest.mark.smart_charging
@pytest.mark.tc("TC_066_CS", "Get Composite Schedule")
async def test_tc_066_cs_get_composite_schedule(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_066_CS, OCPP 1.6 sections 3.13.1-3.13.3, 5.7.

    ChargePointMaxProfile 10 caps; the TxProfile overrules the TxDefaultProfile for the
    whole transaction, also after its own schedule ended (reading A14; catalog: 0: 8,
    50: 10, 200: 6, 240: 10). Assumption: the TxProfile carries the running transactionId.
    """
    cs, cid, installed = central_system, connector_under_test(sut), Installed()
    keys = await get_configuration(cs, "before (GetConfiguration)", "MaxChargingProfilesInstalled", "ChargingScheduleMaxPeriods")
    for key, least in (("MaxChargingProfilesInstalled", 3), ("ChargingScheduleMaxPeriods", 5)):
        value = keys.get(key, {}).get("value")
        if value is not None and value.isdigit() and int(value) < least:
            pytest.skip(f"prerequisite not met: {key} is {value}; the case needs >= {least}")
    tx, started = await _charging(cs, sut, "before (Charging)")
    await installed.set(cs, "before (memory 1)", 0, _profile(sut, "ChargePointMaxProfile", 0, [(0, 10)],
                                                             duration=86400))
    await installed.set(cs, "before (memory 2)", cid, _profile(
        sut, "TxDefaultProfile", 0, [(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)], duration=300, valid_for=401))
    await installed.set(cs, "before (memory 3)", cid, _profile(
        sut, "TxProfile", 0, [(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)], duration=260, valid_for=401,
        transaction_id=tx.transaction_id))
    await check_composite(cs, sut, "1-2 (GetCompositeSchedule)", installed, duration=400, tx=tx, tx_start=started)


@pytest.mark.smart_charging
@pytest.mark.tc("TC_067_CS", "Clear Charging Profile")
async def test_tc_067_cs_clear_charging_profile(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_067_CS, OCPP 1.6 sections 5.5, 5.7.

    Clearing by id, by purpose + stackLevel and clearing everything each answer Accepted
    and take the cleared profiles out of the composite schedule; with none left the
    charge point reports its own limit (extra.charge_point_max_limit, if configured).
    """
    cs, cid, installed = central_system, connector_under_test(sut), Installed()
    first = await installed.set(cs, "before (memory 1)", cid, _profile(
        sut, "TxDefaultProfile", 1, [(0, 6), (60, 8), (200, 10)], duration=400))
    second = await installed.set(cs, "before (memory 2)", cid, _profile(
        sut, "TxDefaultProfile", 0, [(0, 7), (100, 9)], duration=400, valid_for=401))
    await installed.set(cs, "before (memory 3)", 0, _profile(
        sut, "ChargePointMaxProfile", 0, [(0, 11), (200, 12)], duration=86400, valid_for=401))
    await installed.clear(cs, "1-2 (ClearChargingProfile by id)", {"id": first["chargingProfileId"]})
    await check_composite(cs, sut, "3-4 (GetCompositeSchedule)", installed, duration=350)
    await installed.clear(cs, "5-6 (ClearChargingProfile by purpose and stackLevel)",
                          {"chargingProfilePurpose": second["chargingProfilePurpose"], "stackLevel": second["stackLevel"]})
    await check_composite(cs, sut, "7-8 (GetCompositeSchedule)", installed, duration=350)
    await installed.clear(cs, "9-10 (ClearChargingProfile, all)", {})
    await check_composite(cs, sut, "11-12 (GetCompositeSchedule)", installed, duration=350)


@pytest.mark.smart_charging
@pytest.mark.tc("TC_072_CS", "Stacking Charging Profiles")
async def test_tc_072_cs_stacking_charging_profiles(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_072_CS, OCPP 1.6 sections 3.13.2, 5.7.

    Within one purpose the higher stackLevel wins while its schedule runs; when it ends
    the lower one shows through (reading A4; catalog: 0: 7, 100: 9, 150: 8, 200: 10).
    """
    cs, cid, installed = central_system, connector_under_test(sut), Installed()
    await installed.set(cs, "before (memory 1)", cid, _profile(
        sut, "TxDefaultProfile", 0, [(0, 6), (100, 8), (200, 10)], duration=400, valid_for=401))
    await installed.set(cs, "before (memory 2)", cid, _profile(
        sut, "TxDefaultProfile", 1, [(0, 7), (100, 9)], duration=150, valid_for=401))
    await check_composite(cs, sut, "1-2 (GetCompositeSchedule)", installed, duration=350)


# -- Remote Start Transaction with Charging Profile ---------------------------------------------------------
@pytest.mark.smart_charging
@pytest.mark.tc("TC_059_CS", "Remote Start Transaction with Charging Profile")
async def test_tc_059_cs_remote_start_transaction_with_charging_profile(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_059_CS, OCPP 1.6 sections 5.11, 3.13.1, 5.7.

    The reusable state Charging, with a TxProfile in RemoteStartTransaction.req: the
    charge point follows it in the transaction it starts. Assumption: the profile is
    Relative (anchored at the transaction start; no transactionId is known yet), one
    period of 6 A (6000 W), <Configured duration>.
    """
    cs, cid, tag, installed = central_system, connector_under_test(sut), sut.id_tags.valid, Installed()
    profile = _profile(sut, "TxProfile", int(setting(sut, "stack_level") or 0), [(0, 6)], kind="Relative",
                       duration=_duration(sut))
    keys = await get_configuration(cs, "1 (GetConfiguration AuthorizeRemoteTxRequests)", "AuthorizeRemoteTxRequests")
    await sut.act("plug_in", step="1 (Charging 3)", connector=cid)
    await cs.expect("StatusNotification", step="1 (Charging 3-4, StatusNotification Preparing)", connectorId=cid,
                    status="Preparing")
    await cs.call("RemoteStartTransaction", {"connectorId": cid, "idTag": tag, "chargingProfile": profile},
                  step="1 (Charging 5-6, RemoteStartTransaction with TxProfile)", expect={"status": "Accepted"})
    if keys.get("AuthorizeRemoteTxRequests", {}).get("value", "false").lower() == "true":
        await cs.expect("Authorize", step="1 (Charging 9-10, Authorize.req)", reply=accepted(), idTag=tag)
    start, _ = await cs.expect_all(
        Expectation("StartTransaction", {"connectorId": cid, "idTag": tag}, lambda p: cs.start_transaction_reply(p)),
        Expectation("StatusNotification", {"connectorId": cid, "status": "Charging"}),
        step="1 (Charging 11-14, StartTransaction.req, StatusNotification Charging)")
    tx = Tx(cid, tag, start.replied["transactionId"], start.payload["meterStart"])
    installed.store = installed.store.install(cid, ChargingProfile.from_payload(profile))
    await check_composite(cs, sut, "2-3 (GetCompositeSchedule)", installed, duration=_duration(sut), tx=tx,
                          tx_start=_tx_start(start))


@pytest.mark.smart_charging
@pytest.mark.tc("TC_060_CS", "Remote Start Transaction with Charging Profile - Rejected")
async def test_tc_060_cs_remote_start_transaction_with_charging_profile_rejected(central_system: CentralSystem,
                                                                                 sut: SutHandle) -> None:
    """TC_060_CS, OCPP 1.6 sections 5.11, 6.33: a RemoteStartTransaction.req profile must be a TxProfile.

    A TxDefaultProfile in it is rejected (status Rejected or CALLERROR
    PropertyConstraintViolation), and no transaction starts. Assumption: the connector is
    idle and no cable is plugged in.
    """
    cs, cid = central_system, connector_under_test(sut)
    profile = _profile(sut, "TxDefaultProfile", 0, [(0, 6)], kind="Relative")
    reply = await cs.call("RemoteStartTransaction", {"connectorId": cid, "idTag": sut.id_tags.valid, "chargingProfile": profile},
                          step="1-2 (RemoteStartTransaction with a TxDefaultProfile)", allow_error=True)
    if isinstance(reply, CallError):
        if reply.error_code != "PropertyConstraintViolation":
            raise PayloadMismatch("2", f"RemoteStartTransaction.req was answered with CALLERROR {reply.error_code}; the "
                                       "step allows status Rejected or CALLERROR PropertyConstraintViolation")
    elif reply.get("status") != "Rejected":
        raise PayloadMismatch("2", f"RemoteStartTransaction.conf status is {reply.get('status')!r} for a chargingProfile "
                                   "with purpose TxDefaultProfile; expected 'Rejected' (spec 5.11: it SHALL be TxProfile)")

