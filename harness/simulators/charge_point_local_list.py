"""Local Authorization List of the reference charge point (LocalAuthListManagement; spec 3.5.2, 5.10, 5.15, 9.2).

SendLocalList and GetLocalListVersion are answered by the model
(harness.models.local_auth_list: ``apply_send_local_list``, ``get_local_list_version``).
The list and its version live at module level, so they survive a power cycle of the
simulated charge point (spec 3.5.2: the list is persistent). Presented id tags are
decided with ``authorize_locally`` before the cache / Authorize.req path: online with
LocalPreAuthorize, offline with LocalAuthorizeOffline (LocalAuthListEnabled on).

Without the feature: run the simulator with OCPP_SIM_CP_NO_LOCAL_LIST=1 (SendLocalList
NotSupported, GetLocalListVersion -1, no LocalAuthList* keys); LocalAuthListEnabled=false
gives the same answers (model reading R2/R5).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from ..models.local_auth_list import (
    LocalAuthList,
    PayloadError,
    apply_send_local_list,
    authorize_locally,
    get_local_list_version,
)
from .charge_point_config import Configuration, Key

__all__ = ["LOCAL_LIST_FAULTS", "LocalListMixin", "add_local_list_keys", "supported"]

LOCAL_LIST_FAULTS = {
    "local_list_wrong_answer_when_unsupported": "with LocalAuthListEnabled=false, GetLocalListVersion answers 0 and "
                                                "SendLocalList Accepted (instead of -1 / NotSupported)",
    "empty_list_version_reported": "GetLocalListVersion reports the version of an empty list instead of 0",
    "differential_update_failed": "answer every Differential SendLocalList.req with Failed",
    "local_list_version_not_stored": "SendLocalList is applied but GetLocalListVersion keeps answering 0",
    "version_mismatch_not_detected": "accept a Differential update whose listVersion is not above the current one",
    "oversized_local_list_accepted": "accept a SendLocalList.req with more entries than SendLocalListMaxLength",
    "authorize_sent_despite_local_list": "with LocalPreAuthorize, still send Authorize.req for an id in the local list",
}

#: the list, kept across power cycles of the simulated charge point (one per process)
_STORE: dict[str, LocalAuthList] = {"list": LocalAuthList()}


def supported() -> bool:
    return os.environ.get("OCPP_SIM_CP_NO_LOCAL_LIST", "") != "1"


def _bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def add_local_list_keys(config: Configuration) -> None:
    """LocalAuthListEnabled (RW), LocalAuthListMaxLength, SendLocalListMaxLength (R) (spec 9.2)."""
    if supported():
        config.keys.update({
            "LocalAuthListEnabled": Key("true", False, _bool),
            "LocalAuthListMaxLength": Key("20", True),
            "SendLocalListMaxLength": Key("5", True),
        })


class LocalListMixin:
    """SendLocalList, GetLocalListVersion and local authorization of SimChargePoint."""

    config: Configuration
    faults: Any

    def _enabled(self) -> bool:
        return supported() and self.config.bool("LocalAuthListEnabled")

    async def on_GetLocalListVersion(self, payload: dict[str, Any]) -> dict[str, Any]:
        current = _STORE["list"]
        enabled = self._enabled() or (supported() and "local_list_wrong_answer_when_unsupported" in self.faults)
        version = get_local_list_version(current, supported=supported(), enabled=enabled)
        if "local_list_version_not_stored" in self.faults and version > 0:
            version = 0
        if "empty_list_version_reported" in self.faults and enabled and not current.entries:
            version = current.version
        return {"listVersion": version}

    async def on_SendLocalList(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not supported():
            return {"status": "NotSupported"}
        current = _STORE["list"]
        enabled = self._enabled() or "local_list_wrong_answer_when_unsupported" in self.faults
        if "differential_update_failed" in self.faults and payload.get("updateType") == "Differential":
            return {"status": "Failed"}
        big = 10 ** 6 if "oversized_local_list_accepted" in self.faults else None
        if "version_mismatch_not_detected" in self.faults:
            current = LocalAuthList(0, current.entries)
        try:
            result = apply_send_local_list(
                current, payload, max_length=big or self.config.int("LocalAuthListMaxLength"),
                send_max_length=big or self.config.int("SendLocalListMaxLength"), supported=supported(), enabled=enabled)
        except PayloadError:
            return {"status": "Failed"}
        if result.status.value == "Accepted":
            _STORE["list"] = result.local_list
        return {"status": result.status.value}

    async def authorize(self, id_tag: str) -> dict[str, Any] | None:
        """The local list first (spec 3.5.2, 9.1.12, 9.1.13), else the cache / Authorize.req path."""
        if self._enabled():
            online = self.outbox.open.is_set()  # type: ignore[attr-defined]
            decision = authorize_locally(
                id_tag, local_list=_STORE["list"], cache={}, now=datetime.now(timezone.utc), online=online,
                local_auth_list_enabled=True, authorization_cache_enabled=False,
                local_pre_authorize=self.config.bool("LocalPreAuthorize") and "authorize_sent_despite_local_list" not in self.faults,
                local_authorize_offline=self.config.bool("LocalAuthorizeOffline"))
            if decision.source == "local_list" and decision.id_tag_info is not None:
                info = decision.id_tag_info.to_payload()
                info["status"] = decision.status.value if decision.status is not None else info["status"]
                return info
        return await super().authorize(id_tag)  # type: ignore[misc, no-any-return]
