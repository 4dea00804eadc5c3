"""SUT configuration: one YAML file per system under test (see fixtures/*.yaml).

Secrets (the basic-auth password) are held in :class:`Secret`, whose repr and str
never show the value, so a config printed into a report or log stays safe. A
password can be given literally or, better, by the name of an environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ConfigurationError

__all__ = ["Secret", "Timeouts", "IdTags", "SutConfig", "load_config"]

SutRole = Literal["cp", "cs"]


class Secret:
    """A value that is never printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Timeouts:
    """Bounds on every wait, in seconds."""

    step: float = 30.0  # one expected message or reply
    call: float = 30.0  # a CALL's reply
    unsolicited_reply: float = 5.0  # how long a SUT CALL no step claims waits for a default reply
    connect: float = 10.0  # opening handshake / the SUT connecting to us
    test: float = 300.0  # a whole test case
    timing_tolerance: float = 2.0  # allowed deviation of spec timers (heartbeat, boot retry)
    heartbeat_wait_cap: float = 60.0  # harness-CP: longest wait between its own heartbeats
    clock_deviation: float = 120.0  # how far a SUT's currentTime may be from the harness's clock
    actuation: float = 60.0  # how long a manual step done by a machine (http, shell, python actuator) may take
    operator: float = 600.0  # how long a prompt waits for a person to confirm a manual step


@dataclass(frozen=True)
class IdTags:
    valid: str = "VALID_TAG_1"
    valid_2: str = "VALID_TAG_2"
    invalid: str = "INVALID_TAG"
    blocked: str = "BLOCKED_TAG"
    expired: str = "EXPIRED_TAG"
    parent: str = "PARENT_TAG"


@dataclass(frozen=True)
class SutConfig:
    """Everything the harness needs to know about one SUT."""

    sut: SutRole
    charge_point_id: str
    name: str = ""
    # cp SUT: where the harness (as central system) listens for the charge point.
    listen_host: str = "127.0.0.1"
    listen_port: int = 9000
    listen_path: str = "/ocpp"
    # cs SUT: the central system's endpoint; the harness appends /{charge_point_id}.
    endpoint: str = ""
    security_profile: int = 0
    basic_auth_password: Secret | None = None
    connectors: int = 1
    id_tags: IdTags = field(default_factory=IdTags)
    # Values the harness uses in its own messages (heartbeat interval it grants, ...).
    heartbeat_interval: int = 60
    boot_retry_interval: int = 10
    charge_point_vendor: str = "OpenOCTT"
    charge_point_model: str = "HarnessCP"
    timeouts: Timeouts = field(default_factory=Timeouts)
    actuators: dict[str, Any] = field(default_factory=dict)
    features: frozenset[str] = frozenset({"core"})
    strict: bool = False  # also fail SHOULD-level rules (e.g. a second CALL while one is unanswered)
    extra: dict[str, Any] = field(default_factory=dict)
    # only in a reference simulator's config: the variants and options it runs with (it reads them itself)
    simulator: dict[str, Any] = field(default_factory=dict)
    # FirmwareManagement / GetDiagnostics / GetLog: where the harness's FTP and HTTP servers listen and how the
    # charge point reaches them (harness.transfer.TransferConfig.from_mapping reads it)
    transfer: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **changes: Any) -> "SutConfig":
        from dataclasses import replace

        return replace(self, **changes)


def _secret(raw: Any, where: str) -> Secret | None:
    if raw is None:
        return None
    if isinstance(raw, dict) and "env" in raw:
        value = os.environ.get(str(raw["env"]))
        if value is None:
            raise ConfigurationError(f"{where}: environment variable {raw['env']} is not set")
        return Secret(value)
    if isinstance(raw, str):
        return Secret(raw)
    raise ConfigurationError(f"{where}: give a string or {{env: VARIABLE}}")


_KNOWN = {
    "sut", "name", "charge_point_id", "listen", "endpoint", "security_profile", "basic_auth_password",
    "connectors", "id_tags", "heartbeat_interval", "boot_retry_interval", "charge_point_vendor",
    "charge_point_model", "timeouts", "actuators", "features", "strict", "extra", "simulator", "transfer",
}


def config_from_dict(data: dict[str, Any], where: str = "config") -> SutConfig:
    """Build a SutConfig from parsed YAML, with errors that name the bad key."""
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: expected a mapping at the top level")
    unknown = set(data) - _KNOWN
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_KNOWN)}")
    sut = data.get("sut")
    if sut not in ("cp", "cs"):
        raise ConfigurationError(f"{where}: 'sut' must be 'cp' (a charge point) or 'cs' (a central system)")
    if not data.get("charge_point_id"):
        raise ConfigurationError(f"{where}: 'charge_point_id' is required")
    listen = _mapping(data, "listen", where, known={"host", "port", "path"})
    try:
        return SutConfig(
            sut=sut,
            name=str(data.get("name", "")),
            charge_point_id=str(data["charge_point_id"]),
            listen_host=str(listen.get("host", "127.0.0.1")),
            listen_port=_number(int, listen.get("port", 9000), f"{where}: listen.port"),
            listen_path="/" + str(listen.get("path", "/ocpp")).strip("/"),
            endpoint=str(data.get("endpoint", "")).rstrip("/"),
            security_profile=_number(int, data.get("security_profile", 0), f"{where}: security_profile"),
            basic_auth_password=_secret(data.get("basic_auth_password"), f"{where}: basic_auth_password"),
            connectors=_number(int, data.get("connectors", 1), f"{where}: connectors"),
            id_tags=IdTags(**{k: str(v) for k, v in _mapping(data, "id_tags", where).items()}),
            heartbeat_interval=_number(int, data.get("heartbeat_interval", 60), f"{where}: heartbeat_interval"),
            boot_retry_interval=_number(int, data.get("boot_retry_interval", 10), f"{where}: boot_retry_interval"),
            charge_point_vendor=str(data.get("charge_point_vendor", "OpenOCTT")),
            charge_point_model=str(data.get("charge_point_model", "HarnessCP")),
            timeouts=Timeouts(**{k: _number(float, v, f"{where}: timeouts.{k}")
                                 for k, v in _mapping(data, "timeouts", where).items()}),
            actuators=dict(_mapping(data, "actuators", where)),
            features=_features(data.get("features"), where),
            strict=_flag(data.get("strict", False), f"{where}: strict"),
            extra=dict(_mapping(data, "extra", where)),
            simulator=dict(_mapping(data, "simulator", where, known={"variants", "options", "faults"})),
            transfer=dict(_mapping(data, "transfer", where)),
        )
    except TypeError as exc:  # unknown key inside id_tags / timeouts
        raise ConfigurationError(f"{where}: {exc}") from None


def _mapping(data: dict[str, Any], key: str, where: str, known: set[str] | None = None) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: '{key}' must be a mapping, not {value!r}")
    if known is not None and set(value) - known:
        raise ConfigurationError(f"{where}: unknown keys in '{key}': {sorted(set(value) - known)}; known: {sorted(known)}")
    return value


def _number(kind: type, value: Any, where: str) -> Any:
    if isinstance(value, bool):
        raise ConfigurationError(f"{where}: expected a number, not {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{where}: expected a number, not {value!r}") from None


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigurationError(f"{where}: expected true or false, not {value!r}")


def _features(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset({"core"})
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where}: 'features' must be a list of feature profile names")
    return frozenset(value)


def load_config(path: str | os.PathLike[str]) -> SutConfig:
    """Read a SUT YAML file."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read SUT config {p}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{p} is not valid YAML: {exc}") from None
    return config_from_dict(data, str(p))
