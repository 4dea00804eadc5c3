"""FirmwareManagement profile of the reference charge point (spec 4.4, 4.5, 5.9, 5.19, 8): UpdateFirmware and GetDiagnostics with real transfers.

UpdateFirmware: after retrieveDate the charge point really downloads the location
(harness.transfer_client, FTP or HTTP), trying 1 + ``retries`` times ``retryInterval``
apart (absent: 1 retry, 2 s), verifies the image (harness.firmware_image) and installs it by
rebooting; FirmwareStatusNotification reports Downloading, Downloaded, Installing, and after
the reboot's boot Installed; DownloadFailed when every attempt failed, InstallationFailed for
an image that does not verify (found before installing: no reboot).

GetDiagnostics: answers the name of the file it will upload, then really uploads a small
log to the location (a directory: the name is appended; FTP STOR or HTTP PUT), reporting
Uploading and Uploaded, or UploadFailed after 1 + ``retries`` attempts.

The statuses are what a triggered notification reports (charge_point_trigger), Idle when
nothing runs.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

from ..firmware_image import firmware_version, make_firmware_image, verify_firmware_image
from ..ocppj import Call, CallError
from ..transfer_client import TransferError, download, upload
from .charge_point_config import Key
from .charge_point_connectors import Connector, now_iso

__all__ = ["FAULTS", "VARIANTS", "FirmwareMixin"]

#: fault switches of this profile (merged into the charge point's --list-faults)
FAULTS: dict[str, str] = {
    "firmware_status_order_wrong": "report Installing before Downloaded",
    "firmware_installed_without_reboot": "report Installed without rebooting into the new firmware",
    "firmware_fake_download": "report Downloading and Downloaded (and install) without downloading the location",
    "firmware_wrong_url": "download the location with '-old' added to the file name (another file than the one asked for)",
    "firmware_corrupt_installed": "install an image whose checksum fails (no verification): Installed instead of "
                                  "InstallationFailed",
    "firmware_retries_ignored": "try a failing download 2 times more than 1 + retries, those at once",
    "diagnostics_not_uploaded": "report Uploading and Uploaded without uploading anything",
    "diagnostics_empty_file": "upload an empty diagnostics file",
    "diagnostics_failure_reported_uploaded": "report Uploaded when the upload failed",
}
#: variants of this profile (merged into the charge point's --list-variants)
VARIANTS: dict[str, str] = {
    "firmware_download_fails_at_once": "Downloading is reported only once the download succeeded: a failing one is "
                                       "reported DownloadFailed straight away (catalog TC_044_2_CS step 3: optional)",
    "firmware_install_fails_at_once": "an image that does not verify is reported InstallationFailed without Installing "
                                      "(catalog TC_044_3_CS step 7: optional)",
    "firmware_installed_before_reboot": "Installed is reported before the reboot, then BootNotification and the statuses "
                                        "(catalog TC_044_1_CS steps 9-14: another order is allowed)",
    "firmware_connectors_unavailable": "every connector is set Unavailable while the update runs and Available again "
                                       "after it (catalog TC_044_x_CS step 3: MAY)",
    "upload_post_multipart": "HTTP uploads (diagnostics) are POST multipart/form-data instead of PUT",
    "http_only": "SupportedFileTransferProtocols is HTTP (not FTP,HTTP): a central system must send HTTP locations",
}

DEFAULT_RETRIES = 1  # when UpdateFirmware / GetDiagnostics leave retries out: the charge point decides
DEFAULT_RETRY_INTERVAL = 2  # seconds
MAX_RETRIEVE_WAIT = 3600.0  # seconds: a retrieveDate further away is not waited for (a test run would not end)
TRANSFER_TIMEOUT = 30.0  # seconds per download or upload attempt
BOOT_WAIT = 60.0  # seconds: how long the Installed notification waits for the reboot's boot


def _count(payload: dict[str, Any], key: str, default: int) -> int:
    value = payload.get(key)
    return max(0, int(value)) if isinstance(value, int) else default


class FirmwareMixin:
    """CS-initiated operations of this profile (handlers named on_<Action>, found by HandlersMixin.handle_call)."""

    connectors: dict[int, Connector]
    faults: Any
    variants: Any
    outbox: Any
    cp_id: str
    boots: int
    #: what a triggered notification reports (spec 6.17, 6.19): the running transfer's last status, or Idle
    firmware_status: str = "Idle"
    diagnostics_status: str = "Idle"
    #: the version of the firmware installed last (the boot's firmwareVersion stays the charge point's own)
    installed_firmware: str | None = None
    _firmware_task: asyncio.Task[None] | None = None

    config: Any

    async def handle_call(self, call: Call) -> dict[str, Any] | CallError | None:
        self._install_firmware_keys()  # before GetConfiguration can report them
        return await super().handle_call(call)  # type: ignore[misc, no-any-return]

    def _install_firmware_keys(self) -> None:
        """SupportedFileTransferProtocols (R; errata 3.90) and the profile in SupportedFeatureProfiles."""
        if "SupportedFileTransferProtocols" in self.config.keys:
            return
        self.config.keys["SupportedFileTransferProtocols"] = Key("HTTP" if "http_only" in self.variants else "FTP,HTTP", True)
        profiles = self.config.csl("SupportedFeatureProfiles")
        if "FirmwareManagement" not in profiles:
            self.config.set_internal("SupportedFeatureProfiles", ",".join([*profiles, "FirmwareManagement"]))

    # -- UpdateFirmware ------------------------------------------------------------------------------
    async def on_UpdateFirmware(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The conf is empty (spec 6.56); the update runs after it, replacing one still running."""
        def start() -> None:
            if self._firmware_task is not None and not self._firmware_task.done():
                self._firmware_task.cancel()
            self._firmware_task = asyncio.get_running_loop().create_task(self.update_firmware(payload))
        self.later(start)  # type: ignore[attr-defined]  # HandlersMixin
        return {}

    def firmware_notify(self, status: str) -> None:
        self.firmware_status = status
        self.outbox.put("FirmwareStatusNotification", lambda: {"status": status})

    async def update_firmware(self, payload: dict[str, Any]) -> None:
        location = str(payload["location"])
        retries = _count(payload, "retries", DEFAULT_RETRIES)
        interval = _count(payload, "retryInterval", DEFAULT_RETRY_INTERVAL)
        if "firmware_retries_ignored" in self.faults:
            retries, interval = retries + 2, 0
        await self._until(payload.get("retrieveDate"))
        held = self._connectors_unavailable() if "firmware_connectors_unavailable" in self.variants else {}
        try:
            await self._download_and_install(location, retries, interval, held)
        finally:
            if self.firmware_status in ("DownloadFailed", "InstallationFailed", "Installed"):
                self.firmware_status = "Idle"

    async def _download_and_install(self, location: str, retries: int, interval: int, held: dict[int, bool]) -> None:
        at_once = "firmware_download_fails_at_once" in self.variants
        if not at_once:
            self.firmware_notify("Downloading")
        data = await self._download(location, retries, interval)
        if data is None:
            self.firmware_notify("DownloadFailed")
            self._connectors_back(held)
            return
        if at_once:
            self.firmware_notify("Downloading")
        if "firmware_status_order_wrong" in self.faults:
            self.firmware_notify("Installing")
        self.firmware_notify("Downloaded")
        problem = None if "firmware_corrupt_installed" in self.faults else verify_firmware_image(data)
        if problem is not None and "firmware_install_fails_at_once" in self.variants:
            self.firmware_notify("InstallationFailed")
            self._connectors_back(held)
            return
        if "firmware_status_order_wrong" not in self.faults:
            self.firmware_notify("Installing")
        if problem is not None:  # found before anything was replaced: the old firmware stays, no reboot
            self.firmware_notify("InstallationFailed")
            self._connectors_back(held)
            return
        self.installed_firmware = firmware_version(data)
        if "firmware_installed_without_reboot" in self.faults:
            self.firmware_notify("Installed")
            self._connectors_back(held)
            return
        if "firmware_installed_before_reboot" in self.variants:
            self.firmware_notify("Installed")
        await self.drain(5.0)  # type: ignore[attr-defined]  # the notifications go out before the reboot
        self._connectors_back(held, report=False)  # the boot reports every connector anyway
        before = self.boots
        self.reboot()  # type: ignore[attr-defined]
        if "firmware_installed_before_reboot" not in self.variants:
            await self._booted_since(before)
            self.firmware_notify("Installed")

    async def _download(self, location: str, retries: int, interval: int) -> bytes | None:
        """The image, after at most 1 + ``retries`` attempts ``interval`` s apart; None when every one failed."""
        if "firmware_fake_download" in self.faults:
            return make_firmware_image("fake", 1024)
        if "firmware_wrong_url" in self.faults:
            folder, slash, name = location.rpartition("/")
            stem, dot, suffix = name.rpartition(".")
            location = f"{folder}{slash}{stem}-old{dot}{suffix}" if dot else location + "-old"
        for attempt in range(retries + 1):
            try:
                return await download(location, timeout=TRANSFER_TIMEOUT)
            except TransferError:
                if attempt < retries:
                    await asyncio.sleep(interval)  # the charge point's own retry timer
        return None

    async def _until(self, moment: Any) -> None:
        """Wait for retrieveDate (spec 6.55: the charge point may retrieve the firmware from then on)."""
        try:
            when = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
        except ValueError:
            return
        delay = (when - datetime.now(timezone.utc)).total_seconds() if when.tzinfo else 0.0
        if delay > 0:
            await asyncio.sleep(min(delay, MAX_RETRIEVE_WAIT))

    async def _booted_since(self, before: int) -> None:
        """Wait (bounded) until the reboot's boot is Accepted and its statuses are out."""
        deadline = time.monotonic() + BOOT_WAIT
        while time.monotonic() < deadline and not (self.boots > before and self.outbox.open.is_set()):
            await asyncio.sleep(0.05)

    def _connectors_unavailable(self) -> dict[int, bool]:
        """Variant firmware_connectors_unavailable: every idle connector Unavailable; returns what to put back."""
        held: dict[int, bool] = {}
        for c in self.connectors.values():
            if c.id > 0 and c.transaction is None and c.operative:
                held[c.id], c.operative = c.operative, False
                self.update(c)  # type: ignore[attr-defined]  # ChargingMixin
        return held

    def _connectors_back(self, held: dict[int, bool], *, report: bool = True) -> None:
        for connector, operative in held.items():
            c = self.connectors[connector]
            c.operative = operative
            if report:
                self.update(c)  # type: ignore[attr-defined]

    # -- GetDiagnostics ------------------------------------------------------------------------------
    async def on_GetDiagnostics(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The conf names the file (spec 6.26); the upload runs after it."""
        name = f"diagnostics-{self.cp_id}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.log"
        self.later(lambda: self.upload_diagnostics(payload, name))  # type: ignore[attr-defined]
        return {"fileName": name}

    def diagnostics_notify(self, status: str) -> None:
        self.diagnostics_status = status
        self.outbox.put("DiagnosticsStatusNotification", lambda: {"status": status})

    async def upload_diagnostics(self, payload: dict[str, Any], name: str) -> None:
        retries = _count(payload, "retries", DEFAULT_RETRIES)
        interval = _count(payload, "retryInterval", DEFAULT_RETRY_INTERVAL)
        self.diagnostics_notify("Uploading")
        data = b"" if "diagnostics_empty_file" in self.faults else self._diagnostics_log(payload)
        uploaded = "diagnostics_not_uploaded" in self.faults
        post = "upload_post_multipart" in self.variants
        for attempt in range(retries + 1):
            if uploaded:
                break
            try:
                await upload(str(payload["location"]), data, timeout=TRANSFER_TIMEOUT, filename=name, directory=True,
                             method="POST" if post else "PUT", multipart=post)
                uploaded = True
            except TransferError:
                if attempt < retries:
                    await asyncio.sleep(interval)
        self.diagnostics_notify("Uploaded" if uploaded or "diagnostics_failure_reported_uploaded" in self.faults
                                else "UploadFailed")
        self.diagnostics_status = "Idle"

    def _diagnostics_log(self, payload: dict[str, Any]) -> bytes:
        """A small log: the window asked for, the connectors and the last firmware update."""
        window = f"{payload.get('startTime', '-')} .. {payload.get('stopTime', '-')}"
        lines = [f"{now_iso()} diagnostics of {self.cp_id} (window {window})"]
        lines += [f"{now_iso()} connector {c.id}: {c.status}" for c in self.connectors.values()]
        lines.append(f"{now_iso()} firmware: {self.installed_firmware or 'as delivered'}; boots: {self.boots}")
        return ("\n".join(lines) + "\n").encode()
