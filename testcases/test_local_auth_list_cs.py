"""Local Auth List Management profile, charge point under test (spec 3.5.2, 5.10, 5.15, 6.27, 6.28, 6.41, 6.42, 9.2).

What the charge point must answer is computed by the model (harness.models.local_auth_list):
the central system role applies every SendLocalList.req the charge point Accepted
(``CentralSystem.accepted_local_list``) and the expected GetLocalListVersion is
``get_local_list_version`` of that list. The role also reports, in every test, an
Authorize.req for an id the charge point should have accepted from that list
(LocalPreAuthorize true).

Each case starts from OCTT's common state (no local list) and the configuration it changes
is restored after it (harness.common_state, through the plugin's fixtures).
"""

from __future__ import annotations

import pytest

from harness.errors import PayloadMismatch
from harness.inbox import Expectation
from harness.models.local_auth_list import get_local_list_version
from harness.ocppj import CallError
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from testcases.states_charge_point import (
    configure, connector_under_test, get_configuration,
    send_local_list,
)


def _expected_version(cs: CentralSystem) -> int:
    assert cs.accepted_local_list is not None
    return get_local_list_version(cs.accepted_local_list)


async def _check_version(cs: CentralSystem, step: str, why: str) -> int:
    """GetLocalListVersion.req/.conf: listVersion must be the model's for the list the charge point accepted."""
    wanted = _expected_version(cs)
    reply = await cs.call("GetLocalListVersion", {}, step=step)
    got = reply["listVersion"]  # type: ignore[index]
    if got != wanted:
        raise PayloadMismatch(step, f"GetLocalListVersion.conf listVersion is {got}; expected {wanted} ({why})")
    return int(got)


