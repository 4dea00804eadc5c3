"""Shared steps of the FirmwareManagement cases (spec 4.4, 4.5, 5.9, 5.19, 8) with real file transfers.

Charge point under test (the harness is the central system):

* :func:`transfer_timeout`: how long a step waiting on a transfer may take (``extra.transfer_timeout``,
  default the step timeout: a real firmware may take minutes);
* :func:`transfer_servers`: the FTP and HTTP servers of one case, as the SUT config's
  ``transfer:`` section says (harness.transfer_config.TransferConfig: host, ports, the external
  URLs a charge point reaches them by);
* :func:`file_transfer_protocol`: FTP or HTTP, from ``extra.transfer_protocol`` or the
  charge point's SupportedFileTransferProtocols (the catalog's prerequisite); FTP when it
  does not report the key (spec 8 recommends FTP);
* :func:`publish_firmware`: the firmware the harness serves: ``extra.firmware_file`` /
  ``extra.invalid_firmware_file`` (a vendor's own valid and NOT supported files), else an
  image of harness.firmware_image (valid, or corrupt: the reference charge point checks it);
* :func:`firmware_status` / :func:`diagnostics_status`: a notification step in the catalog's
  order: another status of that notification fails the step at once (the same status again,
  a progress report, is tolerated);
* :func:`check_download`, :func:`check_upload`, :func:`check_attempts`: what really reached
  the servers; :func:`transfer_evidence` adds the location (redacted) and the servers' record
  to any failure of the steps it wraps.

Central system under test (the harness is the charge point): :func:`check_location` judges
the location a central system sends.
"""

from __future__ import annotations

import hashlib
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urlsplit

import pytest

from harness.errors import PayloadMismatch, StepFailure, UnexpectedMessage
from harness.firmware_image import corrupt_firmware_image, make_firmware_image
from harness.inbox import Expectation, Received
from harness.roles.central_system import CentralSystem
from harness.sut import SutHandle
from harness.transfer import TransferServers
from harness.transfer_client import redact_url
from harness.transfer_config import TransferConfig
from harness.transfer_record import TransferEvent, TransferTimeout
from testcases.states_charge_point import get_configuration

__all__ = [
    "Published", "transfer_timeout", "transfer_servers", "file_transfer_protocol", "publish_firmware", "firmware_status",
    "diagnostics_status", "check_download", "check_upload", "check_attempts", "transfer_evidence", "check_location",
]

SERVED = ("ftp", "http")  # what the harness's servers speak
IMAGE_SIZE = 64 * 1024
IMAGE_VERSION = "harness-2.0.0"


@dataclass(frozen=True)
class Published:
    """A file the harness serves as firmware, and the URL the charge point gets."""

    name: str
    data: bytes
    url: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def location(self) -> str:
        return redact_url(self.url)


def transfer_timeout(sut: SutHandle) -> float:
    """How long a step that waits on a transfer may take: ``extra.transfer_timeout`` (s), default ``timeouts.step``."""
    return float(sut.config.extra.get("transfer_timeout", sut.config.timeouts.step))


@asynccontextmanager
async def transfer_servers(sut: SutHandle) -> AsyncIterator[TransferServers]:
    """The servers for one case (``transfer:`` of the SUT config); stopped, files removed, when it ends."""
    async with TransferServers(TransferConfig.from_mapping(sut.config.transfer)) as servers:
        yield servers


async def file_transfer_protocol(cs: CentralSystem, sut: SutHandle, *, step: str) -> str:
    """``ftp`` or ``http``: ``extra.transfer_protocol``, else the first the charge point supports that the harness serves."""
    wanted = sut.config.extra.get("transfer_protocol")
    if wanted:
        if str(wanted).lower() not in SERVED:
            raise pytest.UsageError(f"extra.transfer_protocol {wanted!r}: the harness serves {', '.join(SERVED)}")
        return str(wanted).lower()
    keys = await get_configuration(cs, f"{step} (GetConfiguration SupportedFileTransferProtocols)",
                                   "SupportedFileTransferProtocols")
    value = keys.get("SupportedFileTransferProtocols", {}).get("value")
    if not value:
        return "ftp"
    offered = [p.strip().lower() for p in str(value).split(",")]
    chosen = next((p for p in SERVED if p in offered), None)
    if chosen is None:
        pytest.skip(f"prerequisite not met: SupportedFileTransferProtocols is {value!r}; the harness serves FTP and HTTP "
                    "(FTPS and HTTPS are not served)")
    return chosen


def publish_firmware(servers: TransferServers, sut: SutHandle, protocol: str, *, valid: bool = True) -> Published:
    """Serve the case's firmware: the vendor's file from ``extra`` if configured, else a harness image."""
    key = "firmware_file" if valid else "invalid_firmware_file"
    configured = sut.config.extra.get(key)
    if configured:
        path = Path(str(configured))
        name, data = path.name, path.read_bytes()
    else:
        name = f"firmware-{IMAGE_VERSION}{'' if valid else '-corrupt'}.bin"
        data = (make_firmware_image if valid else corrupt_firmware_image)(IMAGE_VERSION, IMAGE_SIZE)
    servers.put_file(name, data)
    return Published(name, data, servers.firmware_url(protocol, name))


