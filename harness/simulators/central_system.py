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
* takes other permitted paths when a variant says so (:mod:`.central_system_variants`:
  ``--variant NAME`` or the ``simulator:`` section of ``--config``).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from . import central_system_handlers as handlers
from . import central_system_operator as operator
from .central_system_handlers import CentralSystemStore, IdTagStore
from .central_system_operator import Operator
from .central_system_extensions import VARIANTS as PROFILE_VARIANTS
from .central_system_variants import VARIANTS as CORE_VARIANTS
from .common import (
    ActuationServer, Faults, RpcPeer, Switches, Variants, add_switch_arguments, list_switches, ready, switches_from,
    watch_stdin,
)

__all__ = ["FAULTS", "VARIANTS", "SimCentralSystem", "main"]

FAULTS = {**handlers.FAULTS, **operator.FAULTS}
VARIANTS = {**CORE_VARIANTS, **PROFILE_VARIANTS}


class SimCentralSystem:
    """The server side: one RpcPeer per connected charge point, one store, one operator."""

    def __init__(self, heartbeat_interval: int, registration: dict[str, str], faults: Faults,
                 id_tags: IdTagStore | None = None, call_timeout: float = 10, variants: Switches | None = None) -> None:
        self.faults = faults
        self.variants = variants or Variants(VARIANTS)
        id_tags = id_tags or IdTagStore()
        id_tags.complete = "optional_fields_everywhere" in self.variants
        self.store = CentralSystemStore(heartbeat_interval, registration, faults, id_tags, variants=self.variants)
        self.peers: dict[str, RpcPeer] = {}
        self.operator = Operator(self.store, self.peers, faults, self.variants)
        self.call_timeout = call_timeout

    def state(self) -> dict[str, Any]:
        return {**self.store.state(), "connected": sorted(self.peers)}

    async def act(self, action: str, params: dict[str, Any]) -> Any:
        """An operator command; the variants late_actuator and slow_operator answer late.

        Either way the CALL has gone out and its reply is in before the HTTP answer: the
        harness must not wait for the operator's screen before it judges the CALL, and a
        manual step that answers after the step's timeout is not late (its own bound is
        ``timeouts.actuation``).
        """
        result = await self.operator.act(action, params)
        if "late_actuator" in self.variants:  # the screen refreshes a moment after the reply came in
            await asyncio.sleep(float(self.variants.option("late_actuator_delay", 0.2)))
        if "slow_operator" in self.variants:  # a person confirms long after the command went out
            await asyncio.sleep(float(self.variants.option("slow_operator_delay", 30)))
        return result

    async def connection(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        cp_id = ws.request.path.rstrip("/").rpartition("/")[2]
        self.store.new_connection(cp_id)
        peer = RpcPeer(ws, lambda call: self.store.handle(cp_id, call), call_timeout=self.call_timeout)
        self.peers.pop(cp_id, None)  # the newest connection is the one the operator talks to
        self.peers[cp_id] = peer
        try:
            await peer.run()
        except Exception:
            pass
        finally:
            if self.peers.get(cp_id) is peer:
                del self.peers[cp_id]



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
    cs = SimCentralSystem(args.heartbeat_interval, registration, faults, parse_id_tags(args.id_tag), args.call_timeout,
                          variants)
    api = ActuationServer(cs.act, cs.state)
    await api.start(args.host, args.http_port)
    path = "/" + args.path.strip("/")

    def process_request(connection: ServerConnection, request: Any) -> Any:
        head, _, tail = request.path.rpartition("/")
        if head != path or not tail:
            return connection.respond(404, "unknown path\n")
        return None

    async with serve(cs.connection, args.host, args.port, subprotocols=["ocpp1.6"], process_request=process_request,
                     ping_interval=None, close_timeout=1) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        ready(ws=f"ws://{args.host}:{port}{path}", actuation=f"http://{args.host}:{api.port}")
        await watch_stdin()


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
    add_switch_arguments(parser)
    args = parser.parse_args(argv)
    if list_switches(args, FAULTS, VARIANTS):
        return
    asyncio.run(amain(args))


if __name__ == "__main__":
    main()
