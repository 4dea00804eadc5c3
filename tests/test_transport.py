"""The WebSocket layer on loopback: subprotocol, basic auth, paths, refused connections."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from harness.config import Secret, SutConfig, Timeouts
from harness.errors import ConnectionFailure, ProtocolFailure, StepTimeout
from harness.roles.central_system import CentralSystem
from harness.transport import connect_charge_point

SECRET = "s3cr3t-Pa55word-xyz"


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


def cs_config(password: str | None = None) -> SutConfig:
    return SutConfig(sut="cp", charge_point_id="CP_1", listen_port=0, listen_path="/ocpp",
                     basic_auth_password=Secret(password) if password else None,
                     timeouts=Timeouts(step=1, call=1, unsolicited_reply=0.2, connect=2))


async def started(password: str | None = None) -> CentralSystem:
    cs = CentralSystem(cs_config(password))
    await cs.start()
    await cs.begin_test("t")
    return cs


def test_a_charge_point_that_offers_no_ocpp16_subprotocol_fails_clearly() -> None:
    async def scenario() -> None:
        cs = await started()
        async with connect(f"{cs.url}/CP_1", proxy=None):
            with pytest.raises(ProtocolFailure, match="did not offer WebSocket subprotocol 'ocpp1.6'"):
                await cs.expect("BootNotification", step="1")
        await cs.stop()
    run(scenario())


def test_the_identity_is_the_last_path_segment_and_must_be_the_configured_one() -> None:
    async def scenario() -> None:
        cs = await started()
        async with connect(f"{cs.url}/OTHER", subprotocols=["ocpp1.6"], proxy=None) as ws:
            assert ws.subprotocol == "ocpp1.6"
            with pytest.raises(ProtocolFailure, match="connected as chargePointId 'OTHER'"):
                await cs.expect("BootNotification", step="1")
        await cs.stop()
    run(scenario())


def test_another_path_prefix_is_refused_with_404() -> None:
    async def scenario() -> None:
        cs = await started()
        with pytest.raises(InvalidStatus) as info:
            async with connect(f"ws://127.0.0.1:{cs.port}/elsewhere/CP_1", subprotocols=["ocpp1.6"], proxy=None):
                pass
        assert info.value.response.status_code == 404
        assert cs.refusals and "is not /ocpp/{chargePointId}" in cs.refusals[0]
        await cs.stop()
    run(scenario())


@pytest.mark.parametrize(("user", "password", "status"), [
    ("CP_1", SECRET, None), ("CP_1", "Wr0ng-Pa55-zz", 401), ("CP_2", SECRET, 401), (None, None, 401),
])
def test_basic_auth_is_checked_when_a_password_is_configured(user: str | None, password: str | None, status: int | None) -> None:
    async def scenario() -> None:
        cs = await started(SECRET)
        headers = {}
        if user is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if status is None:
            async with connect(f"{cs.url}/CP_1", subprotocols=["ocpp1.6"], additional_headers=headers, proxy=None):
                pass
        else:
            with pytest.raises(InvalidStatus) as info:
                async with connect(f"{cs.url}/CP_1", subprotocols=["ocpp1.6"], additional_headers=headers, proxy=None):
                    pass
            assert info.value.response.status_code == status
            assert all(SECRET not in r and "Wr0ng-Pa55-zz" not in r for r in cs.refusals)
        await cs.stop()
    run(scenario())


def test_the_harness_charge_point_sends_basic_auth_and_requires_ocpp16() -> None:
    async def scenario() -> None:
        cs = await started(SECRET)
        ws = await connect_charge_point(cs.url, "CP_1", password=Secret(SECRET))
        assert ws.subprotocol == "ocpp1.6"
        await ws.close()
        with pytest.raises(ConnectionFailure, match="could not open a WebSocket"):
            await connect_charge_point(cs.url, "CP_1", password=Secret("nope"))
        await cs.stop()
    run(scenario())


def _basic(user: bytes, password: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user + b":" + password).decode()}


async def _status(url: str, headers: dict[str, str]) -> int | None:
    """None when the upgrade is accepted, else the HTTP status of the refusal."""
    try:
        async with connect(url, subprotocols=["ocpp1.6"], additional_headers=headers, proxy=None):
            return None
    except InvalidStatus as exc:
        return exc.response.status_code


def test_an_authorization_key_of_any_bytes_goes_on_the_wire_as_those_bytes() -> None:
    """Whitepaper: AuthorizationKey is the hex of the password's bytes, which need not be text (bytes >= 0x80 here).

    The harness charge point sends a key a central system set as those bytes, and the harness's
    listener takes a key it set only as those bytes (the UTF-8 of their latin-1 reading is another password).
    """
    key = bytes(range(0x80, 0x94))  # 20 bytes, none of them ASCII

    async def scenario() -> None:
        cs = await started(SECRET)
        assert cs.password is not None
        cs.password.replace(Secret.from_hex(key.hex().upper()))  # as after ChangeConfiguration AuthorizationKey
        ws = await connect_charge_point(cs.url, "CP_1", password=Secret.from_hex(key.hex()))
        await ws.close()
        assert await _status(f"{cs.url}/CP_1", _basic(b"CP_1", key)) is None
        assert await _status(f"{cs.url}/CP_1", _basic(b"CP_1", key.decode("latin-1").encode())) == 401
        await cs.stop()
    run(scenario())


def test_a_configured_password_beyond_ascii_is_sent_in_utf8_and_taken_in_utf8_or_latin1() -> None:
    """RFC 7617: UTF-8; some HTTP clients still send latin-1. A password latin-1 cannot spell is UTF-8 only."""
    async def scenario() -> None:
        for password in ("Pässwörd-für-Lädepunkt", "Пароль-зарядной-станции"):
            cs = await started(password)
            ws = await connect_charge_point(cs.url, "CP_1", password=Secret(password))
            await ws.close()
            assert await _status(f"{cs.url}/CP_1", _basic(b"CP_1", password.encode())) is None
            if all(ord(c) < 256 for c in password):
                assert await _status(f"{cs.url}/CP_1", _basic(b"CP_1", password.encode("latin-1"))) is None
            assert await _status(f"{cs.url}/CP_1", _basic(b"CP_1", b"wrong-" + password.encode())) == 401
            await cs.stop()
    run(scenario())


def test_a_central_system_that_selects_no_subprotocol_is_a_connection_failure() -> None:
    async def scenario() -> None:
        from websockets.asyncio.server import serve

        async def echo(ws: Any) -> None:
            await ws.wait_closed()

        async with serve(echo, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            with pytest.raises(ConnectionFailure, match="did not select subprotocol 'ocpp1.6'"):
                await connect_charge_point(f"ws://127.0.0.1:{port}/ocpp", "CP_1")
    run(scenario())


def test_nothing_listening_is_a_clear_connection_failure() -> None:
    async def scenario() -> None:
        cs = await started()
        url = cs.url
        await cs.stop()
        with pytest.raises(ConnectionFailure, match="could not open a WebSocket to ws://127.0.0.1"):
            await connect_charge_point(url, "CP_1", open_timeout=2)
    run(scenario())


def test_an_oversized_frame_from_the_sut_ends_the_connection_with_a_stated_reason() -> None:
    async def scenario() -> None:
        cs = await started()
        ws = await connect(f"{cs.url}/CP_1", subprotocols=["ocpp1.6"], proxy=None, max_size=None)
        await ws.send('[2,"1","DataTransfer",{"vendorId":"v","data":"' + "x" * (5 * 2**20) + '"}]')
        with pytest.raises(StepTimeout) as info:
            await cs.expect("DataTransfer", step="1", timeout=1)
        assert "code 1009" in str(info.value)
        if not ws.transport.is_closing():  # the harness has usually torn the fake SUT down already
            ws.transport.abort()
        await cs.stop()
    run(scenario())
