"""FirmwareManagement and RemoteTrigger in the reference central system (spec 5.9, 5.17, 5.19, 8).

The central system has real file servers (harness.transfer.TransferServers, FTP and HTTP on
loopback, started with its first firmware or diagnostics command): its UpdateFirmware
location is a real image and its GetDiagnostics location really accepts uploads. What the
charge points did with them is in ``GET /state`` under the charge point's ``transfers``.

Operator words:

* ``cs_update_firmware``: UpdateFirmware (retrieveDate now) with the location ``firmware``
  names: ``installable`` (a valid image, the default), ``missing`` (a file the server does
  not have), ``corrupt`` (an image whose checksum fails: it downloads but does not install)
  or ``unreachable`` (a port nothing listens on);
* ``cs_get_diagnostics``: GetDiagnostics with the location ``upload`` names: ``accepting``
  (the default), ``refusing`` (a directory that refuses writes) or ``unreachable``;
* ``cs_trigger_message``: TriggerMessage of ``requested_message``, for ``connector`` if given.

Faults make it send a wrong request on purpose; variants take other paths the spec allows.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from ..transfer import TransferServers
from .central_system_handlers import iso

__all__ = ["FAULTS", "VARIANTS", "builders", "scripts"]

FAULTS: dict[str, str] = {
    "update_firmware_no_retrieve_date": "send UpdateFirmware without the (required) retrieveDate",
    "update_firmware_location_not_url": "send UpdateFirmware with a bare file name as location, not a URL",
    "update_firmware_file_missing": "the UpdateFirmware location names a file its server does not have, whatever the "
                                    "operator asked",
    "get_diagnostics_location_not_url": "send GetDiagnostics with a bare directory name as location, not a URL",
    "diagnostics_location_refuses": "the GetDiagnostics location refuses uploads, whatever the operator asked",
    "trigger_message_wrong_message": "send TriggerMessage for another message than the operator asked for",
    "trigger_unknown_connector_refused": "refuse to send TriggerMessage for a connector the charge point has not reported",
}

VARIANTS: dict[str, str] = {
    "transfers_over_http": "firmware and diagnostics locations are HTTP URLs (default: FTP)",
    "retrieve_date_ahead": "UpdateFirmware's retrieveDate lies options.retrieve_delay seconds (default 2) ahead",
    "transfer_retries": "UpdateFirmware and GetDiagnostics carry retries options.retries (default 2) and retryInterval 1 s",
    "diagnostics_time_window": "GetDiagnostics carries startTime (one hour ago) and stopTime (now)",
}

#: op.send(cp_id, record, word, action, payload) -> the charge point's reply (or callerror) as a dict
Send = Callable[[str, dict[str, Any], str, str, dict[str, Any]], Awaitable[dict[str, Any]]]

FIRMWARE_VERSION = "sim-cs-2.0.0"
OTHER_MESSAGE = {"Heartbeat": "StatusNotification"}  # fault trigger_message_wrong_message: what it sends instead


def _refused(reason: str) -> Exception:
    """The operator's screen says no (central_system_operator.Refused; imported late: that module imports this one)."""
    from .central_system_operator import Refused

    return Refused(reason)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FileTransfers:
    """UpdateFirmware and GetDiagnostics with locations on its own servers; TriggerMessage."""

    def __init__(self, operator: Any) -> None:
        self.operator = operator
        self.faults = operator.faults
        self.variants = operator.variants
        self._servers: TransferServers | None = None
        self._images: dict[str, str] = {}

    async def servers(self) -> TransferServers:
        """The file servers, started on first use (for the rest of the run), with a valid and a corrupt image."""
        if self._servers is None:
            servers = await TransferServers().start()
            self._images = {"installable": servers.publish_firmware(FIRMWARE_VERSION),
                            "corrupt": servers.publish_corrupt_firmware(FIRMWARE_VERSION)}
            self._servers = servers
        return self._servers

    @property
    def protocol(self) -> str:
        return "http" if "transfers_over_http" in self.variants else "ftp"

    def _retries(self, payload: dict[str, Any]) -> None:
        if "transfer_retries" in self.variants:
            payload.update(retries=int(self.variants.option("retries", 2)), retryInterval=1)

    async def update_firmware(self, send: Send, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        servers = await self.servers()
        record["transfers"] = servers.record  # GET /state shows what the charge point did with the location
        kind = "missing" if "update_firmware_file_missing" in self.faults else str(p.get("firmware", "installable"))
        if kind in self._images:
            location = servers.firmware_url(self.protocol, self._images[kind])
        elif kind == "missing":
            location = servers.missing_url(self.protocol)
        elif kind == "unreachable":
            location = f"{self.protocol}://127.0.0.1:{_closed_port()}/firmware/{FIRMWARE_VERSION}.bin"
        else:
            raise _refused(f"firmware {kind!r}: give installable, missing, corrupt or unreachable")
        if "update_firmware_location_not_url" in self.faults:
            location = location.rsplit("/", 1)[-1]
        delay = float(self.variants.option("retrieve_delay", 2)) if "retrieve_date_ahead" in self.variants else 0.0
        payload: dict[str, Any] = {"location": location,
                                   "retrieveDate": iso(datetime.now(timezone.utc) + timedelta(seconds=delay))}
        if "update_firmware_no_retrieve_date" in self.faults:
            del payload["retrieveDate"]
        self._retries(payload)
        reply = await send(cp_id, record, "cs_update_firmware", "UpdateFirmware", payload)
        return {"action": "UpdateFirmware", "sent": payload, "reply": reply}

    async def get_diagnostics(self, send: Send, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        servers = await self.servers()
        record["transfers"] = servers.record
        kind = "refusing" if "diagnostics_location_refuses" in self.faults else str(p.get("upload", "accepting"))
        if kind == "accepting":
            location = servers.upload_url(self.protocol)
        elif kind == "refusing":
            location = servers.refused_upload_url(self.protocol)
        elif kind == "unreachable":
            location = f"{self.protocol}://127.0.0.1:{_closed_port()}/upload/"
        else:
            raise _refused(f"upload {kind!r}: give accepting, refusing or unreachable")
        if "get_diagnostics_location_not_url" in self.faults:
            location = "upload/"
        payload: dict[str, Any] = {"location": location}
        self._retries(payload)
        if "diagnostics_time_window" in self.variants:
            now = datetime.now(timezone.utc)
            payload.update(startTime=iso(now - timedelta(hours=1)), stopTime=iso(now))
        reply = await send(cp_id, record, "cs_get_diagnostics", "GetDiagnostics", payload)
        return {"action": "GetDiagnostics", "sent": payload, "reply": reply}

    def trigger_message(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        requested = str(p["requested_message"])
        if "trigger_message_wrong_message" in self.faults:
            requested = OTHER_MESSAGE.get(requested, "Heartbeat")
        payload: dict[str, Any] = {"requestedMessage": requested}
        if p.get("connector") is not None:
            connector = int(p["connector"])
            if "trigger_unknown_connector_refused" in self.faults and connector not in self.operator.connectors:
                raise _refused(f"connector {connector} is unknown (the charge point reported {self.operator.connectors})")
            payload["connectorId"] = connector
        return "TriggerMessage", payload


def builders(operator: Any) -> dict[str, Any]:
    transfers = operator.__dict__.setdefault("file_transfers", FileTransfers(operator))
    return {"cs_trigger_message": transfers.trigger_message}


def scripts(operator: Any) -> dict[str, Any]:
    """UpdateFirmware and GetDiagnostics start the file servers first (async): scripts."""
    transfers = operator.__dict__.setdefault("file_transfers", FileTransfers(operator))
    return {"cs_update_firmware": transfers.update_firmware, "cs_get_diagnostics": transfers.get_diagnostics}
