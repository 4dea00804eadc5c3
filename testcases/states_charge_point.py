"""Reusable and memory states of the catalog for a charge point under test (the harness is the central system).

Reusable states: Authorized, Charging, SetConnectorUnavailable, SetConnectorFaulted,
GetConfiguration. Memory state: IdTagCached. Plus the checks every charge-point test
shares: :func:`check_stop_transaction` (reason, transactionId, meterStop) and
:func:`check_heartbeats`, and the steps that leave the charge point idle for the next
test (labelled "after": they are not catalog steps, but a real charge point must pass
them too).

Values the catalog calls <Configured ...> come from the SUT config's ``extra:`` mapping
(see :func:`setting`); capabilities a case needs (a cache, a fixed cable ...) too
(see :func:`require`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pytest

from harness.errors import PayloadMismatch, UnexpectedMessage
from harness.inbox import Expectation, Received
from harness.common_state import change_configuration
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.timing import check_gap

__all__ = [
    "Tx", "setting", "require", "connector_under_test", "get_configuration", "configure", "authorized", "charging",
    "check_stop_transaction", "stop_by_id_tag", "id_tag_cached", "unplug_to_available", "end_transaction",
    "set_connector_unavailable", "check_heartbeats", "accepted", "connector_status",
]

DEFAULTS: dict[str, Any] = {
    "connector_id": 1,                 # <Configured ConnectorId>
    "meter_value_sample_interval": 10,  # <Configured Meter Value (Sample) interval>, seconds
    "clock_aligned_data_interval": 10,  # <Configured Clock Aligned Data interval>, seconds
    "connection_timeout": 30,          # <Configured connectionTimeout>, seconds
    "transaction_duration": 10,        # <Configured Transaction Duration>, seconds
}

#: what each capability flag of ``extra:`` means, for skip messages
CAPABILITIES = {
    "authorization_cache": "an authorization cache",
    "fixed_cable": "a fixed cable",
    "backup_power": "a back-up power source that lets it stop transactions before going down",
    "power_cut_without_backup": "no back-up power (transactions end when the power is cut)",
    "offline_transactions": "offline transactions (local list, cache or unknown offline authorization)",
    "lock_failure": "a way to make the connector lock fail (actuator lock_failure)",
}


@dataclass
class Tx:
    """A transaction the harness saw start: what later steps check against."""

    connector: int
    id_tag: str
    transaction_id: int
    meter_start: int


def connector_status(connector: int, status: Any, *, exact: bool = False) -> Expectation:
    """StatusNotification ``status`` for ``connector``, reached through permitted intermediate statuses.

    Another status of that connector fails the step at once unless the spec 4.9 table lets the
    connector still get to ``status`` from it (harness.inbox); ``exact`` allows no intermediate.
    """
    return Expectation("StatusNotification", {"connectorId": connector, "status": status}, exact=exact)


def setting(sut: SutHandle, name: str) -> Any:
    """A <Configured ...> value of the catalog, from ``extra:`` (or the documented default)."""
    return sut.config.extra.get(name, DEFAULTS.get(name))


def require(sut: SutHandle, capability: str, present: bool = True) -> None:
    """Skip (never pass) a case whose prerequisite the SUT config says the charge point does not meet."""
    has = bool(sut.config.extra.get(capability, False))
    if has != present:
        what = CAPABILITIES.get(capability, capability)
        pytest.skip(f"prerequisite not met: the SUT config (extra.{capability}: {str(has).lower()}) says the charge point "
                    f"{'lacks' if present else 'has'} {what}")


def tx_of(start: Received, connector: int | None = None) -> Tx:
    """The transaction a (replied) StartTransaction.req began."""
    p = start.payload
    return Tx(connector or p["connectorId"], p["idTag"], start.replied["transactionId"], p["meterStart"])


def connector_under_test(sut: SutHandle) -> int:
    return int(setting(sut, "connector_id"))


def accepted(id_tag_info: Mapping[str, Any] | None = None) -> Any:
    """An Authorize.conf reply (default: as configured id tags are judged, else the given idTagInfo)."""
    return None if id_tag_info is None else (lambda _: {"idTagInfo": dict(id_tag_info)})


# -- configuration ------------------------------------------------------------------------------------------
async def get_configuration(cs: CentralSystem, step: str, *keys: str) -> dict[str, dict[str, Any]]:
    """Reusable state GetConfiguration: the KeyValues of ``keys`` (all keys if none), by key."""
    reply = await cs.call("GetConfiguration", {"key": list(keys)} if keys else {}, step=step)
    return {kv["key"]: kv for kv in reply.get("configurationKey", [])}  # type: ignore[union-attr]


async def configure(cs: CentralSystem, sut: SutHandle, step: str, values: Mapping[str, Any], *,
                    optional: Sequence[str] = ()) -> None:
    """The catalog's "Before: configuration" lines (put back after the case by harness.common_state).

    Keys in ``optional`` are the catalog's "(If implemented)": Rejected, NotSupported or a
    read-only key with another value do not stop the case (traced). A read-only required key
    with another value skips the case (its prerequisite is not met). RebootRequired is a valid
    answer (spec 5.3): the charge point is reset and the case goes on.
    """
    known = await get_configuration(cs, f"{step} (GetConfiguration)", *values)
    for key, value in values.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        current = known.get(key, {}).get("value")
        if current is not None and str(current).lower() == text.lower():
            continue
        if known.get(key, {}).get("readonly"):
            if key in optional:
                cs.trace.event(f"{step}: {key} is read-only with value {current!r} (the case would set {text}; "
                               f"catalog: '(If implemented)')")
                continue
            pytest.skip(f"prerequisite not met: {key} is read-only with value {current!r}; the case needs {text}")
        label = f"{step} (ChangeConfiguration {key}={text})"
        status = await change_configuration(cs, sut, key, text, step=step)
        if status in ("Accepted", "RebootRequired"):
            continue
        if key in optional and status in ("NotSupported", "Rejected"):
            cs.trace.event(f"{label}: {status} (catalog: '(If implemented)'); the case goes on")
            continue
        raise PayloadMismatch(label, f"ChangeConfiguration.conf status is {status!r}; the case needs {key}={text} (Accepted)")


# -- sessions -------------------------------------------------------------------------------------------------
async def authorized(cs: CentralSystem, sut: SutHandle, *, step: str = "Authorized", id_tag: str | None = None,
                     connector: int | None = None, id_tag_info: Mapping[str, Any] | None = None,
                     preparing: bool = True) -> Received:
    """Reusable state Authorized: present <Configured Valid IdTag>; Authorize.req, Preparing (either order)."""
    tag = id_tag or sut.id_tags.valid
    cid = connector or connector_under_test(sut)
    await sut.act("present_id_tag", step=f"{step} 1", connector=cid, id_tag=tag)
    wanted = [Expectation("Authorize", {"idTag": tag}, accepted(id_tag_info))]
    if preparing:
        wanted.append(connector_status(cid, "Preparing"))
    got = await cs.expect_all(*wanted, step=f"{step} 1-4 (Authorize.req, StatusNotification Preparing)")
    return got[0]


async def charging(cs: CentralSystem, sut: SutHandle, *, step: str = "Charging", id_tag: str | None = None,
                   connector: int | None = None, id_tag_info: Mapping[str, Any] | None = None) -> Tx:
    """Reusable state Charging: cable in, RemoteStartTransaction, (Authorize), StartTransaction and Charging.

    ``id_tag_info`` is how the harness answers Authorize/StartTransaction (default: as the
    configured id tags are judged).
    """
    tag = id_tag or sut.id_tags.valid
    cid = connector or connector_under_test(sut)
    keys = await get_configuration(cs, f"{step} 1-2 (GetConfiguration AuthorizeRemoteTxRequests)", "AuthorizeRemoteTxRequests")
    authorize_remote = keys.get("AuthorizeRemoteTxRequests", {}).get("value", "false").lower() == "true"
    await sut.act("plug_in", step=f"{step} 3", connector=cid)
    await cs.expect("StatusNotification", step=f"{step} 3-4 (StatusNotification Preparing)", connectorId=cid, status="Preparing")
    await cs.call("RemoteStartTransaction", {"connectorId": cid, "idTag": tag}, step=f"{step} 5-6 (RemoteStartTransaction)",
                  expect={"status": "Accepted"})
    if authorize_remote:
        await cs.expect("Authorize", step=f"{step} 9-10 (Authorize.req, AuthorizeRemoteTxRequests is true)",
                        reply=accepted(id_tag_info), idTag=tag)
    start, _ = await cs.expect_all(
        Expectation("StartTransaction", {"connectorId": cid, "idTag": tag},
                    lambda p: cs.start_transaction_reply(p, id_tag_info)),
        connector_status(cid, "Charging"),
        step=f"{step} 11-14 (StartTransaction.req, StatusNotification Charging)",
    )
    return Tx(cid, tag, start.replied["transactionId"], start.payload["meterStart"])


def check_stop_transaction(cs: CentralSystem, stop: Received, step: str, tx: Tx | None, reasons: Sequence[str]) -> None:
    """The rules every StopTransaction.req must meet (spec 4.10, 6.49, 7.36).

    ``reasons``: the Reason values right for the scenario; an absent reason means Local,
    so it is accepted only where Local is right. transactionId must be one this central
    system issued (the one of ``tx`` if given); meterStop must not be below meterStart.
    """
    p = stop.payload
    reason = p.get("reason")
    rule = "spec 6.49/7.36: the reason MAY only be omitted when it is Local"
    if reason is None and "Local" not in reasons:
        raise PayloadMismatch(step, f"StopTransaction.req has no reason (which means Local); this stop requires reason "
                                    f"{' or '.join(reasons)}", rule)
    if reason is not None and reason not in reasons:
        raise PayloadMismatch(step, f"StopTransaction.req reason is {reason!r}; this stop requires {' or '.join(reasons)}",
                              f"payload: {p}")
    transaction_id = p["transactionId"]
    if transaction_id not in cs.issued_transactions:
        raise PayloadMismatch(step, f"StopTransaction.req transactionId {transaction_id} was never issued by the central system",
                              f"issued: {sorted(cs.issued_transactions)}; spec 6.49: use the transactionId of StartTransaction.conf")
    if tx is not None and transaction_id != tx.transaction_id:
        raise PayloadMismatch(step, f"StopTransaction.req transactionId is {transaction_id}, but the transaction that "
                                    f"should stop is {tx.transaction_id}")
    meter_start = tx.meter_start if tx else cs.issued_transactions[transaction_id]["meterStart"]
    if p["meterStop"] < meter_start:
        raise PayloadMismatch(step, f"StopTransaction.req meterStop {p['meterStop']} is below meterStart {meter_start}",
                              "an energy register must not run backwards during a transaction")


async def stop_by_id_tag(cs: CentralSystem, sut: SutHandle, tx: Tx, *, step: str,
                         stop_reply: Any = None) -> Received:
    """Present the starting id tag again: StopTransaction (Local) and Finishing, either order."""
    await sut.act("present_id_tag", step=step, connector=tx.connector, id_tag=tx.id_tag)
    stop, _ = await cs.expect_all(
        Expectation("StopTransaction", {}, stop_reply),
        connector_status(tx.connector, "Finishing"),
        step=f"{step} (StopTransaction.req, StatusNotification Finishing)",
    )
    check_stop_transaction(cs, stop, step, tx, ("Local",))
    return stop


async def unplug_to_available(cs: CentralSystem, sut: SutHandle, connector: int, *, step: str) -> None:
    await sut.act("unplug", step=step, connector=connector)
    await cs.expect("StatusNotification", step=f"{step} (StatusNotification Available)", connectorId=connector,
                    status="Available")


async def end_transaction(cs: CentralSystem, sut: SutHandle, tx: Tx, *, step: str = "after") -> None:
    """Leave the charge point idle: stop the transaction with its id tag, unplug, Available."""
    await stop_by_id_tag(cs, sut, tx, step=step)
    await unplug_to_available(cs, sut, tx.connector, step=step)


async def id_tag_cached(cs: CentralSystem, sut: SutHandle, id_tag: str, *, step: str = "before (IdTagCached)") -> None:
    """Memory state IdTagCached: a transaction with ``id_tag`` (answered Accepted) stopped by the same tag.

    Every IdTagInfo the charge point gets says Accepted, so its cache holds ``id_tag``
    as valid even when the configured central system would reject it (the catalog uses
    this to cache <Configured invalid IdTag>).
    """
    ok = {"status": "Accepted"}
    tx = await charging(cs, sut, step=f"{step}: Charging", id_tag=id_tag, id_tag_info=ok)
    await stop_by_id_tag(cs, sut, tx, step=f"{step} 1-4", stop_reply=lambda _: {"idTagInfo": ok})
    await unplug_to_available(cs, sut, tx.connector, step=f"{step} 5-6")


async def set_connector_unavailable(cs: CentralSystem, sut: SutHandle, connector: int, *, step: str) -> None:
    """Reusable state SetConnectorUnavailable (connector 0: every connector and connector 0)."""
    await _change_availability(cs, sut, connector, "Inoperative", "Unavailable",
                               call_step=f"{step} 1-2 (ChangeAvailability)",
                               status_step=f"{step} 3-4 (StatusNotification Unavailable)")


async def set_available(cs: CentralSystem, sut: SutHandle, connector: int, *, step: str) -> None:
    """ChangeAvailability Operative; Available for the connector (connector 0: for all)."""
    await _change_availability(cs, sut, connector, "Operative", "Available",
                               call_step=f"{step} (ChangeAvailability)",
                               status_step=f"{step} (StatusNotification Available)")


async def _change_availability(cs: CentralSystem, sut: SutHandle, connector: int, kind: str, status: str, *,
                               call_step: str, status_step: str) -> None:
    """ChangeAvailability ``kind`` Accepted, then ``status`` for the connector (connector 0: for all)."""
    await cs.call("ChangeAvailability", {"connectorId": connector, "type": kind}, step=call_step,
                  expect={"status": "Accepted"})
    ids = range(sut.connectors + 1) if connector == 0 else [connector]
    await cs.expect_all(*[connector_status(c, status) for c in ids], step=status_step)


def boot_statuses(sut: SutHandle, special: Mapping[int, Any] | None = None) -> list[Expectation]:
    """StatusNotification for connector 0 and each connector after boot: Available unless ``special`` says otherwise."""
    special = special or {}
    return [connector_status(c, special.get(c, "Available"))
            for c in range(sut.connectors + 1)]


async def check_heartbeats(cs: CentralSystem, sut: SutHandle, interval: float, *, step: str) -> None:
    """Two heartbeats, each ``interval`` after the previous message (spec 4.6)."""
    tol = sut.config.timeouts.timing_tolerance
    first = await cs.expect("Heartbeat", step=f"{step} (first Heartbeat.req)", timeout=2 * interval + tol)
    last_before = max(r.arrived for r in cs.inbox.items if r is not first and r.arrived <= first.arrived)
    check_gap(step.split("-")[0], "the first Heartbeat.req", last_before, first, interval, tol, lower=False)
    second = await cs.expect("Heartbeat", step=f"{step} (next Heartbeat.req)", timeout=2 * interval + tol)
    between = [r for r in cs.inbox.items if first.arrived < r.arrived < second.arrived]
    check_gap(step.split("-")[0], "the next Heartbeat.req", max([first.arrived, *(r.arrived for r in between)]), second,
              interval, tol, lower=not between)


def no_message_between(cs: CentralSystem, step: str, after: Received, before: Received, why: str) -> None:
    silent = [r for r in cs.inbox.items if after.arrived < r.arrived < before.arrived]
    if silent:
        raise UnexpectedMessage(step, f"the charge point sent {silent[0].action}.req {why}")


__all__ += ["tx_of", "set_available", "boot_statuses", "no_message_between"]


# -- smart charging (memory state SetChargingProfile) -------------------------------------------------------
async def set_charging_profile(cs: CentralSystem, step: str, connector: int, profile: Mapping[str, Any],
                               *, status: str = "Accepted") -> dict[str, Any]:
    """Memory state SetChargingProfile: send ``profile`` for ``connector``; the answer must be ``status``."""
    reply = await cs.call("SetChargingProfile", {"connectorId": connector, "csChargingProfiles": dict(profile)},
                          step=f"{step} (SetChargingProfile id {profile['chargingProfileId']}, "
                               f"{profile['chargingProfilePurpose']}, stackLevel {profile['stackLevel']})",
                          expect={"status": status})
    return reply  # type: ignore[return-value]


# -- local authorization list (memory state IdTagLocalAuthList) -----------------------------------------------
async def send_local_list(cs: CentralSystem, step: str, version: int, update_type: str,
                          entries: Sequence[tuple[str, str | None]] | None = None, *, status: Any = "Accepted") -> dict[str, Any]:
    """SendLocalList.req; ``entries`` are (idTag, status or None to delete); the answer must match ``status``."""
    payload: dict[str, Any] = {"listVersion": version, "updateType": update_type}
    if entries is not None:
        payload["localAuthorizationList"] = [
            {"idTag": tag} if info is None else {"idTag": tag, "idTagInfo": {"status": info}} for tag, info in entries]
    return await cs.call("SendLocalList", payload, step=step, expect={"status": status})  # type: ignore[return-value]


async def id_tag_local_auth_list(cs: CentralSystem, sut: SutHandle, id_tag: str, *, version: int = 1,
                                 step: str = "before (IdTagLocalAuthList)") -> None:
    """Memory state IdTagLocalAuthList: a Full local list holding ``id_tag`` as Accepted (LocalAuthListEnabled true)."""
    await configure(cs, sut, step, {"LocalAuthListEnabled": True})
    await send_local_list(cs, f"{step} (SendLocalList Full)", version, "Full", [(id_tag, "Accepted")])


__all__ += ["set_charging_profile", "send_local_list", "id_tag_local_auth_list"]
