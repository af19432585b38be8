"""The three WebSocket endpoints of the seed, served as plain ASGI in front of Quart.

Tokens come from `?token=` (seed compatible) or from the `Sec-WebSocket-Protocol` header as
`bearer.<jwt>` next to `switchboard`, so browsers need not put them in URLs. A bad token closes with
4001, a project the user cannot see with 4003. Browser origins are checked against the page's own
host and `WS_ALLOWED_ORIGINS` before the handshake is accepted (cross-site WebSocket hijacking).

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
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from hub.context import HubContext
from hub.domain.enums import Role
from hub.domain.errors import DomainError, Unauthenticated
from hub.domain.identity import Actor
from hub.realtime import codes, messages
from hub.realtime.admission import Admissions
from hub.realtime.asgi import ASGIApp, socket_for
from hub.realtime.connection import Connection
from hub.realtime.service import MAX_SOCKETS_PER_USER, Realtime
from hub.services.auth import decode_access_token, user_for_token

SUBPROTOCOL = "switchboard"
TOKEN_PREFIX = "bearer."
MAX_MESSAGE = 64 * 1024
#: /ws/notifications/, /ws/projects/{id}/tickets/, /ws/projects/{id}/presence/
ROUTE = re.compile(r"/ws/(?:(notifications)|projects/([0-9]{1,18})/(tickets|presence))/")


def socket_app(app: ASGIApp, context: HubContext) -> ASGIApp:
    """Serve the three socket paths here; hand everything else to `app` (Quart)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            match = ROUTE.fullmatch(scope["path"])
            if match is not None:
                kind = match[1] or match[3]
                project_id = int(match[2]) if match[2] else None
                await _serve(context, AsgiSocket(scope, receive, send), kind, project_id)
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
        self.headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        self.args = {name: values[0] for name, values in query.items()}
        self._closed = False

    @property
    def requested_subprotocols(self) -> list[str]:
        return list(self._scope.get("subprotocols") or [])

    async def connected(self) -> bool:
        """Wait for the client's `websocket.connect` (False if it went away first)."""
        return (await self._receive())["type"] == "websocket.connect"

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
    origin = socket.headers.get("origin")
    if not origin:
        return True  # not a browser: nothing to hijack
    if urlsplit(origin).netloc == socket.headers.get("host", ""):
        return True
    allowed = context.settings.ws_allowed_origins
    return "*" in allowed or origin in allowed


def _token_and_subprotocol(socket: AsgiSocket) -> tuple[str | None, str | None]:
    offered = [p.strip() for p in socket.requested_subprotocols]
    token = next((p[len(TOKEN_PREFIX) :] for p in offered if p.startswith(TOKEN_PREFIX)), None)
    chosen = SUBPROTOCOL if SUBPROTOCOL in offered else None
    return token or socket.args.get("token"), chosen


async def _authenticate(context: HubContext, token: str | None) -> tuple[Actor, float]:
    if not token:
        raise Unauthenticated("missing token")
    _user_id, expires = decode_access_token(context.tokens, token)
    actor = await user_for_token(context.uow(), context.tokens, token)
    return actor, float(expires)


async def _admit(
    context: HubContext, token: str | None, project_id: int | None
) -> tuple[Actor, float, Role | None]:
    if not token:
        raise Unauthenticated("missing token")
    admissions: Admissions = context.extras["admissions"]
    actor, expires, role = await admissions.admit(token, project_id)
    return actor, float(expires), role


def _last_event_id(socket: AsgiSocket) -> int | None:
    raw = socket.args.get("last_event_id")
    if raw is None or raw == "":
        return None
    return int(raw) if raw.isdigit() else -1


async def _serve(context: HubContext, socket: AsgiSocket, kind: str, project_id: int | None) -> None:
    if not await socket.connected():
        return
    if not _origin_allowed(context, socket):
        await socket.reject(403, "origin not allowed")
        return
    realtime: Realtime = context.extras["realtime"]
    token, subprotocol = _token_and_subprotocol(socket)

    async def refuse(code: int, reason: str) -> None:
        await socket.accept(subprotocol)
        await socket.close(code, reason)

    try:
        actor, expires, role = await _admit(context, token, project_id)
    except DomainError as exc:
        await refuse(codes.UNAUTHENTICATED, exc.message)
        return
    if project_id is not None and role is None:
        await refuse(codes.FORBIDDEN, "no such project, or you are not a member")
        return
    if realtime.fanout.sockets_of(actor.id) >= MAX_SOCKETS_PER_USER:
        await refuse(codes.TOO_MANY_SOCKETS, f"at most {MAX_SOCKETS_PER_USER} sockets per user")
        return
    conn = Connection(socket_for(socket.send, socket), actor, expires, kind, project_id, realtime.stats)
    reader: asyncio.Task[None] | None = None
    try:
        # Subscribed (and caught up) before the handshake completes: a client that sees the socket
        # open, then writes, is guaranteed to hear about its own write.
        await _attach(realtime, conn, _last_event_id(socket))
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
    while not conn.closing:
        raw = await socket.receive()
        if raw is None:
            return  # the client went away
        conn.last_seen = time.monotonic()
        conn.ping_sent_at = None
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
        await _handle(context, realtime, conn, message)


async def _handle(context: HubContext, realtime: Realtime, conn: Connection, message: dict[str, Any]) -> None:
    kind = message.get("type")
    if kind == "ping":
        conn.send(messages.PONG)
    elif kind == "pong":
        return
    elif kind == "auth":
        try:
            actor, expires = await _authenticate(context, message.get("token"))
        except DomainError as exc:
            conn.send(messages.error("invalid_token", exc.message))
            return
        if actor.id != conn.actor.id:
            conn.send(messages.error("invalid_token", "the token belongs to another user"))
            return
        conn.expires_at = expires
        conn.send(messages.dumps({"type": "auth_ok", "expires_at": int(expires)}))
    elif conn.kind == "presence" and kind == "viewing":
        ticket_id = message.get("ticket_id")
        if ticket_id is not None and not isinstance(ticket_id, int):
            conn.send(messages.error("invalid_message", "ticket_id must be an integer or null"))
            return
        await realtime.presence.viewing(conn, ticket_id)
    elif conn.kind == "presence" and kind == "typing":
        ticket_id, is_typing = message.get("ticket_id"), message.get("is_typing")
        if not isinstance(ticket_id, int) or not isinstance(is_typing, bool):
            conn.send(
                messages.error("invalid_message", "typing needs an integer ticket_id and a boolean is_typing")
            )
            return
        await realtime.presence.typing(conn, ticket_id, is_typing)
    else:
        conn.send(messages.error("unknown_type", f"unknown message type {kind!r} on this socket"))
