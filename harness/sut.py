"""Which SUT a run tests, and how to reach it: a configured real system or a reference simulator.

:class:`SutProvider` is created once per run from the command line. With
``--ocpp-config`` it serves that one SUT; without, it starts the reference
simulators on free loopback ports (only those the selected tests need) and
stops them at the end. Roles and simulators are started lazily, on first use.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import ssl
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .actuators import Actuation, Actuations, Actuators
from .config import Secret, SutConfig, load_config
from .errors import ConfigurationError
from .pki import Credential, TestPki, client_context, server_context
from .pki_certs import load_certificates
from .roles import CentralSystem, ChargePoint
from .runner import LoopThread
from .simulators.process import SimulatorProcess, start_simulator

__all__ = ["SutHandle", "SutProvider", "SecurityMaterial"]

SIM_CONFIG = {"cp": "simulator_charge_point.yaml", "cs": "simulator_central_system.yaml"}
SIM_MODULE = {"cp": "harness.simulators.charge_point", "cs": "harness.simulators.central_system"}


@dataclasses.dataclass
class SutHandle:
    """What a test case knows of its SUT: the configuration and the manual steps (fresh per test)."""

    config: SutConfig
    actuators: Actuators
    #: certificates, keys and the basic-auth password of the run (None: the SUT config lists no security)
    security: SecurityMaterial | None = None
    actuations: Actuations = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.actuations = Actuations(self.actuators)

    @property
    def id_tags(self) -> Any:
        return self.config.id_tags

    @property
    def connectors(self) -> int:
        return self.config.connectors

    async def act(self, action: str, *, step: str = "", **params: Any) -> Actuation:
        """Start a manual step (see harness.actuators.VOCABULARY); it runs beside the steps that follow.

        Returns at once; await the returned :class:`Actuation` for the actuator's answer. A
        failed manual step fails the next step that checks; the harness's next own CALL
        waits until it is done.
        """
        return self.actuations.start(action, step=step, **params)


class SecurityMaterial:
    """The run's certificates, keys and basic-auth password (security profiles 1-3 of the security extension).

    From the SUT config's ``tls:`` section: a :class:`~harness.pki.TestPki` made for the run
    (``pki: generate``, the default, and always for the reference simulators; never checked in,
    removed at the end of the run) or the vendor's PEM files. ``own`` is the harness's own
    certificate chain and key: the server certificate when it plays the central system, the
    charge point certificate (profile 3) when it plays the charge point. Neither repr nor str
    shows key material or the password; every context is new (each TLS server needs its own).
    """

    def __init__(self, config: SutConfig, *, password: Secret | None = None) -> None:
        tls = config.tls
        #: the run's basic-auth password: configured, or (the simulators) generated for the run
        self.password: Secret | None = password or config.basic_auth_password
        self.key_password: Secret | None = tls.key_password
        self.cpo_name = str(config.extra.get("cpo_name", "OpenOCTT CSO"))
        self.pki: TestPki | None = None
        if tls.generate:
            self.pki = pki = TestPki(charge_point_id=config.charge_point_id, cso_name=self.cpo_name,
                                     server_names=tls.server_names, key_type=tls.key_type)  # type: ignore[arg-type]
            self.directory = pki.directory
            self.root_path: Path = pki.csms_root.cert_path
            self.ca: Credential | None = pki.csms_root
            own = pki.server if config.sut == "cp" else pki.client
            self.own: tuple[Path, Path] | None = (own.chain_path, own.key_path)
            self.key_password = None
            self.manufacturer_root_path: Path | None = pki.manufacturer_root.cert_path
            self.signer: Credential | None = pki.firmware_signer
        else:
            self.directory = Path(tempfile.mkdtemp(prefix="ocpp-tls-"))  # for keys the harness makes (mode 0700)
            if not tls.ca:
                raise ConfigurationError("tls.ca is required when the harness does not generate its PKI (tls.pki)")
            self.root_path = _file(tls.ca, "tls.ca")
            self.own = (_file(tls.cert, "tls.cert"), _file(tls.key, "tls.key")) if tls.cert and tls.key else None
            self.ca = self._credential("ca", tls.ca, tls.ca_key)
            self.manufacturer_root_path = _file(tls.manufacturer_root, "tls.manufacturer_root") if tls.manufacturer_root else None
            self.signer = self._credential("signer", tls.signing_cert, tls.signing_key)

    def _credential(self, name: str, cert: str | None, key: str | None) -> Credential | None:
        if not cert or not key:
            return None
        cert_path, key_path = _file(cert, f"tls.{name}"), _file(key, f"tls.{name}_key")
        try:
            loaded = serialization.load_pem_private_key(
                key_path.read_bytes(), self.key_password.reveal().encode() if self.key_password else None)
            return Credential(name, load_certificates(cert_path.read_text())[0], cert_path, key_path, loaded)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:  # never the key or the password in the text
            raise ConfigurationError(f"cannot load {cert_path} with its key {key_path}: not PEM, or encrypted with "
                                     f"another password than tls.key_password ({type(exc).__name__})") from None

    # -- what the roles and the cases use ---------------------------------------------------------------------
    @property
    def root(self) -> x509.Certificate:
        """The CentralSystemRootCertificate (the first certificate of ``tls.ca``)."""
        return load_certificates(self.root_path.read_text())[0]

    @property
    def root_pem(self) -> str:
        return self.root.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def manufacturer_root_pem(self) -> str | None:
        return self.manufacturer_root_path.read_text() if self.manufacturer_root_path else None

    def server_context(self, profile: int) -> ssl.SSLContext:
        """A new server context for a listener of security ``profile`` (3: client certificates against tls.ca)."""
        if self.own is None:
            raise ConfigurationError("the harness as TLS server needs tls.cert and tls.key (or tls.pki: generate)")
        return server_context(self.own[0], self.own[1], client_ca=self.root_path if profile == 3 else None,
                              password=self.key_password)

    def client_context(self, profile: int, identity: tuple[Path, Path] | None = None) -> ssl.SSLContext:
        """A new client context for security ``profile``; 3 presents ``identity`` (cert, key) or the configured one."""
        if profile != 3:
            return client_context(self.root_path)
        own, password = (identity, None) if identity is not None else (self.own, self.key_password)
        if own is None:
            raise ConfigurationError("security profile 3 needs the charge point certificate: tls.cert and tls.key")
        return client_context(self.root_path, cert_chain=own[0], key=own[1], password=password)

    def close(self) -> None:
        """Remove what was generated for the run (keys included)."""
        if self.pki is not None:
            self.pki.close()
        else:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __repr__(self) -> str:
        return f"SecurityMaterial(directory={str(self.directory)!r}, generated={self.pki is not None})"

    __str__ = __repr__


def _file(path: str | None, key: str) -> Path:
    if not path or not Path(path).is_file():
        raise ConfigurationError(f"{key}: {path!r} does not exist or is not a file")
    return Path(path)


def wants_security(config: SutConfig) -> bool:
    """Whether the run needs certificates and keys: the security profile is listed, or the run uses profile 1-3."""
    return "security" in config.features or config.security_profile > 0


PASSWORD_ENV = "OCPP_SIM_BASIC_AUTH_PASSWORD"  # the run's password reaches a simulator by environment, never argv


def _security_args(role: str, material: SecurityMaterial) -> list[str]:
    """The simulator's command-line paths to its certificates and keys (generated for this run)."""
    pki = material.pki
    assert pki is not None  # the simulators always get a generated PKI
    common = ["--password-env", PASSWORD_ENV, "--root-cert", str(pki.csms_root.cert_path),
              "--manufacturer-root", str(pki.manufacturer_root.cert_path), "--cpo-name", material.cpo_name]
    if role == "cp":  # the reference charge point: its factory certificate, and the roots it trusts
        return [*common, "--client-cert", str(pki.client.chain_path), "--client-key", str(pki.client.key_path)]
    return [*common, "--tls-cert", str(pki.server.chain_path), "--tls-key", str(pki.server.key_path),
            "--ca-key", str(pki.csms_root.key_path), "--signer-cert", str(pki.firmware_signer.cert_path),
            "--signer-key", str(pki.firmware_signer.key_path)]


