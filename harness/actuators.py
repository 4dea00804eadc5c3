"""The manual steps of the test cases, and the ways a SUT configuration can carry them out.

Each test step that needs a person or the SUT's own back-end (plug in a cable,
present a card, make the central system send a RemoteStartTransaction ...) is one
name from :data:`VOCABULARY`. The SUT config's ``actuators`` section says how each
is done, per name or with a ``default`` entry:

    prompt: "text shown to the operator"      # waits for Enter (works under pytest capture)
    shell:  "command {connector} {id_tag}"    # run; exit status 0 = done
    http:   {url: "http://host/act/{action}", method: POST}   # JSON body = the parameters
    python: "package.module:function"         # called with (action, **params), may be async

Placeholders ``{action}`` and every parameter are filled in (shell values are quoted).

A test case never waits for a manual step to finish before it waits for what the step
causes: :class:`Actuations` runs the steps of one case one after another, beside the
case's expectations (an operator may confirm after the charge point has reacted; a lab
API may answer only once the charger's CALL was answered).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import shlex
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Mapping

from .errors import ConfigurationError, StepFailure
from .waits import within

__all__ = ["VOCABULARY", "UNDO", "Actuators", "Actuation", "Actuations"]

VOCABULARY: dict[str, str] = {
    # charge point under test: what a person does at the charger
    "power_cycle": "Switch the charge point off and on again (a cold boot).",
    "plug_in": "Plug the EV cable into connector {connector} (EV side connected).",
    "unplug": "Unplug the cable from connector {connector}.",
    "unplug_ev_side": "Disconnect the cable at the EV side of connector {connector}.",
    "present_id_tag": "Present id tag {id_tag} at the charge point (connector {connector}).",
    "power_loss": "Cut the charge point's power while it is running, then restore it.",
    "lock_failure": "Make the connector lock of connector {connector} fail.",
    "fault_connector": "Put connector {connector} into a Faulted state.",
    "clear_fault": "Clear the fault of connector {connector}.",
    "fault_charge_point": "Put the whole charge point into a Faulted state.",
    "drop_connection": "Cut the charge point's network connection to the central system.",
    "restore_connection": "Restore the charge point's network connection.",
    "ev_suspend": "Make the EV stop drawing energy on connector {connector} (SuspendedEV).",
    "ev_resume": "Make the EV draw energy again on connector {connector}.",
    # central system under test: what its operator does in the back-end
    "cs_remote_start": "Make the central system send RemoteStartTransaction (connector {connector}, id tag {id_tag}).",
    "cs_remote_stop": "Make the central system send RemoteStopTransaction for transaction {transaction_id}.",
    "cs_reset": "Make the central system send Reset of type {type}.",
    "cs_unlock_connector": "Make the central system send UnlockConnector for connector {connector}.",
    "cs_get_configuration": "Make the central system send GetConfiguration (keys: {keys}).",
    "cs_change_configuration": "Make the central system send ChangeConfiguration {key}={value}.",
    "cs_clear_cache": "Make the central system send ClearCache.",
    "cs_change_availability": "Make the central system send ChangeAvailability {type} for connector {connector}.",
    "cs_data_transfer": "Make the central system send DataTransfer (vendorId {vendor_id}).",
    "cs_set_charging_profile": "Make the central system send SetChargingProfile ({purpose}) for connector {connector}.",
    "cs_get_composite_schedule": "Make the central system send GetCompositeSchedule for connector {connector}.",
    "cs_clear_charging_profile": "Make the central system send ClearChargingProfile ({criteria}).",
    "cs_remote_start_with_profile": "Make the central system send RemoteStartTransaction with a TxProfile (connector {connector}, id tag {id_tag}).",
    "cs_get_local_list_version": "Make the central system send GetLocalListVersion.",
    "cs_send_local_list": "Make the central system send SendLocalList ({update_type}, at most {max_length} entries).",
    "cs_reserve_now": "Make the central system send ReserveNow: connector {connector} (0 = any), id tag {id_tag}, parent id tag "
                      "{parent_id_tag} (None = without), expiring {expiry} s from now, reservation id {reservation_id}.",
    "cs_cancel_reservation": "Make the central system send CancelReservation for reservation id {reservation_id}.",
    "cs_update_firmware": "Make the central system send UpdateFirmware with the location of {firmware} firmware "
                          "(installable: an image the charge point can install; missing: a file that does not exist; "
                          "corrupt: an image that downloads but fails installation).",
    "cs_get_diagnostics": "Make the central system send GetDiagnostics with an upload location that is {upload} "
                          "(accepting: it takes the upload; refusing: it refuses it).",
    "cs_trigger_message": "Make the central system send TriggerMessage for {requested_message} (connector {connector}).",
    # security extension (improved security white paper); the charge point's side first
    "set_security_profile": "With the charge point's service tool set its SecurityProfile to {profile}, its AuthorizationKey "
                            "to the configured basic_auth_password and its central system URL to {url} (OCPP itself "
                            "does not allow lowering the profile).",
    "cs_security_settings": "In the central system's back-end set charge point {charge_point_id} to security profile "
                            "{profile} with the configured basic_auth_password (a setting only: nothing is sent to it).",
    "cs_update_password": "Make the central system give the charge point a new basic-auth password "
                          "(ChangeConfiguration AuthorizationKey).",
    "cs_change_security_profile": "Make the central system move the charge point to security profile {profile} "
                                  "(ChangeConfiguration SecurityProfile).",
    "cs_extended_trigger_message": "Make the central system send ExtendedTriggerMessage for {requested_message} "
                                   "(connector {connector}).",
    "cs_install_certificate": "Make the central system send InstallCertificate of a {certificate_type} (its own root CA "
                              "certificate; {certificate}: configured = the one the charge point is set up with, other = "
                              "a second root CA).",
    "cs_get_installed_certificate_ids": "Make the central system send GetInstalledCertificateIds for {certificate_type}.",
    "cs_delete_certificate": "Make the central system send DeleteCertificate for the {certificate_type} it installed last.",
    "cs_get_log": "Make the central system send GetLog for the {log_type} with an upload location that accepts it.",
    "cs_signed_update_firmware": "Make the central system send SignedUpdateFirmware with a firmware whose signature is "
                                 "{signature} (valid: made with its signing certificate; invalid: a broken signature).",
}


#: manual steps that leave the SUT changed, and the manual step that undoes each (on the same connector):
#: harness.common_state undoes after a case what the case did not undo itself
UNDO: dict[str, str] = {
    "lock_failure": "clear_fault",
    "fault_connector": "clear_fault",
    "fault_charge_point": "clear_fault",
    "drop_connection": "restore_connection",
    "ev_suspend": "ev_resume",
}


class _Defaults(dict):  # format_map that leaves unknown placeholders visible
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Actuators:
    """Carries out manual steps as configured.

    Args:
        spec: the ``actuators`` section of the SUT config.
        timeout: bound on each actuation (seconds).
        prompt: how to ask the operator (the plugin passes one that suspends capture);
            ``None`` means no terminal, and a prompt actuator fails clearly.
    """

    def __init__(self, spec: Mapping[str, Any], *, timeout: float, prompt: Callable[[str], str] | None = None,
                 operator_timeout: float | None = None) -> None:
        self.spec = dict(spec)
        self.timeout = timeout
        self.operator_timeout = operator_timeout or timeout  # a person at a prompt may take longer than a machine
        self.prompt = prompt
        self.done: list[tuple[str, dict[str, Any]]] = []

    def how(self, action: str) -> Mapping[str, Any]:
        entry = self.spec.get(action, self.spec.get("default"))
        if entry is None:
            return {"prompt": VOCABULARY.get(action, action)}
        if not isinstance(entry, Mapping) or len(entry) != 1 or next(iter(entry)) not in ("prompt", "shell", "http", "python"):
            raise ConfigurationError(f"actuator {action!r}: give exactly one of prompt, shell, http, python")
        return entry

    async def act(self, action: str, *, step: str = "", **params: Any) -> Any:
        """Carry out ``action``; raises StepFailure if it could not be done in time."""
        if action not in VOCABULARY:
            raise ConfigurationError(f"unknown manual step {action!r}; known: {sorted(VOCABULARY)}")
        (kind, how), = self.how(action).items()
        self.done.append((action, dict(params)))
        limit = self.operator_timeout if kind == "prompt" else self.timeout
        try:
            return await within(self._run(kind, how, action, params), limit)
        except asyncio.TimeoutError:
            raise StepFailure(step, f"manual step {action!r} ({kind}) did not finish within {limit:g}s") from None
        except StepFailure as exc:
            if exc.step:
                raise
            raise type(exc)(step, exc.problem, exc.detail) from None

    async def _run(self, kind: str, how: Any, action: str, params: dict[str, Any]) -> Any:
        values = _Defaults(action=action, **params)
        if kind == "prompt":
            text = str(how).format_map(values)
            if self.prompt is None:
                raise ConfigurationError(f"manual step {action!r} needs an operator but there is no terminal: "
                                         f"configure an actuator for it ({text})")
            return await asyncio.to_thread(self.prompt, f"[OCPP harness] {text} Press Enter when done.")
        if kind == "shell":
            quoted = _Defaults({k: shlex.quote(str(v)) for k, v in values.items()})
            command = str(how).format_map(quoted)
            proc = await asyncio.create_subprocess_shell(command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            try:
                out, _ = await proc.communicate()
            except asyncio.CancelledError:  # timed out: never leave the child running or unreaped
                proc.kill()
                await asyncio.shield(proc.wait())
                raise
            if proc.returncode != 0:
                raise StepFailure("", f"manual step {action!r}: command exited with {proc.returncode}", out.decode(errors="replace")[-2000:])
            return out.decode(errors="replace")
        if kind == "http":
            return await asyncio.to_thread(self._http, how, action, values, params)
        target = _load_callable(str(how))
        if inspect.iscoroutinefunction(target):
            return await target(action, **params)
        # A plain function runs in a worker thread: if it blocks (hardware, a person), the
        # harness's event loop keeps answering the SUT and the step's timeout still applies.
        result = await asyncio.to_thread(target, action, **params)
        return await result if inspect.isawaitable(result) else result

    def _http(self, how: Mapping[str, Any], action: str, values: Mapping[str, Any], params: dict[str, Any]) -> Any:
        url = str(how["url"]).format_map(values)
        body = json.dumps(params).encode()
        request = urllib.request.Request(url, data=body, method=str(how.get("method", "POST")),
                                         headers={"Content-Type": "application/json", **how.get("headers", {})})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                text = response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:  # the actuation API said why: pass it on
            body = exc.read().decode(errors="replace")[:1000]
            raise StepFailure("", f"manual step {action!r}: HTTP {exc.code} from {url}", body) from None
        except Exception as exc:
            raise StepFailure("", f"manual step {action!r}: HTTP request to {url} failed: {exc}") from None
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text


def _load_callable(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"python actuator {ref!r} cannot be loaded: {exc}") from None


class Actuation:
    """One manual step of a case, running (or queued) beside the case's expectations; await it for its result."""

    def __init__(self, action: str, step: str, task: asyncio.Task[Any], params: dict[str, Any]) -> None:
        self.action = action
        self.step = step
        self.params = params
        self.task = task
        self.started: float | None = None  # monotonic time it began (it waits for the step before it)
        self.reported = False

    def __await__(self) -> Any:
        return self.task.__await__()

    def failure(self) -> BaseException | None:
        if not self.task.done() or self.task.cancelled():
            return None
        return self.task.exception()


