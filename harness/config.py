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

__all__ = ["Secret", "Timeouts", "IdTags", "TlsConfig", "SutConfig", "load_config"]

SutRole = Literal["cp", "cs"]


class Secret:
    """A value that is never printed.

    A password is text, sent as UTF-8 (RFC 7617's charset), unless it is raw bytes: an
    AuthorizationKey is the hex of its password's bytes (security whitepaper), any bytes at all,
    held here as latin-1 text (one character per byte) and sent as those bytes.
    """

    __slots__ = ("_value", "_raw")

    def __init__(self, value: str, *, raw: bool = False) -> None:
        self._value = value
        self._raw = raw

    @classmethod
    def from_hex(cls, hex_value: str) -> Secret | None:
        """The password an AuthorizationKey value stands for; None when the value is not hex."""
        try:
            return cls(bytes.fromhex(hex_value).decode("latin-1"), raw=True)
        except ValueError:
            return None

    def reveal(self) -> str:
        return self._value

    def reveal_bytes(self) -> bytes:
        """The password as it goes on the wire."""
        return self._value.encode("latin-1") if self._raw else self._value.encode()

    def reveal_hex(self) -> str:
        """The password as an AuthorizationKey value: the hex of its bytes, upper case as in the catalog."""
        return self.reveal_bytes().hex().upper()

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


# -- security extension (tls: section) ---------------------------------------------------------------
PROFILES = (0, 1, 2, 3)


@dataclass(frozen=True)
class TlsConfig:
    """Certificates, keys and per-profile addresses of the security extension (the ``tls:`` section).

    ``generate`` (``pki: generate``, the default when no file is named): the harness makes a
    test PKI per run (harness.pki.TestPki). Otherwise the vendor's PEM files: ``ca`` is the
    CentralSystemRootCertificate (a charge point under test: it also verifies charge point
    certificates, profile 3; a central system under test: the harness charge point trusts it),
    ``cert``/``key`` the harness's own certificate chain and key (its server certificate, or the
    charge point certificate of profile 3), ``key_password`` their password; ``ca_key`` lets the
    harness sign a charge point's CSR (TC_074_CS), ``manufacturer_root`` and ``signing_cert`` /
    ``signing_key`` serve the firmware cases (TC_075_1, TC_080, TC_081).
    ``profiles``: the security profiles the SUT supports (cases needing another are skipped);
    ``ports`` (charge point under test): where the harness listens for each profile other than
    the run's (``listen.port``; absent: a free port); ``endpoints`` (central system under test):
    where the harness charge point connects for each profile other than the run's (``endpoint``).
    """

    generate: bool = True
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    key_password: Secret | None = None
    ca_key: str | None = None
    manufacturer_root: str | None = None
    signing_cert: str | None = None
    signing_key: str | None = None
    key_type: str = "ec"
    server_names: tuple[str, ...] = ()
    profiles: tuple[int, ...] = ()
    ports: dict[int, int] = field(default_factory=dict)
    endpoints: dict[int, str] = field(default_factory=dict)


_TLS_FILES = ("ca", "cert", "key", "ca_key", "manufacturer_root", "signing_cert", "signing_key")
_TLS_KNOWN = {"pki", "key_password", "key_type", "server_names", "profiles", "ports", "endpoints", *_TLS_FILES}


def _profile_number(value: Any, where: str) -> int:
    number = _number(int, value, where)
    if number not in PROFILES:
        raise ConfigurationError(f"{where}: a security profile is 0, 1, 2 or 3, not {value!r}")
    return int(number)


def _tls(data: dict[str, Any], where: str, run_profile: int) -> TlsConfig:
    """The ``tls:`` section; every error names the bad key (``tls.<key>``)."""
    raw = _mapping(data, "tls", where, known=_TLS_KNOWN)
    files: dict[str, str] = {}  # paths as text: the report writes the configuration as JSON
    for name in _TLS_FILES:
        if raw.get(name) is not None:
            if not isinstance(raw[name], str) or not raw[name]:
                raise ConfigurationError(f"{where}: tls.{name} must be a file path, not {raw[name]!r}")
            files[name] = str(Path(raw[name]).expanduser())
    pki = raw.get("pki")
    if pki not in (None, "generate"):
        raise ConfigurationError(f"{where}: tls.pki must be 'generate' (or left out with the files named), not {pki!r}")
    if pki == "generate" and files:
        raise ConfigurationError(f"{where}: tls.pki 'generate' and the files {sorted(files)} exclude each other")
    key_type = str(raw.get("key_type", "ec"))
    if key_type not in ("ec", "rsa"):
        raise ConfigurationError(f"{where}: tls.key_type must be 'ec' or 'rsa', not {key_type!r}")
    names = raw.get("server_names") or []
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ConfigurationError(f"{where}: tls.server_names must be a list of host names")
    profiles = raw.get("profiles")
    if profiles is None:
        chosen = (run_profile,)
    elif isinstance(profiles, list):
        chosen = tuple(sorted({_profile_number(p, f"{where}: tls.profiles") for p in profiles}))
    else:
        raise ConfigurationError(f"{where}: tls.profiles must be a list of security profiles (0-3)")
    ports = {_profile_number(k, f"{where}: tls.ports"): _number(int, v, f"{where}: tls.ports.{k}")
             for k, v in _mapping(raw, "ports", f"{where}: tls").items()}
    endpoints = {_profile_number(k, f"{where}: tls.endpoints"): str(v).rstrip("/")
                 for k, v in _mapping(raw, "endpoints", f"{where}: tls").items()}
    return TlsConfig(generate=not files, key_password=_secret(raw.get("key_password"), f"{where}: tls.key_password"),
                     key_type=key_type, server_names=tuple(names), profiles=chosen, ports=ports, endpoints=endpoints,
                     **files)


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
    # charge point reaches them (harness.transfer_config.TransferConfig.from_mapping reads it)
    transfer: dict[str, Any] = field(default_factory=dict)
    # security extension: certificates and keys (generated per run by default), per-profile listeners / endpoints
    tls: TlsConfig = field(default_factory=TlsConfig)

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
    "charge_point_model", "timeouts", "actuators", "features", "strict", "extra", "simulator", "transfer", "tls",
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
            tls=_tls(data, where, _profile_number(data.get("security_profile", 0), f"{where}: security_profile")),
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
