"""WebSocket transport for OCPP-J 1.6: the central-system server and the charge-point client.

The only module of the harness that opens sockets. Both sides negotiate the
subprotocol ``ocpp1.6`` and speak HTTP Basic auth when a password is configured
(security profiles 1 and 2; username = chargePointId). The server accepts a client that
offers no ``ocpp1.6`` and reports it, so the test fails with a clear message instead
of a refused handshake the SUT may never explain.

With an ``ssl`` context both sides speak ``wss://`` (security profiles 2 and 3 of the
"Improved security for OCPP 1.6-J" white paper; contexts from :mod:`harness.pki`). A
handshake the SUT fails is reported as what it is (unknown CA, expired certificate,
wrong host, protocol too old, no client certificate, HTTP 401 ...), never as a bare
timeout: the client raises :class:`ConnectionFailure` naming the cause, the server
tells ``on_refused``. Keys and passwords never appear in any of these texts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import ssl as ssl_module
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import quote, unquote

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from .config import Secret
from .errors import ConfigurationError, ConnectionFailure
from .pki_tls import tls_failure_cause

__all__ = [
    "SUBPROTOCOL", "Handshake", "TlsInfo", "tls_info", "serve_central_system", "connect_charge_point",
    "basic_auth_header",
]

SUBPROTOCOL = "ocpp1.6"
# Generous library limits: the harness must never be the cause of a disconnect.
_COMMON = dict(max_size=4 * 2**20, ping_interval=None, compression=None)


@dataclass(frozen=True)
class TlsInfo:
    """The negotiated TLS session of a ``wss://`` connection (OCTT TC_086/TC_087 judge these)."""

    version: str  # "TLSv1.2", "TLSv1.3"
    cipher: str  # OpenSSL name, e.g. "ECDHE-ECDSA-AES128-GCM-SHA256"
    peer_certificate_pem: str | None = None  # the certificate the peer presented (profile 3 client / server)


def tls_info(connection: ClientConnection | ServerConnection) -> TlsInfo | None:
    """The TLS session of a connection, or None for plain ``ws://``."""
    ssl_object = connection.transport.get_extra_info("ssl_object") if connection.transport else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    return TlsInfo(
        version=ssl_object.version() or "",
        cipher=cipher[0] if cipher else "",
        peer_certificate_pem=ssl_module.DER_cert_to_PEM_cert(der) if der else None,
    )


@dataclass
class Handshake:
    """What the connecting charge point offered and what was decided."""

    path: str
    identity: str
    offered_subprotocols: list[str] = field(default_factory=list)
    subprotocol: str | None = None
    auth_user: str | None = None
    tls: TlsInfo | None = None  # None on ws://


def _observe_handshakes(context: ssl_module.SSLContext, report: Callable[[str], None]) -> None:
    """Make ``context``'s server-side TLS objects tell ``report`` why a handshake failed.

    asyncio drops a failed server handshake silently (the application never hears of the
    connection), so the only place to learn why is the TLS object itself: ``sslobject_class``
    is the documented hook for a custom :class:`ssl.SSLObject`. On failure the object first
    lets the transport send the TLS alert OpenSSL queued (asyncio would otherwise close
    without it, and the charge point would see a bare reset instead of "unknown CA" or
    "certificate required"), then fails for good on the next call. Each server takes over
    its context's hook: give each server its own context.
    """

    class ObservedSSLObject(ssl_module.SSLObject):
        _failure: ssl_module.SSLError | None = None
        _outgoing: ssl_module.MemoryBIO | None = None

        @classmethod
        def _create(cls, incoming: ssl_module.MemoryBIO, outgoing: ssl_module.MemoryBIO,
                    *args: Any, **kwargs: Any) -> Any:
            obj = super()._create(incoming, outgoing, *args, **kwargs)  # type: ignore[misc]
            obj._outgoing = outgoing
            return obj

        def do_handshake(self) -> None:
            if self._failure is not None:
                raise self._failure
            try:
                super().do_handshake()
            except (ssl_module.SSLWantReadError, ssl_module.SSLWantWriteError):
                raise
            except ssl_module.SSLError as exc:
                self._failure = exc
                report(tls_failure_cause(exc, "server") or str(exc))
                if self._outgoing is not None and self._outgoing.pending:
                    raise ssl_module.SSLWantReadError("TLS alert queued") from None  # flush it, then fail
                raise

    context.sslobject_class = ObservedSSLObject


def basic_auth_header(username: str, password: Secret) -> str:
    token = base64.b64encode(username.encode() + b":" + password.reveal_bytes()).decode()
    return f"Basic {token}"


def _password_forms(password: Secret) -> list[bytes]:
    """The bytes a charge point may send for ``password``: an AuthorizationKey's own bytes; a configured text
    password in UTF-8 (RFC 7617) or, as some HTTP clients still send it, latin-1."""
    forms = [password.reveal_bytes()]
    try:
        forms.append(password.reveal().encode("latin-1"))
    except UnicodeEncodeError:
        pass
    return forms


