"""pytest11 entry point: options, markers, fixtures and report hooks. Thin by design.

Fixtures a test case uses:

* ``central_system`` - the harness as central system (the SUT is a charge point);
* ``charge_point``   - the harness as charge point (the SUT is a central system);
* ``sut``            - the SUT's configuration and its manual steps (``await sut.act(...)``).

Async test functions run on the harness's event loop (see harness.runner) with the
configured per-test time limit. The role fixtures own each case's lifecycle: before it,
OCTT's common state (harness.common_state; failing that, the case is a setup error);
after it, also when it failed, the state is restored (configuration, transactions,
connectors).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from . import __version__
from .config import SutConfig, load_config
from .runner import LoopThread
from .sut import SutHandle, SutProvider

MARKERS = {
    "core": "OCPP 1.6 feature profile Core",
    "firmware_management": "OCPP 1.6 feature profile FirmwareManagement",
    "local_auth_list_management": "OCPP 1.6 feature profile LocalAuthListManagement",
    "reservation": "OCPP 1.6 feature profile Reservation",
    "smart_charging": "OCPP 1.6 feature profile SmartCharging",
    "remote_trigger": "OCPP 1.6 feature profile RemoteTrigger",
    "security": "OCPP 1.6 security extension (improved security white paper)",
}
#: the harness's own cases beyond OCTT (ids RPC_nnn_CS / RPC_nnn_CSMS); never mixed into the profile markers
OWN_MARKERS = {
    "ocppj": "the harness's own OCPP-J conformance cases (framing, error codes, message ids, transport): beyond OCTT",
    "robustness": "the harness's own load and soak cases (many charge points, bursts of CALLs): beyond OCTT",
}
TC_ID = re.compile(r"^(TC|RPC)_\d{3}(_\d+)?_(CS|CSMS)$")

_provider_key = pytest.StashKey[SutProvider]()
_role_key = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ocpp", "OCPP 1.6 compliance harness")
    group.addoption("--ocpp-sut", choices=("cp", "cs"), default=None,
                    help="which side is under test: cp = a charge point (harness plays the central system), "
                         "cs = a central system (harness plays a charge point); default: both, against the simulators")
    group.addoption("--ocpp-config", default=None, metavar="PATH",
                    help="SUT configuration YAML (see fixtures/); default: the built-in reference simulators")
    group.addoption("--ocpp-tc", default=None, metavar="ID[,ID]",
                    help="run only these official test case ids, e.g. TC_001_CS,TC_003_CSMS")
    group.addoption("--ocpp-step-timeout", type=float, default=None, metavar="S",
                    help="override the SUT config's per-step timeout (seconds)")
    group.addoption("--ocpp-test-timeout", type=float, default=None, metavar="S",
                    help="override the SUT config's per-test time limit (seconds)")
    group.addoption("--ocpp-sim-fault", action="append", default=[], metavar="cp:NAME|cs:NAME",
                    help="switch on a named fault of a reference simulator (for the harness's own tests)")
    group.addoption("--ocpp-sim-variant", action="append", default=[], metavar="cp:NAME|cs:NAME",
                    help="switch on a named variant of a reference simulator: a behaviour the spec permits "
                         "(for the harness's own tests; the simulators' configs can name them too)")
    group.addoption("--ocpp-sim-config-dir", default=None, metavar="DIR",
                    help="where the simulators' SUT configs live (default: <rootdir>/fixtures)")
    group.addoption("--ocpp-report", default=None, metavar="PATH",
                    help="write the compliance report (self-contained HTML) here, evidence.json beside it; default: "
                         "the --html path (pytest-html's own page then goes beside it), or reports/report.html in "
                         "a run of testcases/; 'none': no report")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in {**MARKERS, **OWN_MARKERS}.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.addinivalue_line("markers", "tc(id, title): the official OCTT test case this test implements")
    config.addinivalue_line("markers", "also_without_profile: the case checks the answers of a SUT lacking its feature "
                                       "profile (NotSupported, -1), so it runs whether or not the profile is listed")
    config.stash[_provider_key] = SutProvider.from_options(config)


def tc_of(item: pytest.Item) -> tuple[str, str] | None:
    marker = item.get_closest_marker("tc")
    if marker is None:
        return None
    return str(marker.args[0]), str(marker.args[1]) if len(marker.args) > 1 else ""


def sut_role_of(tc_id: str) -> str:
    """TC_xxx_CS tests a charge point (cp); TC_xxx_CSMS tests a central system (cs)."""
    return "cs" if tc_id.endswith("_CSMS") else "cp"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    provider = config.stash[_provider_key]
    wanted_ids = {t.strip() for t in (config.getoption("ocpp_tc") or "").split(",") if t.strip()}
    keep, drop = [], []
    for item in items:
        tc = tc_of(item)
        if tc is None:
            keep.append(item)
            continue
        tc_id, _ = tc
        if not TC_ID.match(tc_id):
            raise pytest.UsageError(f"{item.nodeid}: {tc_id!r} is neither an official OCTT 1.6 test case id "
                                    "(TC_nnn[_n]_CS|CSMS) nor one of the harness's own (RPC_nnn_CS|CSMS)")
        if not item.name.startswith(f"test_{tc_id.lower()}"):
            raise pytest.UsageError(f"{item.nodeid}: the test name must start with test_{tc_id.lower()}")
        if (wanted_ids and tc_id not in wanted_ids) or sut_role_of(tc_id) not in provider.roles:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def ocpp_loop() -> Iterator[LoopThread]:
    """The harness's event loop thread (one per run)."""
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def ocpp_provider(request: pytest.FixtureRequest, ocpp_loop: LoopThread) -> Iterator[SutProvider]:
    provider = request.config.stash[_provider_key]
    provider.loop = ocpp_loop
    yield provider
    provider.close()


