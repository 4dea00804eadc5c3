"""Local Auth List Management profile, central system under test (the harness is the charge point): TC_xxx_CSMS.

The harness charge point supports LocalAuthListManagement (``features``): LocalAuthListEnabled
true, LocalAuthListMaxLength 50, SendLocalListMaxLength 20 (``extra`` overrides the two
lengths). OCTT's common state gives it an empty list (version 0) before every case
(:mod:`harness.common_state`); an accepted list is applied with
:func:`harness.models.local_auth_list.apply_send_local_list`.

Every SendLocalList.req is judged against the step and the spec (spec 5.15, 6.41, 7.1, 7.48,
errata 3.52): the updateType the step requires, a listVersion not 0 or -1, a Differential
version above the charge point's current one, at most SendLocalListMaxLength entries (the
operator is told the value), each idTag once, and idTagInfo on every entry of a Full list
and where the step requires it. A Full list that does not raise the version is a warning
(only a Differential update must). Where the charge point answers NotSupported or Failed,
the harness watches ``extra.local_list_retry_window`` seconds (default 2) for what the
central system does next: a retry is a warning (the catalog's cases end with the answer).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.errors import StepTimeout, UnexpectedMessage
from harness.inbox import Received
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import booted, fail_on, operator_does, operator_sends, warn_all


def list_params(charge_point: ChargePoint, update_type: str) -> dict[str, object]:
    """What the operator is asked for: the update type, and the charge point's SendLocalListMaxLength."""
    return {"update_type": update_type, "max_length": int(charge_point.configuration["SendLocalListMaxLength"]["value"])}


# -- shared steps: what the central system's operator makes it send -----------------------------------------
def local_list_problems(charge_point: ChargePoint, payload: dict[str, Any], update_type: str, *,
                        every_entry_has_info: bool, needs_entries: bool, judge_length: bool = True) -> list[str]:
    """What is wrong with a SendLocalList.req for this step (spec 5.15, 6.41, 7.1, 7.48, errata 3.52): failures.

    updateType as the step requires; listVersion not 0 or -1 (errata 3.52) and, for a
    Differential update, higher than the version the charge point holds (what
    GetLocalListVersion reports; 7.48: else VersionMismatch); at most SendLocalListMaxLength
    entries (when the charge point supports lists), each idTag once (6.41); every entry with
    an idTagInfo in a Full list (7.1) and where ``every_entry_has_info`` (OCTT checks it for
    Differential too); at least one entry when ``needs_entries`` (the prerequisite "has at
    least 1 IdToken to add").
    """
    problems = []
    if payload["updateType"] != update_type:
        problems.append(f"updateType is {payload['updateType']}; the step requires {update_type}")
    version, current = payload["listVersion"], max(charge_point.local_list_version(), 0)
    if payload["updateType"] == "Differential" and version <= current:
        problems.append(f"listVersion {version} of a Differential update is not higher than the charge point's current "
                        f"version {current} (spec 7.48: VersionMismatch)")
    if version in (0, -1):
        problems.append(f"listVersion {version} is reserved (errata 3.52: SHALL NOT be 0 or -1)")
    entries = payload.get("localAuthorizationList") or []
    limit = charge_point.configuration.get("SendLocalListMaxLength")
    if judge_length and limit is not None and len(entries) > int(limit["value"]):
        problems.append(f"{len(entries)} entries exceed the charge point's SendLocalListMaxLength {limit['value']}")
    tags = [str(e["idTag"]).lower() for e in entries]
    if len(set(tags)) != len(tags):
        problems.append("an idTag occurs more than once (spec 6.41: idTags MUST be unique)")
    if every_entry_has_info or payload["updateType"] == "Full":
        bare = [e["idTag"] for e in entries if "idTagInfo" not in e]
        if bare:
            problems.append(f"entries without idTagInfo: {bare} (every localAuthorizationList entry must have one; "
                            "spec 7.1: required in a Full list)")
    if needs_entries and not entries:
        problems.append("the list has no entries; the case needs at least one IdToken to add")
    return problems


def local_list_warnings(charge_point: ChargePoint, payload: dict[str, Any]) -> list[str]:
    """What a SendLocalList.req does that neither the catalog nor the spec requires it not to (warnings).

    A Full list whose listVersion is not higher than the charge point's: spec 5.15 / 7.48
    require a rising version only of a Differential update; a Full list replaces the list
    (and its version) whatever the number (model reading R3).
    """
    version, current = payload["listVersion"], max(charge_point.local_list_version(), 0)
    if payload["updateType"] == "Full" and version <= current and version not in (0, -1):
        return [f"a Full SendLocalList.req carries listVersion {version}, not higher than the charge point's current "
                f"version {current}"]
    return []


LIST_READING = "spec 5.15 / 7.48: only a Differential update must raise the version; a Full list replaces the list"


