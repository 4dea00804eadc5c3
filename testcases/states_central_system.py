"""Reusable states and shared steps of the catalog for a central system under test (the harness is the charge point).

Reusable states (catalog "states", chapter_sut Central System): :func:`booted`,
:func:`authorized`, :func:`charging`. The other functions are the single steps the
test cases share: what the harness-as-charge-point sends (:func:`status`,
:func:`authorize`, :func:`start_transaction`, :func:`stop_transaction`) and how an
operator of the central system makes it send a CALL (:func:`operator_sends`).

Every function takes the step label of the catalog step it implements, so a
failure names the step a vendor looks up in the test case document.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from datetime import datetime, timezone
from typing import Any, Awaitable, TypeVar

from harness.errors import PayloadMismatch, StepFailure, StepTimeout, UnexpectedMessage
from harness.inbox import Received, Reply
from harness.matching import mismatches
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle

__all__ = [
    "booted", "authorized", "charging", "check_current_time", "boot_notification_payload",
    "status", "authorize", "check_id_tag_status", "start_transaction", "stop_transaction", "operator_sends", "remote_start",
    "end_open_transactions", "warn", "operator_does",
    "profile_problems", "operator_sets_profile", "operator_clears_profiles",
    "local_list_problems", "operator_sends_local_list", "first_of", "no_local_list_resend",
]

T = TypeVar("T")

METER_START = 1000  # Wh, the harness charge point's register at the start of each transaction
METER_STOP = 1250


def boot_notification_payload(sut: SutHandle) -> dict[str, str]:
    return {"chargePointVendor": sut.config.charge_point_vendor, "chargePointModel": sut.config.charge_point_model,
            "firmwareVersion": "harness"}


def check_current_time(step: str, value: str, deviation: float) -> None:
    """A central system's currentTime (schema-checked RFC 3339) must be close to the harness's clock."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise PayloadMismatch(step, f"currentTime {value!r} has no time zone (RFC 3339 requires one)")
    off = abs((moment - datetime.now(timezone.utc)).total_seconds())
    if off > deviation:
        raise PayloadMismatch(step, f"currentTime {value!r} is {off:.0f}s away from the harness clock ({now_iso()}); "
                                    f"at most {deviation:g}s allowed (timeouts.clock_deviation)",
                              "section 4.2: the central system sends its current time so the charge point can set its clock")


def warn(charge_point: ChargePoint, text: str) -> None:
    """A behaviour the step allows but the vendor should know of: in the trace and pytest's warnings summary."""
    charge_point.trace.event(f"warning: {text}")
    warnings.warn(text, UserWarning, stacklevel=2)


# -- what the harness charge point sends ---------------------------------------------------------
async def booted(charge_point: ChargePoint, sut: SutHandle, *, step: str = "Booted",
                 boot_step: str | None = None, status_step: str | None = None,
                 statuses: dict[int, str] | None = None) -> int:
    """Reusable state Booted: BootNotification Accepted, then StatusNotification for connector 0 and each connector.

    ``boot_step`` / ``status_step`` label the two halves when a case numbers them apart;
    ``statuses`` gives connectors a status other than Available (e.g. Finishing after a power loss).
    Returns the heartbeat interval the central system granted.
    """
    boot_label = f"{boot_step or step} (BootNotification)"
    reply = await charge_point.call("BootNotification", boot_notification_payload(sut), step=boot_label,
                                    expect={"status": "Accepted"})
    check_current_time(f"{boot_step or step} (BootNotification.conf)", reply["currentTime"], sut.config.timeouts.clock_deviation)
    if reply["interval"] <= 0:
        raise PayloadMismatch(f"{boot_step or step} (BootNotification.conf)", f"interval is {reply['interval']}; "
                              "an accepting central system must grant a heartbeat interval > 0")
    for connector in range(sut.connectors + 1):
        state = (statuses or {}).get(connector, "Available")
        await status(charge_point, connector, state, step=f"{status_step or step} (StatusNotification connector {connector})")
    return int(reply["interval"])


