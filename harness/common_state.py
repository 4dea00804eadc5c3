"""OCTT's common state (test case document section 1.3): established before every case, restored after it.

Every OCTT case starts from the same state: the charge point connected and Accepted,
every connector Available, no transaction, no fault, no charging profile, no
reservation, no local list, an empty authorization cache, no queued message,
MinimumStatusDuration 0. The plugin's role fixtures call :func:`establish` before a
case and :func:`restore` after it, also when the case failed, so no case inherits
what an earlier one left and one failure does not cascade.

What cannot be established is a :class:`CommonStateError`, which pytest reports as an
error of the case's setup (or teardown), naming what could not be restored; it is
never a failure of the case's steps.

With a charge point under test the harness (as central system) recovers connectors
(RemoteStopTransaction, clear faults, Operative, cancel reservations, unplug, wait for
Available), clears the cache, the charging profiles and the local list where the
charge point has them, and puts back every configuration key a case changed. With a
central system under test the harness resets its own charge point: open transactions
stopped, configuration, charging profiles and local list back to a fresh charge point's.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from .errors import StepFailure
from .roles.central_system import CentralSystem, now_iso
from .roles.charge_point import ChargePoint
from .sut import SutHandle

__all__ = ["CommonStateError", "establish", "restore", "change_configuration", "recover_connectors"]

SETUP = "setup (OCTT common state)"
TEARDOWN = "teardown (restore the common state)"


class CommonStateError(Exception):
    """The SUT could not be brought to OCTT's common state: the case cannot run (a pytest error, not a failure)."""


async def establish(role: Any, sut: SutHandle) -> None:
    """Bring the SUT (and the harness's own side) to the common state before a case.

    The role stays in housekeeping (the SUT's CALLs answered at once) until the case's
    first step: the plugin ends it right before the case runs.
    """
    role.housekeeping = True
    try:
        if isinstance(role, CentralSystem):
            await _establish_charge_point(role, sut)
        elif isinstance(role, ChargePoint):
            await _reset_harness_charge_point(role)
    except StepFailure as exc:
        raise CommonStateError(f"OCTT's common state could not be established before this case: {exc}") from None
    _setup_defects_as_warnings(role, SETUP)
    role.inbox.cursor = len(role.inbox.items)  # the case's steps look only at what comes after the setup


async def restore(role: Any, sut: SutHandle) -> None:
    """Undo what a case left (configuration, transactions, connector states), also after a failure."""
    undo: list[tuple[str, dict[str, Any]]] = []
    if role.actuations is not None:
        await role.actuations.settle(role.timeouts.operator)
        for actuation in role.actuations.started:
            actuation.reported = True  # a failed manual step was the case's to report (or is moot now)
        undo = role.actuations.not_undone()
    role.violations.clear()
    role._raised = 0
    role.housekeeping = True
    try:
        for action, params in undo:  # what the case's manual steps changed (a broken lock, a cut network)
            await sut.act(action, step=f"{TEARDOWN} (undo: {action})", **params)
        if isinstance(role, CentralSystem):
            await _restore_security_profile(role, sut)
            await recover_connectors(role, sut, TEARDOWN)
            await _restore_configuration(role, sut)
        elif isinstance(role, ChargePoint):
            await _stop_open_transactions(role)
            await _restore_harness_security(role, sut)
    except StepFailure as exc:
        raise CommonStateError(f"the SUT could not be brought back to OCTT's common state after this case: {exc}") from None
    _setup_defects_as_warnings(role, TEARDOWN)  # housekeeping stays on between cases


def _setup_defects_as_warnings(role: Any, step: str) -> None:
    """A SUT defect seen while the harness set up or restored is not the case's: trace it, do not fail the case."""
    for failure in role.violations[role._raised:]:
        role.trace.event(f"{step}: SUT defect outside the case's steps: {failure.problem}")
    role.violations.clear()
    role._raised = 0


