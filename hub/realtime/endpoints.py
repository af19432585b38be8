"""The three WebSocket endpoints of the seed, served as plain ASGI in front of Quart.

Tokens come from `?token=` (seed compatible) or from the `Sec-WebSocket-Protocol` header as
`bearer.<jwt>` next to `switchboard`, so browsers need not put them in URLs. A bad token closes with
4001, a project the user cannot see with 4003. Browser origins are checked against the page's own
host, `PUBLIC_URL`, a trusted proxy's `X-Forwarded-Host` and `WS_ALLOWED_ORIGINS` before the handshake
is accepted (cross-site WebSocket hijacking; `_origin_allowed`).

Why not Quart's `@websocket` routes: a connect storm (a deploy, a network blip) is thousands of
handshakes at once, and Quart's per-connect work (a request context, werkzeug routing, a `Websocket`
wrapper and two tasks) was about a third of a connect's CPU. `socket_app` matches the three paths with
one regular expression and speaks ASGI directly (`AsgiSocket`, a few lines); every other request,
including WebSockets to other paths, goes to Quart unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeGuard
from urllib.parse import parse_qs, urlsplit

import orjson

from hub.api.limits import is_trusted_proxy
from hub.context import HubContext
from hub.domain.enums import Role
from hub.domain.errors import DomainError, Unauthenticated
from hub.domain.identity import Actor
from hub.domain.limits import INT_MAX, parse_position
from hub.realtime import codes, messages
from hub.realtime.asgi import ASGIApp, socket_for
from hub.realtime.connection import Connection
from hub.realtime.inbound import InboundLimit, TicketCheck, Verdict
from hub.realtime.service import MAX_SOCKETS_PER_USER, Realtime
from hub.services.accounts.auth import AccessClaims, authenticate, decode_access_token

SUBPROTOCOL = "switchboard"
TOKEN_PREFIX = "bearer."
MAX_MESSAGE = 64 * 1024
#: How long a socket closed for flooding may take to answer the close frame.
CLOSE_WAIT = 5.0
#: /ws/notifications/, /ws/projects/{id}/tickets/, /ws/projects/{id}/presence/
ROUTE = re.compile(r"/ws/(?:(notifications)|projects/([0-9]{1,18})/(tickets|presence))/")


def socket_app(app: ASGIApp, context: HubContext) -> Callable[[Any, Any, Any], Coroutine[Any, Any, None]]:
    """Serve the three socket paths here; hand everything else to `app` (Quart). A coroutine function,
    like the `Quart.asgi_app` it wraps and replaces."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            match = ROUTE.fullmatch(scope["path"])
            if match is not None:
                kind = match[1] or match[3]
                project_id = int(match[2]) if match[2] else None
                socket = AsgiSocket(scope, receive, send)
                if project_id is not None and project_id > INT_MAX:  # no project can have that id
                    if await socket.connected():
                        await socket.reject(404, "no such project")
                    return
                await _serve(context, socket, kind, project_id)
                return
        await app(scope, receive, send)

    return asgi


class AsgiSocket:
    """What the endpoints need of one WebSocket, straight on the ASGI messages."""

    __slots__ = ("_closed", "_receive", "_scope", "args", "headers", "send")

    def __init__(self, scope: Any, receive: Any, send: Any) -> None:
        self._scope = scope
        self._receive = receive
        self.send = send
        self.headers: dict[str, str] = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        self.args: dict[str, str] = {name: values[0] for name, values in query.items()}
        self._closed = False

    @property
    def requested_subprotocols(self) -> list[str]:
        return list(self._scope.get("subprotocols") or [])

    async def connected(self) -> bool:
        """Wait for the client's `websocket.connect` (False if it went away first)."""
        message: dict[str, Any] = await self._receive()
        return bool(message["type"] == "websocket.connect")

    async def accept(self, subprotocol: str | None) -> None:
        await self.send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": []})

    async def reject(self, status: int, text: str) -> None:
        """Refuse the handshake with an HTTP response (or a bare 403 where the server cannot send one)."""
        if "websocket.http.response" in self._scope.get("extensions", {}):
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            await self.send({"type": "websocket.http.response.start", "status": status, "headers": headers})
            await self.send({"type": "websocket.http.response.body", "body": text.encode()})
        else:
            await self.send({"type": "websocket.close", "code": 1008})

    async def receive(self) -> str | bytes | None:
        """The next message's text or bytes; None once the client disconnected."""
        message = await self._receive()
        if message["type"] != "websocket.receive":
            self._closed = True
            return None
        text = message.get("text")
        return text if text is not None else bytes(message.get("bytes") or b"")

    async def close(self, code: int, reason: str = "") -> None:
        if not self._closed:
            self._closed = True
            await self.send({"type": "websocket.close", "code": code, "reason": reason})


