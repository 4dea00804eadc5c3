"""The systems under test as the report shows them: identity, the configuration used (redacted), its hash.

Secrets never reach a report: :func:`redacted_config` writes every
:class:`harness.config.Secret` and every value under a key that names a secret (password,
token, authorization header, API key ...) as ``***`` and drops the password of a URL;
:func:`known_secrets` lists the values themselves, and :func:`scrub` removes them from any
text that is about to be written (HTML, evidence, JUnit, the terminal): a second line of
defence for a secret that found its way into a failure message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any, Iterable, Mapping

from ..config import Secret, SutConfig
from .model import SutRecord

__all__ = ["redacted_config", "known_secrets", "scrub", "config_sha256", "sut_record", "MASK"]

MASK = "***"
SENSITIVE = re.compile(r"(^|[_\W])(pass(word|wd|phrase)?|secret|token|api[_\W]?key|private[_\W]?key|credentials?|cookie)"
                       r"($|[_\W])|^(proxy-)?authori[sz]ation([_\W]?key)?$", re.I)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)(?P<password>[^@/\s]+)(?=@)", re.I)


def _plain(value: Any, key: str = "") -> Any:
    if isinstance(value, Secret):
        return MASK
    if key and SENSITIVE.search(key) and value not in (None, "", {}, []) and not isinstance(value, bool):
        return MASK
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, str(k)) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda m: m["head"] + MASK, value)
    return value


def redacted_config(config: SutConfig) -> dict[str, Any]:
    """The configuration as plain values, every secret written as ``***``."""
    return _plain(config)  # type: ignore[no-any-return]


def known_secrets(configs: Iterable[SutConfig]) -> set[str]:
    """Every secret value the configurations hold (for :func:`scrub`)."""
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, Secret):
            found.add(value.reveal())
        elif key and SENSITIVE.search(key) and isinstance(value, (str, int)) and not isinstance(value, bool):
            found.add(str(value))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name), f.name)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            found.update(m["password"] for m in _URL_PASSWORD.finditer(value))

    for config in configs:
        walk(config)
    # a secret short enough to be an ordinary word would blank out half the report: those are masked in place only
    return {s for s in found if len(s) >= 4}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret value replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
        escaped = json.dumps(secret, ensure_ascii=True)[1:-1]  # as it would appear inside a JSON string
        if escaped != secret and escaped in text:
            text = text.replace(escaped, MASK)
    return text


def config_sha256(config: Mapping[str, Any]) -> str:
    """sha256 of a redacted configuration: its JSON with sorted keys, no spaces, UTF-8 (recomputable from the evidence)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def sut_record(role: str, config: SutConfig, identity: Mapping[str, Any] | None, source: str = "") -> SutRecord:
    """What the cover says about one SUT: its identity (BootNotification, or the central system's endpoint)."""
    plain = redacted_config(config)
    if role == "cp":
        ident = {k: v for k, v in (identity or {}).items()}
        ident.setdefault("chargePointId", config.charge_point_id)
    else:
        ident = {"endpoint": _plain(config.endpoint), "name": config.name, "chargePointId (the harness's)": config.charge_point_id}
    return SutRecord(role=role, name=config.name, identity=ident, config=plain, config_sha256=config_sha256(plain),
                     config_source=source, features=sorted(config.features), security_profile=config.security_profile)