@dataclass
class Notification(Expectation):
    """A status notification step: every notification of its kind is about this step (any other status fails it)."""

    previous: str | None = None  # the status of the step before: sent again, it is a progress report

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.previous is not None and self.tolerate is None:
            previous = self.previous
            self.tolerate = lambda payload: payload.get("status") == previous

    def identifies(self, received: Received) -> bool:
        return received.action == self.action


def firmware_status(status: Any, previous: str | None = None) -> Notification:
    """FirmwareStatusNotification ``status`` (a value or OneOf); ``previous`` again is tolerated."""
    return Notification("FirmwareStatusNotification", {"status": status}, previous=previous)


def diagnostics_status(status: Any, previous: str | None = None) -> Notification:
    return Notification("DiagnosticsStatusNotification", {"status": status}, previous=previous)


@asynccontextmanager
async def transfer_evidence(servers: TransferServers, location: str, since: int) -> AsyncIterator[None]:
    """Any step failure inside names the location (redacted) and what the servers recorded since ``since``."""
    try:
        yield
    except StepFailure as exc:
        summary = servers.record.summary(since)
        lines = [exc.detail] if exc.detail else []
        lines.append(f"location: {redact_url(location)}")
        if summary not in exc.detail:
            lines.append(summary)
        raise type(exc)(exc.step, exc.problem, "\n".join(lines)) from None


async def check_download(cs: CentralSystem, servers: TransferServers, firmware: Published, *, step: str,
                         since: int) -> TransferEvent:
    """The charge point reported Downloaded: the file must have reached it, whole (bytes and sha256)."""
    try:
        event = await servers.wait_download(firmware.url, cs.timeouts.timing_tolerance, since=since)
    except TransferTimeout as exc:
        raise StepFailure(step, f"the charge point reported Downloaded, but no complete download of {firmware.location} "
                                f"reached the harness's server", str(exc)) from None
    if event.sha256 != firmware.sha256:
        raise PayloadMismatch(step, f"the charge point downloaded {event.size} bytes of {firmware.location} (sha256 "
                                    f"{event.sha256[:16]}...), not the {len(firmware.data)} bytes served (sha256 "
                                    f"{firmware.sha256[:16]}...)", servers.record.scrub(event.describe()))
    return event


async def check_upload(cs: CentralSystem, servers: TransferServers, location: str, file_name: str | None, *, step: str,
                       since: int) -> TransferEvent:
    """The charge point reported Uploaded: a complete, non-empty file must have reached the location."""
    try:
        event = await servers.wait_upload(cs.timeouts.timing_tolerance, since=since)
    except TransferTimeout as exc:
        raise StepFailure(step, f"the charge point reported Uploaded, but no complete upload to {redact_url(location)} "
                                f"reached the harness's server", str(exc)) from None
    if event.size == 0:
        raise PayloadMismatch(step, f"the charge point uploaded an empty file ({event.path}) to {redact_url(location)}",
                              "spec 5.9: the charge point uploads its diagnostics information")
    stored = event.path.rsplit("/", 1)[-1]
    if file_name and stored != file_name:
        cs.warn(step, f"the charge point uploaded {stored!r}; its GetDiagnostics.conf announced fileName {file_name!r}",
                "spec 6.26: fileName is the name of the file that will be uploaded")
    return event


def attempts(servers: TransferServers, since: int, kinds: Iterable[str]) -> int:
    """How many transfers the record shows from ``since`` on: FTP sessions, HTTP GET/PUT/POST requests."""
    events = [e for e in servers.record.events[since:] if e.kind in set(kinds)]
    ftp = {e.client for e in events if e.protocol == "ftp"}
    http = [e for e in events if e.protocol == "http" and e.detail.split(":")[0].split()[0] in ("GET", "PUT", "POST")]
    return len(ftp) + len(http)


async def check_attempts(cs: CentralSystem, servers: TransferServers, *, step: str, since: int, kinds: tuple[str, ...],
                         retries: int, location: str, what: str, rule: str) -> None:
    """A failed transfer: the charge point tried (else a warning) and at most 1 + ``retries`` times (else a failure)."""
    try:
        await servers.record.wait_for(f"attempt to {what}", lambda e: e.kind in kinds, cs.timeouts.timing_tolerance, since)
    except TransferTimeout:
        cs.warn(step, f"the charge point reported the failure without trying to {what} {redact_url(location)} (nothing "
                      f"reached the harness's server)", "the failure may come before any transfer (catalog)")
        return
    tried = attempts(servers, since, kinds)
    if tried > retries + 1:
        raise PayloadMismatch(step, f"the charge point tried {tried} times to {what} {redact_url(location)}; the request "
                                    f"said retries {retries} (at most {retries + 1} attempts)",
                              f"{servers.record.summary(since)}\n{rule}")


def check_location(location: str, *, step: str, what: str) -> None:
    """A location a charge point can transfer with: an absolute ftp/ftps/http/https URL naming a host (spec 8)."""
    try:
        parts = urlsplit(location)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in ("ftp", "ftps", "http", "https") or not host:
        raise UnexpectedMessage(step, f"{what} {redact_url(location)!r} is not a URL a charge point can transfer with",
                                "spec 6.25/6.55: location is a URI; spec 8: the protocol comes from its scheme (FTP, "
                                "FTPS, HTTP, HTTPS), e.g. ftp://user:password@host:port/path")