@pytest.fixture
def central_system(request: pytest.FixtureRequest, sut: SutHandle, ocpp_provider: SutProvider) -> Iterator[Any]:
    """The harness as OCPP central system, connected to the charge point under test, in OCTT's common state."""
    yield from _case_lifecycle(request, ocpp_provider, ocpp_provider.central_system(), sut)


@pytest.fixture
def charge_point(request: pytest.FixtureRequest, sut: SutHandle, ocpp_provider: SutProvider) -> Iterator[Any]:
    """The harness as OCPP charge point, talking to the central system under test, reset to OCTT's common state."""
    yield from _case_lifecycle(request, ocpp_provider, ocpp_provider.charge_point(), sut)


def _case_lifecycle(request: pytest.FixtureRequest, provider: SutProvider, role: Any, sut: SutHandle) -> Iterator[Any]:
    """Begin the test's trace, establish the common state, yield; restore it and end the trace, whatever happened."""
    from .common_state import establish, restore

    request.node.stash[_role_key] = role
    assert provider.loop is not None
    run, limit = provider.loop.run, provider.test_timeout(request.config, role)
    role.actuations = sut.actuations
    sut.actuations.changed = role.inbox.notify
    run(role.begin_test(request.node.nodeid), limit)
    try:
        run(establish(role, sut), limit)
    except BaseException:
        run(role.end_test(), limit)
        raise
    role.housekeeping = False  # from here on, the case's steps claim the SUT's CALLs
    yield role
    role.housekeeping = True
    try:
        run(restore(role, sut), limit)
    finally:
        run(role.end_test(), limit)