# -- charge point under test ------------------------------------------------------------------------------
async def _establish_charge_point(cs: CentralSystem, sut: SutHandle) -> None:
    await cs.wait_connected(f"{SETUP}: the charge point connected")
    await cs.settle_boot()
    await recover_connectors(cs, sut, SETUP)
    if cs.baseline_configuration is None:
        await _take_baseline(cs, sut)
    features = sut.config.features
    if sut.config.extra.get("authorization_cache"):
        await _tolerant_call(cs, "ClearCache", {}, "empty authorization cache")
    if "smart_charging" in features:
        await _tolerant_call(cs, "ClearChargingProfile", {}, "no charging profiles")
    if "local_auth_list_management" in features and (cs.accepted_local_list is None or cs.accepted_local_list.entries):
        await _empty_local_list(cs)


async def _tolerant_call(cs: CentralSystem, action: str, payload: Mapping[str, Any], what: str) -> Any:
    """A setup CALL whose refusal is traced, not fatal (e.g. ClearCache Rejected); silence still is fatal."""
    reply = await cs.call(action, payload, step=f"{SETUP}: {what} ({action})", allow_error=True)
    status = reply.get("status") if isinstance(reply, dict) else getattr(reply, "error_code", None)
    if status not in ("Accepted", None) and not (action == "ClearChargingProfile" and status == "Unknown"):
        cs.trace.event(f"{SETUP}: {action} answered {status}; the harness cannot be sure of '{what}'")
    return reply


async def _empty_local_list(cs: CentralSystem) -> None:
    reply = await cs.call("GetLocalListVersion", {}, step=f"{SETUP}: no local list (GetLocalListVersion)", allow_error=True)
    version = reply.get("listVersion") if isinstance(reply, dict) else None
    if not isinstance(version, int) or version == -1:
        return  # not supported, or disabled: nothing to empty
    await _tolerant_call(cs, "SendLocalList", {"listVersion": max(version, 0) + 1, "updateType": "Full"}, "no local list")


async def _take_baseline(cs: CentralSystem, sut: SutHandle) -> None:
    """The configuration every case starts from: what the charge point reports, with MinimumStatusDuration 0."""
    reply = await cs.call("GetConfiguration", {}, step=f"{SETUP}: baseline configuration (GetConfiguration)")
    keys = {kv["key"]: kv for kv in reply.get("configurationKey", [])}  # type: ignore[union-attr]
    baseline = {key: str(kv["value"]) for key, kv in keys.items() if "value" in kv}
    msd = keys.get("MinimumStatusDuration")
    if msd is not None and baseline.get("MinimumStatusDuration", "0") != "0" and not msd.get("readonly"):
        status = await change_configuration(cs, sut, "MinimumStatusDuration", "0", step=SETUP)
        if status in ("Accepted", "RebootRequired"):
            baseline["MinimumStatusDuration"] = "0"
    cs.baseline_configuration = baseline
    cs.changed_keys.clear()


async def _restore_configuration(cs: CentralSystem, sut: SutHandle) -> None:
    """Every key a case changed goes back to the baseline value (ChangeConfiguration; RebootRequired resets)."""
    baseline = cs.baseline_configuration or {}
    for key in sorted(cs.changed_keys):
        if key not in baseline or cs.known_configuration.get(key) == baseline[key]:
            continue
        status = await change_configuration(cs, sut, key, baseline[key], step=TEARDOWN)
        if status not in ("Accepted", "RebootRequired"):
            raise StepFailure(TEARDOWN, f"configuration key {key} could not be put back to {baseline[key]!r}: "
                                        f"ChangeConfiguration answered {status}")
    cs.changed_keys.clear()


