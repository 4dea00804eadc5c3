"""The Local Authorization List of the reference central system: a versioned list per charge point.

``POST /act/cs_get_local_list_version`` sends GetLocalListVersion; ``POST /act/cs_send_local_list``
sends SendLocalList (spec 5.10, 5.15, 6.41, 7.1, 7.48, errata 3.52) with parameters:

* ``update_type``: Full (default) or Differential;
* ``max_length``: the charge point's SendLocalListMaxLength, when the operator knows it
  (the list is cut to it);
* ``id_tags``: which tags of the id-tag store to send (default: all of them for Full; the
  first Accepted one for Differential), each with its current idTagInfo.

Before a Differential update it asks the charge point's version (GetLocalListVersion).
The new listVersion is one above both the version it last installed and the version the
charge point last reported. On the answer it keeps the list (Accepted), resends a Full
list (VersionMismatch, or Failed of a Differential: spec 5.15 SHOULD), or stops (Failed of
a Full list, NotSupported). The list of each charge point is in ``GET /state``.

Variants (:mod:`.central_system_variants`): ``full_list_same_version`` (a Full list keeps
the version it holds), ``differential_right_after_failed`` and ``resend_after_not_supported``
(a retry the back-end makes on its own right after the operator's command returned).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from .central_system_handlers import IdTagStore
from .common import Background

__all__ = ["FAULTS", "LocalLists"]

FAULTS = {
    "get_local_list_version_not_sent": "the operator's GetLocalListVersion command sends nothing",
    "local_list_version_not_increased": "send SendLocalList with the version the charge point already has",
    "differential_sent_as_full": "asked for a Differential update, send it with updateType Full",
    "local_list_too_long": "send one entry more than the charge point's SendLocalListMaxLength",
    "entry_without_id_tag_info_in_full": "leave out the idTagInfo of the first entry of a Full list",
    "ignores_version_mismatch": "after VersionMismatch, send the same Differential update again instead of a Full list",
}

#: op.send(cp_id, record, word, action, payload) -> the charge point's reply (or callerror) as a dict
Send = Callable[[str, dict[str, Any], str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class LocalLists:
    """Builds GetLocalListVersion / SendLocalList and keeps each charge point's list and version."""

    def __init__(self, id_tags: IdTagStore, faults: Any, variants: Any = frozenset()) -> None:
        self.id_tags = id_tags
        self.faults = faults
        self.variants = variants
        self._background = Background()

    @staticmethod
    def state(record: dict[str, Any]) -> dict[str, Any]:
        return record.setdefault("local_list", {"version": 0, "entries": {}, "reported": None, "supported": None})

    def get_local_list_version(self, p: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        return None if "get_local_list_version_not_sent" in self.faults else ("GetLocalListVersion", {})

    def learn(self, record: dict[str, Any], action: str, payload: dict[str, Any], reply: dict[str, Any]) -> None:
        if action == "GetLocalListVersion" and "listVersion" in reply:
            state = self.state(record)
            state["reported"] = reply["listVersion"]
            state["supported"] = reply["listVersion"] != -1

    def _entries(self, update: str, p: dict[str, Any]) -> list[dict[str, Any]]:
        now = datetime.now(timezone.utc)
        tags = p.get("id_tags")
        if not tags:
            known = list(self.id_tags.tags)
            tags = known if update == "Full" else [t for t in known if self.id_tags.tags[t][0] == "Accepted"][:1]
        entries = [{"idTag": tag, "idTagInfo": self.id_tags.info(tag, now)} for tag in tags]
        limit = p.get("max_length")
        if limit is not None:
            entries = entries[:int(limit)]
            if "local_list_too_long" in self.faults:
                entries += [{"idTag": f"LL_EXTRA_{n}", "idTagInfo": {"status": "Accepted"}}
                            for n in range(int(limit) + 1 - len(entries))]
        if update == "Full" and entries and "entry_without_id_tag_info_in_full" in self.faults:
            del entries[0]["idTagInfo"]
        return entries

    async def send_local_list(self, send: Send, cp_id: str, record: dict[str, Any], p: dict[str, Any]) -> Any:
        """The whole operator command: optional version query, the update, and the reaction to its answer."""
        word, state = "cs_send_local_list", self.state(record)
        update = str(p.get("update_type", "Full"))
        if update == "Differential":
            await send(cp_id, record, word, "GetLocalListVersion", {})
        base = max(state["version"], state["reported"] or 0)
        version = base if "local_list_version_not_increased" in self.faults else base + 1
        sent_type = "Full" if "differential_sent_as_full" in self.faults else update
        if sent_type == "Full" and "full_list_same_version" in self.variants:
            version = self._full_version(state)
        entries = self._entries(update, p)
        payload = {"listVersion": version, "updateType": sent_type, "localAuthorizationList": entries}
        reply = await send(cp_id, record, word, "SendLocalList", payload)
        status = reply.get("status")
        if status == "Accepted":
            kept = {} if sent_type == "Full" else dict(state["entries"])
            for entry in entries:
                if "idTagInfo" in entry:
                    kept[entry["idTag"]] = entry["idTagInfo"]
                else:
                    kept.pop(entry["idTag"], None)
            state.update(version=version, entries=kept, reported=version, supported=True)
        elif status == "NotSupported":
            state["supported"] = False
            if "resend_after_not_supported" in self.variants:
                self._background.start(send(cp_id, record, word, "SendLocalList", payload))
        elif status == "VersionMismatch" and "ignores_version_mismatch" in self.faults:
            reply = await send(cp_id, record, word, "SendLocalList", payload)
        elif status in ("VersionMismatch", "Failed") and sent_type == "Differential":
            full_version = self._full_version(state) if "full_list_same_version" in self.variants else version + 1
            full = {"listVersion": full_version, "updateType": "Full", "localAuthorizationList": self._entries("Full", p)}
            reply = await send(cp_id, record, word, "SendLocalList", full)
        elif status == "Failed" and "differential_right_after_failed" in self.variants:
            again = {**payload, "updateType": "Differential", "listVersion": version + 1}
            self._background.start(send(cp_id, record, word, "SendLocalList", again))
        return {"action": "SendLocalList", "sent": payload, "reply": reply}

    @staticmethod
    def _full_version(state: dict[str, Any]) -> int:
        """Variant full_list_same_version: the version it holds for the charge point (never 0: errata 3.52)."""
        return max(state["version"], state["reported"] or 0, 1)