@pytest.fixture
def sut(request: pytest.FixtureRequest, ocpp_provider: SutProvider) -> SutHandle:
    """The system under test: its configuration and its manual steps."""
    tc = tc_of(request.node)
    role = sut_role_of(tc[0]) if tc else "cp"
    declared = ocpp_provider.declared_config(role)
    runs_anyway = request.node.get_closest_marker("also_without_profile") is not None
    for name in MARKERS:
        if request.node.get_closest_marker(name) and name not in declared.features and not runs_anyway:
            pytest.skip(f"the SUT config does not list feature profile {name!r} in 'features'")
    return ocpp_provider.handle(role, request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run an async test case on the harness loop with its time limit, then check what is left."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    provider = pyfuncitem.config.stash[_provider_key]
    role = pyfuncitem.stash.get(_role_key, None)
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def run() -> None:
        await pyfuncitem.obj(**kwargs)
        if role is None:
            return
        await role.actuations_done("after the last step")
        leftover = role.unraised()
        if leftover:
            first = leftover[0]
            raise type(first)("after the last step", first.problem, first.detail)

    assert provider.loop is not None
    provider.loop.run(run(), provider.test_timeout(pyfuncitem.config, role))
    return True


# -- the report and the terminal (harness.report) ---------------------------------------------------------
_live_key = pytest.StashKey[Any]()


def pytest_cmdline_main(config: pytest.Config) -> None:
    """Before any plugin configures itself: the report takes the --html path unless --ocpp-report names one."""
    from .report import claim_report_path

    claim_report_path(config)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Note the run's start; with -v, show each step of a case as it finishes (-vv: the harness's setup steps too)."""
    from .report import begin_session
    from .report.terminal import LiveSteps
    from .steps import observe

    config = session.config
    begin_session(config)  # also registers the collector of the cases' records (pytest_runtest_logreport)
    verbose = config.get_verbosity()
    if verbose >= 1 and not hasattr(config, "workerinput") and config.pluginmanager.has_plugin("terminalreporter"):
        live = LiveSteps(config, own=verbose >= 2)
        config.stash[_live_key] = (live, observe(live))


def pytest_runtest_setup(item: pytest.Item) -> None:
    live = item.config.stash.get(_live_key, None)
    tc = tc_of(item)
    if live is not None and tc is not None:
        live[0].heading = f"{tc[0]} — {tc[1]}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    tc = tc_of(item)
    if tc is None:
        return
    from .report import record_phase

    profiles = [name for name in {**MARKERS, **OWN_MARKERS} if item.get_closest_marker(name)]
    record_phase(item, call, outcome.get_result(), tc=tc, sut_role=sut_role_of(tc[0]), profiles=profiles,
                 role=item.stash.get(_role_key, None), provider=item.config.stash[_provider_key])


def pytest_report_header(config: pytest.Config) -> list[str]:
    from .errors import ConfigurationError

    try:
        described = config.stash[_provider_key].describe()
    except ConfigurationError as exc:  # said here; the run itself reports it where it matters (a usage error first)
        described = f"the SUT configuration cannot be read: {exc}"
    return [f"ocpp16-harness {__version__}: " + described]


def pytest_sessionfinish(session: pytest.Session) -> None:
    from .report import write_reports

    write_reports(session, session.config.stash[_provider_key])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from .report import written_report

    path = written_report(config)
    if path is not None:
        terminalreporter.write_sep("-", f"OCPP compliance report: {path.as_uri()} (evidence.json beside it)")


def pytest_unconfigure(config: pytest.Config) -> None:
    live = config.stash.get(_live_key, None)
    if live is not None:
        live[1]()  # stop observing the steps


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session) -> None:
    from html import escape

    from .report import report_path

    path = report_path(session.config)
    provider = session.config.stash[_provider_key]
    text = f"ocpp16-harness {__version__}, OCPP 1.6-J. {provider.describe()}."
    if path is not None:
        text += f" The compliance report (cover, steps, diagrams): {path.name} beside this page."
    prefix.append(f"<p>{escape(text)}</p>")


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    report.title = "OCPP 1.6 compliance run (developer view)"


def simulator_config_dir(config: pytest.Config) -> Path:
    given = config.getoption("ocpp_sim_config_dir")
    return Path(given) if given else Path(config.rootpath) / "fixtures"


__all__ = ["MARKERS", "OWN_MARKERS", "tc_of", "sut_role_of", "SutConfig", "load_config", "simulator_config_dir"]
