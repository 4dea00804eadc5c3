"""The operator's side of the reference central system: ``POST /act/<word>`` sends a CALL to a charge point.

Each word of the harness's actuator vocabulary for a central system under test
(``cs_remote_start``, ``cs_reset`` ...) maps to one CS->CP CALL built from the JSON
body's parameters. The HTTP answer carries the charge point's reply (or its
CALLERROR), as an operator's screen would show it. Replies the simulator learns
from (GetConfiguration, ChangeConfiguration, Reset) update its store.

Smart charging (:mod:`.central_system_smart`) and the Local Authorization List
(:mod:`.central_system_local_list`) have their own modules; a word whose command takes
more than one CALL (``cs_send_local_list``) runs as a script.

Fault switches named in :data:`FAULTS` make the central system send a wrong CALL,
or none at all, on purpose. Variants (:mod:`.central_system_variants`) make it send
another CALL the spec and the catalog allow: ``remote_start_own_choice``,
``unlock_other_connector`` here, the others in the smart-charging and local-list modules.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from ..ocppj import CallError, CallResult
from . import central_system_extensions as extensions
from . import central_system_local_list as local_list
from . import central_system_smart as smart
from .central_system_handlers import CentralSystemStore, iso
from .central_system_local_list import LocalLists
from .central_system_smart import SmartCharging
from .common import RpcPeer, Switches, Variants

__all__ = ["FAULTS", "Operator"]

FAULTS = {
    "remote_start_missing_id_tag": "send RemoteStartTransaction without the (required) idTag",
    "remote_stop_wrong_transaction_id": "send RemoteStopTransaction for the requested transactionId + 1",
    "remote_stop_not_sent": "the operator's RemoteStopTransaction command sends nothing",
    "reset_wrong_type": "send Reset with the other type (Hard <-> Soft) than the operator asked for",
    "unlock_connector_zero": "send UnlockConnector for connectorId 0 (spec 6.53: connectorId > 0)",
    "get_configuration_ignores_keys": "send GetConfiguration without the keys the operator asked for",
    "get_configuration_empty_key_string": "asked for all keys, send GetConfiguration with key [\"\"]",
    "change_configuration_value_not_string": "send ChangeConfiguration with a numeric value as a JSON number",
    "change_configuration_only_known_keys": "refuse to send ChangeConfiguration for keys it does not know (Core keys only)",
    "change_configuration_validates_values": "refuse to send ChangeConfiguration with a negative number as value",
    "clear_cache_not_sent": "the operator's ClearCache command sends nothing",
    **smart.FAULTS,
    **local_list.FAULTS,
    **extensions.FAULTS,
}

#: Core configuration keys (spec 9.1) the central system knows by name.
CORE_KEYS = frozenset({
    "AllowOfflineTxForUnknownId", "AuthorizationCacheEnabled", "AuthorizeRemoteTxRequests", "BlinkRepeat",
    "ClockAlignedDataInterval", "ConnectionTimeOut", "ConnectorPhaseRotation", "ConnectorPhaseRotationMaxLength",
    "GetConfigurationMaxKeys", "HeartbeatInterval", "LightIntensity", "LocalAuthorizeOffline", "LocalPreAuthorize",
    "MaxEnergyOnInvalidId", "MeterValuesAlignedData", "MeterValuesAlignedDataMaxLength", "MeterValuesSampledData",
    "MeterValuesSampledDataMaxLength", "MeterValueSampleInterval", "MinimumStatusDuration", "NumberOfConnectors",
    "ResetRetries", "StopTransactionOnEVSideDisconnect", "StopTransactionOnInvalidId", "StopTxnAlignedData",
    "StopTxnAlignedDataMaxLength", "StopTxnSampledData", "StopTxnSampledDataMaxLength", "SupportedFeatureProfiles",
    "SupportedFeatureProfilesMaxLength", "TransactionMessageAttempts", "TransactionMessageRetryInterval",
    "UnlockConnectorOnEVSideDisconnect", "WebSocketPingInterval",
})


class Refused(Exception):
    """The central system would not send the CALL (what its operator screen would say)."""


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class Operator:
    """Turns actuator words into CALLs to the connected charge point."""

    def __init__(self, store: CentralSystemStore, peers: dict[str, RpcPeer], faults: Any,
                 variants: Switches | None = None) -> None:
        self.store = store
        self.peers = peers
        self.faults = faults
        self.variants = variants if variants is not None else Variants({})
        #: connectors (> 0) of the charge point the current command goes to, from its StatusNotifications,
        #: and those of them with a running transaction
        self.connectors: list[int] = []
        self.busy: set[int] = set()
        self.builders: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]] | None]] = {
            "cs_remote_start": self.remote_start, "cs_remote_stop": self.remote_stop, "cs_reset": self.reset,
            "cs_unlock_connector": self.unlock, "cs_get_configuration": self.get_configuration,
            "cs_change_configuration": self.change_configuration, "cs_clear_cache": self.clear_cache,
            "cs_change_availability": self.change_availability, "cs_data_transfer": self.data_transfer,
        }
        self.smart = SmartCharging(faults, self.variants)
        self.local_lists = LocalLists(store.id_tags, faults, self.variants)
        self.builders.update({
            "cs_set_charging_profile": self.smart.set_charging_profile,
            "cs_get_composite_schedule": self.smart.get_composite_schedule,
            "cs_clear_charging_profile": self.smart.clear_charging_profile,
            "cs_remote_start_with_profile": self.smart.remote_start_with_profile,
            "cs_get_local_list_version": self.local_lists.get_local_list_version,
        })
        #: words whose command is more than one CALL: script(send, cp_id, record, params) -> HTTP answer
        self.scripts: dict[str, Callable[..., Awaitable[Any]]] = {"cs_send_local_list": self.local_lists.send_local_list}
        self.builders.update(extensions.builders(self))  # Reservation, FirmwareManagement, RemoteTrigger, security
        self.scripts.update(extensions.scripts(self))

    async def act(self, word: str, params: dict[str, Any]) -> Any:
        """Carry out one operator command; raises KeyError for an unknown word (HTTP 404)."""
        if word not in self.scripts:
            build = self.builders[word]
        cp_id = params.get("charge_point_id") or next(reversed(self.peers), None)
        if cp_id is None or cp_id not in self.peers:
            raise RuntimeError(f"no charge point {cp_id or ''} is connected".replace("  ", " "))
        record = self.store.record(cp_id)
        self.connectors = sorted(int(c) for c in record["status"] if int(c) > 0)
        self.busy = {tx.get("connectorId") for tx in self.store.transactions.values()
                     if tx["charge_point"] == cp_id and tx.get("stop") is None}
        try:
            if word in ("cs_remote_start", "cs_remote_stop", "cs_remote_start_with_profile") and record["registration"] != "Accepted":
                raise Refused(f"charge point {cp_id} is not Accepted (spec 4.2: no remote start/stop while Pending)")
            if word in self.scripts:
                return await self.scripts[word](self.send, cp_id, record, params)
            built = build(params)
        except Refused as exc:
            record["operations"].append({"word": word, "params": params, "refused": str(exc)})
            return {"refused": str(exc)}
        if built is None:  # a fault that silently does nothing
            record["operations"].append({"word": word, "params": params, "sent": None})
            return {"sent": None}
        action, payload = built
        answer = await self.send(cp_id, record, word, action, payload)
        return {"action": action, "sent": payload, "reply": answer}

    async def send(self, cp_id: str, record: dict[str, Any], word: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One CALL to the charge point; learn from its reply and log the operation. A CALLERROR as a dict."""
        peer = self.peers.get(cp_id)
        if peer is None:
            raise RuntimeError(f"charge point {cp_id} is no longer connected")
        reply = await peer.call(action, payload)
        if isinstance(reply, CallError):
            answer: dict[str, Any] = {"callerror": reply.error_code, "description": reply.error_description}
        else:
            assert isinstance(reply, CallResult)
            answer = reply.payload
            self.learn(record, action, payload, answer)
        record["operations"].append({"word": word, "action": action, "payload": payload, "reply": answer,
                                     "at": iso(datetime.now(timezone.utc))})
        return answer

    def learn(self, record: dict[str, Any], action: str, payload: dict[str, Any], reply: dict[str, Any]) -> None:
        """Keep what the charge point's replies say about it (configuration management)."""
        if action == "GetConfiguration":
            for item in reply.get("configurationKey", []):
                record["configuration"][item["key"]] = {"value": item.get("value"), "readonly": item["readonly"]}
        elif action == "ChangeConfiguration" and reply.get("status") in ("Accepted", "RebootRequired"):
            entry = record["configuration"].setdefault(payload["key"], {"readonly": False})
            entry["value"] = payload["value"]
        elif action == "Reset" and reply.get("status") == "Accepted":
            record["reset_sent"] = payload["type"]
        self.smart.learn(record, action, payload, reply)
        self.local_lists.learn(record, action, payload, reply)

    # -- one builder per word: params -> (action, payload), None = send nothing -----------------
    def remote_start(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        payload: dict[str, Any] = {"idTag": p["id_tag"]}
        if p.get("connector") is not None:
            payload["connectorId"] = int(p["connector"])
        if "remote_start_own_choice" in self.variants:
            payload.update(self._own_choice(payload))
        if "remote_start_missing_id_tag" in self.faults:
            del payload["idTag"]
        return "RemoteStartTransaction", payload

    def _own_choice(self, asked: dict[str, Any]) -> dict[str, Any]:
        """Variant remote_start_own_choice: another Accepted tag of the store, another connector of the charge point."""
        tags = [t for t, (status, _) in self.store.id_tags.tags.items() if status == "Accepted" and t != asked["idTag"]]
        default = tags[0] if tags else asked["idTag"]
        chosen: dict[str, Any] = {"idTag": str(self.variants.option("remote_start_id_tag", default))}
        others = [c for c in self.connectors if c != asked.get("connectorId")]
        if "connectorId" in asked and others:
            chosen["connectorId"] = others[0]
        return chosen

    def remote_stop(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        if "remote_stop_not_sent" in self.faults:
            return None
        tx = int(p["transaction_id"])
        return "RemoteStopTransaction", {"transactionId": tx + 1 if "remote_stop_wrong_transaction_id" in self.faults else tx}

    def reset(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kind = p.get("type", "Soft")
        if "reset_wrong_type" in self.faults:
            kind = {"Hard": "Soft", "Soft": "Hard"}.get(kind, kind)
        return "Reset", {"type": kind}

    def unlock(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        connector = int(p["connector"])
        if "unlock_other_connector" in self.variants and connector not in self.busy:  # busy: the case stops that one
            connector = self._other_connector(connector)
        if "unlock_connector_zero" in self.faults:
            connector = 0
        return "UnlockConnector", {"connectorId": connector}

    def _other_connector(self, asked: int) -> int:
        """Variant unlock_other_connector: another existing connector when ``asked`` exists, the next unknown one if not."""
        if asked in self.connectors:
            return next((c for c in self.connectors if c != asked), asked)
        return next(c for c in itertools.count(asked + 1) if c not in self.connectors)

    def get_configuration(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        keys = p.get("keys")
        if isinstance(keys, str):
            keys = [k for k in keys.split(",") if k]
        if "get_configuration_ignores_keys" in self.faults:
            keys = None
        if not keys and "get_configuration_empty_key_string" in self.faults:
            keys = [""]
        return "GetConfiguration", ({"key": list(keys)} if keys else {})

    def change_configuration(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        key, value = str(p["key"]), str(p["value"])
        if "change_configuration_only_known_keys" in self.faults and key not in CORE_KEYS:
            raise Refused(f"unknown configuration key {key!r}")
        number = _int(value)
        if "change_configuration_validates_values" in self.faults and number is not None and number < 0:
            raise Refused(f"{key} must not be negative")
        if "change_configuration_value_not_string" in self.faults and number is not None:
            return "ChangeConfiguration", {"key": key, "value": number}
        return "ChangeConfiguration", {"key": key, "value": value}

    def clear_cache(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        return None if "clear_cache_not_sent" in self.faults else ("ClearCache", {})

    def change_availability(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "ChangeAvailability", {"connectorId": int(p.get("connector", 0)), "type": p.get("type", "Inoperative")}

    def data_transfer(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        payload = {"vendorId": p["vendor_id"]}
        payload.update({k: str(p[n]) for k, n in (("messageId", "message_id"), ("data", "data")) if p.get(n) is not None})
        return "DataTransfer", payload
