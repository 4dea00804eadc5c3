"""Helpers the OCPP-J and robustness cases (RPC_nnn) of both roles share: the unsupported-action probe
and its skip, raw probes that must be answered, WebSocket pings, an oversize frame, and how the harness charge point reaches a central system."""

from __future__ import annotations

import ssl as ssl_module
from typing import Any

import pytest

from harness.errors import ProtocolFailure, StepTimeout
from harness.ocppj import CallResult
from harness.probe_run import as_message, probe_step
from harness.probes import Probe, call_frame, probe_id, unsupported_action_probe
from harness.roles.charge_point import ChargePoint
from harness.sut import SutHandle
from harness.transport import connect_charge_point

__all__ = ["unsupported_probe", "must_answer", "pings", "oversize", "reach", "open_connection"]


def unsupported_probe(sut: SutHandle, sut_role: str) -> Probe:
    """The probe of RPC_002: an action of ``extra.unsupported_actions``, else of a profile not in ``features``."""
    probe = unsupported_action_probe(sut_role, sut.config.features, sut.config.extra.get("unsupported_actions") or ())
    if probe is None:
        pytest.skip("the SUT config lists every feature profile (and the security extension): there is no known action "
                    "it does not support; name one in extra.unsupported_actions to run this case")
    return probe


async def must_answer(role: Any, probe: Probe, *, step: str) -> None:
    """A valid CALL sent raw must get a CALLRESULT with its unique id."""
    session = await role.wait_connected(step)
    with probe_step(role, step, str(probe.frame), "CALLRESULT with the same unique id") as record:
        answer = await session.exchange_raw(probe.frame, unique_id=probe.unique_id or "", timeout=role.timeouts.call)
        if answer is not None:
            record.received.append(as_message(answer.message))
        if answer is None or not isinstance(answer.message, CallResult):
            got = "no answer" if answer is None else f"CALLERROR {answer.message.error_code}"  # type: ignore[union-attr]
            raise ProtocolFailure(step, f"{probe.what} got {got}; expected a CALLRESULT ({probe.rule})")


async def pings(role: Any, properties: list[tuple[str, Any]]) -> None:
    """Three WebSocket pings, each answered within the step timeout; the round trips go to ``properties``."""
    rtts = []
    for n in (1, 2, 3):
        session = await role.wait_connected(f"{n}")
        with probe_step(role, f"{n} (WebSocket ping)", "<ping>", "<pong>"):
            rtt = await session.ping(role.timeouts.step)
            if rtt is None:
                raise StepTimeout(f"{n} (WebSocket ping)", f"no pong within {role.timeouts.step:g}s",
                                  "RFC 6455 section 5.5.2: an endpoint MUST answer a Ping with a Pong as soon as practical")
        rtts.append(round(rtt * 1000, 2))
    properties.append(("ping_rtt_ms", rtts))
    role.trace.event(f"ping round trips: {rtts} ms")


async def oversize(role: Any, sut: SutHandle, action: str, *, sentinel: tuple[str, dict[str, Any]]) -> None:
    size = int(sut.config.extra.get("oversize_frame_bytes", 2 * 2 ** 20))
    uid = probe_id("oversize")
    frame = call_frame(uid, action, {"vendorId": "org.openocpp.harness.oversize", "data": "x" * size})
    session = await role.wait_connected("1")
    with probe_step(role, f"1 (DataTransfer.req of {size} bytes)", frame[:200], "an answer, or close 1009") as record:
        answer = await session.exchange_raw(frame, unique_id=uid, timeout=role.timeouts.call)
        if answer is not None:
            record.received.append(as_message(answer.message))
        elif session.closed.is_set() and session.close_code != 1009:
            role.warn("1", f"the SUT closed the connection on a frame of {size} bytes without code 1009 "
                           f"({session.close_reason})", "RFC 6455 section 7.4.1: 1009 says the message was too big")
        elif not session.closed.is_set():
            role.warn("1", f"a frame of {size} bytes got no answer and the connection stayed open",
                      "the SUT dropped it silently; RFC 6455 section 7.4.1 has close code 1009 for this")
    await role.call(sentinel[0], sentinel[1], step="2 (the SUT serves a valid CALL afterwards)")


def reach(cp: ChargePoint) -> tuple[str, Any, ssl_module.SSLContext | None]:
    """(endpoint, basic-auth password or None, TLS context or None) of the harness charge point's current profile."""
    profile = int(getattr(cp, "profile", 0) or 0)
    endpoint = cp.endpoint_for(profile) if hasattr(cp, "endpoint_for") else cp.config.endpoint
    if hasattr(cp, "password"):
        password = cp.password() if profile in (1, 2) else None
    else:
        password = cp.config.basic_auth_password
    tls = cp.tls_context(profile) if hasattr(cp, "tls_context") and profile >= 2 else None
    return endpoint, password, tls


async def open_connection(cp: ChargePoint, identity: str) -> Any:
    """A second connection of the harness, as charge point ``identity`` (ConnectionFailure if refused)."""
    endpoint, password, tls = reach(cp)
    return await connect_charge_point(endpoint, identity, password=password, open_timeout=cp.timeouts.connect, ssl=tls)