def _origin_allowed(context: HubContext, socket: AsgiSocket) -> bool:
    """Whether a browser's handshake comes from a page of this board (cross-site WebSocket hijacking).

    Allowed: no Origin (not a browser: nothing to hijack); `WS_ALLOWED_ORIGINS` ("*": any); an Origin
    whose host[:port] is the Host header the hub received; the origin of `PUBLIC_URL` (where users reach
    the board, whatever sits in between); and, only when the socket peer is one of `TRUSTED_PROXIES`,
    the `X-Forwarded-Host` (and `X-Forwarded-Proto`, when sent) that proxy wrote: its last value, the
    one the trusted peer itself set. From any other peer those headers are ignored, since a client can
    write anything there. docs/operations.md ("Behind a reverse proxy") has the proxy side.
    """
    origin = socket.headers.get("origin")
    if not origin:
        return True  # not a browser: nothing to hijack
    settings = context.settings
    allowed = settings.ws_allowed_origins
    if "*" in allowed or origin in allowed:
        return True
    page = urlsplit(origin.strip().lower())
    if not page.netloc:
        return False  # "null" (sandboxed frames, file://) or garbage
    if page.netloc == socket.headers.get("host", "").strip().lower():
        return True
    public = urlsplit(settings.public_url.lower())
    if (page.scheme, page.netloc) == (public.scheme, public.netloc):
        return True
    client = socket._scope.get("client")
    if not client or not is_trusted_proxy(str(client[0]), settings.trusted_proxies):
        return False

    def last(name: str) -> str:
        return socket.headers.get(name, "").rsplit(",", 1)[-1].strip().lower()

    proto = last("x-forwarded-proto")
    return page.netloc == last("x-forwarded-host") and (not proto or page.scheme == proto)


def _token_and_subprotocol(socket: AsgiSocket) -> tuple[str | None, str | None]:
    offered = [p.strip() for p in socket.requested_subprotocols]
    token = next((p[len(TOKEN_PREFIX) :] for p in offered if p.startswith(TOKEN_PREFIX)), None)
    chosen = SUBPROTOCOL if SUBPROTOCOL in offered else None
    return token or socket.args.get("token"), chosen


async def _authenticate(context: HubContext, token: str | None) -> tuple[Actor, AccessClaims]:
    if not token:
        raise Unauthenticated("missing token")
    return await authenticate(context.uow(), context.tokens, token)


async def _admit(
    context: HubContext, token: str | None, project_id: int | None
) -> tuple[Actor, AccessClaims, Role | None]:
    if not token:
        raise Unauthenticated("missing token")
    admissions = context.require_admissions()
    claims = decode_access_token(context.tokens, token)  # remembered: the admission decodes it again
    actor, _expires, role = await admissions.admit(token, project_id)
    return actor, claims, role


def _last_event_id(socket: AsgiSocket) -> int | None:
    """The `?last_event_id=` to resume after; -1 (answered with an error message) when it is no event
    id: ASCII digits only (`str.isdigit` takes `²`), at most what the events' BIGINT column holds."""
    raw = socket.args.get("last_event_id")
    if raw is None or raw == "":
        return None
    position = parse_position(raw)
    return -1 if position is None else position


