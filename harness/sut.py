"""Which SUT a run tests, and how to reach it: a configured real system or a reference simulator.

:class:`SutProvider` is created once per run from the command line. With
``--ocpp-config`` it serves that one SUT; without, it starts the reference
simulators on free loopback ports (only those the selected tests need) and
stops them at the end. Roles and simulators are started lazily, on first use.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from .actuators import Actuation, Actuations, Actuators
from .config import SutConfig, load_config
from .errors import ConfigurationError
from .roles import CentralSystem, ChargePoint
from .runner import LoopThread
from .simulators.process import SimulatorProcess, start_simulator

__all__ = ["SutHandle", "SutProvider"]

SIM_CONFIG = {"cp": "simulator_charge_point.yaml", "cs": "simulator_central_system.yaml"}
SIM_MODULE = {"cp": "harness.simulators.charge_point", "cs": "harness.simulators.central_system"}


@dataclasses.dataclass
class SutHandle:
    """What a test case knows of its SUT: the configuration and the manual steps (fresh per test)."""

    config: SutConfig
    actuators: Actuators
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
        if role == "cp":
            # The harness's central system must listen first; the simulator connects to it.
            server = CentralSystem(cfg)
            self.loop.run(server.start(), cfg.timeouts.connect)
            self._roles["cp"] = server
            sim = start_simulator(SIM_MODULE[role], ["--cs-url", server.url, "--id", cfg.charge_point_id,
                                                     "--connectors", str(cfg.connectors), *fault_args])
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
                                                     *(arg for tag in tag_args for arg in ("--id-tag", tag))])
        self.simulators[role] = sim
        filled = _fill({"actuators": cfg.actuators, "endpoint": cfg.endpoint}, sim.info)
        return cfg.with_overrides(actuators=filled["actuators"], endpoint=filled["endpoint"])

    # -- roles ----------------------------------------------------------------------------------
    def central_system(self) -> CentralSystem:
        cfg = self.config_for("cp")
        if "cp" not in self._roles:
            server = CentralSystem(cfg)
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
        return self._roles["cs"]  # type: ignore[no-any-return]

    def handle(self, role: str, config: pytest.Config) -> SutHandle:
        cfg = self.config_for(role)
        return SutHandle(cfg, Actuators(cfg.actuators, timeout=cfg.timeouts.actuation, prompt=self.prompt,
                                        operator_timeout=cfg.timeouts.operator))

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
