"""Reference OCPP 1.6 Core charge point: the passing SUT for ``--ocpp-sut cp``, with fault switches.

    python -m harness.simulators.charge_point --cs-url ws://127.0.0.1:9000/ocpp --id CP_1
    python -m harness.simulators.charge_point --list-faults

Behaviour: boot (Accepted; Pending and Rejected retried after ``interval``), then
StatusNotification for connector 0 and every connector with its current status;
heartbeats; reconnect with back-off without re-booting. Connectors, authorization
(cache, offline) and transactions with sampled and clock-aligned meter values are in
charge_point_connectors; the central system's operations in charge_point_handlers;
configuration keys in charge_point_config; the ordered outgoing pipeline and offline
queue in charge_point_outbox. Manual steps (harness.actuators.VOCABULARY) arrive as
``POST /act/<word>`` on the HTTP API; ``GET /state`` shows the connectors.

Smart charging is in charge_point_smart, the local authorization list in
charge_point_local_list. Variants (``--list-variants``, charge_point_variants) make it take
other paths the spec permits, or be another kind of charge point (fixed_cable,
no_local_list); they and their options come from ``--variant`` or the ``simulator:``
section of its config file (``--config``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

from websockets.asyncio.client import connect

from .. import schemas
from ..ocppj import CallError, CallResult
from .charge_point_certificates import CertificatesMixin
from .charge_point_config import Configuration
from .charge_point_connectors import ChargingMixin, Connector, now_iso
from .charge_point_faults import FAULTS
from .charge_point_handlers import HandlersMixin
from .charge_point_local_list import LocalListMixin, add_local_list_keys, supported as local_list_supported
from .charge_point_smart import SmartChargingMixin, add_smart_keys
from .charge_point_outbox import Outbox
from .charge_point_firmware import FirmwareMixin
from .charge_point_reservation import ReservationMixin
from .charge_point_security import SecurityMixin
from .charge_point_trigger import TriggerMixin
from .charge_point_variants import VARIANTS
from .common import (
    ActuationServer, Faults, RpcPeer, Switches, Variants, add_switch_arguments, list_switches, ready, switches_from,
    watch_stdin,
)

__all__ = ["SimChargePoint", "FAULTS", "VARIANTS", "main"]

METER_IN_SERVICE_WH = 1_250_000.0  # the register of each connector's meter when the simulator starts


class SimChargePoint(SecurityMixin, CertificatesMixin, ReservationMixin, FirmwareMixin, TriggerMixin,
                     SmartChargingMixin, LocalListMixin, ChargingMixin, HandlersMixin):
    def __init__(self, cs_url: str, cp_id: str, connectors: int, faults: Faults, password: str | None,
                 *, variants: Switches | None = None, security: dict[str, Any] | None = None) -> None:
        self.cs_url = cs_url.rstrip("/") + "/" + cp_id
        self.cp_id = cp_id
        self.faults = faults
        self.variants = variants or Variants(VARIANTS)
        self.password = password
        self.fixed_cable = "fixed_cable" in self.variants
        self.config = Configuration(connectors, faults=faults, variants=self.variants)
        add_smart_keys(self.config, power_only="power_only" in self.variants)
        add_local_list_keys(self.config, supported=local_list_supported(self.variants))
        self.config.set_internal("SupportedFeatureProfiles", "Core,SmartCharging" + (
            ",LocalAuthListManagement" if local_list_supported(self.variants) else ""))
        # a meter in service: its register starts far from 0, so a value in kWh sent as Wh shows (RPC_016_CS)
        self.connectors: dict[int, Connector] = {
            i: Connector(i, energy=METER_IN_SERVICE_WH) for i in range(connectors + 1)}
        self.cache: dict[str, dict[str, Any]] = {}
        self.cp_faulted = False
        self.registration = "none"  # none | Pending | Rejected | Accepted
        self.peer: RpcPeer | None = None
        self.boots = 0
        self.offline = False  # the network is cut (drop_connection)
        self._reboot = asyncio.Event()
        self._cut = asyncio.Event()
        self._restored = asyncio.Event()
        self.outbox = Outbox(self.send, self.retry_policy, self.resync_statuses)
        self.outbox.reorder_offline_meter_values = "offline_meter_values_reversed" in faults
        self.outbox.statuses_before_replay = "status_before_offline_replay" in self.variants
        # security extension (charge_point_security): profile, URLs per profile, password, certificates
        settings = {"profile": 1 if password else 0, "urls": {}, "root_cert": None, "manufacturer_root": None,
                    "client_cert": None, "client_key": None, "cpo_name": "OpenOCTT CSO", **(security or {})}
        self.setup_security(base_url=cs_url, password=password, **settings)

    # -- state and manual steps ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"registration": self.registration, "boots": self.boots, "connected": self.peer is not None,
                "faults": sorted(self.faults.enabled), "queued": [i.action for i in self.outbox.items],
                "status": {c.id: c.status for c in self.connectors.values()},
                "transactions": {c.id: c.transaction.tx_id for c in self.connectors.values() if c.transaction},
                "cache": self.cache}

    async def act(self, action: str, params: dict[str, Any]) -> Any:
        """A manual step; the variants late_actuator and slow_operator answer after the charge point reacted."""
        result, caused = self.do(action, params)
        if "late_actuator" in self.variants:  # a lab API that answers once the charger's CALLs were answered
            if caused is not None:
                await asyncio.wait([caused], timeout=10)
            await asyncio.sleep(0.05)  # let the reaction reach the outbox
            if self.outbox.open.is_set():
                await self.drain(10.0)
        if "slow_operator" in self.variants:  # an operator who confirms long after doing the step
            await asyncio.sleep(float(self.variants.option("slow_operator_delay", 30)))
        return result

    def do(self, action: str, params: dict[str, Any]) -> tuple[Any, asyncio.Task[Any] | None]:
        """Carry out a manual step; returns the answer and the task it started (if any)."""
        c = self.connectors.get(int(params.get("connector") or 1))
        if c is None:
            raise ValueError(f"no connector {params.get('connector')}")
        loop = asyncio.get_running_loop()
        if action == "power_cycle":
            self.reboot()
        elif action == "power_loss":  # with a back-up supply: stop transactions, then go down
            for each in self.connectors.values():
                self.stop_transaction(each, "PowerLoss")
            loop.create_task(self.drain_then_reboot())
        elif action == "plug_in":
            c.plugged, c.ev_connected = True, True
            if c.transaction is None and c.authorized is not None:
                self.cable_ready(c)
            else:
                self.update(c, report="no_preparing_on_plug_in" not in self.faults or c.transaction is not None)
        elif action == "unplug":
            c.plugged, c.finishing = False, False
            self.stop_transaction(c, "EVDisconnected")
            c.finishing = False
            self.update(c)
        elif action == "unplug_ev_side":
            self.ev_side_unplugged(c)
        elif action == "present_id_tag":
            return "done", loop.create_task(self.present_id_tag(c, str(params["id_tag"])))
        elif action == "lock_failure":
            c.lock_broken = True
        elif action == "fault_connector":
            c.faulted = True
            self.update(c)
        elif action == "fault_charge_point":
            self.cp_faulted = True
            for each in self.connectors.values():
                self.update(each)
        elif action == "clear_fault":
            if "fault_never_clears" in self.faults:
                return "done", None
            if int(params.get("connector") or 0) == 0:
                self.cp_faulted = False
            c.faulted = c.lock_broken = c.lock_fault = False
            for each in self.connectors.values():
                self.update(each)
        elif action == "drop_connection":
            self.offline = True
            self._restored.clear()
            self.outbox.closed()  # offline from this instant, not once the socket has closed
            self._cut.set()
        elif action == "restore_connection":
            self.offline = False
            self._restored.set()
        elif action in ("ev_suspend", "ev_resume"):
            c.ev_suspended = action == "ev_suspend"
            self.update(c)
        elif action == "set_security_profile":  # a service tool (charge_point_security)
            return self.set_security_profile(params), None
        else:
            raise KeyError(action)
        return "done", None

    def ev_side_unplugged(self, c: Connector) -> None:
        """Spec 4.10 / 9.1.23: stop (EVDisconnected) or suspend, per StopTransactionOnEVSideDisconnect."""
        if c.transaction is None:
            c.plugged = c.finishing = False
            self.update(c)
        elif self.config.bool("StopTransactionOnEVSideDisconnect") or "ev_disconnect_always_stops" in self.faults:
            self.stop_transaction(c, "EVDisconnected")
        else:
            c.ev_connected = False
            self.update(c, override="Preparing" if "ev_disconnect_to_preparing" in self.faults else None)

    def reboot(self) -> None:
        self._reboot.set()

    async def drain(self, limit: float) -> None:
        """Wait (bounded) until every queued message has been sent."""
        deadline = time.monotonic() + limit
        while self.outbox.items and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def drain_then_reboot(self) -> None:
        await self.drain(5.0)
        self.reboot()

    def on_reboot(self) -> None:
        """Volatile state is lost; transactions cut by the reboot end with reason PowerLoss (sent after boot)."""
        self.registration, self.cp_faulted = "none", False
        self.config.apply_pending()  # RebootRequired changes take effect
        for c in self.connectors.values():
            for task in c.tasks:
                task.cancel()
            c.tasks.clear()
            c.authorized, c.ev_connected, c.ev_suspended, c.lock_fault = None, True, False, False
            self.stop_transaction(c, "PowerLoss", report=False)
            if "availability_not_persistent" in self.faults:
                c.operative, c.scheduled = True, None
            c.status, c.reported = self.status_of(c)[0], None

    # -- connection lifecycle ----------------------------------------------------------------------
    async def lifecycle(self) -> None:
        delay = 0.2
        while True:  # ends when the process does (stdin EOF)
            if self._reboot.is_set():
                self._reboot.clear()
                self.on_reboot()
            if self.offline:
                await self._restored.wait()
                continue
            self._cut.clear()
            self._reconnect.clear()
            try:
                url, tls, headers = self.connection()  # per SecurityProfile: URL, TLS context, Basic auth
                async with connect(url, subprotocols=["ocpp1.6"], additional_headers=headers, proxy=None,
                                   open_timeout=5, close_timeout=1, ping_interval=None,
                                   **({"ssl": tls} if tls is not None else {})) as ws:
                    delay = 0.2
                    self.peer = self.new_peer(ws)  # OCPP-J layer with this charge point's faults
                    self.connection_opened()
                    tasks = [asyncio.create_task(self.peer.run()), asyncio.create_task(self.operate()),
                             asyncio.create_task(self._reboot.wait()), asyncio.create_task(self._cut.wait()),
                             asyncio.create_task(self._reconnect.wait())]
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    self.after_connection(self.peer)
            except Exception:
                self.connection_failed()  # refused, dropped: back off and try again (or fall back to the old profile)
            self.peer = None
            self.outbox.closed()
            if self._reconnect.is_set():
                delay = 0.2  # a reconnect with new security settings: at once
            elif not self._reboot.is_set() and not self.offline:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    # -- the OCPP-J layer, and faults of the harness's own cases (testcases/test_rpc_*cs.py) -------------------
    def new_peer(self, ws: Any) -> RpcPeer:
        """The OCPP-J layer for a new connection: it receives the central system's actions, handles those it has
        an ``on_<Action>`` for (less the option ``unsupported_actions`` of its config), with its RPC faults."""
        unsupported = frozenset(self.variants.option("unsupported_actions", []) or [])
        return RpcPeer(ws, self.handle_call, faults=self.faults, receives=schemas.CENTRAL_SYSTEM_ACTIONS,
                       supported=lambda action: action not in unsupported and hasattr(self, f"on_{action}"),
                       quiet_limit=lambda: 1.5 * max(self.config.int("HeartbeatInterval"), 1))

    def after_connection(self, peer: RpcPeer | None) -> None:
        """Fault oversize_frame_no_reconnect: a frame over the size limit (close 1009) leaves it offline for good."""
        if peer is not None and peer.oversized and "oversize_frame_no_reconnect" in self.faults:
            self.offline = True
            self._restored.clear()

    def resend_confirmed_stop(self) -> None:
        """Fault stop_resent_after_reconnect: the last StopTransaction.req goes out again after a reconnect."""
        last = getattr(self, "last_stop", None)
        if "stop_resent_after_reconnect" in self.faults and last is not None:
            self.outbox.put("StopTransaction", last)

    async def operate(self) -> None:
        if self.registration != "Accepted":
            await self.boot()
        else:
            self.resend_confirmed_stop()  # fault stop_resent_after_reconnect (a no-op otherwise)
            self.outbox.opened(resync=True)
        await self.heartbeats()

    async def send(self, action: str, payload: dict[str, Any]) -> CallResult | CallError:
        if self.peer is None:
            raise ConnectionError("offline")
        return await self.peer.call(action, payload)

    def retry_policy(self) -> tuple[int, int]:
        return self.config.int("TransactionMessageAttempts"), self.config.int("TransactionMessageRetryInterval")

    async def boot(self) -> None:
        self.boots += 1
        vendor = "SimVendor-" + "x" * 20 if "invalid_boot_notification" in self.faults else "SimVendor"
        payload = {"chargePointVendor": vendor, "chargePointModel": "RefCP-1", "firmwareVersion": "0.2.0",
                   "chargePointSerialNumber": "SIM-0001"}
        while True:
            reply = await self.send("BootNotification", payload)
            if not isinstance(reply, CallResult):
                await asyncio.sleep(2)
                continue
            status, interval = reply.payload.get("status"), int(reply.payload.get("interval", 0))
            self.registration = status
            if status == "Accepted":
                if interval > 0:
                    self.config.set_internal("HeartbeatInterval", str(interval))
                break
            if status == "Rejected" and "no_retry_after_rejected" in self.faults:
                await asyncio.Event().wait()  # silent for good (until rebooted)
            await asyncio.sleep(0 if "boot_retry_too_early" in self.faults else (interval or 2))
        for c in self.connectors.values():  # errata 3.22: connector 0 and every connector, current status
            if c.id == 0 and "no_connector_zero_status" in self.faults:
                c.reported = c.status  # nor later, when the statuses are resynchronised
                continue
            status, error, info = self.status_of(c)
            if c.id == 1 and "boot_status_unavailable" in self.faults:
                status = "Unavailable"
            c.status = status
            body = {"connectorId": c.id, "errorCode": error, "status": status, "timestamp": now_iso()}
            if info:
                body["info"] = info
            if isinstance(await self.send("StatusNotification", body), CallResult):
                c.reported = status
        self.outbox.opened(resync=True)  # a status that changed while booting is reported now

    async def heartbeats(self) -> None:
        while True:
            interval = self.config.int("HeartbeatInterval")
            if interval <= 0 or "no_heartbeat" in self.faults:
                await asyncio.sleep(1)
                continue
            await asyncio.sleep(interval * (2 if "heartbeat_interval_doubled" in self.faults else 1))
            await self.send("Heartbeat", {})


async def amain(args: argparse.Namespace) -> None:
    faults, variants = switches_from(args, FAULTS, VARIANTS)
    urls = dict((int(k), v) for k, _, v in (item.partition("=") for item in args.profile_url))
    security = {"urls": urls, "root_cert": args.root_cert, "manufacturer_root": args.manufacturer_root,
                "client_cert": args.client_cert, "client_key": args.client_key, "cpo_name": args.cpo_name}
    password = os.environ.get(args.password_env or "", None)
    if args.security_profile is not None:
        security["profile"] = args.security_profile
    cp = SimChargePoint(args.cs_url, args.id, args.connectors, faults, password, variants=variants, security=security)
    api = ActuationServer(cp.act, cp.state)
    await api.start(args.http_host, args.http_port)
    ready(actuation=f"http://{args.http_host}:{api.port}")
    tasks = [asyncio.create_task(cp.lifecycle()), asyncio.create_task(cp.outbox.run()),
             asyncio.create_task(cp.sample_clock_aligned())]
    await watch_stdin()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ocpp16-sim-charge-point", description=__doc__.splitlines()[0])
    parser.add_argument("--cs-url", help="central system URL without the chargePointId")
    parser.add_argument("--id", default="CP_1", help="chargePointId")
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--password-env", help="environment variable holding the basic-auth password")
    parser.add_argument("--security-profile", type=int, choices=(0, 1, 2, 3), default=None,
                        help="its SecurityProfile at start (default: 1 with a password, else 0)")
    parser.add_argument("--profile-url", action="append", default=[], metavar="N=URL",
                        help="the central system's URL for security profile N (default: --cs-url)")
    parser.add_argument("--root-cert", help="PEM: its CentralSystemRootCertificate(s)")
    parser.add_argument("--manufacturer-root", help="PEM: its ManufacturerRootCertificate(s)")
    parser.add_argument("--client-cert", help="PEM: its charge point certificate (chain), security profile 3")
    parser.add_argument("--client-key", help="PEM: the key of --client-cert")
    parser.add_argument("--cpo-name", default="OpenOCTT CSO", help="its CpoName configuration key")
    add_switch_arguments(parser)
    args = parser.parse_args(argv)
    if list_switches(args, FAULTS, VARIANTS):
        return
    if not args.cs_url:
        parser.error("--cs-url is required")
    asyncio.run(amain(args))


if __name__ == "__main__":
    main()
