"""The harness as central system, for a charge point under test (``--ocpp-sut cp``).

Listens at ``ws://host:port{path}/{chargePointId}``; each (re)connection of the
charge point becomes the live session. Background traffic is answered at once;
everything else waits for a step to claim it (see harness.inbox), and gets the
default reply below if none does.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from websockets.asyncio.server import Server, ServerConnection

from .. import schemas
from ..config import Secret, SutConfig
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

__all__ = ["CentralSystem", "Connection", "now_iso"]


def now_iso() -> str:
    """The current UTC time as OCPP sends it (RFC 3339, milliseconds, 'Z')."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Connection:
    """One connection of the charge point: the security profile of the listener it came through, its handshake."""

    profile: int
    handshake: Handshake
    #: TLS 1.2 suites the charge point offered that the listener allows (OpenSSL names; empty on ws://)
    shared_ciphers: tuple[str, ...] = ()
    at: float = 0.0  # time.monotonic()


class _Password(Secret):
    """The password the basic-auth listeners check: it follows the AuthorizationKey the charge point accepted."""

    __slots__ = ()

    def replace(self, other: Secret) -> None:
        self._value, self._raw = other.reveal(), other._raw


class CentralSystem(Role):
    """Impersonates an OCPP 1.6 central system.

    Security extension: besides the run's listener (``listen.port``, the run's ``security_profile``)
    it listens for every other profile it has material for (:attr:`security`, set by harness.sut:
    profile 0 plain, 1 plain with Basic auth, 2 TLS with Basic auth, 3 mutual TLS), each on its own
    port (``tls.ports``, else a free one). Every connection of the charge point becomes the live
    session and is recorded in :attr:`connections` with the profile of its listener.
    """

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
        #: the run's certificates, keys and password (harness.sut.SecurityMaterial), None without security
        self.security: Any = None
        #: security profile -> the port of its listener
        self.ports: dict[int, int] = {}
        self._servers: dict[int, Server] = {}
        #: security profile -> the TLS context of its listener (a case may load another certificate into it)
        self.tls_contexts: dict[int, Any] = {}
        #: what the profile 1 and 2 listeners check: the run's password, or the AuthorizationKey the charge point took
        self.password: _Password | None = None
        #: every connection of the charge point, oldest first
        self.connections: list[Connection] = []
        #: security profile -> TLS handshakes begun on its listener (completed or not: a charge point that refuses
        #: the harness's certificate aborts without a word the server could hear)
        self.tls_attempts: dict[int, int] = {}

    @property
    def url(self) -> str:
        """The URL of the run's listener (its ``security_profile``)."""
        return self.url_for(self.config.security_profile)

    def url_for(self, profile: int) -> str:
        scheme = "wss" if profile >= 2 else "ws"
        return f"{scheme}://{self.config.listen_host}:{self.ports.get(profile, self.port)}{self.config.listen_path}"

    def served_profiles(self) -> list[int]:
        """The run's profile, and every other one the charge point supports (``tls.profiles``) that the security
        material allows (1, 2: a password; 2, 3: the server certificate)."""
        run = self.config.security_profile
        if self.security is None:
            return [run]
        password = self.security.password is not None
        return [p for p in (0, 1, 2, 3) if p == run or p in self.config.tls.profiles
                and (password or p in (0, 3)) and (p < 2 or self.security.own)]

    async def start(self) -> None:
        """Start listening, one listener per served profile (port 0 picks a free one; :attr:`ports` tells which)."""
        run, configured = self.config.security_profile, self.config.basic_auth_password
        secret = self.security.password if self.security is not None and self.security.password else configured
        self.password = _Password(secret.reveal()) if secret is not None else None
        for profile in self.served_profiles():
            port = self.config.listen_port if profile == run else self.config.tls.ports.get(profile, 0)
            context = self.security.server_context(profile) if profile >= 2 and self.security is not None else None
            if context is not None:
                self.tls_contexts[profile] = context
            # profiles 1 and 2 check the password; so does the run's listener whenever one is configured (as before)
            checks = profile in (1, 2) or (profile == run and configured is not None)
            server = await serve_central_system(
                self.config.listen_host, port, self.config.listen_path,
                lambda connection, handshake, p=profile: self._handle(connection, handshake, p),
                password=self.password if checks else None, ssl=context,
                on_refused=lambda reason, p=profile: self._refused(reason, p), open_timeout=self.timeouts.connect,
            )
            self._servers[profile] = server
            self.ports[profile] = next(iter(server.sockets)).getsockname()[1]
            if context is not None:
                self._count_attempts(context, profile)
        self.server, self.port = self._servers[run], self.ports[run]

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        for server in self._servers.values():
            server.close()
            await server.wait_closed()

    def _count_attempts(self, context: Any, profile: int) -> None:
        """Count the TLS handshakes the listener of ``profile`` begins (its context's SSL objects, the transport's hook)."""
        role, observed = self, context.sslobject_class

        class Counted(observed):  # type: ignore[misc, valid-type]
            @classmethod
            def _create(cls, *args: Any, **kwargs: Any) -> Any:
                role.tls_attempts[profile] = role.tls_attempts.get(profile, 0) + 1
                role.inbox.notify()
                return super()._create(*args, **kwargs)

        context.sslobject_class = Counted

    def _refused(self, reason: str, profile: int | None = None) -> None:
        where = f" (security profile {profile} listener)" if profile is not None and len(self._servers) > 1 else ""
        self.refusals.append(reason + where)
        self.trace.event(f"connection refused{where}: {reason}")
        self.inbox.notify()

    async def wait_connection(self, since: int, limit: float, profile: int | None = None) -> Connection | None:
        """The first connection from index ``since`` on (of ``profile`` if given), waiting at most ``limit`` s."""
        deadline = time.monotonic() + limit
        while True:
            found = next((c for c in self.connections[since:] if profile is None or c.profile == profile), None)
            if found is not None or not await self.inbox.changed(max(0.0, deadline - time.monotonic())):
                return found

    async def _handle(self, connection: ServerConnection, handshake: Handshake, profile: int = 0) -> None:
        name = f"{handshake.identity}#{next(self._connections)}"
        ssl_object = connection.transport.get_extra_info("ssl_object") if connection.transport else None
        shared = tuple(c[0] for c in (ssl_object.shared_ciphers() or [])) if ssl_object is not None else ()
        self.connections.append(Connection(profile, handshake, shared, time.monotonic()))
        if len(self._servers) > 1 or handshake.tls is not None:
            tls = f", {handshake.tls.version} {handshake.tls.cipher}" if handshake.tls is not None else ""
            self.trace.event(f"{name}: connects over security profile {profile}{tls}", name)
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
        self.inbox.notify()
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
            password = Secret.from_hex(str(payload["value"]))
            if payload["key"] == "AuthorizationKey" and self.password is not None and password is not None:
                self.password.replace(password)  # the charge point's next connection must use the new key
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
