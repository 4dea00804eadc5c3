"""Local Auth List Management profile, central system under test (the harness is the charge point): TC_xxx_CSMS.

The harness charge point supports LocalAuthListManagement (``features``): LocalAuthListEnabled
true, LocalAuthListMaxLength 50, SendLocalListMaxLength 20 (``extra`` overrides the two
lengths). It keeps its Local Authorization List for the whole run, as a real charge point
keeps it across reboots (spec 3.5.2), so list versions must keep rising from case to
case; an accepted list is applied with :func:`harness.models.local_auth_list.apply_send_local_list`.

Every SendLocalList.req is judged against the step and the spec (spec 5.15, 6.41, 7.1, 7.48,
errata 3.52): the updateType the step requires, a listVersion not 0 or -1 and higher than
the charge point's current one, at most SendLocalListMaxLength entries (the operator is
told the value), each idTag once, and idTagInfo on every entry where the step requires it.
Where the charge point answers NotSupported or Failed, the harness then watches
``extra.local_list_retry_window`` seconds (default 2) for what the central system does next.
"""

from __future__ import annotations

import pytest

from harness.models.local_auth_list import LocalAuthList
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from testcases.states_central_system import booted, no_local_list_resend, operator_sends, operator_sends_local_list


def list_params(charge_point: ChargePoint, update_type: str) -> dict[str, object]:
    """What the operator is asked for: the update type, and the charge point's SendLocalListMaxLength."""
    return {"update_type": update_type, "max_length": int(charge_point.configuration["SendLocalListMaxLength"]["value"])}


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
    """TC_042_2_CSMS, sections 5.10, 6.28: as TC_042_1_CSMS; the charge point's list is empty (the
    harness empties it first) and it answers 0."""
    charge_point.local_list = LocalAuthList()
    await booted(charge_point, sut)
    await operator_sends(charge_point, sut, "cs_get_local_list_version", "GetLocalListVersion", step="1-2",
                         reply={"listVersion": 0}, params={})


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_1_CSMS", "Send Local Authorization List - NotSupported")
async def test_tc_043_1_csms_send_local_list_not_supported(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_043_1_CSMS, sections 5.15 (SendLocalList), 7.47.

    The central system sends a Full list and takes NotSupported for an answer. Reading of
    "is able to receive a NotSupported response": it does not send the list again (a
    charge point without list support cannot take any), judged over the retry window.
    """
    await booted(charge_point, sut)
    await operator_sends_local_list(charge_point, sut, step="1-2", update_type="Full", answer="NotSupported",
                                    params=list_params(charge_point, "Full"))
    await no_local_list_resend(charge_point, sut, step="2 (after NotSupported)", answered="NotSupported")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_3_CSMS", "Send Local Authorization List - Failed")
async def test_tc_043_3_csms_send_local_list_failed(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_043_3_CSMS, sections 5.15, 7.47.

    The central system sends a Full list and takes Failed for an answer. It may retry,
    but only with a Full list (spec 5.15: after Failed the central system SHOULD send a
    Full list; a Differential would build on a list the charge point could not store),
    judged over the retry window.
    """
    await booted(charge_point, sut)
    await operator_sends_local_list(charge_point, sut, step="1-2", update_type="Full", answer="Failed",
                                    params=list_params(charge_point, "Full"))
    await no_local_list_resend(charge_point, sut, step="2 (after Failed)", answered="Failed", updateType="Differential")


@pytest.mark.local_auth_list_management
@pytest.mark.tc("TC_043_4_CSMS", "Send Local Authorization List - Full")
async def test_tc_043_4_csms_send_local_list_full(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_043_4_CSMS, sections 5.15, 6.41, 7.1.

    The central system sends a Full list with at least one IdToken (the prerequisite),
    every entry with an idTagInfo, a version above the charge point's, within its
    SendLocalListMaxLength. The charge point accepts it and it becomes its list.
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
