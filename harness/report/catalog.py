"""The OCTT 1.6 test case catalog that ships with the harness (harness/data/octt16_catalog.yaml).

The file is the Open Charge Alliance's test case document, machine-extracted, under
CC BY-ND 4.0: it is shipped verbatim and only read here. The report takes every case's
official title, feature profile and step texts from it, and maps the harness's step
labels onto its step numbers (``"3-4 (StartTransaction)"`` is catalog steps 3 and 4).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

__all__ = ["CatalogStep", "CatalogCase", "Catalog", "load_catalog", "step_numbers", "label_kind", "PROFILE_MARKERS"]

#: catalog profile -> the pytest marker of that feature profile
PROFILE_MARKERS = {
    "Core": "core",
    "FirmwareManagement": "firmware_management",
    "LocalAuthListManagement": "local_auth_list_management",
    "Reservation": "reservation",
    "SmartCharging": "smart_charging",
    "RemoteTrigger": "remote_trigger",
    "Security (1.6 security whitepaper)": "security",
}
MARKER_PROFILES = {marker: profile for profile, marker in PROFILE_MARKERS.items()}

_STEP = re.compile(r"^\s*(\d+)\.\s*(.*)$", re.S)
_LABEL = re.compile(r"^\s*(?:step\s+)?(\d+)(?:\s*-\s*(\d+))?(?!\d)", re.I)


@dataclass(frozen=True)
class CatalogStep:
    """One numbered step: ``text`` without the number; ``note`` the [bracketed] manual action, ``check`` what follows ``=>``."""

    number: int | None
    text: str
    actor: str = ""
    note: str = ""
    check: str = ""


@dataclass(frozen=True)
class CatalogCase:
    id: str
    title: str
    profile: str
    sut: str  # CP or CS: what is under test
    tool_role: str
    prerequisite: str = ""
    before: Mapping[str, str] = field(default_factory=dict)
    steps: tuple[CatalogStep, ...] = ()
    checked: bool = True

    @property
    def tool_actor(self) -> str:
        """The actor the harness plays in the step texts: CS when it is the central system, CP otherwise."""
        return "CS" if self.sut == "CP" else "CP"

    def step(self, number: int) -> CatalogStep | None:
        return next((s for s in self.steps if s.number == number), None)


@dataclass(frozen=True)
class Catalog:
    source: str
    header: str  # the file's own first line(s): what it is
    cases: Mapping[str, CatalogCase]

    def get(self, tc_id: str) -> CatalogCase | None:
        return self.cases.get(tc_id)

    def ids(self, profile: str | None = None, sut: str | None = None) -> list[str]:
        return [c.id for c in self.cases.values()
                if (profile is None or c.profile == profile) and (sut is None or c.sut == sut)]


def parse_step(text: str) -> CatalogStep:
    m = _STEP.match(text)
    number, body = (int(m.group(1)), m.group(2).strip()) if m else (None, text.strip())
    actor = body.split(None, 1)[0].rstrip(":") if body else ""
    note = "; ".join(n.strip() for n in re.findall(r"\[(.*?)\]", body))
    check = body.split("=>", 1)[1].strip() if "=>" in body else ""
    return CatalogStep(number, body, actor if actor in ("CP", "CS") else "", note, check)


def _case(raw: Mapping[str, Any]) -> CatalogCase:
    before = raw.get("before") or {}
    return CatalogCase(
        id=str(raw["id"]), title=str(raw.get("title", "")), profile=str(raw.get("profile", "")),
        sut=str(raw.get("sut", "")), tool_role=str(raw.get("tool_role", "")),
        prerequisite=str(raw.get("prerequisite") or ""),
        before={str(k): str(v) for k, v in before.items()} if isinstance(before, Mapping) else {"state": str(before)},
        steps=tuple(parse_step(str(s)) for s in raw.get("steps") or ()),
        checked=bool(raw.get("checked", True)),
    )


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The shipped catalog, parsed once (with libyaml when it is there: 10x faster)."""
    import yaml

    text = resources.files("harness").joinpath("data/octt16_catalog.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    header = "\n".join(line[1:].strip() for line in text.splitlines()[:3] if line.startswith("#"))
    return Catalog(str(data.get("source", "")), header, {c["id"]: _case(c) for c in data.get("test_cases", [])})


def step_numbers(label: str) -> list[int]:
    """The catalog steps a harness step label names: ``"3-4 (...)"`` -> [3, 4], ``"7"`` -> [7], others -> []."""
    m = _LABEL.match(label or "")
    if not m:
        return []
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else first
    return list(range(first, last + 1)) if 0 < last - first < 50 else [first]


def label_kind(label: str) -> str:
    """catalog | setup | teardown | before | after | harness: who a step label belongs to."""
    if step_numbers(label):
        return "catalog"
    word = (label or "").strip().split(" ", 1)[0].split(":", 1)[0].lower()
    return word if word in ("setup", "teardown", "before", "after") else "harness"
