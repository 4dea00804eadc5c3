"""Reusable states and shared steps of the catalog for a central system under test (the harness is the charge point).

Reusable states (catalog "states", chapter_sut Central System): :func:`booted`,
:func:`authorized`, :func:`charging`. The other functions are the single steps the
test cases share: what the harness-as-charge-point sends (:func:`status`,
:func:`authorize`, :func:`start_transaction`, :func:`stop_transaction`) and how an
operator of the central system makes it send a CALL (:func:`operator_sends`). The steps
only one feature profile uses (charging profiles, local lists) live in its test module.

Every function takes the step label of the catalog step it implements, so a
failure names the step a vendor looks up in the test case document.

Verdicts: what the catalog step checks ("=>") or the spec requires fails the step; what
neither requires (a reading, a SHOULD, a value the operator asked for but the catalog does
not name) is ``charge_point.warn``: a warning in the report, a failure only with ``strict:
true``. An operator command the harness asks for names exact values (connector, id tag,
transaction); where the catalog names none, another value fails only if a conforming
charge point could then not give the catalog's answer, and is a warning otherwise.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Awaitable, TypeVar

from harness.errors import PayloadMismatch, StepFailure, StepTimeout, UnexpectedMessage
from harness.inbox import Received, Reply
from harness.roles.central_system import now_iso
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle

__all__ = [
    "booted", "authorized", "charging", "check_current_time", "boot_notification_payload",
    "status", "authorize", "check_id_tag_status", "start_transaction", "stop_transaction", "operator_sends", "remote_start",
    "end_open_transactions", "operator_does", "fail_on", "warn_all",
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
    if reply["interval"] <= 0:  # 0 = "the charge point chooses" only for Pending / Rejected (spec 4.2)
        raise PayloadMismatch(f"{boot_step or step} (BootNotification.conf)", f"interval is {reply['interval']}; "
                              "an accepting central system must grant a heartbeat interval > 0",
                              "spec 4.2: with status Accepted the charge point sets its heartbeat interval to interval "
                              "(TC_001_CSMS step 5: a Heartbeat.req every interval seconds)")
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
    if earlier is not None and earlier["open"]:
        raise PayloadMismatch(step, f"transactionId {tx_id} was already given to a transaction still open at this charge "
                                    f"point (connector {earlier['connector']}, id tag {earlier['idTag']!r})",
                              "spec 4.8: the central system assigns the id every later message of the transaction refers "
                              "to (StopTransaction, RemoteStopTransaction, a TxProfile); two running transactions with "
                              "one id cannot be told apart")
    if earlier is not None:
        charge_point.warn(step, f"transactionId {tx_id} reuses the id of an earlier, stopped transaction",
                          "errata 3.54: unique transaction ids are RECOMMENDED, not required")
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
    more than one CALL (e.g. an optional GetLocalListVersion before SendLocalList). The
    manual step runs beside the steps (``sut.act`` never blocks them); a failed one fails
    the step that is waiting.
    """
    actuation = await sut.act(word, step=step, **params)
    try:
        return await expecting_steps
    except StepTimeout as exc:
        if actuation.task.done() and actuation.failure() is None and not actuation.task.cancelled():
            raise StepTimeout(exc.step, exc.problem, f"{exc.detail}\nthe manual step {word!r} was done; "
                              f"its actuator answered: {str(actuation.task.result())[:500]}") from None
        raise


async def remote_start(charge_point: ChargePoint, sut: SutHandle, *, step: str, answer: str, connector: int = 1,
                       id_tag: str | None = None) -> tuple[str, int]:
    """The operator starts a transaction remotely: RemoteStartTransaction (spec 5.11), answered ``answer``.

    The operator asks for ``id_tag`` on ``connector``; the catalog's step names neither, so
    the charge point goes on with the id tag and connector of the request (connectorId may
    be left out: the charge point chooses ``connector``). Another id tag or connector than
    asked is a warning. A connectorId <= 0 fails (spec 6.33: > 0), and so does one the charge
    point does not have when the step answers Accepted (there is no such connector to start on).
    Returns the (id tag, connector) the charge point goes on with.
    """
    tag = id_tag or sut.id_tags.valid
    got = await operator_sends(charge_point, sut, "cs_remote_start", "RemoteStartTransaction", step=step,
                               reply={"status": answer}, params={"connector": connector, "id_tag": tag})
    sent_tag, sent_connector = got.payload["idTag"], got.payload.get("connectorId", connector)
    if sent_connector <= 0 or (answer == "Accepted" and sent_connector > sut.connectors):
        raise UnexpectedMessage(step, f"RemoteStartTransaction.req names connectorId {sent_connector}, which the charge "
                                      f"point does not have (connectors 1..{sut.connectors})",
                                f"payload: {got.payload}\nspec 6.33: connectorId > 0; spec 3.8: connectors 1..N")
    reading = "the catalog step names no value and spec 5.11 lets the central system choose"
    if sent_connector != connector:
        charge_point.warn(step, f"RemoteStartTransaction.req names connectorId {sent_connector}; the operator asked "
                                f"for connector {connector}", reading)
    if sent_tag.lower() != tag.lower():  # IdToken is a CiString: case-insensitive (spec 2.2)
        charge_point.warn(step, f"RemoteStartTransaction.req is for idTag {sent_tag!r}; the operator asked for {tag!r}",
                          reading)
    return sent_tag, sent_connector


# -- shared by the profiles' modules ----------------------------------------------------------------------
def fail_on(problems: list[str], step: str, what: str, rule: str) -> None:
    """Fail ``step`` with every one of ``problems`` (none: pass); ``rule`` says where they come from."""
    if problems:
        raise PayloadMismatch(step, f"{what}: {problems[0]}", "\n".join(f"  - {p}" for p in problems) + f"\n{rule}")


def warn_all(charge_point: ChargePoint, step: str, found: list[str], reading: str) -> None:
    """Report each of ``found`` as a warning of ``step`` (the first one fails it with ``strict: true``)."""
    for text in found:
        charge_point.warn(step, text, reading)
