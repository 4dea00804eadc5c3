"""FirmwareManagement profile, charge point under test (the harness is the central system): TC_044_x_CS, TC_045_x_CS.

The harness serves the firmware and takes the diagnostics on real FTP and HTTP servers for
the length of each case (``transfer:`` of the SUT config says where they listen and how
the charge point reaches them; see testcases.states_firmware), and judges the charge point
by what really reached them as much as by its notifications: a Downloaded is only believed
with a complete download of the served file (bytes and sha256), an Uploaded only with a
complete, non-empty upload. The failure cases get their failure from the transfer itself:
a file that does not exist (TC_044_2), an image that downloads but does not install
(TC_044_3: the vendor's ``extra.invalid_firmware_file``, else a harness image with a bad
checksum), a directory that refuses writes (TC_045_2).

Steps that wait on a transfer take ``extra.transfer_timeout`` seconds (default: the step
timeout). Readings: the notifications of a transfer come in the catalog's order; the same status
again is a progress report, any other status fails the step at once. The catalog's
optional steps (Downloading of TC_044_2, Installing, the reboot and the statuses of
TC_044_3) may be left out, and the steps it lets come "in a different order" (the reboot,
Available and Installed; InstallationFailed and the optional reboot) are one group in any
order. Where ``retries`` is 0 (TC_044_2, TC_045_2) a charge point that tries more than once
fails; one that reports the failure without trying at all gets a warning.
"""

from __future__ import annotations

import pytest

from harness.errors import StepFailure
from harness.inbox import Expectation
from harness.matching import OneOf
from harness.roles.central_system import CentralSystem, now_iso
from harness.sut import SutHandle
from testcases.states_charge_point import boot_statuses, connector_status
from testcases.states_firmware import (
    check_attempts, check_download, check_upload, diagnostics_status, file_transfer_protocol, firmware_status,
    publish_firmware, transfer_evidence, transfer_servers, transfer_timeout,
)

RETRIES_RULE = "spec 6.55 / 6.25 (errata 3.50): retries is how many times the charge point retries before it gives up"


