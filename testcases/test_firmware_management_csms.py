"""FirmwareManagement profile, central system under test (the harness is the charge point): TC_044_x_CSMS, TC_045_x_CSMS.

The harness charge point transfers for real: it downloads the location UpdateFirmware names
(FTP, HTTP or HTTPS; harness.transfer_client), honouring retrieveDate, retries and
retryInterval, installs only an image of harness.firmware_image that verifies (make one
for the central system's file server with ``python -m harness.firmware_image VERSION SIZE
FILE``, ``--corrupt`` for TC_044_3), and uploads a diagnostics file to the location
GetDiagnostics names (FTP STOR, or HTTP as ``extra.http_upload`` says: put, post, multipart).
Its notifications report what really happened, so a central system whose location does
not work as the case needs fails, naming the location (redacted): the operator is asked
for an installable, a missing or a corrupt firmware (``cs_update_firmware`` ``firmware``)
and for an accepting or a refusing upload location (``cs_get_diagnostics`` ``upload``).

Every case starts from the reusable state Booted. The location must be an absolute
ftp/ftps/http/https URL naming a host (spec 6.25, 6.55, 8). A retrieveDate further ahead
than ``timeouts.step`` is waited for that long only, with a warning (the case needs the
download now); the harness's retries are capped at 5, its retry interval at the step timeout.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from harness.errors import PayloadMismatch, StepFailure
from harness.firmware_image import firmware_version, verify_firmware_image
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from harness.transfer_client import TransferError, download, redact_url, upload
from testcases.states_central_system import booted, operator_sends, status
from testcases.states_firmware import check_location

MAX_RETRIES = 5
MAKE_IMAGE = "python -m harness.firmware_image VERSION SIZE FILE"


async def _notify(charge_point: ChargePoint, action: str, state: str, *, step: str) -> None:
    await charge_point.call(action, {"status": state}, step=step)


def _count(request: dict[str, Any], key: str, cap: float) -> int:
    value = request.get(key)
    return int(min(max(value, 0), cap)) if isinstance(value, int) else 0


async def _retries(charge_point: ChargePoint, sut: SutHandle, request: dict[str, Any], what: str, attempt: Any, *,
                   step: str) -> tuple[Any, list[str]]:
    """``attempt()`` 1 + ``retries`` times, ``retryInterval`` s apart: (its result or None, why each attempt failed)."""
    retries = _count(request, "retries", MAX_RETRIES)
    interval = _count(request, "retryInterval", sut.config.timeouts.step)
    failures: list[str] = []
    for n in range(retries + 1):
        try:
            return await attempt(), failures
        except TransferError as exc:
            failures.append(f"attempt {n + 1}: {exc.reason}")
            charge_point.trace.event(f"harness charge point: {exc}")
            if n < retries:
                await charge_point.idle(interval, step=f"{step} (retryInterval before retrying the {what})")
    return None, failures


async def _update_firmware(charge_point: ChargePoint, sut: SutHandle, firmware: str) -> dict[str, Any]:
    """Steps 1-2: the operator's UpdateFirmware (location of ``firmware`` firmware); then wait for retrieveDate."""
    got = await operator_sends(charge_point, sut, "cs_update_firmware", "UpdateFirmware", step="1-2", reply={},
                               params={"firmware": firmware})
    check_location(got.payload["location"], step="1", what="UpdateFirmware.req location")
    when = datetime.fromisoformat(got.payload["retrieveDate"].replace("Z", "+00:00"))
    ahead = (when - datetime.now(timezone.utc)).total_seconds()
    if ahead > sut.config.timeouts.step:
        charge_point.warn("1", f"retrieveDate {got.payload['retrieveDate']} is {ahead:.0f}s ahead; the harness charge point "
                               f"waits {sut.config.timeouts.step:g}s (timeouts.step) and downloads then",
                          "spec 6.55: the charge point may retrieve the firmware from retrieveDate on; the case needs it now")
    if ahead > 0:
        await charge_point.idle(min(ahead, sut.config.timeouts.step), step="3 (waiting for retrieveDate)")
    return got.payload