async def _serve(context: HubContext, socket: AsgiSocket, kind: str, project_id: int | None) -> None:
    if not await socket.connected():
        return
    if not _origin_allowed(context, socket):
        await socket.reject(403, "origin not allowed")
        return
    realtime = context.require_realtime()
    token, subprotocol = _token_and_subprotocol(socket)

    async def refuse(code: int, reason: str) -> None:
        await socket.accept(subprotocol)
        await socket.close(code, reason)

    # Sessions ended by events after this position may have been checked too early; see below.
    position = realtime.fanout.last_id
    try:
        actor, claims, role = await _admit(context, token, project_id)
    except DomainError as exc:
        await refuse(codes.UNAUTHENTICATED, exc.message)
        return
    if project_id is not None and role is None:
        await refuse(codes.FORBIDDEN, "no such project, or you are not a member")
        return
    if realtime.fanout.sockets_of(actor.id) >= MAX_SOCKETS_PER_USER:
        await refuse(codes.TOO_MANY_SOCKETS, f"at most {MAX_SOCKETS_PER_USER} sockets per user")
        return
    conn = Connection(
        socket_for(socket.send, socket, realtime.fanout.batch),
        actor,
        float(claims.expires),
        kind,
        project_id,
        realtime.stats,
        session_id=claims.session_id,
        issued_at=claims.issued_at,
        limits=realtime.send_limits,
    )
    reader: asyncio.Task[None] | None = None
    try:
        # Subscribed (and caught up) before the handshake completes: a client that sees the socket
        # open, then writes, is guaranteed to hear about its own write.
        await _attach(realtime, conn, _last_event_id(socket))
        # Registered now, so later revocations find it; one delivered while its token was being
        # checked is remembered by the fan-out (hub.realtime.sessions).
        if (ended := realtime.fanout.ended_since(conn, position)) is not None:
            conn.close(codes.UNAUTHENTICATED, ended)
        await socket.accept(subprotocol)
        # The read loop runs in its own task so closing from our side (the writer cancels it) never
        # cancels the server's task.
        reader = asyncio.get_running_loop().create_task(_read_loop(context, realtime, conn, socket))
        conn.start_writer(reader)
        await asyncio.wait((reader,))  # ends when the peer leaves or the writer closed and cancelled it
        if not reader.cancelled() and (error := reader.exception()) is not None:
            raise error
    finally:
        if reader is not None and not reader.done():
            reader.cancel()
        realtime.fanout.unregister(conn)
        if kind == "presence":
            with contextlib.suppress(Exception):
                await asyncio.shield(realtime.presence.leave(conn))
        await conn.stop_writer()


async def _attach(realtime: Realtime, conn: Connection, after: int | None) -> None:
    if after is not None and after < 0:
        conn.send(messages.error("invalid_last_event_id", "last_event_id must be a non-negative integer"))
        after = None
    if conn.kind == "tickets":
        if after is None:
            conn.last_event_id = realtime.fanout.last_id
            realtime.fanout.register(conn)
        else:
            await realtime.replay_project(conn, after)
    elif conn.kind == "notifications":
        if after is None:
            conn.last_event_id = realtime.fanout.last_id
            realtime.fanout.register(conn)
        else:
            await realtime.replay_notifications(conn, after)
    else:
        realtime.fanout.register(conn)
        await realtime.presence.join(conn)
        return
    conn.send(messages.dumps({"type": "ready", "last_event_id": conn.last_event_id}), bounded=False)


async def _read_loop(context: HubContext, realtime: Realtime, conn: Connection, socket: AsgiSocket) -> None:
    settings = context.settings
    limit = InboundLimit(settings.ws_inbound_rate, settings.ws_inbound_burst)
    tickets = TicketCheck(context.db, conn.project_id) if conn.project_id is not None else None
    while not conn.closing:
        raw = await socket.receive()
        if raw is None:
            return  # the client went away
        conn.last_seen = time.monotonic()
        conn.ping_sent_at = None
        verdict = limit.admit()
        if verdict is not Verdict.OK:
            if verdict is Verdict.WARN:
                conn.send(messages.error("rate_limited", _too_fast(limit)))
            elif verdict is Verdict.CLOSE:
                realtime.stats["ws_rate_limited"] = realtime.stats.get("ws_rate_limited", 0) + 1
                conn.handler = None  # this task ends itself, once the peer answered the close
                conn.close(codes.RATE_LIMITED, "sending too fast")
                # Keep taking (and discarding) what the peer still sends, so the server reads its
                # close reply and ends the connection promptly instead of waiting on a full queue.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLOSE_WAIT):
                        while await socket.receive() is not None:
                            pass
                return
            continue  # dropped unread
        if isinstance(raw, bytes) or len(raw) > MAX_MESSAGE:
            conn.send(
                messages.error("unsupported", f"send JSON text messages of at most {MAX_MESSAGE} bytes")
            )
            continue
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            conn.send(messages.error("invalid_json", "messages must be JSON objects"))
            continue
        if not isinstance(message, dict):
            conn.send(messages.error("invalid_message", "messages must be JSON objects with a type"))
            continue
        await _handle(context, realtime, conn, message, tickets)