async def status(charge_point: ChargePoint, connector: int, state: str, *, step: str, error_code: str = "NoError",
                 timestamp: str | None = None, info: str | None = None) -> None:
    """The charge point reports ``state`` of ``connector``; the central system must answer StatusNotification.conf."""
    payload: dict[str, Any] = {"connectorId": connector, "errorCode": error_code, "status": state,
                               "timestamp": timestamp or now_iso()}
    if info:
        payload["info"] = info
    await charge_point.call("StatusNotification", payload, step=step)


async def authorize(charge_point: ChargePoint, id_tag: str, *, step: str, expected: str = "Accepted") -> dict[str, Any]:
    """Authorize ``id_tag``; the central system must answer idTagInfo.status ``expected`` (spec 4.1, 7.2)."""
    reply = await charge_point.call("Authorize", {"idTag": id_tag}, step=step)
    check_id_tag_status(step, "Authorize.conf", id_tag, reply, expected,
                        "spec 4.1/7.2: the central system answers with the status of the id tag it knows "
                        "(Accepted, Blocked, Expired; Invalid when unknown)")
    return reply


def check_id_tag_status(step: str, what: str, id_tag: str, reply: dict[str, Any], expected: str, rule: str) -> None:
    """The reply's idTagInfo.status (present: the schema requires it) must be ``expected``."""
    got = reply["idTagInfo"]["status"]
    if got != expected:
        raise PayloadMismatch(step, f"{what} for id tag {id_tag!r}: idTagInfo.status must be {expected}, got {got!r}",
                              f"idTagInfo: {reply['idTagInfo']}\n{rule}")


async def start_transaction(charge_point: ChargePoint, *, step: str, connector: int, id_tag: str,
                            expected: str = "Accepted", timestamp: str | None = None) -> int:
    """StartTransaction; the central system must answer idTagInfo.status ``expected`` and a transactionId (spec 4.8).

    The schema already requires transactionId and idTagInfo. A transactionId equal to
    one of a transaction still open at this charge point fails (they could not be told
    apart); reuse of the id of a closed one is a warning (errata 3.54: unique ids
    RECOMMENDED), a failure in strict mode.
    """
    payload = {"connectorId": connector, "idTag": id_tag, "meterStart": METER_START, "timestamp": timestamp or now_iso()}
    try:
        reply = await charge_point.call("StartTransaction", payload, step=step)
    except PayloadMismatch as exc:  # a CALLERROR
        raise PayloadMismatch(exc.step, exc.problem, exc.detail + "\nspec 4.8: the central system SHOULD always answer "
                              "StartTransaction.req" + _queued(timestamp)) from None
    check_id_tag_status(step, "StartTransaction.conf", id_tag, reply, expected,
                        "spec 4.8: the central system verifies the id tag of every StartTransaction.req, "
                        "also of one the charge point started offline")
    tx_id = int(reply["transactionId"])
    earlier = charge_point.transactions.get(tx_id)
    if earlier is not None and (earlier["open"] or charge_point.config.strict):
        state = "still open" if earlier["open"] else "already stopped"
        raise PayloadMismatch(step, f"transactionId {tx_id} was already given to a transaction {state} at this charge point "
                                    f"(connector {earlier['connector']}, id tag {earlier['idTag']!r})",
                              "spec 4.8 / errata 3.54: the central system assigns the transaction id; ids must tell "
                              "transactions apart (unique ids recommended)")
    if earlier is not None:
        warn(charge_point, f"transactionId {tx_id} reuses the id of an earlier, stopped transaction (errata 3.54: unique ids recommended)")
    charge_point.transactions[tx_id] = {"connector": connector, "idTag": id_tag, "open": True,
                                        "start": datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))}
    return tx_id