@pytest.mark.local_auth_list_management
@pytest.mark.also_without_profile
@pytest.mark.tc("TC_042_1_CS", "Get Local List Version (not supported)")
async def test_tc_042_1_cs_get_local_list_version_not_supported(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_042_1_CS, OCPP 1.6 sections 5.10, 6.28, 9.2.1.

    With the local list disabled (LocalAuthListEnabled false, if the key exists) the
    charge point reports listVersion -1, or answers CALLERROR NotSupported. Assumption:
    a charge point with the profile runs this case by disabling the list (the catalog's
    prerequisite allows it).
    """
    cs = central_system
    await configure(cs, sut, "before", {"LocalAuthListEnabled": False}, optional=("LocalAuthListEnabled",))
    reply = await cs.call("GetLocalListVersion", {}, step="1-2 (GetLocalListVersion)", allow_error=True)
    if isinstance(reply, CallError):
        if reply.error_code != "NotSupported":
            raise PayloadMismatch("2", f"GetLocalListVersion.req was answered with CALLERROR {reply.error_code}; "
                                       "expected listVersion -1 or CALLERROR NotSupported")
    elif reply["listVersion"] != -1:
        raise PayloadMismatch("2", f"GetLocalListVersion.conf listVersion is {reply['listVersion']} while the local list "
                                   "is disabled; expected -1 (spec 6.28)")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_042_2_CS", "Get Local List Version (empty)")
async def test_tc_042_2_cs_get_local_list_version_empty(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_042_2_CS, OCPP 1.6 sections 5.10, 5.15, 6.28: after a Full update without entries the version is 0."""
    cs = central_system
    await configure(cs, sut, "before", {"LocalAuthListEnabled": True})
    await send_local_list(cs, "1-2 (SendLocalList Full, version 1, no list)", 1, "Full")
    await _check_version(cs, "3-4 (GetLocalListVersion)", "an empty list reports version 0, spec 5.10")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_CS", "Send Local Authorization List")
async def test_tc_043_cs_send_local_authorization_list(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_043_CS, OCPP 1.6 sections 3.5.2, 5.15, 6.41: a Full and then a Differential update are both Accepted.

    Assumption (the catalog gives no contents): Full version 1 with <Configured valid
    IdTag> Accepted; Differential version 2 adding <Configured valid IdTag 2>.
    """
    cs, tags = central_system, sut.id_tags
    await configure(cs, sut, "before", {"LocalAuthListEnabled": True})
    await send_local_list(cs, "1-2 (SendLocalList Full)", 1, "Full", [(tags.valid, "Accepted")])
    await send_local_list(cs, "3-4 (SendLocalList Differential)", 2, "Differential", [(tags.valid_2, "Accepted")])


@pytest.mark.local_auth_list_management
@pytest.mark.also_without_profile
@pytest.mark.tc("TC_043_1_CS", "Send Local Authorization List - NotSupported")
async def test_tc_043_1_cs_send_local_authorization_list_not_supported(central_system: CentralSystem,
                                                                       sut: SutHandle) -> None:
    """TC_043_1_CS, OCPP 1.6 sections 5.15, 7.48, 9.2.1.

    A charge point without the LocalAuthListManagement profile answers SendLocalList with
    NotSupported (or CALLERROR NotSupported). The catalog's prerequisite is a charge point
    without the profile (unlike TC_042_1_CS, it does not allow LocalAuthListEnabled false
    instead, and the spec does not say what SendLocalList gets while the list is off), so a
    charge point whose config lists the profile skips this case.
    """
    cs = central_system
    if "local_auth_list_management" in sut.config.features:
        pytest.skip("prerequisite not met: the charge point supports the LocalAuthListManagement profile "
                    "(its config lists local_auth_list_management in 'features'); this case needs one without it")
    reply = await cs.call("SendLocalList", {"listVersion": 1, "updateType": "Full",
                                            "localAuthorizationList": [{"idTag": sut.id_tags.valid,
                                                                        "idTagInfo": {"status": "Accepted"}}]},
                          step="1-2 (SendLocalList Full)", allow_error=True)
    if isinstance(reply, CallError):
        if reply.error_code != "NotSupported":
            raise PayloadMismatch("2", f"SendLocalList.req was answered with CALLERROR {reply.error_code}; expected status "
                                       "NotSupported or CALLERROR NotSupported")
    elif reply["status"] != "NotSupported":
        raise PayloadMismatch("2", f"SendLocalList.conf status is {reply['status']!r} from a charge point without the "
                                   "LocalAuthListManagement profile; expected 'NotSupported' (spec 5.15, 7.48)")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_2_CS", "Send Local Authorization List - VersionMismatch")
async def test_tc_043_2_cs_send_local_authorization_list_version_mismatch(central_system: CentralSystem,
                                                                          sut: SutHandle) -> None:
    """TC_043_2_CS, OCPP 1.6 sections 5.15, 7.48: a Differential update not newer than the list is VersionMismatch.

    Assumption: each update carries one entry (<Configured valid IdTag>, then
    <Configured valid IdTag 2> twice), so the list is never empty and its version is reported.
    """
    cs, tags = central_system, sut.id_tags
    await configure(cs, sut, "before", {"LocalAuthListEnabled": True})
    await send_local_list(cs, "1-2 (SendLocalList Full, version 2)", 2, "Full", [(tags.valid, "Accepted")])
    await _check_version(cs, "3-4 (GetLocalListVersion)", "the version of the Full update")
    await send_local_list(cs, "5-6 (SendLocalList Differential, version 5)", 5, "Differential", [(tags.valid_2, "Accepted")])
    await _check_version(cs, "7-8 (GetLocalListVersion)", "the version of the Differential update")
    await send_local_list(cs, "9-10 (SendLocalList Differential, version 4)", 4, "Differential",
                          [(tags.valid_2, "Blocked")], status="VersionMismatch")
    await _check_version(cs, "11-12 (GetLocalListVersion)", "a VersionMismatch update leaves the list unchanged")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_3_CS", "Send Local Authorization List - Failed")
async def test_tc_043_3_cs_send_local_authorization_list_failed(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_043_3_CS, OCPP 1.6 sections 5.15, 7.48, 9.2.5.

    The charge point must be brought into a state where it fails to set a list. The
    only way the harness has: ``extra.local_list_failure: oversized`` says the charge
    point fails a Full update with more entries than SendLocalListMaxLength; without it
    the case is skipped.
    """
    cs = central_system
    if sut.config.extra.get("local_list_failure") != "oversized":
        pytest.skip("prerequisite not met: no way to make the charge point fail a local list "
                    "(set extra.local_list_failure: oversized if it fails lists longer than SendLocalListMaxLength)")
    await configure(cs, sut, "before", {"LocalAuthListEnabled": True})
    keys = await get_configuration(cs, "before (GetConfiguration SendLocalListMaxLength)", "SendLocalListMaxLength")
    value = keys.get("SendLocalListMaxLength", {}).get("value", "")
    if not value.isdigit():
        pytest.skip(f"prerequisite not met: SendLocalListMaxLength is not reported as a number ({value!r})")
    entries = [(f"FAILTAG{i:04d}", "Accepted") for i in range(int(value) + 1)]
    await send_local_list(cs, f"1-2 (SendLocalList Full, version 2, {len(entries)} entries > SendLocalListMaxLength)",
                          2, "Full", entries, status="Failed")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_008_CS", "Regular Start Charging Session – Id in Local Authorization List")
async def test_tc_008_cs_regular_start_id_in_local_authorization_list(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_008_CS, OCPP 1.6 sections 3.5.2, 5.11, 9.1.13.

    An id tag in the local list, with LocalPreAuthorize true, is started without asking
    the central system: after RemoteStartTransaction (AuthorizeRemoteTxRequests true) no
    Authorize.req, StartTransaction and Charging follow. The listVersion of the Full
    update is the reported version + 1 (at least 1).
    """
    cs, cid, tag = central_system, connector_under_test(sut), sut.id_tags.valid
    await configure(cs, sut, "before", {"LocalPreAuthorize": True, "AuthorizationCacheEnabled": False,
                                              "LocalAuthListEnabled": True, "AuthorizeRemoteTxRequests": True},
                               optional=("AuthorizationCacheEnabled",))
    reply = await cs.call("GetLocalListVersion", {}, step="1-2 (GetLocalListVersion)")
    version = max(1, int(reply["listVersion"]) + 1)  # type: ignore[index]
    await send_local_list(cs, "3-4 (SendLocalList Full)", version, "Full", [(tag, "Accepted")])
    await sut.act("plug_in", step="5", connector=cid)
    await cs.expect("StatusNotification", step="5-6 (StatusNotification Preparing)", connectorId=cid, status="Preparing")
    await cs.call("RemoteStartTransaction", {"connectorId": cid, "idTag": tag}, step="7-8 (RemoteStartTransaction)",
                  expect={"status": "Accepted"})
    await cs.expect_none("Authorize", step="9 (no Authorize.req: the id is in the local list, LocalPreAuthorize is true)",
                         within=min(1.5, cs.timeouts.unsolicited_reply / 2), idTag=tag)
    start, _ = await cs.expect_all(
        Expectation("StartTransaction", {"connectorId": cid, "idTag": tag}, lambda p: cs.start_transaction_reply(p)),
        Expectation("StatusNotification", {"connectorId": cid, "status": "Charging"}),
        step="9-12 (StartTransaction.req, StatusNotification Charging)")

