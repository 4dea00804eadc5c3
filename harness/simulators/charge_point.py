"""Reference OCPP 1.6 charge point: the passing SUT for ``--ocpp-sut cp``, with fault switches.

    python -m harness.simulators.charge_point --cs-url ws://127.0.0.1:9000/ocpp --id CP_1
    python -m harness.simulators.charge_point --list-faults

Behaviour so far: boot (Accepted; Pending and Rejected retried after ``interval``),
StatusNotification for connector 0 and every connector after acceptance, heartbeats
every interval of silence, reconnect with back-off without re-booting, GetConfiguration
and ChangeConfiguration of the keys it has. Manual steps arrive on the HTTP API.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import datetime, timezone
from typing import Any

from websockets.asyncio.client import connect

from ..ocppj import Call, CallError, CallResult
from .common import ActuationServer, Faults, RpcPeer, ready, watch_stdin

FAULTS = {
    "no_retry_after_rejected": "after BootNotification Rejected, never send BootNotification again",
    "boot_retry_too_early": "after Rejected/Pending, retry BootNotification at once instead of after interval",
    "invalid_boot_notification": "send a BootNotification whose chargePointVendor is 30 characters (schema: at most 20)",
    "no_connector_zero_status": "after boot, send no StatusNotification for connectorId 0",
    "boot_status_unavailable": "after boot, report connector 1 as Unavailable instead of Available",
    "heartbeat_interval_doubled": "send heartbeats at twice the interval the central system set",
    "no_heartbeat": "never send a Heartbeat",
}


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SimChargePoint:
    def __init__(self, cs_url: str, cp_id: str, connectors: int, faults: Faults, password: str | None) -> None:
        self.cs_url = cs_url.rstrip("/") + "/" + cp_id
        self.cp_id = cp_id
        self.faults = faults
        self.password = password
        self.connectors = connectors
        self.configuration: dict[str, dict[str, Any]] = {
            "HeartbeatInterval": {"value": "0", "readonly": False},
            "NumberOfConnectors": {"value": str(connectors), "readonly": True},
            "SupportedFeatureProfiles": {"value": "Core", "readonly": True},
            "MeterValueSampleInterval": {"value": "0", "readonly": False},
            "ConnectionTimeOut": {"value": "30", "readonly": False},
        }
        self.status: dict[int, str] = {}
        self.registration = "none"  # none | Pending | Rejected | Accepted
        self.peer: RpcPeer | None = None
        self._reboot = asyncio.Event()
        self.boots = 0

    # -- state --------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"registration": self.registration, "status": self.status, "boots": self.boots,
                "connected": self.peer is not None, "faults": sorted(self.faults.enabled)}

    async def act(self, action: str, params: dict[str, Any]) -> Any:
        if action == "power_cycle":
            self._reboot.set()
            return "rebooting"
        raise KeyError(action)

    # -- connection lifecycle ----------------------------------------------------------------------
    async def lifecycle(self) -> None:
        delay = 0.2
        while True:  # ends when the process does (stdin EOF)
            rebooted = self._reboot.is_set()
            self._reboot.clear()
            if rebooted:
                self.registration, self.status = "none", {}
            try:
                headers = {}
                if self.password:
                    import base64
                    headers["Authorization"] = "Basic " + base64.b64encode(f"{self.cp_id}:{self.password}".encode()).decode()
                async with connect(self.cs_url, subprotocols=["ocpp1.6"], additional_headers=headers, proxy=None,
                                   open_timeout=5, close_timeout=1, ping_interval=None) as ws:
                    delay = 0.2
                    self.peer = RpcPeer(ws, self.handle_call)
                    tasks = [asyncio.create_task(self.peer.run()), asyncio.create_task(self.operate()),
                             asyncio.create_task(self._reboot.wait())]
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
            except Exception:
                pass  # refused, dropped: back off and try again
            self.peer = None
            if not self._reboot.is_set():
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def operate(self) -> None:
        if self.registration != "Accepted":
            await self.boot()
        await self.heartbeats()

    async def call(self, action: str, payload: dict[str, Any]) -> CallResult | CallError:
        assert self.peer is not None
        return await self.peer.call(action, payload)

    async def boot(self) -> None:
        self.boots += 1
        vendor = "SimVendor-" + "x" * 20 if "invalid_boot_notification" in self.faults else "SimVendor"
        payload = {"chargePointVendor": vendor, "chargePointModel": "RefCP-1", "firmwareVersion": "0.1.0",
                   "chargePointSerialNumber": "SIM-0001"}
        while True:
            reply = await self.call("BootNotification", payload)
            if not isinstance(reply, CallResult):
                await asyncio.sleep(2)
                continue
            status, interval = reply.payload.get("status"), int(reply.payload.get("interval", 0))
            self.registration = status
            if status == "Accepted":
                if interval > 0:
                    self.configuration["HeartbeatInterval"]["value"] = str(interval)
                break
            if status == "Rejected" and "no_retry_after_rejected" in self.faults:
                await asyncio.Event().wait()  # silent for good (until rebooted)
            await asyncio.sleep(0 if "boot_retry_too_early" in self.faults else (interval or 2))
        for connector in range(0 if "no_connector_zero_status" not in self.faults else 1, self.connectors + 1):
            status = "Unavailable" if connector == 1 and "boot_status_unavailable" in self.faults else "Available"
            await self.send_status(connector, status)

    async def send_status(self, connector: int, status: str, error_code: str = "NoError") -> None:
        self.status[connector] = status
        await self.call("StatusNotification", {"connectorId": connector, "errorCode": error_code,
                                               "status": status, "timestamp": now_iso()})

    async def heartbeats(self) -> None:
        while True:
            interval = int(self.configuration["HeartbeatInterval"]["value"])
            if interval <= 0 or "no_heartbeat" in self.faults:
                await asyncio.Event().wait()
            await asyncio.sleep(interval * (2 if "heartbeat_interval_doubled" in self.faults else 1))
            await self.call("Heartbeat", {})

    # -- calls from the central system -----------------------------------------------------------------
    async def handle_call(self, call: Call) -> dict[str, Any] | CallError:
        if call.action == "GetConfiguration":
            wanted = call.payload.get("key")
            keys = [k for k in self.configuration if not wanted or k in wanted]
            reply: dict[str, Any] = {"configurationKey": [{"key": k, **self.configuration[k]} for k in keys]}
            unknown = [k for k in wanted or [] if k not in self.configuration]
            if unknown:
                reply["unknownKey"] = unknown
            return reply
        if call.action == "ChangeConfiguration":
            entry = self.configuration.get(call.payload["key"])
            if entry is None:
                return {"status": "NotSupported"}
            if entry["readonly"]:
                return {"status": "Rejected"}
            entry["value"] = call.payload["value"]
            return {"status": "Accepted"}
        return CallError(call.unique_id, "NotImplemented", f"{call.action} is not implemented by the simulator yet")


async def amain(args: argparse.Namespace) -> None:
    faults = Faults(FAULTS, frozenset(args.fault))
    faults.check()
    cp = SimChargePoint(args.cs_url, args.id, args.connectors, faults, os.environ.get(args.password_env or "", None))
    api = ActuationServer(cp.act, cp.state)
    await api.start(args.http_host, args.http_port)
    ready(actuation=f"http://{args.http_host}:{api.port}")
    life = asyncio.create_task(cp.lifecycle())
    await watch_stdin()
    life.cancel()
    await asyncio.gather(life, return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ocpp16-sim-charge-point", description=__doc__.splitlines()[0])
    parser.add_argument("--cs-url", help="central system URL without the chargePointId")
    parser.add_argument("--id", default="CP_1", help="chargePointId")
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--password-env", help="environment variable holding the basic-auth password")
    parser.add_argument("--fault", action="append", default=[], help="switch on a named fault (repeatable)")
    parser.add_argument("--list-faults", action="store_true")
    args = parser.parse_args(argv)
    if args.list_faults:
        print(Faults(FAULTS).listing())
        return
    if not args.cs_url:
        parser.error("--cs-url is required")
    asyncio.run(amain(args))


if __name__ == "__main__":
    main()