async def stop_transaction(charge_point: ChargePoint, tx_id: int, *, step: str, reason: str | None,
                           id_tag: str | None = None, timestamp: str | None = None) -> dict[str, Any]:
    """StopTransaction of ``tx_id`` (spec 4.10): the central system cannot refuse it and must answer StopTransaction.conf.

    ``reason`` None omits the field (= Local). idTagInfo in the reply is optional (schema), so it is not required.
    """
    payload: dict[str, Any] = {"transactionId": tx_id, "meterStop": METER_STOP, "timestamp": timestamp or now_iso()}
    if reason is not None:
        payload["reason"] = reason
    if id_tag is not None:
        payload["idTag"] = id_tag
    try:
        reply = await charge_point.call("StopTransaction", payload, step=step)
    except PayloadMismatch as exc:  # a CALLERROR
        raise PayloadMismatch(exc.step, exc.problem, exc.detail + "\nspec 4.10: a central system cannot refuse a "
                              "StopTransaction.req; it must answer StopTransaction.conf" + _queued(timestamp)) from None
    charge_point.transaction_stopped(tx_id)
    return reply


def _queued(timestamp: str | None) -> str:
    if timestamp is None:
        return ""
    return (f"\nthe charge point sent it late with its original timestamp {timestamp} (queued while offline or "
            "without power; spec 3.7: transaction messages are delivered after reconnect, in order)")


async def end_open_transactions(charge_point: ChargePoint, *, step: str = "cleanup (not a catalog step)") -> None:
    """Stop what a case left running (reason Local), so the next case starts without open transactions.

    Not part of the catalog: its outcome is only traced, never judged.
    """
    for tx_id, tx in charge_point.transactions.items():
        if tx["open"]:
            try:
                await stop_transaction(charge_point, tx_id, step=step, reason="Local", id_tag=tx["idTag"])
            except StepFailure as exc:
                charge_point.trace.event(f"{step}: StopTransaction {tx_id} not answered: {exc.problem}")
            tx["open"] = False


# -- reusable states ---------------------------------------------------------------------------------
async def authorized(charge_point: ChargePoint, sut: SutHandle, *, step: str = "Authorized", id_tag: str | None = None) -> None:
    """Reusable state Authorized: Authorize of the configured valid id tag is answered Accepted."""
    await authorize(charge_point, id_tag or sut.id_tags.valid, step=f"{step} (Authorized 1-2: Authorize)")


async def charging(charge_point: ChargePoint, sut: SutHandle, *, step: str = "Charging", connector: int = 1,
                   id_tag: str | None = None) -> int:
    """Reusable state Charging: Preparing, StartTransaction Accepted, Charging. Returns the transactionId."""
    await status(charge_point, connector, "Preparing", step=f"{step} (Charging 1-2: StatusNotification Preparing)")
    tx_id = await start_transaction(charge_point, step=f"{step} (Charging 3-4: StartTransaction)", connector=connector,
                                    id_tag=id_tag or sut.id_tags.valid)
    await status(charge_point, connector, "Charging", step=f"{step} (Charging 5-6: StatusNotification Charging)")
    return tx_id


# -- what the central system's operator makes it send ---------------------------------------------------
async def operator_sends(charge_point: ChargePoint, sut: SutHandle, word: str, action: str, *, step: str,
                         reply: Reply, params: dict[str, Any], **pattern: Any) -> Received:
    """Have the operator of the central system do ``word`` (actuator vocabulary); expect its ``action`` CALL.

    The actuation and the wait run side by side: an HTTP actuator returns only when
    the charge point has answered, and a person at a prompt may confirm before or
    after the CALL arrives. The CALL must match ``pattern`` and is answered ``reply``.
    A failed actuation fails the step at once.
    """
    return await operator_does(charge_point, sut, word, charge_point.expect(action, step=step, reply=reply, **pattern),
                               step=step, params=params)


