"""The SUT config's ``transfer:`` section: where the transfer servers listen and how the charge point reaches them.

:class:`TransferConfig` (built with :meth:`TransferConfig.from_mapping`, errors naming the
bad key) is what :class:`harness.transfer.TransferServers` and its FTP and HTTP halves
(``transfer_ftp`` / ``transfer_http``) run with. It lives apart from the servers because
reading and checking a config is a job of its own, with no sockets or threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urlsplit

from .config import Secret, _secret
from .errors import ConfigurationError
from .transfer_client import redact_url

__all__ = ["TransferConfig"]

T = TypeVar("T")


@dataclass(frozen=True)
class TransferConfig:
    """Where the transfer servers listen and how the SUT reaches them (the SUT config's ``transfer:``)."""

    host: str = "127.0.0.1"  # listen address; 0.0.0.0 needs the external URLs below
    ftp_port: int = 0  # 0: a free port
    http_port: int = 0
    passive_ports: tuple[int, int] | None = None  # inclusive FTP passive range (firewalls); None: any free port
    passive_address: str | None = None  # IP announced in PASV replies behind NAT
    ftp_external_url: str | None = None  # how the charge point reaches the FTP server, e.g. ftp://lab-host:2121
    http_external_url: str | None = None  # e.g. http://lab-host:8080
    user: str = "ocpp"
    password: Secret | None = None  # None: a fresh one per run (secrets)
    http_auth: bool = False  # HTTP URLs carry user:password@ and the server demands Basic auth
    idle_timeout: float = 30.0  # a client silent this long is dropped
    max_upload_bytes: int = 64 * 2**20
    stop_timeout: float = 5.0

    def __post_init__(self) -> None:
        for name in ("ftp_port", "http_port"):
            if not 0 <= getattr(self, name) <= 65535:
                raise ConfigurationError(f"transfer.{name}: {getattr(self, name)} is not a port (0..65535)")
        if self.passive_ports is not None:
            low, high = self.passive_ports
            if not 1 <= low <= high <= 65535:
                raise ConfigurationError(f"transfer.passive_ports: {low}-{high} is not a range of ports")
            if low <= self.ftp_port <= high:
                raise ConfigurationError(f"transfer.passive_ports: {low}-{high} contains ftp_port {self.ftp_port}")
        for name, scheme in (("ftp_external_url", "ftp"), ("http_external_url", "http")):
            value = getattr(self, name)
            if value is None:
                continue
            parts = urlsplit(value)
            if parts.scheme != scheme or not parts.hostname or parts.path.strip("/") or "@" in parts.netloc:
                raise ConfigurationError(f"transfer.{name}: {redact_url(value)!r} must be {scheme}://host[:port] "
                                         "without credentials or a path")
        if not self.user or ":" in self.user:
            raise ConfigurationError(f"transfer.user: {self.user!r} must be non-empty and without ':'")
        if self.idle_timeout <= 0 or self.stop_timeout <= 0 or self.max_upload_bytes <= 0:
            raise ConfigurationError("transfer: idle_timeout, stop_timeout and max_upload_bytes must be positive")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str = "transfer") -> TransferConfig:
        """Build from the parsed ``transfer:`` section; errors name the bad key."""
        data = dict(data or {})
        known = {f for f in cls.__dataclass_fields__}
        if set(data) - known:
            raise ConfigurationError(f"{where}: unknown keys {sorted(set(data) - known)}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for key, raw in data.items():
            at = f"{where}.{key}"
            if key in ("ftp_port", "http_port", "max_upload_bytes"):
                values[key] = _number(int, raw, at)
            elif key in ("idle_timeout", "stop_timeout"):
                values[key] = _number(float, raw, at)
            elif key == "http_auth":
                if not isinstance(raw, bool):
                    raise ConfigurationError(f"{at}: expected true or false, not {raw!r}")
                values[key] = raw
            elif key == "password":
                values[key] = _secret(raw, at)
            elif key == "passive_ports":
                values[key] = None if raw is None else _port_range(raw, at)
            else:
                if raw is not None and not isinstance(raw, str):
                    raise ConfigurationError(f"{at}: expected a string, not {raw!r}")
                values[key] = raw
        try:
            return cls(**values)
        except ConfigurationError as exc:
            raise ConfigurationError(str(exc).replace("transfer", where, 1)) from None


def _number(kind: Callable[[Any], T], raw: Any, at: str) -> T:
    if isinstance(raw, bool):
        raise ConfigurationError(f"{at}: expected a number, not {raw!r}")
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{at}: expected a number, not {raw!r}") from None


def _port_range(raw: Any, at: str) -> tuple[int, int]:
    if isinstance(raw, str) and "-" in raw:
        raw = raw.split("-", 1)
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        raise ConfigurationError(f"{at}: give [first, last] or 'first-last', not {raw!r}")
    return _number(int, raw[0], at), _number(int, raw[1], at)