async def _download(charge_point: ChargePoint, sut: SutHandle, request: dict[str, Any]) -> tuple[bytes | None, list[str]]:
    """Step 3: Downloading, then the real download (with the request's retries)."""
    await _notify(charge_point, "FirmwareStatusNotification", "Downloading", step="3-4")
    location = request["location"]
    return await _retries(charge_point, sut, request, "download",
                          lambda: download(location, timeout=sut.config.timeouts.step), step="3")  # type: ignore[no-any-return]


def _downloaded(request: dict[str, Any], data: bytes | None, failures: list[str], case: str) -> bytes:
    if data is None:
        raise StepFailure("5", f"the harness charge point could not download the firmware from "
                               f"{redact_url(request['location'])}: {failures[-1]}",
                          "\n".join(f"  - {f}" for f in failures) + f"\n{case} needs a location the charge point can download from")
    return data


async def _install(charge_point: ChargePoint, sut: SutHandle, outcome: str) -> None:
    """Steps 7-16: connectors Unavailable, Installing, the reboot (Booted) and ``outcome`` (Installed / InstallationFailed)."""
    for connector in range(sut.connectors + 1):
        await status(charge_point, connector, "Unavailable", step=f"7-8 (StatusNotification connector {connector} Unavailable)")
    await _notify(charge_point, "FirmwareStatusNotification", "Installing", step="9-10")
    await charge_point.connect(step="11 (the charge point reboots to install the firmware)")
    await booted(charge_point, sut, boot_step="11-12", status_step="13-14")
    await _notify(charge_point, "FirmwareStatusNotification", outcome, step="15-16")


