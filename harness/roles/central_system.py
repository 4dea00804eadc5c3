"""The harness as central system, for a charge point under test (``--ocpp-sut cp``).

Listens at ``ws://host:port{path}/{chargePointId}``; each (re)connection of the
charge point becomes the live session. Background traffic is answered at once;
everything else waits for a step to claim it (see harness.inbox), and gets the
default reply below if none does.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from websockets.asyncio.server import Server, ServerConnection

from .. import schemas
from ..config import SutConfig
from ..errors import PayloadMismatch, ProtocolFailure, UnexpectedMessage
from ..field_checks import FieldChecks
from ..inbox import ErrorReply
from ..models.connector_status import ConnectorStatusTracker
from ..models.local_auth_list import VALID_STATUSES, LocalAuthList, PayloadError, apply_send_local_list
from ..ocppj import Call, CallError
from ..session import Session
from ..trace import Entry, Trace
from ..transport import SUBPROTOCOL, Handshake, serve_central_system
from ..waits import within
from .base import Role

__all__ = ["CentralSystem", "now_iso"]


def now_iso() -> str:
    """The current UTC time as OCPP sends it (RFC 3339, milliseconds, 'Z')."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CentralSystem(Role):
    """Impersonates an OCPP 1.6 central system."""

    peer_actions = schemas.CHARGE_POINT_ACTIONS
    background_actions = frozenset({
        "Heartbeat", "StatusNotification", "MeterValues", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "LogStatusNotification", "SecurityEventNotification",
        "SignedFirmwareStatusNotification",
    })

    def __init__(self, config: SutConfig) -> None:
        super().__init__(config)
        self.server: Server | None = None
        self.port = config.listen_port
        self.boot_notification: dict[str, Any] | None = None  # the SUT's identity, for the report
        self.refusals: list[str] = []
        self._transaction_ids = itertools.count(1001)
        #: every transactionId this central system issued -> the StartTransaction.req it answered
        self.issued_transactions: dict[int, dict[str, Any]] = {}
        #: transactionIds of every StopTransaction.req received
        self.stopped_transactions: set[int] = set()
        self._connections = itertools.count(1)
        self.connector_status = ConnectorStatusTracker()
        # connectors (0..n) whose StatusNotification is still due after the last BootNotification
        self._after_boot: set[int] = set()
        self._boot_settled = asyncio.Event()
        self._boot_settled.set()
        #: the Local Authorization List the charge point holds, as far as this central system knows:
        #: every SendLocalList.req it sent that the charge point Accepted, applied in order (None: never sent)
        self.accepted_local_list: LocalAuthList | None = None
        #: configuration values the charge point reported (GetConfiguration) or accepted (ChangeConfiguration)
        self.known_configuration: dict[str, str] = {}
        #: the configuration every case starts from (harness.common_state), taken before the first case
        self.baseline_configuration: dict[str, str] | None = None
        #: keys a ChangeConfiguration changed since the common state was last restored
        self.changed_keys: set[str] = set()
        #: reservationIds of ReserveNow requests the charge point Accepted and that no CancelReservation ended
        self.open_reservations: set[int] = set()
        #: registers, closed transactions and clocks, judged on every CALL of the charge point (harness.field_checks)
        self.field_checks = FieldChecks(started=datetime.now(timezone.utc),
                                        deviation=timedelta(seconds=config.timeouts.clock_deviation))

    @property
    def url(self) -> str:
        return f"ws://{self.config.listen_host}:{self.port}{self.config.listen_path}"

    async def start(self) -> None:
        """Start listening (port 0 picks a free one; :attr:`port` tells which)."""
        self.server = await serve_central_system(
            self.config.listen_host, self.config.listen_port, self.config.listen_path, self._handle,
            password=self.config.basic_auth_password, on_refused=self._refused,
            open_timeout=self.timeouts.connect,
        )
        self.port = next(iter(self.server.sockets)).getsockname()[1]

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _refused(self, reason: str) -> None:
        self.refusals.append(reason)
        self.trace.event(f"connection refused: {reason}")

    async def _handle(self, connection: ServerConnection, handshake: Handshake) -> None:
        name = f"{handshake.identity}#{next(self._connections)}"
        previous = self.session
        session = self.new_session(connection, name)
        if previous is not None and not previous.closed.is_set():
            self.trace.event(f"{previous.name}: replaced by a new connection of the same charge point")
            await previous.close()
        if handshake.subprotocol != SUBPROTOCOL:
            self.record_violation(ProtocolFailure(
                "", f"the charge point did not offer WebSocket subprotocol {SUBPROTOCOL!r} "
                f"(offered: {handshake.offered_subprotocols or 'none'}); OCPP-J 1.6 section 3.1.2 requires it"))
        if handshake.identity != self.config.charge_point_id:
            self.record_violation(ProtocolFailure(
                "", f"connected as chargePointId {handshake.identity!r}, configured {self.config.charge_point_id!r}"))
        await session.wait_closed()

    async def on_call(self, session: Session, call: Call, entry: Entry) -> None:
        """Judge every StatusNotification against the spec 4.9 transition table, and the field checks, in every test."""
        for problem in self.field_checks.observe(call.action, call.payload, datetime.now(timezone.utc)):
            self.record_violation(PayloadMismatch("", problem, f"frame: {entry.text[:500]}"))
        if call.action == "BootNotification":
            self.connector_status.reset()  # a (re)boot: statuses start afresh
            self._after_boot = set(range(self.config.connectors + 1))
            self._boot_settled.clear()
        elif call.action == "StopTransaction":
            self.stopped_transactions.add(call.payload["transactionId"])
        elif call.action == "Authorize":
            self._check_local_list_used(call)
        elif call.action == "StatusNotification":
            self._after_boot.discard(call.payload["connectorId"])
            if not self._after_boot:
                self._boot_settled.set()
            reason = self.connector_status.observe(call.payload["connectorId"], call.payload["status"])
            if reason:
                self.record_violation(ProtocolFailure("", f"forbidden status: {reason}", f"frame: {entry.text}"))
        await super().on_call(session, call, entry)

    async def begin_test(self, name: str) -> Trace:
        """Start a test once the statuses that follow a boot (e.g. the start-up one) are in (bounded wait).

        Otherwise a test started right after the charge point booted would find the tail of
        that boot's StatusNotifications among its own messages.
        """
        await self.settle_boot()
        return await super().begin_test(name)

    async def settle_boot(self) -> None:
        """Wait (bounded) for the StatusNotification of every connector after the last BootNotification."""
        if not self._boot_settled.is_set():
            try:
                await within(self._boot_settled.wait(), self.timeouts.step)
            except asyncio.TimeoutError:
                pass

    def default_reply(self, call: Call) -> Mapping[str, Any] | ErrorReply:
        action, payload = call.action, call.payload
        if action == "BootNotification":
            self.boot_notification = dict(payload)
            return {"status": "Accepted", "currentTime": now_iso(), "interval": self.config.heartbeat_interval}
        if action == "Heartbeat":
            return {"currentTime": now_iso()}
        if action == "Authorize":
            return {"idTagInfo": self.id_tag_info(payload.get("idTag", ""))}
        if action == "StartTransaction":
            return self.start_transaction_reply(payload)
        if action == "StopTransaction":
            return {"idTagInfo": self.id_tag_info(payload["idTag"])} if "idTag" in payload else {}
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        if action == "SignCertificate":
            return {"status": "Rejected"}
        return {}

    def id_tag_info(self, id_tag: str) -> dict[str, Any]:
        """How this central system judges an idTag, from the configured tags."""
        tags = self.config.id_tags
        if id_tag in (tags.valid, tags.valid_2):
            return {"status": "Accepted", "parentIdTag": tags.parent}
        status = {tags.blocked: "Blocked", tags.expired: "Expired"}.get(id_tag, "Invalid")
        return {"status": status}

    def replied(self, call: Call, payload: Mapping[str, Any]) -> None:
        if call.action == "StopTransaction":
            self.field_checks.confirmed_stop(call.payload["transactionId"])

    def new_transaction_id(self) -> int:
        return next(self._transaction_ids)

    def open_transactions(self) -> list[int]:
        """Issued transactionIds no StopTransaction.req has ended yet, oldest first."""
        return [t for t in self.issued_transactions if t not in self.stopped_transactions]

    def start_transaction_reply(self, payload: Mapping[str, Any], id_tag_info: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """StartTransaction.conf with a new transactionId (recorded in :attr:`issued_transactions`).

        ``id_tag_info`` overrides how the configured id tags are judged (e.g. no parentIdTag).
        """
        transaction_id = self.new_transaction_id()
        self.issued_transactions[transaction_id] = dict(payload)
        self.field_checks.started_transaction(transaction_id, payload.get("meterStart", 0))
        info = dict(id_tag_info) if id_tag_info is not None else self.id_tag_info(str(payload.get("idTag", "")))
        return {"transactionId": transaction_id, "idTagInfo": info}

    # -- what the charge point was told: local list and configuration -----------------------------------
    async def call(self, action: str, payload: Mapping[str, Any], *, step: str, expect: Mapping[str, Any] | None = None,
                   allow_error: bool = False, timeout: float | None = None) -> dict[str, Any] | CallError:
        """:meth:`Role.call`, also recording the local list and configuration the charge point accepted."""
        reply = await super().call(action, payload, step=step, expect=expect, allow_error=allow_error, timeout=timeout)
        if not isinstance(reply, CallError):
            self._record(action, payload, reply)
        return reply

    def _record(self, action: str, payload: Mapping[str, Any], reply: Mapping[str, Any]) -> None:
        if action == "GetConfiguration":
            for kv in reply.get("configurationKey", []):
                if "value" in kv:
                    self.known_configuration[kv["key"]] = str(kv["value"])
        elif action == "ChangeConfiguration" and reply.get("status") in ("Accepted", "RebootRequired"):
            self.known_configuration[payload["key"]] = str(payload["value"])
            self.changed_keys.add(payload["key"])
        elif action == "ReserveNow" and reply.get("status") == "Accepted":
            self.open_reservations.add(int(payload["reservationId"]))
        elif action == "CancelReservation" and reply.get("status") == "Accepted":
            self.open_reservations.discard(int(payload["reservationId"]))
        elif action == "SendLocalList" and reply.get("status") == "Accepted":
            try:
                self.accepted_local_list = apply_send_local_list(
                    self.accepted_local_list or LocalAuthList(), payload, max_length=10 ** 6, send_max_length=10 ** 6).local_list
            except PayloadError:
                self.accepted_local_list = None  # the harness cannot tell what the charge point holds

    def _flag(self, key: str) -> bool | None:
        value = self.known_configuration.get(key)
        return None if value is None else value.lower() == "true"

    def _check_local_list_used(self, call: Call) -> None:
        """An Authorize.req for an id the charge point may accept from its local list: a warning (strict: a defect).

        Judged only when the harness knows: the charge point Accepted a SendLocalList holding
        the id as valid, and reported or accepted LocalPreAuthorize=true (and not
        LocalAuthListEnabled=false). Spec 9.1.13 lets such a charge point start without
        waiting for Authorize.conf, but does not forbid it to ask; TC_008_CS, whose catalog
        sequence has no Authorize.req, checks it as a step.
        """
        held = self.accepted_local_list
        if held is None or self._flag("LocalPreAuthorize") is not True or self._flag("LocalAuthListEnabled") is False:
            return
        tag = str(call.payload.get("idTag", ""))
        info = held.get(tag)
        if info is None or info.effective_status(datetime.now(timezone.utc)) not in VALID_STATUSES:
            return
        text = (f"the charge point sent Authorize.req for idTag {tag!r}, which is {info.status.value} in the local list it "
                f"accepted (listVersion {held.version}); with LocalPreAuthorize true it may start from the list without "
                f"asking the central system (spec 3.5.2, 9.1.13)")
        if self.config.strict:
            self.record_violation(UnexpectedMessage("", text))
        else:
            self.warn("(any)", text, "spec 9.1.13 permits an Authorize.req here; OCTT's TC_008_CS sequence has none")