class Actuations:
    """The manual steps of one test case: one at a time, in order, never blocking the case's expectations.

    ``changed`` is called whenever a step starts or ends (the role wakes its waiters).
    :meth:`deadline_base` tells a waiting step from when its timeout counts: a step
    caused by a manual step cannot be late before that manual step has even begun
    (an operator still busy with the previous prompt).
    """

    def __init__(self, actuators: Actuators, changed: Callable[[], None] = lambda: None) -> None:
        self.actuators = actuators
        self.changed = changed
        self.started: list[Actuation] = []
        self._lock = asyncio.Lock()  # FIFO: steps run in the order the case asked for them

    def start(self, action: str, *, step: str = "", **params: Any) -> Actuation:
        holder: list[Actuation] = []

        async def run() -> Any:
            async with self._lock:
                holder[0].started = time.monotonic()
                self.changed()
                try:
                    return await self.actuators.act(action, step=step, **params)
                finally:
                    self.changed()

        actuation = Actuation(action, step, asyncio.get_running_loop().create_task(run(), name=f"actuation-{action}"),
                              dict(params))
        holder.append(actuation)
        self.started.append(actuation)
        return actuation

    def not_undone(self) -> list[tuple[str, dict[str, Any]]]:
        """The undo steps (see :data:`UNDO`) of manual steps this case did and did not undo, in order."""
        outstanding: dict[tuple[str, Any], dict[str, Any]] = {}
        for a in self.started:
            connector = 0 if a.action == "fault_charge_point" else a.params.get("connector")
            if a.action in UNDO:
                outstanding[(UNDO[a.action], connector)] = {"connector": connector} if connector is not None else {}
            elif any(undo == a.action for undo, _ in outstanding):
                for key in [k for k in outstanding if k[0] == a.action and (k[1] == a.params.get("connector") or k[1] is None)]:
                    del outstanding[key]
        return [(action, params) for (action, _), params in outstanding.items()]

    @property
    def pending(self) -> list[Actuation]:
        return [a for a in self.started if not a.task.done()]

    def deadline_base(self) -> float | None:
        """When the newest manual step began (None while one is still queued: the clock is paused)."""
        if any(a.started is None for a in self.pending):
            return None
        return max((a.started for a in self.started if a.started is not None), default=0.0)

    def unreported_failure(self) -> BaseException | None:
        """The first failed manual step not yet reported (a StepFailure names the step of the manual step)."""
        for actuation in self.started:
            exc = actuation.failure()
            if exc is not None and not actuation.reported:
                actuation.reported = True
                if isinstance(exc, StepFailure) and not exc.step:
                    return type(exc)(actuation.step, exc.problem, exc.detail)
                return exc
        return None

    async def settle(self, timeout: float) -> None:
        """Wait (bounded) until every manual step started so far has finished; cancel what is left after that."""
        pending = [a.task for a in self.pending]
        if not pending:
            return
        done, left = await asyncio.wait(pending, timeout=timeout)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=1)