def _too_fast(limit: InboundLimit) -> str:
    return (
        f"at most {limit.rate:g} messages per second (bursts of {limit.burst}); this one was dropped, "
        f"and the socket closes with {codes.RATE_LIMITED} if you keep going"
    )


def _ticket_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


async def _handle(
    context: HubContext,
    realtime: Realtime,
    conn: Connection,
    message: dict[str, Any],
    tickets: TicketCheck | None = None,
) -> None:
    kind = message.get("type")
    if kind == "ping":
        conn.send(messages.PONG)
    elif kind == "pong":
        return
    elif kind == "auth":
        await _reauthenticate(context, realtime, conn, message.get("token"))
    elif conn.kind == "presence" and kind == "viewing":
        await _viewing(realtime, conn, message.get("ticket_id"), tickets)
    elif conn.kind == "presence" and kind == "typing":
        await _typing(realtime, conn, message.get("ticket_id"), message.get("is_typing"), tickets)
    else:
        conn.send(messages.error("unknown_type", f"unknown message type {kind!r} on this socket"))


async def _reauthenticate(context: HubContext, realtime: Realtime, conn: Connection, token: Any) -> None:
    """`auth`: a fresh token of the same user extends the socket's life and moves it to that session
    (`token` as the client sent it: whatever is not a valid token is refused as one)."""
    position = realtime.fanout.last_id
    try:
        actor, claims = await _authenticate(context, token)
    except DomainError as exc:
        conn.send(messages.error("invalid_token", exc.message))
        return
    if actor.id != conn.actor.id:
        conn.send(messages.error("invalid_token", "the token belongs to another user"))
        return
    # From now on the socket belongs to the new token's session (a later logout of it closes it).
    conn.expires_at = float(claims.expires)
    conn.session_id, conn.issued_at = claims.session_id, claims.issued_at
    if (ended := realtime.fanout.ended_since(conn, position)) is not None:
        conn.close(codes.UNAUTHENTICATED, ended)
        return
    conn.send(messages.dumps({"type": "auth_ok", "expires_at": claims.expires}))


async def _viewing(
    realtime: Realtime, conn: Connection, ticket_id: object, tickets: TicketCheck | None
) -> None:
    """`viewing` on a presence socket: the ticket the user looks at now (null: none)."""
    if ticket_id is None:
        await realtime.presence.viewing(conn, None)
        return
    if not _ticket_id(ticket_id):
        conn.send(messages.error("invalid_message", "ticket_id must be an integer or null"))
        return
    if not (tickets is not None and await tickets(ticket_id)):
        conn.send(messages.error("invalid_ticket", f"no ticket {ticket_id} in this project"))
        return
    await realtime.presence.viewing(conn, ticket_id)


async def _typing(
    realtime: Realtime, conn: Connection, ticket_id: object, is_typing: object, tickets: TicketCheck | None
) -> None:
    """`typing` on a presence socket: the user started or stopped typing on a ticket."""
    if not _ticket_id(ticket_id) or not isinstance(is_typing, bool):
        conn.send(
            messages.error("invalid_message", "typing needs an integer ticket_id and a boolean is_typing")
        )
        return
    if not (tickets is not None and await tickets(ticket_id)):
        conn.send(messages.error("invalid_ticket", f"no ticket {ticket_id} in this project"))
        return
    await realtime.presence.typing(conn, ticket_id, is_typing)