def _check_basic_auth(header: str | None, identity: str, password: Secret) -> str | None:
    """None when the header carries identity:password; otherwise why not (never the password)."""
    if not header:
        return "no Authorization header"
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return f"Authorization scheme {scheme!r} is not Basic"
    try:
        user, sep, given = base64.b64decode(token.strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return "Authorization header is not valid base64"
    if not sep:
        return "Authorization credentials have no ':'"
    if user != identity.encode():
        return f"basic-auth username {user.decode(errors='replace')!r} is not the chargePointId {identity!r}"
    if not any([hmac.compare_digest(given, form) for form in _password_forms(password)]):  # a list: both compared
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
    ssl: ssl_module.SSLContext | None = None,
) -> Server:
    """Listen on ``ws://host:port{path}/{chargePointId}`` and run ``handler`` per connection.

    Connections to another path prefix get HTTP 404; wrong or missing basic auth
    (when ``password`` is set) gets HTTP 401. ``on_refused`` hears why.
    With ``ssl`` (a server context, e.g. :meth:`harness.pki.TestPki.server_context`) it listens
    on ``wss://`` (security profile 2, or 3 when the context requires client certificates);
    a failed TLS handshake reaches ``on_refused`` as "TLS handshake failed: <cause>".
    """
    prefix = "/" + path.strip("/") if path.strip("/") else ""
    if ssl is not None:
        _observe_handshakes(ssl, lambda cause: on_refused(f"TLS handshake failed: {cause}") if on_refused else None)

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
            tls=tls_info(connection),
        )
        await handler(connection, handshake)

    return await serve(
        run, host, port,
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        subprotocols=[SUBPROTOCOL],
        open_timeout=open_timeout,
        close_timeout=2,
        ssl=ssl,
        **_COMMON,
    )


class _WatchedConnection(ClientConnection):
    """Remembers why the connection was lost: a TLS 1.3 server refuses a client certificate
    only after the client's handshake is done, so its alert ends the HTTP upgrade instead."""

    lost_exc: BaseException | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_exc = exc
        super().connection_lost(exc)


def _causes(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _connect_failure_cause(exc: BaseException, lost: BaseException | None, *, charge_point_id: str,
                           password_sent: bool, tls: bool, open_timeout: float) -> str:
    """Name why the opening handshake with a central system under test failed (never the password)."""
    chain = _causes(exc) + _causes(lost)
    for candidate in chain:
        cause = tls_failure_cause(candidate, "client")
        if cause:
            return cause
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status == 401:
            given = (f"the password sent for {charge_point_id!r} is wrong" if password_sent
                     else "the harness sent none: a password is configured on the central system")
            return f"HTTP 401 Unauthorized: the central system refused the basic-auth credentials ({given})"
        return f"HTTP {status} {exc.response.reason_phrase}: the central system refused the WebSocket upgrade"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        stage = "TCP connect, TLS handshake or HTTP upgrade" if tls else "TCP connect or HTTP upgrade"
        return f"no answer within {open_timeout:g} s: the {stage} did not complete"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing listens there"
    if any(isinstance(e, (ConnectionResetError, EOFError, ssl_module.SSLEOFError)) for e in chain):
        if tls:
            return ("the central system closed the connection during the TLS handshake or the HTTP upgrade "
                    "without a TLS alert (a server that refuses a client certificate or a TLS version may do so)")
        return ("the central system closed the connection without an HTTP response "
                "(a wss:// endpoint configured as ws://?)")
    return ""


async def connect_charge_point(
    endpoint: str,
    charge_point_id: str,
    *,
    password: Secret | None = None,
    open_timeout: float = 10.0,
    ssl: ssl_module.SSLContext | None = None,
) -> ClientConnection:
    """Connect to ``{endpoint}/{chargePointId}`` as a charge point, requiring ``ocpp1.6``.

    ``ssl``: a client context (e.g. :meth:`harness.pki.TestPki.client_context`) for a
    ``wss://`` endpoint: profile 2, or 3 when it carries a client certificate. A ``wss://``
    endpoint without one verifies the server against the system's trusted CAs.
    A failed opening handshake raises :class:`ConnectionFailure` naming the cause.
    """
    url = f"{endpoint.rstrip('/')}/{quote(charge_point_id, safe='')}"
    secure = url.lower().startswith("wss://")
    if ssl is not None and not secure:
        raise ConfigurationError(f"a TLS context was given for {url}: security profiles 2 and 3 need a wss:// endpoint")
    headers = Headers()
    if password is not None:
        headers["Authorization"] = basic_auth_header(charge_point_id, password)
    opened: list[_WatchedConnection] = []

    def create_connection(*args: Any, **kwargs: Any) -> _WatchedConnection:
        opened.append(_WatchedConnection(*args, **kwargs))
        return opened[-1]

    tls_args: dict[str, Any] = {"ssl": ssl} if ssl is not None else {}
    try:
        connection = await connect(
            url, subprotocols=[SUBPROTOCOL], additional_headers=headers, proxy=None,
            open_timeout=open_timeout, close_timeout=2, create_connection=create_connection,  # type: ignore[arg-type]
            **tls_args, **_COMMON,
        )
    except Exception as exc:  # refused, 401, 404, TLS, timeout, DNS ...: all one clear failure
        cause = _connect_failure_cause(
            exc, opened[-1].lost_exc if opened else None, charge_point_id=charge_point_id,
            password_sent=password is not None, tls=secure, open_timeout=open_timeout)
        raw = f"{type(exc).__name__}: {exc}"
        raise ConnectionFailure("connect", f"could not open a WebSocket to {url}: "
                                + (f"{cause} ({raw})" if cause else raw)) from None
    if connection.subprotocol != SUBPROTOCOL:
        await connection.close()
        raise ConnectionFailure(
            "connect", f"the central system at {url} did not select subprotocol {SUBPROTOCOL!r} "
            f"(selected: {connection.subprotocol!r}); OCPP-J 1.6 section 3.1.2 requires it",
        )
    return connection
