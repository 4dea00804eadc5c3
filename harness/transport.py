"""WebSocket transport for OCPP-J 1.6: the central-system server and the charge-point client.

The only module of the harness that opens sockets. Both sides negotiate the
subprotocol ``ocpp1.6`` and speak HTTP Basic auth when a password is configured
(security profile 1; username = chargePointId). The server accepts a client that
offers no ``ocpp1.6`` and reports it, so the test fails with a clear message instead
of a refused handshake the SUT may never explain.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import quote, unquote

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .config import Secret
from .errors import ConnectionFailure

__all__ = ["SUBPROTOCOL", "Handshake", "serve_central_system", "connect_charge_point", "basic_auth_header"]

SUBPROTOCOL = "ocpp1.6"
# Generous library limits: the harness must never be the cause of a disconnect.
_COMMON = dict(max_size=4 * 2**20, ping_interval=None, compression=None)


@dataclass
class Handshake:
    """What the connecting charge point offered and what was decided."""

    path: str
    identity: str
    offered_subprotocols: list[str] = field(default_factory=list)
    subprotocol: str | None = None
    auth_user: str | None = None


def basic_auth_header(username: str, password: Secret) -> str:
    token = base64.b64encode(f"{username}:{password.reveal()}".encode()).decode()
    return f"Basic {token}"


def _check_basic_auth(header: str | None, identity: str, password: Secret) -> str | None:
    """None when the header carries identity:password; otherwise why not (never the password)."""
    if not header:
        return "no Authorization header"
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return f"Authorization scheme {scheme!r} is not Basic"
    try:
        user, sep, given = base64.b64decode(token.strip(), validate=True).decode("latin-1").partition(":")
    except (binascii.Error, ValueError):
        return "Authorization header is not valid base64"
    if not sep:
        return "Authorization credentials have no ':'"
    if user != identity:
        return f"basic-auth username {user!r} is not the chargePointId {identity!r}"
    if not hmac.compare_digest(given.encode("latin-1"), password.reveal().encode("latin-1")):
        return "basic-auth password is wrong"
    return None


async def serve_central_system(
    host: str,
    port: int,
    path: str,
    handler: Callable[[ServerConnection, Handshake], Awaitable[None]],
    *,
    password: Secret | None = None,
    on_refused: Callable[[str], None] | None = None,
    open_timeout: float = 10.0,
) -> Server:
    """Listen on ``ws://host:port{path}/{chargePointId}`` and run ``handler`` per connection.

    Connections to another path prefix get HTTP 404; wrong or missing basic auth
    (when ``password`` is set) gets HTTP 401. ``on_refused`` hears why.
    """
    prefix = "/" + path.strip("/") if path.strip("/") else ""

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        raw_path = request.path.split("?", 1)[0]
        head, _, tail = raw_path.rpartition("/")
        if head != prefix or not tail:
            reason = f"path {raw_path!r} is not {prefix}/{{chargePointId}}"
            if on_refused:
                on_refused(reason)
            return connection.respond(404, reason + "\n")
        if password is not None:
            problem = _check_basic_auth(request.headers.get("Authorization"), unquote(tail), password)
            if problem:
                if on_refused:
                    on_refused(problem)
                response = connection.respond(401, "Unauthorized\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
                return response
        return None

    def select_subprotocol(connection: ServerConnection, offered: list[str]) -> str | None:
        return SUBPROTOCOL if SUBPROTOCOL in offered else None

    async def run(connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        raw_path = request.path.split("?", 1)[0]
        offered = [p.strip() for v in request.headers.get_all("Sec-WebSocket-Protocol") for p in v.split(",")]
        handshake = Handshake(
            path=raw_path,
            identity=unquote(raw_path.rpartition("/")[2]),
            offered_subprotocols=[p for p in offered if p],
            subprotocol=connection.subprotocol,
            auth_user=unquote(raw_path.rpartition("/")[2]) if password is not None else None,
        )
        await handler(connection, handshake)

    return await serve(
        run, host, port,
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        subprotocols=[SUBPROTOCOL],
        open_timeout=open_timeout,
        close_timeout=2,
        **_COMMON,
    )


async def connect_charge_point(
    endpoint: str,
    charge_point_id: str,
    *,
    password: Secret | None = None,
    open_timeout: float = 10.0,
) -> ClientConnection:
    """Connect to ``{endpoint}/{chargePointId}`` as a charge point, requiring ``ocpp1.6``."""
    url = f"{endpoint.rstrip('/')}/{quote(charge_point_id, safe='')}"
    headers = Headers()
    if password is not None:
        headers["Authorization"] = basic_auth_header(charge_point_id, password)
    try:
        connection = await connect(
            url, subprotocols=[SUBPROTOCOL], additional_headers=headers, proxy=None,
            open_timeout=open_timeout, close_timeout=2, **_COMMON,
        )
    except Exception as exc:  # refused, 401, 404, timeout, DNS ...: all one clear failure
        raise ConnectionFailure("connect", f"could not open a WebSocket to {url}: {type(exc).__name__}: {exc}") from None
    if connection.subprotocol != SUBPROTOCOL:
        await connection.close()
        raise ConnectionFailure(
            "connect", f"the central system at {url} did not select subprotocol {SUBPROTOCOL!r} "
            f"(selected: {connection.subprotocol!r}); OCPP-J 1.6 section 3.1.2 requires it",
        )
    return connection