@pytest.mark.firmware_management
@pytest.mark.tc("TC_044_1_CS", "Firmware Update - Download and Install")
async def test_tc_044_1_cs_firmware_update_download_and_install(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_044_1_CS, OCPP 1.6 sections 5.19, 4.4, 6.55, 8.

    UpdateFirmware with the location of a valid firmware on the harness's server: the charge
    point reports Downloading, really downloads the whole file, reports Downloaded and
    Installing, reboots (BootNotification, every connector Available) and reports Installed
    (those three in any order, the catalog's note). Readings taken: the download, not only
    the notification; the connectors it MAY set Unavailable meanwhile are not checked.
    """
    cs = central_system
    async with transfer_servers(sut) as servers:
        protocol = await file_transfer_protocol(cs, sut, step="before")
        firmware = publish_firmware(servers, sut, protocol)
        since = servers.record.mark()
        await cs.call("UpdateFirmware", {"location": firmware.url, "retrieveDate": now_iso()}, step="1-2 (UpdateFirmware)")
        async with transfer_evidence(servers, firmware.url, since):
            await cs.expect_all(firmware_status("Downloading"), step="3-4 (FirmwareStatusNotification Downloading)")
            await cs.expect_all(firmware_status("Downloaded", "Downloading"),
                                step="5-6 (FirmwareStatusNotification Downloaded)", timeout=transfer_timeout(sut))
            await check_download(cs, servers, firmware, step="5", since=since)
            await cs.expect_all(firmware_status("Installing", "Downloaded"), step="7-8 (FirmwareStatusNotification Installing)")
            await cs.expect_all(Expectation("BootNotification"), *boot_statuses(sut), firmware_status("Installed", "Installing"),
                                step="9-14 (BootNotification, StatusNotification Available, FirmwareStatusNotification "
                                     "Installed; any order)", timeout=transfer_timeout(sut) + cs.timeouts.connect)


@pytest.mark.firmware_management
@pytest.mark.tc("TC_044_2_CS", "Firmware Update - Download Failed")
async def test_tc_044_2_cs_firmware_update_download_failed(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_044_2_CS, OCPP 1.6 sections 5.19, 6.55, 8.

    UpdateFirmware (retries 0) with the location of a file the harness's server does not
    have: Downloading (optional: the download may fail at once), then DownloadFailed, after
    at most one attempt. Connectors the charge point set Unavailable for the download come
    back Available (the case's expected result).
    """
    cs = central_system
    async with transfer_servers(sut) as servers:
        protocol = await file_transfer_protocol(cs, sut, step="before")
        location = servers.missing_url(protocol)
        since = servers.record.mark()
        await cs.call("UpdateFirmware", {"location": location, "retrieveDate": now_iso(), "retries": 0},
                      step="1-2 (UpdateFirmware, retries 0)")
        async with transfer_evidence(servers, location, since):
            (first,) = await cs.expect_all(firmware_status(OneOf("Downloading", "DownloadFailed")),
                                           step="3-4 (FirmwareStatusNotification Downloading, optional)",
                                           timeout=transfer_timeout(sut))
            if first.payload["status"] == "Downloading":
                await cs.expect_all(firmware_status("DownloadFailed", "Downloading"),
                                    step="5-6 (FirmwareStatusNotification DownloadFailed)", timeout=transfer_timeout(sut))
            await check_attempts(cs, servers, step="5", since=since, kinds=("missing", "refused_login", "download"),
                                 retries=0, location=location, what="download", rule=RETRIES_RULE)
            unavailable = [c for c in range(1, sut.connectors + 1) if cs.connector_status.status(c) == "Unavailable"]
            if unavailable:
                await cs.expect_all(*(connector_status(c, "Available") for c in unavailable),
                                    step="after 6 (expected: the connectors set Unavailable are Available again)")


@pytest.mark.firmware_management
@pytest.mark.tc("TC_044_3_CS", "Firmware Update - Installation Failed")
async def test_tc_044_3_cs_firmware_update_installation_failed(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_044_3_CS, OCPP 1.6 sections 5.19, 6.55, 8.

    UpdateFirmware with the location of a NOT supported file: the charge point reports
    Downloading, really downloads it, reports Downloaded, then InstallationFailed; Installing
    before it, a reboot and the statuses after it are optional and may come in another order.
    A reboot it does make is answered and its statuses must be Available.
    """
    cs = central_system
    async with transfer_servers(sut) as servers:
        protocol = await file_transfer_protocol(cs, sut, step="before")
        firmware = publish_firmware(servers, sut, protocol, valid=False)
        since = servers.record.mark()
        await cs.call("UpdateFirmware", {"location": firmware.url, "retrieveDate": now_iso()}, step="1-2 (UpdateFirmware)")
        start = len(cs.inbox.items)
        async with transfer_evidence(servers, firmware.url, since):
            await cs.expect_all(firmware_status("Downloading"), step="3-4 (FirmwareStatusNotification Downloading)")
            await cs.expect_all(firmware_status("Downloaded", "Downloading"),
                                step="5-6 (FirmwareStatusNotification Downloaded)", timeout=transfer_timeout(sut))
            await check_download(cs, servers, firmware, step="5", since=since)
            await cs.expect_all(firmware_status("InstallationFailed", "Installing"),
                                step="7-12 (FirmwareStatusNotification Installing (optional), InstallationFailed)",
                                timeout=transfer_timeout(sut) + cs.timeouts.connect)
        await _optional_reboot(cs, sut, start)


async def _optional_reboot(cs: CentralSystem, sut: SutHandle, start: int) -> None:
    """TC_044_3_CS steps 9-10 and 13-14: a reboot the charge point made is answered; every connector is Available after it."""
    boots = [r for r in cs.inbox.items[start:] if r.action == "BootNotification"]
    if not boots:
        return
    for boot in boots:
        await cs.answer(boot, None)  # BootNotification.conf Accepted (unless it was answered already)
    await cs.settle_boot()
    left = {c: cs.connector_status.status(c) for c in range(sut.connectors + 1)
            if cs.connector_status.status(c) != "Available"}
    if left:
        raise StepFailure("13-14", f"after its reboot the charge point reports {left} (connector: status); expected "
                                   "every connector Available", "catalog TC_044_3_CS step 13: the status is Available")


@pytest.mark.firmware_management
@pytest.mark.tc("TC_045_1_CS", "Get Diagnostics")
async def test_tc_045_1_cs_get_diagnostics(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_045_1_CS, OCPP 1.6 sections 5.9, 6.25, 6.26, 8.

    GetDiagnostics with an upload directory on the harness's server: Uploading, then a
    complete, non-empty file really arrives there, then Uploaded. Readings: a GetDiagnostics.conf
    without fileName (no diagnostics available) and a stored name other than the announced
    one are warnings; the upload decides.
    """
    cs = central_system
    async with transfer_servers(sut) as servers:
        protocol = await file_transfer_protocol(cs, sut, step="before")
        location = servers.upload_url(protocol)
        since = servers.record.mark()
        reply = await cs.call("GetDiagnostics", {"location": location}, step="1-2 (GetDiagnostics)")
        file_name = reply.get("fileName")  # type: ignore[union-attr]
        if not file_name:
            cs.warn("2", "GetDiagnostics.conf carries no fileName, which means no diagnostics are available",
                    "spec 6.26; the catalog's next steps expect an upload all the same")
        async with transfer_evidence(servers, location, since):
            await cs.expect_all(diagnostics_status("Uploading"), step="3-4 (DiagnosticsStatusNotification Uploading)")
            await cs.expect_all(diagnostics_status("Uploaded", "Uploading"), step="5-6 (DiagnosticsStatusNotification Uploaded)",
                                timeout=transfer_timeout(sut))
            await check_upload(cs, servers, location, file_name, step="5", since=since)


@pytest.mark.firmware_management
@pytest.mark.tc("TC_045_2_CS", "Get Diagnostics - Upload Failed")
async def test_tc_045_2_cs_get_diagnostics_upload_failed(central_system: CentralSystem, sut: SutHandle) -> None:
    """TC_045_2_CS, OCPP 1.6 sections 5.9, 6.25, 8.

    GetDiagnostics (retries 0) with a directory of the harness's server that refuses
    writes: Uploading, then UploadFailed, after at most one attempt.
    """
    cs = central_system
    async with transfer_servers(sut) as servers:
        protocol = await file_transfer_protocol(cs, sut, step="before")
        location = servers.refused_upload_url(protocol)
        since = servers.record.mark()
        await cs.call("GetDiagnostics", {"location": location, "retries": 0}, step="1-2 (GetDiagnostics, retries 0)")
        async with transfer_evidence(servers, location, since):
            await cs.expect_all(diagnostics_status("Uploading"), step="3-4 (DiagnosticsStatusNotification Uploading)")
            await cs.expect_all(diagnostics_status("UploadFailed", "Uploading"),
                                step="5-6 (DiagnosticsStatusNotification UploadFailed)", timeout=transfer_timeout(sut))
            await check_attempts(cs, servers, step="5", since=since, kinds=("refused_upload", "refused_login", "upload"),
                                 retries=0, location=location, what="upload to", rule=RETRIES_RULE)