async def operator_does(charge_point: ChargePoint, sut: SutHandle, word: str, expecting_steps: Awaitable[T], *,
                        step: str, params: dict[str, Any]) -> T:
    """Have the operator do ``word`` while ``expecting_steps`` (the steps that follow from it) run; their result.

    As :func:`operator_sends`, for an operator command that makes the central system send
    more than one CALL (e.g. an optional GetLocalListVersion before SendLocalList).
    """
    acting = asyncio.ensure_future(sut.act(word, step=step, **params))
    expecting = asyncio.ensure_future(expecting_steps)
    try:
        done, _ = await asyncio.wait({acting, expecting}, return_when=asyncio.FIRST_EXCEPTION)
        if acting in done and acting.exception() is not None:
            exc = acting.exception()
            if isinstance(exc, StepFailure):
                raise type(exc)(exc.step or step, exc.problem, exc.detail) from None
            raise exc  # type: ignore[misc]
        try:
            got = await expecting
        except StepTimeout as exc:
            if acting.done() and not acting.cancelled() and acting.exception() is None:
                raise StepTimeout(exc.step, exc.problem, f"{exc.detail}\nthe manual step {word!r} was done; "
                                  f"its actuator answered: {str(acting.result())[:500]}") from None
            raise
        await acting
        return got
    finally:
        for task in (acting, expecting):
            if not task.done():
                task.cancel()
        await asyncio.gather(acting, expecting, return_exceptions=True)


async def remote_start(charge_point: ChargePoint, sut: SutHandle, *, step: str, answer: str, connector: int = 1,
                       id_tag: str | None = None) -> Received:
    """The operator starts a transaction remotely: RemoteStartTransaction for ``id_tag`` (spec 5.11), answered ``answer``.

    connectorId is optional in the message; when present it must be the connector asked for.
    """
    tag = id_tag or sut.id_tags.valid
    got = await operator_sends(charge_point, sut, "cs_remote_start", "RemoteStartTransaction", step=step,
                               reply={"status": answer}, params={"connector": connector, "id_tag": tag}, idTag=tag)
    if "connectorId" in got.payload and got.payload["connectorId"] != connector:
        raise UnexpectedMessage(step, f"RemoteStartTransaction.req names connectorId {got.payload['connectorId']}; "
                                      f"the operator asked for connector {connector}", f"payload: {got.payload}")
    return got


# -- smart charging: what the central system's operator makes it install or clear ---------------------------
def profile_problems(charge_point: ChargePoint, connector: int, profile: dict[str, Any], catalog: dict[str, Any], *,
                     where: str, remote_start: bool = False) -> list[str]:
    """Why a charging profile the central system sent is not what the step asks for or breaks the spec.

    ``catalog`` is a pattern of the step's own checks ("=>" of the catalog); the rules of
    spec 3.13 / 5.16 / 7.8 / 9.4 come from :func:`harness.models.charging_profile.validate_profile`
    against this charge point's keys and transactions. Not in the model, checked here: an
    Absolute profile's validity window must not be over already, and its schedule
    (startSchedule + duration) must overlap [validFrom, validTo), else it never applies.
    """
    problems = [f"{m} (the step's check)" for m in mismatches(catalog, profile, where)]
    problems += [f"{where}: {v}" for v in charge_point.profile_violations(connector, profile, remote_start=remote_start)]
    schedule = profile.get("chargingSchedule", {})
    try:
        valid_from, valid_to, start = (_moment(profile.get("validFrom")), _moment(profile.get("validTo")),
                                       _moment(schedule.get("startSchedule")))
    except ValueError as exc:
        return problems + [f"{where}: {exc}"]
    if valid_to is not None and valid_to <= datetime.now(timezone.utc):
        problems.append(f"{where}.validTo {profile['validTo']} lies in the past: the profile can never apply")
    if start is not None and schedule.get("duration") is not None:
        end = start.timestamp() + schedule["duration"]
        if (valid_to is not None and start >= valid_to) or (valid_from is not None and end <= valid_from.timestamp()):
            problems.append(f"{where}: the schedule [{schedule['startSchedule']}, +{schedule['duration']}s) lies outside "
                            f"the profile's validity [{profile.get('validFrom')}, {profile.get('validTo')}): it never applies")
    return problems


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _fail_on(problems: list[str], step: str, what: str, rule: str) -> None:
    if problems:
        raise PayloadMismatch(step, f"{what}: {problems[0]}", "\n".join(f"  - {p}" for p in problems) + f"\n{rule}")