def _switches(items: list[str], option: str) -> dict[str, list[str]]:
    """``cp:NAME`` / ``cs:NAME`` command-line items by simulator."""
    chosen: dict[str, list[str]] = {"cp": [], "cs": []}
    for item in items:
        side, _, name = item.partition(":")
        if side not in chosen or not name:
            raise pytest.UsageError(f"{option} {item!r}: write cp:NAME or cs:NAME")
        chosen[side].append(name)
    return chosen


def _fill(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, text in replacements.items():
            value = value.replace("{" + key + "}", text)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, replacements) for v in value]
    return value


class SutProvider:
    def __init__(self, *, roles: set[str], user_config: SutConfig | None, sim_dir: Path,
                 faults: dict[str, list[str]], step_timeout: float | None, test_timeout: float | None,
                 prompt: Callable[[str], str] | None, variants: dict[str, list[str]] | None = None) -> None:
        self.roles = roles
        self.user_config = user_config
        self.sim_dir = sim_dir
        self.faults = faults
        self.variants = variants or {"cp": [], "cs": []}
        self.step_timeout = step_timeout
        self.test_timeout_override = test_timeout
        self.prompt = prompt
        self.loop: LoopThread | None = None
        self.simulators: dict[str, SimulatorProcess] = {}
        self.configs: dict[str, SutConfig] = {}
        self._roles: dict[str, Any] = {}
        #: per role: the certificates, keys and password of the run (only when its config lists security)
        self.security: dict[str, SecurityMaterial] = {}

    @classmethod
    def from_options(cls, config: pytest.Config) -> "SutProvider":
        path = config.getoption("ocpp_config")
        sut = config.getoption("ocpp_sut")
        user = load_config(path) if path else None
        if user is not None and sut and sut != user.sut:
            raise pytest.UsageError(f"--ocpp-sut {sut} contradicts {path}, which describes a {user.sut!r} SUT")
        roles = {user.sut} if user else ({sut} if sut else {"cp", "cs"})
        faults = _switches(config.getoption("ocpp_sim_fault"), "--ocpp-sim-fault")
        variants = _switches(config.getoption("ocpp_sim_variant"), "--ocpp-sim-variant")
        given_dir = config.getoption("ocpp_sim_config_dir")
        sim_dir = Path(given_dir) if given_dir else Path(config.rootpath) / "fixtures"

        def prompt(text: str) -> str:
            if not sys.stdin or not sys.stdin.isatty():
                raise ConfigurationError(f"no terminal to ask the operator: {text} (configure an actuator)")
            capture = config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():
                return input(text)

        return cls(roles=roles, user_config=user, sim_dir=sim_dir, faults=faults, variants=variants,
                   step_timeout=config.getoption("ocpp_step_timeout"),
                   test_timeout=config.getoption("ocpp_test_timeout"), prompt=prompt)

    def describe(self) -> str:
        if self.user_config:
            c = self.user_config
            return f"SUT {c.sut} {c.name or c.charge_point_id} from --ocpp-config"
        faults = [f"{side}:{name}" for side, names in self.faults.items() for name in names]
        variants = [f"{side}:{name}" for side, names in self.variants.items() for name in names]
        variants += [f"{side}:{name}" for side in ("cp", "cs") if side in self.roles
                     for name in self.declared_config(side).simulator.get("variants") or []]
        return (f"SUT roles {sorted(self.roles)} against the reference simulators" + (f", faults {faults}" if faults else "")
                + (f", variants {variants}" if variants else ""))

    # -- configuration ------------------------------------------------------------------------
    def declared_config(self, role: str) -> SutConfig:
        """The SUT's configuration as written, without starting anything (for skip decisions)."""
        if role in self.configs:
            return self.configs[role]
        if self.user_config is not None:
            return self.user_config
        return load_config(self.sim_dir / SIM_CONFIG[role])

    def config_for(self, role: str) -> SutConfig:
        if role in self.configs:
            return self.configs[role]
        if self.user_config is not None:
            if self.user_config.sut != role:
                raise ConfigurationError(f"the configured SUT is a {self.user_config.sut!r}, this test needs a {role!r}")
            cfg = self.user_config
            if wants_security(cfg):
                self.security[role] = SecurityMaterial(cfg)
        else:
            cfg = self._start_simulator(role)
        if self.step_timeout:
            cfg = cfg.with_overrides(timeouts=dataclasses.replace(cfg.timeouts, step=self.step_timeout, call=self.step_timeout))
        self.configs[role] = cfg
        return cfg

    def _start_simulator(self, role: str) -> SutConfig:
        path = self.sim_dir / SIM_CONFIG[role]
        cfg = load_config(path)
        assert self.loop is not None
        fault_args = [arg for name in self.faults[role] for arg in ("--fault", name)]
        fault_args += [arg for name in self.variants[role] for arg in ("--variant", name)]
        fault_args += ["--config", str(path)]  # the simulator reads its variants and options from it
        env: dict[str, str] = {}
        if wants_security(cfg):  # a PKI and a basic-auth password for this run only, handed over as files and env
            generated = None if cfg.basic_auth_password else Secret(secrets.token_hex(9))  # 18 bytes (16-20)
            self.security[role] = material = SecurityMaterial(cfg, password=generated)
            fault_args += _security_args(role, material)
            env[PASSWORD_ENV] = material.password.reveal()  # type: ignore[union-attr]
        if role == "cp":
            # The harness's central system must listen first; the simulator connects to it.
            server = CentralSystem(cfg)
            server.security = self.security.get(role)
            self.loop.run(server.start(), cfg.timeouts.connect)
            self._roles["cp"] = server
            profile_urls = [arg for p in sorted(server.ports) for arg in ("--profile-url", f"{p}={server.url_for(p)}")]
            sim = start_simulator(SIM_MODULE[role], ["--cs-url", server.url, "--id", cfg.charge_point_id,
                                                     "--connectors", str(cfg.connectors), "--security-profile",
                                                     str(cfg.security_profile), *profile_urls, *fault_args], env=env)
            # Let its start-up boot be accepted before any test, so no test mistakes it for its own.
            # A faulty simulator may fail this; its test cases will then show the defect themselves.
            try:
                self.loop.run(server.expect("BootNotification", step="start-up of the reference charge point"),
                              cfg.timeouts.step + 1)
            except AssertionError:
                pass
            if sim.proc.poll() is not None:
                raise RuntimeError(f"the reference charge point exited at start-up:\n{sim.errors()}")
        else:
            tags = cfg.id_tags  # the simulator's id-tag store follows the config the test cases read
            tag_args = [f"{tags.valid}=Accepted:{tags.parent}", f"{tags.valid_2}=Accepted:{tags.parent}",
                        f"{tags.parent}=Accepted", f"{tags.blocked}=Blocked", f"{tags.expired}=Expired"]
            sim = start_simulator(SIM_MODULE[role], ["--heartbeat-interval", str(cfg.heartbeat_interval), *fault_args,
                                                     "--security-profile", str(cfg.security_profile),
                                                     *(arg for tag in tag_args for arg in ("--id-tag", tag))], env=env)
        self.simulators[role] = sim
        filled = _fill({"actuators": cfg.actuators, "endpoint": cfg.endpoint, "endpoints": cfg.tls.endpoints}, sim.info)
        return cfg.with_overrides(actuators=filled["actuators"], endpoint=filled["endpoint"],
                                  tls=dataclasses.replace(cfg.tls, endpoints=filled["endpoints"]))

    # -- roles ----------------------------------------------------------------------------------
    def central_system(self) -> CentralSystem:
        cfg = self.config_for("cp")
        if "cp" not in self._roles:
            server = CentralSystem(cfg)
            server.security = self.security.get("cp")
            assert self.loop is not None
            self.loop.run(server.start(), cfg.timeouts.connect)
            self._roles["cp"] = server
        role = self._roles["cp"]
        role.config = cfg
        return role  # type: ignore[no-any-return]

    def charge_point(self) -> ChargePoint:
        cfg = self.config_for("cs")
        if "cs" not in self._roles:
            self._roles["cs"] = ChargePoint(cfg)
            self._roles["cs"].security = self.security.get("cs")
        return self._roles["cs"]  # type: ignore[no-any-return]

    def handle(self, role: str, config: pytest.Config) -> SutHandle:
        cfg = self.config_for(role)
        return SutHandle(cfg, Actuators(cfg.actuators, timeout=cfg.timeouts.actuation, prompt=self.prompt,
                                        operator_timeout=cfg.timeouts.operator), security=self.security.get(role))

    def test_timeout(self, config: pytest.Config, role: Any) -> float:
        if self.test_timeout_override:
            return self.test_timeout_override
        return role.timeouts.test if role is not None else 300.0

    @property
    def sut_identity(self) -> dict[str, Any] | None:
        server = self._roles.get("cp")
        return getattr(server, "boot_notification", None)

    def close(self) -> None:
        for role in self._roles.values():
            if self.loop is not None:
                try:
                    self.loop.run(role.stop(), 10)
                except Exception:
                    pass
        for sim in self.simulators.values():
            sim.stop()
        for material in self.security.values():
            material.close()  # the generated keys go with the run
