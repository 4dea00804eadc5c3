"""Reference OCPP 1.6 central system: the passing SUT for ``--ocpp-sut cs``, with fault and variant switches.

    python -m harness.simulators.central_system --port 0 --heartbeat-interval 2
    python -m harness.simulators.central_system --list-faults
    python -m harness.simulators.central_system --list-variants

A complete Core-profile central system:

* accepts charge points at ``ws://host:port/ocpp/{chargePointId}``; registration is
  Accepted, or what ``--registration ID=Pending|Rejected`` says;
* answers BootNotification, Heartbeat, StatusNotification, Authorize, StartTransaction
  (unique transaction ids), StopTransaction, MeterValues (kept per transaction),
  DataTransfer (no vendor extensions: UnknownVendorId) and the firmware/diagnostics
  notifications (see :mod:`.central_system_handlers`);
* knows the id tags of ``fixtures/simulator_central_system.yaml`` (valid, parent,
  blocked, expired; anything else is Invalid); ``--id-tag TAG=STATUS[:PARENT]`` adds or
  changes one;
* sends the operator's commands to the connected charge point on ``POST /act/<word>``
  (see :mod:`.central_system_operator`) and keeps what the replies teach it;
* with the SmartCharging and LocalAuthListManagement profiles: installs, clears and asks
  for charging profiles and keeps the accepted ones (:mod:`.central_system_smart`), and
  keeps a versioned Local Authorization List per charge point that it sends as Full or
  Differential updates (:mod:`.central_system_local_list`);
* keeps everything it accepted for the length of the run (``GET /state``);
* speaks the security extension's profiles 0 to 3 for real (:mod:`.central_system_security`): a second,
  ``wss://`` listener with ``--tls-cert`` (client certificates verified against ``--root-cert``), each
  charge point admitted by its security profile (HTTP Basic auth, TLS, its certificate);
* takes other permitted paths when a variant says so (:mod:`.central_system_variants`:
  ``--variant NAME`` or the ``simulator:`` section of ``--config``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from .. import schemas
from . import central_system_handlers as handlers
from . import central_system_operator as operator
from .central_system_handlers import CentralSystemStore, IdTagStore
from .central_system_operator import Operator
from .central_system_security import Security
from .central_system_extensions import VARIANTS as PROFILE_VARIANTS
from .central_system_variants import VARIANTS as CORE_VARIANTS
from .common import (
    ActuationServer, Faults, RpcPeer, Switches, Variants, add_switch_arguments, list_switches, ready, switches_from,
    watch_stdin,
)

__all__ = ["FAULTS", "VARIANTS", "SimCentralSystem", "main"]

FAULTS = {**handlers.FAULTS, **operator.FAULTS}
VARIANTS = {**CORE_VARIANTS, **PROFILE_VARIANTS}
#: what charge points send of the security extension (central_system_security answers them)
SECURITY_ACTIONS = frozenset({"SignCertificate", "SecurityEventNotification", "LogStatusNotification",
                              "SignedFirmwareStatusNotification"})


class SimCentralSystem:
    """The server side: one RpcPeer per connected charge point, one store, one operator."""

    def __init__(self, heartbeat_interval: int, registration: dict[str, str], faults: Faults,
                 id_tags: IdTagStore | None = None, call_timeout: float = 10, variants: Switches | None = None,
                 security: dict[str, Any] | None = None) -> None:
        self.faults = faults
        self.variants = variants or Variants(VARIANTS)
        id_tags = id_tags or IdTagStore()
        id_tags.complete = "optional_fields_everywhere" in self.variants
        self.store = CentralSystemStore(heartbeat_interval, registration, faults, id_tags, variants=self.variants)
        self.peers: dict[str, RpcPeer] = {}
        self.operator = Operator(self.store, self.peers, faults, self.variants)
        # security extension (central_system_security): profiles per charge point, certificates, keys, admission
        self.security = Security(operator=self.operator, **{
            "default_profile": 0, "password": None, "root_cert": None, "ca_key": None, "tls_cert": None, "tls_key": None,
            "signer_cert": None, "signer_key": None, "manufacturer_root": None, **(security or {})})
        self.operator.cs_security = self.security
        self.call_timeout = call_timeout
        self.open_connections = 0
        self.wedged: set[str] = set()  # fault oversize_frame_wedges: charge points no longer answered
        self._one_at_a_time = asyncio.Lock()  # fault slow_peer_stalls

    def state(self) -> dict[str, Any]:
        return {**self.store.state(), "connected": sorted(self.peers)}

    async def act(self, action: str, params: dict[str, Any]) -> Any:
        """An operator command; the variants late_actuator and slow_operator answer late.

        Either way the CALL has gone out and its reply is in before the HTTP answer: the
        harness must not wait for the operator's screen before it judges the CALL, and a
        manual step that answers after the step's timeout is not late (its own bound is
        ``timeouts.actuation``).
        """
        if action == "cs_security_settings":  # a back-end setting: no charge point need be connected
            return self.security.settings(params)
        result = await self.operator.act(action, params)
        if "late_actuator" in self.variants:  # the screen refreshes a moment after the reply came in
            await asyncio.sleep(float(self.variants.option("late_actuator_delay", 0.2)))
        if "slow_operator" in self.variants:  # a person confirms long after the command went out
            await asyncio.sleep(float(self.variants.option("slow_operator_delay", 30)))
        return result

    # -- connections: the OCPP-J layer, and faults of the harness's own cases (testcases/test_rpc_*csms.py) ------
    def admit(self, connection: ServerConnection, request: Any) -> Any:
        """Before the upgrade (called by process_request): None lets the handshake go on, else the refusal.

        The subprotocol: ``ocpp1.6`` when offered, else none, and :meth:`connection` closes at
        once (OCPP-J 1.6 section 3.2). Faults stale_connection_kept and max_connections_100 refuse here.
        """
        connection.protocol.select_subprotocol = _select_subprotocol  # type: ignore[method-assign]
        cp_id = request.path.rstrip("/").rpartition("/")[2]
        if "stale_connection_kept" in self.faults and cp_id in self.peers:
            return connection.respond(409, "this charge point is connected already\n")
        if "max_connections_100" in self.faults and self.open_connections >= 100:
            return connection.respond(503, "too many connections\n")
        # security extension: the charge point's profile decides (Basic auth, TLS, client certificate)
        tls = connection.transport.get_extra_info("ssl_object") if connection.transport else None
        refused = self.security.admit(cp_id, request.headers.get("Authorization"), tls)
        if refused is not None:
            response = connection.respond(401, refused + "\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
            return response
        return None

    async def connection(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        cp_id = ws.request.path.rstrip("/").rpartition("/")[2]
        if ws.subprotocol is None and "no_subprotocol_accepted" not in self.faults:
            await ws.close(1002, "no ocpp1.6 subprotocol")  # OCPP-J 1.6 section 3.2: complete the handshake, then close
            return
        self.store.new_connection(cp_id)
        unsupported = frozenset(self.variants.option("unsupported_actions", []) or [])
        peer = RpcPeer(ws, lambda call: self.answer(cp_id, call), call_timeout=self.call_timeout, faults=self.faults,
                       receives=schemas.CHARGE_POINT_ACTIONS,
                       supported=lambda action: action not in unsupported and (
                           hasattr(self.store, f"on_{action}") or action in SECURITY_ACTIONS),
                       quiet_limit=lambda: 1.5 * max(self.store.heartbeat_interval, 1))
        stale = self.peers.pop(cp_id, None)  # the newest connection is the one the operator talks to
        self.peers[cp_id] = peer
        if stale is not None:  # the charge point is back on a new connection: the old one is stale (a power cut)
            self._wedge_if_oversized(cp_id, stale)  # its reader may not have ended yet
            asyncio.get_running_loop().create_task(stale.ws.close(1000, "replaced by a new connection"))
        self.open_connections += 1
        try:
            await self._serve(peer)
        except Exception:
            pass
        finally:
            self.open_connections -= 1
            if self.peers.get(cp_id) is peer:
                del self.peers[cp_id]
            self._wedge_if_oversized(cp_id, peer)

    def _wedge_if_oversized(self, cp_id: str, peer: RpcPeer) -> None:
        """Fault oversize_frame_wedges: after a close 1009 the charge point is never answered again."""
        if peer.oversized and "oversize_frame_wedges" in self.faults:
            self.wedged.add(cp_id)

    async def _serve(self, peer: RpcPeer) -> None:
        """Run the peer; under fault slow_peer_stalls one connection at a time is served until it has sent a frame."""
        if "slow_peer_stalls" not in self.faults:
            await peer.run()
            return
        async with self._one_at_a_time:
            reader = asyncio.ensure_future(peer.run())
            spoke = asyncio.ensure_future(peer.first_frame.wait())
            await asyncio.wait([reader, spoke], return_when=asyncio.FIRST_COMPLETED)
            spoke.cancel()
        await reader

    async def answer(self, cp_id: str, call: Any) -> Any:
        if cp_id in self.wedged:  # fault oversize_frame_wedges: nothing is answered any more
            return None
        return await self.security.handle(cp_id, call, self.store.handle)  # its own actions, the rest to the store


def _select_subprotocol(offered: Any) -> Any:
    """``ocpp1.6`` if offered, else none (the handshake completes without the header; OCPP-J 1.6 section 3.2)."""
    return "ocpp1.6" if "ocpp1.6" in offered else None


def parse_id_tags(items: list[str]) -> IdTagStore:
    store = IdTagStore()
    for item in items:
        tag, _, rest = item.partition("=")
        status, _, parent = rest.partition(":")
        if status not in ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"):
            raise SystemExit(f"--id-tag {item!r}: status must be Accepted, Blocked, Expired, Invalid or ConcurrentTx")
        store.tags[tag] = (status, parent or None)
    return store


async def amain(args: argparse.Namespace) -> None:
    faults, variants = switches_from(args, FAULTS, VARIANTS)
    registration = dict(item.split("=", 1) for item in args.registration)
    security = {"default_profile": args.security_profile, "password": os.environ.get(args.password_env or "", None),
                "root_cert": args.root_cert, "ca_key": args.ca_key, "tls_cert": args.tls_cert, "tls_key": args.tls_key,
                "signer_cert": args.signer_cert, "signer_key": args.signer_key, "manufacturer_root": args.manufacturer_root}
    cs = SimCentralSystem(args.heartbeat_interval, registration, faults, parse_id_tags(args.id_tag), args.call_timeout,
                          variants, security)
    api = ActuationServer(cs.act, cs.state)
    await api.start(args.host, args.http_port)
    path = "/" + args.path.strip("/")

    def process_request(connection: ServerConnection, request: Any) -> Any:
        refused = cs.admit(connection, request)  # subprotocol choice and the refusals of faults (RPC_xxx_CSMS)
        if refused is not None:
            return refused
        head, _, tail = request.path.rpartition("/")
        if head != path or not tail:
            return connection.respond(404, "unknown path\n")
        return None

    tls = cs.security.server_context()  # security profiles 2 and 3: a second listener, wss://
    async with serve(cs.connection, args.host, args.port, subprotocols=["ocpp1.6"], process_request=process_request,
                     ping_interval=None, close_timeout=1) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        endpoints = {"ws": f"ws://{args.host}:{port}{path}"}
        secure = await serve(cs.connection, args.host, args.tls_port, subprotocols=["ocpp1.6"], ssl=tls,
                             process_request=process_request, ping_interval=None, close_timeout=1) if tls else None
        if secure is not None:
            endpoints["wss"] = f"wss://{args.host}:{next(iter(secure.sockets)).getsockname()[1]}{path}"
        ready(**endpoints, actuation=f"http://{args.host}:{api.port}")
        await watch_stdin()
        if secure is not None:
            secure.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ocpp16-sim-central-system", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--path", default="/ocpp")
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--heartbeat-interval", type=int, default=2)
    parser.add_argument("--call-timeout", type=float, default=10, help="how long an operator command waits for the reply")
    parser.add_argument("--registration", action="append", default=[], metavar="ID=STATUS",
                        help="registration status for a chargePointId (default Accepted)")
    parser.add_argument("--id-tag", action="append", default=[], metavar="TAG=STATUS[:PARENT]",
                        help="add or change an id tag of the store (defaults: those of simulator_central_system.yaml)")
    # security extension: certificates and keys (paths), the charge points' password (an environment variable)
    parser.add_argument("--tls-port", type=int, default=0, help="the wss:// listener (with --tls-cert)")
    parser.add_argument("--security-profile", type=int, choices=(0, 1, 2, 3), default=0,
                        help="the security profile of every charge point until the operator changes it")
    parser.add_argument("--password-env", help="environment variable holding the charge points' basic-auth password")
    for name, text in (("root-cert", "its root CA (the CentralSystemRootCertificate; verifies client certificates)"),
                       ("ca-key", "the key of --root-cert: it signs charge point CSRs"), ("tls-cert", "its server "
                       "certificate chain"), ("tls-key", "the key of --tls-cert"), ("signer-cert", "its firmware signing "
                       "certificate"), ("signer-key", "the key of --signer-cert"), ("manufacturer-root", "the "
                       "ManufacturerRootCertificate it installs"), ("cpo-name", "the CPO name (unused; the charge points' O)")):
        parser.add_argument(f"--{name}", help=text)
    add_switch_arguments(parser)
    args = parser.parse_args(argv)
    if list_switches(args, FAULTS, VARIANTS):
        return
    asyncio.run(amain(args))


if __name__ == "__main__":
    main()