async def operator_sets_profile(charge_point: ChargePoint, sut: SutHandle, *, step: str, connector: int,
                                catalog: dict[str, Any], params: dict[str, Any],
                                extra_checks: Any = None) -> dict[str, Any]:
    """The operator makes the central system send SetChargingProfile for ``connector`` (spec 5.16); returns the profile.

    The profile must match ``catalog`` (the step's checks), pass the model's rules for
    this charge point, and ``extra_checks(profile) -> list[str]`` if given. The charge
    point then installs it and answers Accepted; a profile with problems is answered
    Rejected (what a conforming charge point does) and fails the step.
    """
    problems: list[str] = []

    def reply(payload: dict[str, Any]) -> dict[str, str]:
        profile = payload["csChargingProfiles"]
        found = profile_problems(charge_point, connector, profile, catalog, where="$.csChargingProfiles")
        found += list(extra_checks(profile)) if extra_checks else []
        problems.extend(found)
        return {"status": "Rejected" if found else charge_point.install_profile(connector, profile)}

    got = await operator_sends(charge_point, sut, "cs_set_charging_profile", "SetChargingProfile", step=step,
                               reply=reply, params=params, connectorId=connector)
    _fail_on(problems, step, "SetChargingProfile.req", "spec 3.13, 5.16, 7.8, 9.4 (the charge point answered Rejected)")
    if got.replied != {"status": "Accepted"}:
        raise PayloadMismatch(step, f"the harness charge point could not install the profile: {got.replied}")
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
                              "installed: " + str([e.profile.charging_profile_id for e in charge_point.charging_profiles.entries]))


# -- local authorization list ------------------------------------------------------------------------------
def local_list_problems(charge_point: ChargePoint, payload: dict[str, Any], update_type: str, *,
                        every_entry_has_info: bool, needs_entries: bool, judge_length: bool = True) -> list[str]:
    """What is wrong with a SendLocalList.req for this step (spec 5.15, 6.41, 7.1, 7.48, errata 3.52).

    updateType as the step requires; listVersion not 0 or -1 and higher than the version
    the charge point holds (what GetLocalListVersion reports); at most SendLocalListMaxLength
    entries (when the charge point supports lists), each idTag once; every entry with an
    idTagInfo when ``every_entry_has_info`` (required for Full, spec 7.1; OCTT checks it
    for Differential too); at least one entry when ``needs_entries`` (the prerequisite
    "has at least 1 IdToken to add").
    """
    problems = []
    if payload["updateType"] != update_type:
        problems.append(f"updateType is {payload['updateType']}; the step requires {update_type}")
    version, current = payload["listVersion"], max(charge_point.local_list_version(), 0)
    if version <= current:
        problems.append(f"listVersion {version} is not higher than the charge point's current version {current} "
                        "(spec 5.15: the version after the update)")
    if version in (0, -1):
        problems.append(f"listVersion {version} is reserved (errata 3.52: SHALL NOT be 0 or -1)")
    entries = payload.get("localAuthorizationList") or []
    limit = charge_point.configuration.get("SendLocalListMaxLength")
    if judge_length and limit is not None and len(entries) > int(limit["value"]):
        problems.append(f"{len(entries)} entries exceed the charge point's SendLocalListMaxLength {limit['value']}")
    tags = [str(e["idTag"]).lower() for e in entries]
    if len(set(tags)) != len(tags):
        problems.append("an idTag occurs more than once (spec 6.41: idTags MUST be unique)")
    if every_entry_has_info:
        bare = [e["idTag"] for e in entries if "idTagInfo" not in e]
        if bare:
            problems.append(f"entries without idTagInfo: {bare} (every localAuthorizationList entry must have one)")
    if needs_entries and not entries:
        problems.append("the list has no entries; the case needs at least one IdToken to add")
    return problems