@pytest.mark.firmware_management
@pytest.mark.tc("TC_044_1_CSMS", "Firmware Update - Download and Install")
async def test_tc_044_1_csms_firmware_update_download_and_install(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_044_1_CSMS, OCPP 1.6 sections 5.19, 6.55, 4.4, 8.

    The operator updates the firmware: UpdateFirmware with a URL location; the harness
    charge point downloads it for real, and the image must verify (an installable firmware);
    the central system answers every FirmwareStatusNotification through Installed, the
    StatusNotifications and the reboot's BootNotification.
    """
    await booted(charge_point, sut)
    request = await _update_firmware(charge_point, sut, "installable")
    data = _downloaded(request, *await _download(charge_point, sut, request), "TC_044_1_CSMS")
    await _notify(charge_point, "FirmwareStatusNotification", "Downloaded", step="5-6")
    problem = verify_firmware_image(data)
    if problem is not None:
        raise PayloadMismatch("5", f"the firmware at {redact_url(request['location'])} cannot be installed: {problem}",
                              f"TC_044_1_CSMS needs an installable firmware; the harness charge point installs images made "
                              f"by {MAKE_IMAGE}")
    charge_point.trace.event(f"harness charge point: installs firmware {firmware_version(data)!r} ({len(data)} bytes)")
    await _install(charge_point, sut, "Installed")


@pytest.mark.firmware_management
@pytest.mark.tc("TC_044_2_CSMS", "Firmware Update - Download Failed")
async def test_tc_044_2_csms_firmware_update_download_failed(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_044_2_CSMS, OCPP 1.6 sections 5.19, 6.55, 8.

    The operator updates the firmware from a location where the download fails (a missing
    file): the harness charge point really tries (with the request's retries) and reports
    Downloading and DownloadFailed; the central system answers both.
    """
    await booted(charge_point, sut)
    request = await _update_firmware(charge_point, sut, "missing")
    data, _ = await _download(charge_point, sut, request)
    if data is not None:
        raise StepFailure("5", f"the download of {redact_url(request['location'])} succeeded ({len(data)} bytes); "
                               "TC_044_2_CSMS needs a location where it fails",
                          "the operator was asked for the location of a missing firmware file (cs_update_firmware firmware=missing)")
    await _notify(charge_point, "FirmwareStatusNotification", "DownloadFailed", step="5-6")


@pytest.mark.firmware_management
@pytest.mark.tc("TC_044_3_CSMS", "Firmware Update - Installation Failed")
async def test_tc_044_3_csms_firmware_update_installation_failed(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_044_3_CSMS, OCPP 1.6 sections 5.19, 6.55, 8.

    The operator updates the firmware with an image that downloads but does not install
    (a corrupt one): the harness charge point downloads it, finds it does not verify, and
    reports Downloaded, Installing, reboots, and reports InstallationFailed; the central
    system answers every message.
    """
    await booted(charge_point, sut)
    request = await _update_firmware(charge_point, sut, "corrupt")
    data = _downloaded(request, *await _download(charge_point, sut, request), "TC_044_3_CSMS")
    await _notify(charge_point, "FirmwareStatusNotification", "Downloaded", step="5-6")
    if verify_firmware_image(data) is None:
        raise StepFailure("15", f"the firmware at {redact_url(request['location'])} is a valid image (version "
                                f"{firmware_version(data)!r}): the harness charge point would install it",
                          f"TC_044_3_CSMS needs one whose installation fails (operator: firmware=corrupt; make one with "
                          f"{MAKE_IMAGE} --corrupt)")
    await _install(charge_point, sut, "InstallationFailed")


async def _get_diagnostics(charge_point: ChargePoint, sut: SutHandle, upload_kind: str, file_name: str) -> dict[str, Any]:
    got = await operator_sends(charge_point, sut, "cs_get_diagnostics", "GetDiagnostics", step="1-2",
                               reply={"fileName": file_name}, params={"upload": upload_kind})
    check_location(got.payload["location"], step="1", what="GetDiagnostics.req location")
    return got.payload


async def _upload(charge_point: ChargePoint, sut: SutHandle, request: dict[str, Any], file_name: str) -> list[str]:
    """Step 3: Uploading, then the real upload (with the request's retries); the failures ([] when it worked)."""
    await _notify(charge_point, "DiagnosticsStatusNotification", "Uploading", step="3-4")
    how = str(sut.config.extra.get("http_upload", "put")).lower()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data = (f"{stamp} diagnostics of {sut.config.charge_point_id} (harness charge point)\n"
            f"{stamp} window {request.get('startTime', '-')} .. {request.get('stopTime', '-')}\n").encode()
    result, failures = await _retries(
        charge_point, sut, request, "upload",
        lambda: upload(request["location"], data, timeout=sut.config.timeouts.step, filename=file_name, directory=True,
                       method="PUT" if how == "put" else "POST", multipart=how == "multipart"), step="3")
    return [] if result is not None else failures


def _file_name(sut: SutHandle) -> str:
    return f"diagnostics-{sut.config.charge_point_id}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.log"


@pytest.mark.firmware_management
@pytest.mark.tc("TC_045_1_CSMS", "Get Diagnostics")
async def test_tc_045_1_csms_get_diagnostics(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_045_1_CSMS, OCPP 1.6 sections 5.9, 6.25, 6.26, 8.

    The operator asks for diagnostics: GetDiagnostics with a URL location; the harness
    charge point names its file, uploads it there for real, and reports Uploading and
    Uploaded; the central system answers both.
    """
    await booted(charge_point, sut)
    name = _file_name(sut)
    request = await _get_diagnostics(charge_point, sut, "accepting", name)
    failures = await _upload(charge_point, sut, request, name)
    if failures:
        raise StepFailure("5", f"the harness charge point could not upload its diagnostics to "
                               f"{redact_url(request['location'])}: {failures[-1]}",
                          "\n".join(f"  - {f}" for f in failures) + "\nTC_045_1_CSMS needs a location that accepts the upload")
    await _notify(charge_point, "DiagnosticsStatusNotification", "Uploaded", step="5-6")


@pytest.mark.firmware_management
@pytest.mark.tc("TC_045_2_CSMS", "Get Diagnostics - Upload Failed")
async def test_tc_045_2_csms_get_diagnostics_upload_failed(charge_point: ChargePoint, sut: SutHandle) -> None:
    """TC_045_2_CSMS, OCPP 1.6 sections 5.9, 6.25, 8.

    The operator asks for diagnostics to a location that refuses the upload: the harness
    charge point really tries and reports Uploading and UploadFailed; the central system
    answers both.
    """
    await booted(charge_point, sut)
    name = _file_name(sut)
    request = await _get_diagnostics(charge_point, sut, "refusing", name)
    if not await _upload(charge_point, sut, request, name):
        raise StepFailure("5", f"the upload to {redact_url(request['location'])} succeeded; TC_045_2_CSMS needs a "
                               "location that refuses it",
                          "the operator was asked for a refusing upload location (cs_get_diagnostics upload=refusing)")
    await _notify(charge_point, "DiagnosticsStatusNotification", "UploadFailed", step="5-6")