# -- security extension: the run's security profile and AuthorizationKey -------------------------------------------
async def _restore_security_profile(cs: CentralSystem, sut: SutHandle) -> None:
    """The charge point back on the run's security profile and basic-auth password (TC_073, TC_083 and every
    case that moved it to another profile).

    OCPP forbids lowering the profile (whitepaper), so another profile is put back by the
    manual step ``set_security_profile`` (a service tool; it also restores the AuthorizationKey),
    a changed AuthorizationKey alone by ChangeConfiguration. Either way the charge point must then
    connect with the run's settings, or the next case could not start (a teardown error).
    """
    run, material = cs.config.security_profile, cs.security
    if material is None:
        return
    current = cs.connections[-1].profile if cs.connections else run
    key_changed = material.password is not None and cs.password is not None and \
        cs.password.reveal() != material.password.reveal()
    step = f"{TEARDOWN} (security profile {run})"
    mark = len(cs.connections)
    if current != run or "SecurityProfile" in cs.changed_keys:
        if cs.password is not None and material.password is not None:
            cs.password.replace(material.password)
        await sut.act("set_security_profile", step=step, profile=run, url=cs.url_for(run))
        await cs.actuations_done(step)
        if await cs.wait_connection(mark, cs.timeouts.connect + cs.timeouts.step, profile=run) is None:
            raise StepFailure(step, f"the charge point did not connect over security profile {run} ({cs.url_for(run)}) "
                                    "after the manual step set_security_profile", "; ".join(cs.refusals[-3:]))
        cs.known_configuration["SecurityProfile"] = str(run)
    elif key_changed:
        cs.password.replace(material.password)  # type: ignore[union-attr]  # its old key: let it back in
        key = material.password.reveal_hex()  # type: ignore[union-attr]
        reply = await cs.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": key}, step=f"{step} "
                              "(ChangeConfiguration AuthorizationKey: the run's password)", allow_error=True)
        if isinstance(reply, dict) and reply.get("status") in ("Accepted", "RebootRequired"):
            await cs.wait_connection(mark, cs.timeouts.step)  # it reconnects with the key (bounded; it may not)
        else:
            raise StepFailure(step, f"the charge point answered {reply} to putting back the run's AuthorizationKey")
    cs.changed_keys.difference_update({"SecurityProfile", "AuthorizationKey"})


async def _restore_harness_security(cp: ChargePoint, sut: SutHandle) -> None:
    """The harness charge point back on the run's security profile and password, and the central system told so.

    A case may move it to another profile, or the central system may give it a new AuthorizationKey
    (TC_073_CSMS, TC_083_CSMS): the operator's manual step ``cs_security_settings`` sets the charge
    point's profile (and the configured password) back in the central system; nothing is sent to it.
    """
    run = cp.config.security_profile
    if cp.profile == run and cp.authorization_key is None:
        return
    step = f"{TEARDOWN} (security profile {run})"
    await sut.act("cs_security_settings", step=step, profile=run, charge_point_id=cp.config.charge_point_id)
    await cp.actuations_done(step)
    cp.profile, cp.authorization_key = run, None


async def change_configuration(cs: CentralSystem, sut: SutHandle, key: str, value: str, *, step: str) -> str:
    """ChangeConfiguration ``key``=``value``; on RebootRequired (a valid answer, spec 5.3) reset and await the reboot.

    Returns the status the charge point answered (Accepted, RebootRequired, Rejected, NotSupported).
    """
    label = f"{step} (ChangeConfiguration {key}={value})"
    reply = await cs.call("ChangeConfiguration", {"key": key, "value": value}, step=label)
    status = str(reply["status"])  # type: ignore[index]
    if status == "RebootRequired":
        await reboot(cs, sut, step=f"{step} (RebootRequired: Reset Soft so {key} takes effect)")
    return status


async def reboot(cs: CentralSystem, sut: SutHandle, *, step: str) -> None:
    """Reset the charge point (Soft, then Hard if refused) and wait for its boot and statuses."""
    reply = await cs.call("Reset", {"type": "Soft"}, step=step)
    if reply.get("status") != "Accepted":  # type: ignore[union-attr]
        await cs.call("Reset", {"type": "Hard"}, step=step, expect={"status": "Accepted"})
    await cs.expect("BootNotification", step=f"{step}: BootNotification", timeout=cs.timeouts.step + cs.timeouts.connect)
    await cs.settle_boot()