async def operator_sends_local_list(charge_point: ChargePoint, sut: SutHandle, *, step: str, update_type: str,
                                    answer: str, params: dict[str, Any], every_entry_has_info: bool = False,
                                    needs_entries: bool = False, version_step: str | None = None) -> Received:
    """The operator makes the central system send SendLocalList ``update_type``; the charge point answers ``answer``.

    ``version_step`` labels an optional GetLocalListVersion the central system may send
    first (answered with the charge point's version). An accepted list becomes the charge
    point's list (:func:`harness.models.local_auth_list.apply_send_local_list`); a request
    with problems (:func:`local_list_problems`) fails the step and gets the status a
    conforming charge point would answer; :func:`local_list_warnings` are warnings.
    """
    problems: list[str] = []
    found: list[str] = []

    def reply(payload: dict[str, Any]) -> dict[str, str]:
        problems.extend(local_list_problems(charge_point, payload, update_type, every_entry_has_info=every_entry_has_info,
                                            needs_entries=needs_entries, judge_length=answer != "NotSupported"))
        found.extend(local_list_warnings(charge_point, payload))
        new_list, status = charge_point.apply_local_list(payload)
        if not problems and answer == "Accepted" and status != "Accepted":
            problems.append(f"the charge point's list model answers {status} to it")
        if problems:
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
    fail_on(problems, step, "SendLocalList.req", "spec 5.15, 6.41, 7.1, 7.48, errata 3.52")
    warn_all(charge_point, step, found, LIST_READING)
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
                               reading: str, **pattern: Any) -> None:
    """After ``answered``, a SendLocalList (matching ``pattern``) within a while is a warning, explained by ``reading``.

    Neither the catalog (the cases end with the charge point's answer) nor the spec forbids
    a retry. The window is ``extra.local_list_retry_window`` seconds (default 2).
    """
    window = float(sut.config.extra.get("local_list_retry_window", 2))
    try:
        await charge_point.expect_none("SendLocalList", step=step, within=window, **pattern)
        return
    except UnexpectedMessage:
        pass  # warned below, outside the handler: with strict: true the warning is the failure, not its context
    again = [item.payload for item in charge_point.inbox.items if item.action == "SendLocalList"][-1]
    charge_point.warn(step, f"after the charge point answered {answered}, the central system sent SendLocalList.req "
                            f"again within {window:g}s ({again['updateType']}, listVersion {again['listVersion']})", reading)

@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_042_1_CSMS", "Get Local List Version (not supported)")
async def test_tc_042_1_csms_get_local_list_version_not_supported(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_042_1_CSMS, sections 5.10 (GetLocalListVersion), 6.28.

    The operator asks for the charge point's list version: the central system sends
    GetLocalListVersion and takes -1 (no local list support) for an answer.
    """
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_get_local_list_version", "GetLocalListVersion", step="1-2",
                         reply={"listVersion": -1}, params={})


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_042_2_CSMS", "Get Local List Version (empty)")
async def test_tc_042_2_csms_get_local_list_version_empty(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_042_2_CSMS, sections 5.10, 6.28: as TC_042_1_CSMS; the charge point's list is empty (OCTT's
    common state) and it answers 0."""
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_get_local_list_version", "GetLocalListVersion", step="1-2",
                         reply={"listVersion": 0}, params={})


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_1_CSMS", "Send Local Authorization List - NotSupported")
async def test_tc_043_1_csms_send_local_list_not_supported(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_043_1_CSMS, sections 5.15 (SendLocalList), 7.47.

    The central system sends a Full list and takes NotSupported for an answer. Sending the
    list again within the retry window is a warning: a charge point without list support
    cannot take any, but neither the catalog (the case ends with the answer; "is able to
    receive a NotSupported response") nor the spec forbids a retry.
    """
    await booted(charge_point, sut)
    await operator_sends_local_list(charge_point, sut, step="1-2", update_type="Full", answer="NotSupported",
                                    params=list_params(charge_point, "Full"))
    await no_local_list_resend(charge_point, sut, step="2 (after NotSupported)", answered="NotSupported",
                               reading="spec 7.47: NotSupported means the charge point takes no list updates; neither "
                                       "the catalog nor the spec forbids a retry")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_3_CSMS", "Send Local Authorization List - Failed")
async def test_tc_043_3_csms_send_local_list_failed(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_043_3_CSMS, sections 5.15, 7.47.

    The central system sends a Full list and takes Failed for an answer. A Differential
    update within the retry window is a warning: it builds on a list the charge point
    could not store, but the catalog ends with the answer and the spec (5.15: a Full list
    SHOULD follow a failed Differential) does not rule on what follows a failed Full list.
    """
    await booted(charge_point, sut)
    await operator_sends_local_list(charge_point, sut, step="1-2", update_type="Full", answer="Failed",
                                    params=list_params(charge_point, "Full"))
    await no_local_list_resend(charge_point, sut, step="2 (after Failed)", answered="Failed", updateType="Differential",
                               reading="the catalog (TC_043_3_CSMS) ends with the Failed answer and spec 5.15 names a "
                                       "Full resend only after a failed Differential update")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_4_CSMS", "Send Local Authorization List - Full")
async def test_tc_043_4_csms_send_local_list_full(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_043_4_CSMS, sections 5.15, 6.41, 7.1.

    The central system sends a Full list with at least one IdToken (the prerequisite),
    every entry with an idTagInfo, a listVersion other than 0 and -1, within its
    SendLocalListMaxLength. The charge point accepts it and it becomes its list. A version
    not above the charge point's is a warning (spec 7.48: only a Differential must rise).
    """
    await booted(charge_point, sut)
    await operator_sends_local_list(charge_point, sut, step="1-2", update_type="Full", answer="Accepted",
                                    params=list_params(charge_point, "Full"), every_entry_has_info=True,
                                    needs_entries=True)


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_5_CSMS", "Send Local Authorization List - Differential")
async def test_tc_043_5_csms_send_local_list_differential(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_043_5_CSMS, sections 5.10, 5.15, 6.41, 7.48.

    The central system may first ask the version (steps 1-2, optional; answered with the
    charge point's own), then sends a Differential update with at least one IdToken and
    a listVersion above the charge point's (7.48: otherwise VersionMismatch). The catalog
    requires an idTagInfo on every entry, so a deletion entry (no idTagInfo, allowed by
    6.41) fails this case: we take OCTT's check. The charge point accepts it.
    """
    await booted(charge_point, sut)
    await operator_sends_local_list(charge_point, sut, step="3-4", version_step="1-2", update_type="Differential",
                                    answer="Accepted", params=list_params(charge_point, "Differential"),
                                    every_entry_has_info=True, needs_entries=True)
