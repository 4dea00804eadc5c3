"""Reference OCPP 1.6 central system: the passing SUT for ``--ocpp-sut cs``, with fault switches.

    python -m harness.simulators.central_system --port 0 --heartbeat-interval 2
    python -m harness.simulators.central_system --list-faults

Behaviour so far: accepts charge points at ``ws://host:port/ocpp/{chargePointId}``
(registration Accepted, or as ``--registration ID=Pending|Rejected`` says), answers
BootNotification, Heartbeat and StatusNotification, and keeps what it accepted
(boots, last status per connector) for the length of the run (``GET /state``).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from ..ocppj import Call, CallError
from .common import ActuationServer, Faults, RpcPeer, ready, watch_stdin

FAULTS = {
    "boot_rejected": "answer every BootNotification with Rejected",
    "boot_interval_zero": "answer BootNotification with interval 0",
    "boot_time_not_rfc3339": "answer BootNotification with a currentTime without 'T' and time zone",
    "boot_time_wrong": "answer BootNotification with a currentTime one day in the past",
    "heartbeat_no_reply": "never answer Heartbeat",
    "status_callerror": "answer StatusNotification with CALLERROR InternalError",
}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SimCentralSystem:
    def __init__(self, heartbeat_interval: int, registration: dict[str, str], faults: Faults) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.registration = registration
        self.faults = faults
        self.charge_points: dict[str, dict[str, Any]] = {}
        self.peers: dict[str, RpcPeer] = {}

    def state(self) -> dict[str, Any]:
        return {"charge_points": self.charge_points, "faults": sorted(self.faults.enabled)}

    async def act(self, action: str, params: dict[str, Any]) -> Any:
        raise KeyError(action)

    async def connection(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        cp_id = ws.request.path.rstrip("/").rpartition("/")[2]
        record = self.charge_points.setdefault(cp_id, {"boots": 0, "status": {}, "heartbeats": 0})
        peer = RpcPeer(ws, lambda call: self.handle_call(cp_id, record, call))
        self.peers[cp_id] = peer
        try:
            await peer.run()
        except Exception:
            pass
        finally:
            if self.peers.get(cp_id) is peer:
                del self.peers[cp_id]

    async def handle_call(self, cp_id: str, record: dict[str, Any], call: Call) -> dict[str, Any] | CallError | None:
        now = datetime.now(timezone.utc)
        if call.action == "BootNotification":
            record["boots"] += 1
            record["boot"] = call.payload
            status = "Rejected" if "boot_rejected" in self.faults else self.registration.get(cp_id, "Accepted")
            current = iso(now)
            if "boot_time_not_rfc3339" in self.faults:
                current = now.strftime("%Y-%m-%d %H:%M:%S")
            elif "boot_time_wrong" in self.faults:
                current = iso(now - timedelta(days=1))
            interval = 0 if "boot_interval_zero" in self.faults else self.heartbeat_interval
            record["registration"] = status
            return {"status": status, "currentTime": current, "interval": interval}
        if call.action == "Heartbeat":
            if "heartbeat_no_reply" in self.faults:
                return None
            record["heartbeats"] += 1
            return {"currentTime": iso(now)}
        if call.action == "StatusNotification":
            if "status_callerror" in self.faults:
                return CallError(call.unique_id, "InternalError", "simulated failure")
            record["status"][str(call.payload["connectorId"])] = call.payload["status"]
            return {}
        return CallError(call.unique_id, "NotImplemented", f"{call.action} is not implemented by the simulator yet")


async def amain(args: argparse.Namespace) -> None:
    faults = Faults(FAULTS, frozenset(args.fault))
    faults.check()
    registration = dict(item.split("=", 1) for item in args.registration)
    cs = SimCentralSystem(args.heartbeat_interval, registration, faults)
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
    parser.add_argument("--registration", action="append", default=[], metavar="ID=STATUS",
                        help="registration status for a chargePointId (default Accepted)")
    parser.add_argument("--fault", action="append", default=[], help="switch on a named fault (repeatable)")
    parser.add_argument("--list-faults", action="store_true")
    args = parser.parse_args(argv)
    if args.list_faults:
        print(Faults(FAULTS).listing())
        return
    asyncio.run(amain(args))


if __name__ == "__main__":
    main()