async def operator_sends_local_list(charge_point: ChargePoint, sut: SutHandle, *, step: str, update_type: str,
                                    answer: str, params: dict[str, Any], every_entry_has_info: bool = False,
                                    needs_entries: bool = False, version_step: str | None = None) -> Received:
    """The operator makes the central system send SendLocalList ``update_type``; the charge point answers ``answer``.

    ``version_step`` labels an optional GetLocalListVersion the central system may send
    first (answered with the charge point's version). An accepted list becomes the charge
    point's list (:func:`harness.models.local_auth_list.apply_send_local_list`); a request
    with problems (:func:`local_list_problems`) fails the step and gets the status a
    conforming charge point would answer.
    """
    problems: list[str] = []

    def reply(payload: dict[str, Any]) -> dict[str, str]:
        found = local_list_problems(charge_point, payload, update_type, every_entry_has_info=every_entry_has_info,
                                    needs_entries=needs_entries, judge_length=answer != "NotSupported")
        new_list, status = charge_point.apply_local_list(payload)
        if not found and answer == "Accepted" and status != "Accepted":
            found.append(f"the charge point's list model answers {status} to it")
        problems.extend(found)
        if found:
            return {"status": status if status != "Accepted" else "Failed"}
        if answer == "Accepted":
            charge_point.local_list = new_list
        return {"status": answer}

    async def steps() -> Received:
        if version_step:
            first = await first_of(charge_point, ("GetLocalListVersion", "SendLocalList"), step=step)
            if first is None:
                raise StepTimeout(step, f"expected SendLocalList.req (optionally after GetLocalListVersion.req, step "
                                        f"{version_step}) within {charge_point.timeouts.step:g}s; it did not arrive")
            if first == "GetLocalListVersion":
                await charge_point.expect("GetLocalListVersion", step=version_step,
                                          reply={"listVersion": charge_point.local_list_version()})
        return await charge_point.expect("SendLocalList", step=step, reply=reply)

    got = await operator_does(charge_point, sut, "cs_send_local_list", steps(), step=step, params=params)
    _fail_on(problems, step, "SendLocalList.req", "spec 5.15, 6.41, 7.1, 7.48, errata 3.52")
    return got


async def first_of(charge_point: ChargePoint, actions: tuple[str, ...], *, step: str) -> str | None:
    """Which of ``actions`` the central system sends next (unclaimed, after the last step); None after the step timeout.

    For catalog steps marked optional: the test then claims the message with ``expect``.
    """
    inbox = charge_point.inbox
    deadline = time.monotonic() + charge_point.timeouts.step
    while True:
        charge_point.check(step)
        for item in inbox.items[inbox.cursor:]:
            if not item.consumed and item.action in actions:
                return item.action
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not await inbox.changed(remaining):
            return None


async def no_local_list_resend(charge_point: ChargePoint, sut: SutHandle, *, step: str, answered: str,
                               **pattern: Any) -> None:
    """After ``answered``, the central system sends no SendLocalList (matching ``pattern``) for a while.

    The window is ``extra.local_list_retry_window`` seconds (default 2).
    """
    window = float(sut.config.extra.get("local_list_retry_window", 2))
    try:
        await charge_point.expect_none("SendLocalList", step=step, within=window, **pattern)
    except UnexpectedMessage as exc:
        raise UnexpectedMessage(exc.step, f"after the charge point answered {answered}, the central system sent "
                                f"SendLocalList.req again", exc.detail) from None
