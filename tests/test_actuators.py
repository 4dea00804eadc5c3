"""Manual steps (harness/actuators.py): prompt, shell, http and python actuators, errors and the timeout.

Async code runs with asyncio.run inside plain test functions; the HTTP actuator talks to a
throw-away http.server on 127.0.0.1 (port 0) that each test starts and shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import socket
import sys
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.actuators import VOCABULARY, Actuators
from harness.errors import ConfigurationError, StepFailure

ROOT = Path(__file__).resolve().parents[1]


def run(actuators: Actuators, action: str, **params: Any) -> Any:
    return asyncio.run(actuators.act(action, **params))


def http_step_failure(actuators: Actuators, action: str, **params: Any) -> tuple[StepFailure, bool]:
    """Run an actuation that must fail over HTTP; return the StepFailure and whether the HTTP error
    response the harness caught had been closed (its socket released) by the time act() raised.
    The response is closed here in any case, so a leak cannot surface later as an 'unclosed socket'
    ResourceWarning (an error under this project's filterwarnings) in an unrelated test."""
    try:
        run(actuators, action, **params)
    except StepFailure as exc:
        failure = exc
    else:
        pytest.fail(f"{action} over HTTP did not fail")
    caught = failure.__context__
    released = True
    if isinstance(caught, urllib.error.HTTPError):
        released = caught.fp is None or caught.fp.isclosed()
        caught.close()
    return failure, released


# --- python actuator targets (loaded by the actuator as "<module>:<name>") ----------------------------
def record_sync(action: str, **params: Any) -> dict[str, Any]:
    return {"action": action, "params": params, "how": "sync"}


async def record_async(action: str, **params: Any) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"action": action, "params": params, "how": "async"}


async def wait_forever(action: str, **params: Any) -> None:
    await asyncio.Event().wait()  # nobody ever sets it: only the actuator's timeout ends this


HELPERS_SOURCE = '''
import asyncio

def record_sync(action, **params):
    return {"action": action, "params": params, "how": "sync"}

async def record_async(action, **params):
    await asyncio.sleep(0)
    return {"action": action, "params": params, "how": "async"}

async def wait_forever(action, **params):
    await asyncio.Event().wait()
'''


