"""The harness charge point's certificate store (harness/roles/charge_point_holdings.py), without a connection.

What it answers to InstallCertificate, GetInstalledCertificateIds and DeleteCertificate is what
the central system under test is judged against in TC_075/TC_076_CSMS; the not-found answers are
the ones no case reaches with the reference central system.
"""

from __future__ import annotations

from conftest import ROOT

from harness.config import load_config
from harness.roles.charge_point import ChargePoint
from testcases.states_security import CS_ROOT, MF_ROOT, make_root


def _charge_point() -> ChargePoint:
    cp = ChargePoint(load_config(ROOT / "fixtures" / "simulator_central_system.yaml"))
    cp.certificates.clear()  # none installed, whatever the config's tls: section holds
    return cp


def test_an_installed_root_is_listed_deleted_by_its_hash_data_and_then_not_found() -> None:
    cp = _charge_point()
    _, pem = make_root("Root 2")
    assert cp.certificate_reply("GetInstalledCertificateIds", {"certificateType": CS_ROOT}) == {"status": "NotFound"}
    assert cp.certificate_reply("InstallCertificate", {"certificateType": CS_ROOT, "certificate": pem}) == \
        {"status": "Accepted"}
    listed = cp.certificate_reply("GetInstalledCertificateIds", {"certificateType": CS_ROOT})
    assert listed["status"] == "Accepted" and len(listed["certificateHashData"]) == 1
    assert cp.certificate_reply("GetInstalledCertificateIds", {"certificateType": MF_ROOT}) == {"status": "NotFound"}
    wanted = {"certificateHashData": listed["certificateHashData"][0]}
    assert cp.certificate_reply("DeleteCertificate", wanted) == {"status": "Accepted"}
    assert cp.certificate_reply("DeleteCertificate", wanted) == {"status": "NotFound"}
    assert cp.certificate_reply("GetInstalledCertificateIds", {"certificateType": CS_ROOT}) == {"status": "NotFound"}


def test_a_certificate_that_is_not_pem_is_rejected_and_not_stored() -> None:
    cp = _charge_point()
    assert cp.certificate_reply("InstallCertificate", {"certificateType": MF_ROOT, "certificate": "not a certificate"}) \
        == {"status": "Rejected"}
    assert cp.certificate_reply("GetInstalledCertificateIds", {"certificateType": MF_ROOT}) == {"status": "NotFound"}