async def recover_connectors(cs: CentralSystem, sut: SutHandle, step: str) -> None:
    """Every connector back to Available with no transaction, fault or reservation (a no-op when all are)."""
    stale = cs.open_transactions()
    unavailable_zero = cs.connector_status.status(0) == "Unavailable"
    troubled = [c for c in range(1, sut.connectors + 1) if cs.connector_status.status(c) not in (None, "Available")]
    if not stale and not troubled and not unavailable_zero and not cs.open_reservations:
        return
    cs.trace.event(f"{step}: recovering: connectors {troubled} not Available, open transactions {stale}, "
                   f"reservations {sorted(cs.open_reservations)}")
    for transaction_id in stale:
        reply = await cs.call("RemoteStopTransaction", {"transactionId": transaction_id},
                              step=f"{step} (RemoteStopTransaction)", allow_error=True)
        if not isinstance(reply, dict) or reply.get("status") != "Accepted":
            cs.stopped_transactions.add(transaction_id)  # the charge point does not know it (any more)
    for reservation_id in sorted(cs.open_reservations):
        await cs.call("CancelReservation", {"reservationId": reservation_id}, step=f"{step} (CancelReservation)",
                      allow_error=True)
    cs.open_reservations.clear()
    statuses = {c: cs.connector_status.status(c) for c in range(sut.connectors + 1)}
    if "Faulted" in statuses.values():
        for c in [0, *(c for c, s in statuses.items() if s == "Faulted" and c)]:
            await sut.act("clear_fault", step=f"{step} (clear fault)", connector=c)
    if "Unavailable" in statuses.values():
        await cs.call("ChangeAvailability", {"connectorId": 0, "type": "Operative"}, step=f"{step} (ChangeAvailability)",
                      allow_error=True)
    for c in troubled:  # a cable may be in (a Faulted lock may hold one halfway)
        if statuses[c] != "Unavailable":
            await sut.act("unplug", step=f"{step} (unplug)", connector=c)
    await cs.actuations_done(step)
    limit = cs.timeouts.step + float(sut.config.extra.get("connection_timeout", 0))
    deadline = time.monotonic() + limit

    def unsettled() -> list[str]:
        left = [f"connector {c} ({cs.connector_status.status(c)})" for c in range(sut.connectors + 1)
                if cs.connector_status.status(c) not in (None, "Available")]
        return left + [f"transaction {t} (no StopTransaction.req yet)" for t in cs.open_transactions()]

    while waiting := unsettled():
        if not await cs.inbox.changed(max(0.0, deadline - time.monotonic())):
            raise StepFailure(step, ", ".join(waiting) + f": not back to Available and stopped within {limit:g}s")


# -- central system under test: the harness's own charge point ------------------------------------------------------
async def _reset_harness_charge_point(cp: ChargePoint) -> None:
    """A fresh charge point: disconnected, configuration as built, no profiles, an empty local list."""
    await cp.disconnect()
    cp.reset_state()


async def _stop_open_transactions(cp: ChargePoint) -> None:
    """Stop what a case left running at the central system (reason Local); traced, never judged."""
    open_ = [(tx_id, tx) for tx_id, tx in cp.transactions.items() if tx["open"]]
    for tx_id, tx in open_:
        try:
            await cp.call("StopTransaction", {"transactionId": tx_id, "meterStop": cp.meter_stop,
                                              "timestamp": now_iso(), "reason": "Local", "idTag": tx["idTag"]},
                          step=f"{TEARDOWN} (StopTransaction {tx_id})")
        except StepFailure as exc:
            cp.trace.event(f"{TEARDOWN}: StopTransaction {tx_id} not answered: {exc.problem}")
        tx["open"] = False
    await cp.disconnect()