@pytest.fixture
def targets(monkeypatch, tmp_path) -> str:
    """The module name to reference the functions above by: this module as ``tests.test_actuators``
    when ``tests`` is importable as a package from the repository root, else a copy in tmp_path."""
    monkeypatch.syspath_prepend(str(ROOT))
    try:
        module = importlib.import_module("tests.test_actuators")
        if all(hasattr(module, n) for n in ("record_sync", "record_async", "wait_forever")):
            return "tests.test_actuators"
    except ImportError:
        pass
    (tmp_path / "ocpp_actuator_targets.py").write_text(HELPERS_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ocpp_actuator_targets", raising=False)
    return "ocpp_actuator_targets"


def test_the_tests_directory_is_importable_as_a_package_for_python_actuators(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    module = importlib.import_module("tests.test_actuators")
    assert callable(module.record_sync) and callable(module.record_async)


# --- python ---------------------------------------------------------------------------------------
def test_a_python_actuator_calls_a_sync_function_with_the_action_and_parameters(targets):
    actuators = Actuators({"plug_in": {"python": f"{targets}:record_sync"}}, timeout=5)
    assert run(actuators, "plug_in", connector=2) == {"action": "plug_in", "params": {"connector": 2}, "how": "sync"}


def test_a_python_actuator_awaits_an_async_function(targets):
    actuators = Actuators({"default": {"python": f"{targets}:record_async"}}, timeout=5)
    result = run(actuators, "present_id_tag", connector=1, id_tag="VALID_TAG_1")
    assert result == {"action": "present_id_tag", "params": {"connector": 1, "id_tag": "VALID_TAG_1"}, "how": "async"}


@pytest.mark.parametrize("ref", ["no_such_module_for_ocpp_tests:func", "json:no_such_function", "json"])
def test_a_python_actuator_that_cannot_be_loaded_is_a_configuration_error(ref):
    actuators = Actuators({"plug_in": {"python": ref}}, timeout=5)
    with pytest.raises(ConfigurationError, match="cannot be loaded"):
        run(actuators, "plug_in", connector=1)


def test_an_actuation_that_does_not_finish_in_time_is_a_step_failure_naming_the_timeout(targets):
    actuators = Actuators({"plug_in": {"python": f"{targets}:wait_forever"}}, timeout=0.2)
    with pytest.raises(StepFailure) as excinfo:
        run(actuators, "plug_in", step="3", connector=1)
    assert excinfo.value.step == "3"
    assert "did not finish within 0.2s" in str(excinfo.value)
    assert "'plug_in'" in str(excinfo.value) and "python" in str(excinfo.value)


# --- shell ----------------------------------------------------------------------------------------
def test_a_shell_actuator_fills_in_quoted_placeholders_and_returns_the_output():
    actuators = Actuators({"present_id_tag": {"shell": "printf '%s|%s|%s' {action} {connector} {id_tag}"}}, timeout=5)
    out = run(actuators, "present_id_tag", connector=1, id_tag="TAG 1; echo injected $(echo x)")
    assert out == "present_id_tag|1|TAG 1; echo injected $(echo x)"


def test_a_shell_placeholder_without_a_parameter_stays_visible():
    actuators = Actuators({"plug_in": {"shell": "printf '%s' {connector}"}}, timeout=5)
    assert run(actuators, "plug_in") == "{connector}"


def test_a_shell_command_exiting_zero_is_done():
    assert run(Actuators({"default": {"shell": "true"}}, timeout=5), "power_cycle") == ""


def test_a_shell_command_exiting_non_zero_is_a_step_failure_with_its_output():
    actuators = Actuators({"unplug": {"shell": "printf 'cable jammed on %s' {connector}; exit 3"}}, timeout=5)
    with pytest.raises(StepFailure) as excinfo:
        run(actuators, "unplug", connector=2)
    assert "exited with 3" in excinfo.value.problem
    assert "cable jammed on 2" in excinfo.value.detail
    assert "cable jammed on 2" in str(excinfo.value)


def test_false_is_a_step_failure():
    with pytest.raises(StepFailure, match="exited with 1"):
        run(Actuators({"default": {"shell": "false"}}, timeout=5), "power_cycle")


def test_a_failing_shell_command_names_the_step_it_was_run_for():
    with pytest.raises(StepFailure) as excinfo:
        run(Actuators({"default": {"shell": "false"}}, timeout=5), "power_cycle", step="4.2")
    assert excinfo.value.step == "4.2"


def test_a_failing_http_actuation_names_the_step_it_was_run_for(http_server):
    base, _ = http_server
    failure, _ = http_step_failure(Actuators({"default": {"http": {"url": base + "/fail"}}}, timeout=5),
                                   "power_cycle", step="4.3")
    assert failure.step == "4.3"


def test_a_timed_out_shell_command_is_reaped_before_the_step_fails(monkeypatch):
    started: list[asyncio.subprocess.Process] = []
    original = asyncio.create_subprocess_shell

    async def spy(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        proc = await original(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(asyncio, "create_subprocess_shell", spy)
    actuators = Actuators({"plug_in": {"shell": "exec sleep 30"}}, timeout=0.2)

    async def scenario() -> int | None:
        try:
            with pytest.raises(StepFailure, match="did not finish within 0.2s"):
                await actuators.act("plug_in", step="1", connector=1)
            return started[0].returncode  # read before yielding to the loop: what act() left behind
        finally:  # whatever the harness did, leave no child, pipe or transport behind
            for proc in started:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                await proc.communicate()

    assert asyncio.run(scenario()) is not None


# --- http -----------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.records.append(  # type: ignore[attr-defined]
            {"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers)}
        )
        if self.path.startswith("/fail"):
            status, data, ctype = 500, b"actuation broke", "text/plain"
        elif self.path.startswith("/text"):
            status, data, ctype = 200, b"done", "text/plain"
        elif self.path.startswith("/empty"):
            status, data, ctype = 200, b"", "text/plain"
        else:
            status, data, ctype = 200, json.dumps({"ok": True, "path": self.path}).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.records = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.records  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_an_http_actuator_posts_the_parameters_as_json_and_returns_the_json_reply(http_server):
    base, records = http_server
    actuators = Actuators({"default": {"http": {"url": base + "/act/{action}"}}}, timeout=5)
    assert run(actuators, "plug_in", connector=2) == {"ok": True, "path": "/act/plug_in"}
    (request,) = records
    assert request["method"] == "POST" and request["path"] == "/act/plug_in"
    assert json.loads(request["body"]) == {"connector": 2}
    assert request["headers"]["Content-Type"] == "application/json"


def test_an_http_actuator_uses_the_configured_method_headers_and_url_placeholders(http_server):
    base, records = http_server
    how = {"http": {"url": base + "/cp/{connector}/{action}", "method": "PUT", "headers": {"X-Token": "t0k"}}}
    run(Actuators({"unplug": how}, timeout=5), "unplug", connector=1)
    (request,) = records
    assert (request["method"], request["path"]) == ("PUT", "/cp/1/unplug")
    assert request["headers"]["X-Token"] == "t0k"


def test_an_http_reply_that_is_not_json_is_returned_as_text_and_an_empty_one_as_none(http_server):
    base, _ = http_server
    assert run(Actuators({"default": {"http": {"url": base + "/text"}}}, timeout=5), "power_cycle") == "done"
    assert run(Actuators({"default": {"http": {"url": base + "/empty"}}}, timeout=5), "power_cycle") is None


def test_an_http_error_status_is_a_step_failure_with_the_url_status_and_reply_body(http_server):
    base, _ = http_server
    actuators = Actuators({"default": {"http": {"url": base + "/fail/{action}"}}}, timeout=5)
    failure, _ = http_step_failure(actuators, "power_cycle")
    assert f"{base}/fail/power_cycle" in failure.problem
    assert "500" in failure.problem
    assert failure.detail == "actuation broke"


def test_an_http_error_status_releases_the_response_before_failing_the_step(http_server):
    base, _ = http_server
    _, released = http_step_failure(Actuators({"default": {"http": {"url": base + "/fail"}}}, timeout=5),
                                    "power_cycle")
    assert released


def test_an_unreachable_http_actuator_is_a_step_failure():
    with socket.socket() as blocker:  # bound but not listening: connections to it are refused
        blocker.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{blocker.getsockname()[1]}/act"
        with pytest.raises(StepFailure, match="HTTP request to .* failed"):
            run(Actuators({"default": {"http": {"url": url}}}, timeout=5), "power_cycle")


# --- prompt ---------------------------------------------------------------------------------------
def test_without_a_configured_actuator_the_operator_is_prompted_with_the_vocabulary_text():
    asked: list[str] = []
    actuators = Actuators({}, timeout=5, prompt=lambda text: asked.append(text) or "ok")
    assert run(actuators, "plug_in", connector=2) == "ok"
    assert asked == ["[OCPP harness] Plug the EV cable into connector 2 (EV side connected). Press Enter when done."]


def test_a_configured_prompt_text_gets_its_placeholders_filled_in():
    asked: list[str] = []
    actuators = Actuators({"present_id_tag": {"prompt": "Swipe {id_tag} at {connector} ({action}, {missing})"}},
                          timeout=5, prompt=asked.append)
    run(actuators, "present_id_tag", connector=1, id_tag="VALID_TAG_1")
    assert asked == ["[OCPP harness] Swipe VALID_TAG_1 at 1 (present_id_tag, {missing}) Press Enter when done."]


def test_a_prompt_without_a_terminal_is_a_configuration_error_naming_the_step():
    actuators = Actuators({}, timeout=5, prompt=None)
    with pytest.raises(ConfigurationError, match="'plug_in'") as excinfo:
        run(actuators, "plug_in", connector=1)
    assert "configure an actuator" in str(excinfo.value)


def test_every_vocabulary_step_renders_as_a_prompt_without_parameters():
    asked: list[str] = []
    actuators = Actuators({}, timeout=5, prompt=asked.append)

    async def all_steps() -> None:
        for action in VOCABULARY:
            await actuators.act(action)

    asyncio.run(all_steps())
    assert len(asked) == len(VOCABULARY)
    assert [a for a, _ in actuators.done] == list(VOCABULARY)


# --- choosing how, and bad specs ------------------------------------------------------------------
def test_an_entry_for_the_action_wins_over_the_default():
    actuators = Actuators({"plug_in": {"shell": "true"}, "default": {"prompt": "x"}}, timeout=5)
    assert actuators.how("plug_in") == {"shell": "true"}
    assert actuators.how("unplug") == {"prompt": "x"}


def test_the_done_list_records_each_actuation_and_its_parameters():
    actuators = Actuators({"default": {"shell": "true"}}, timeout=5)
    run(actuators, "plug_in", step="1", connector=1)
    run(actuators, "unplug", connector=1)
    assert actuators.done == [("plug_in", {"connector": 1}), ("unplug", {"connector": 1})]


def test_an_unknown_manual_step_is_a_configuration_error_naming_it():
    actuators = Actuators({"default": {"shell": "true"}}, timeout=5)
    with pytest.raises(ConfigurationError, match="'press_the_big_red_button'"):
        run(actuators, "press_the_big_red_button")
    assert actuators.done == []


@pytest.mark.parametrize("entry", [
    {"shell": "true", "prompt": "x"},
    {"telnet": "x"},
    "true",
    {},
], ids=["two-kinds", "unknown-kind", "not-a-mapping", "empty"])
def test_an_actuator_entry_that_is_not_exactly_one_known_kind_is_a_configuration_error(entry):
    actuators = Actuators({"plug_in": entry}, timeout=5)
    with pytest.raises(ConfigurationError, match="exactly one of prompt, shell, http, python"):
        run(actuators, "plug_in", connector=1)


def blocking_actuator(action, **params):
    """A plain function that blocks until released (as hardware or a person might)."""
    BLOCKER.wait(5)
    return "released"


BLOCKER = threading.Event()


def test_a_blocking_python_actuator_neither_stalls_the_loop_nor_escapes_its_timeout():
    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)  # the loop stays free while the actuator blocks

        task = asyncio.ensure_future(ticker())
        # 1 s: room for a hundred ticks of a free loop, so a busy machine still shows more than five
        act = Actuators({"plug_in": {"python": "tests.test_actuators:blocking_actuator"}}, timeout=1.0)
        with pytest.raises(StepFailure, match="did not finish within 1s"):
            await act.act("plug_in", step="2", connector=1)
        BLOCKER.set()
        task.cancel()
        return ticks

    assert asyncio.run(scenario()) > 5
