"""The three WebSocket endpoints of the seed, authenticated before anything is subscribed.

Tokens come from `?token=` (seed compatible) or from the `Sec-WebSocket-Protocol` header as
`bearer.<jwt>` next to `switchboard`, so browsers need not put them in URLs. A bad token closes with
4001, a project the user cannot see with 4003. Browser origins are checked against the page's own
host and `WS_ALLOWED_ORIGINS` before the handshake is accepted (cross-site WebSocket hijacking).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

import orjson
from quart import Blueprint, Response, websocket

from hub.api.deps import hub
from hub.context import HubContext
from hub.domain.enums import Role
from hub.domain.errors import DomainError, Unauthenticated
from hub.domain.identity import Actor
from hub.realtime import codes, messages
from hub.realtime.admission import Admissions
from hub.realtime.asgi import SCOPE_KEY, socket_for
from hub.realtime.connection import Connection
from hub.realtime.service import MAX_SOCKETS_PER_USER, Realtime
from hub.services.auth import decode_access_token, user_for_token

bp = Blueprint("realtime", __name__)

SUBPROTOCOL = "switchboard"
TOKEN_PREFIX = "bearer."
MAX_MESSAGE = 64 * 1024


def _realtime(context: HubContext) -> Realtime:
    realtime: Realtime = context.extras["realtime"]
    return realtime


def _origin_allowed(context: HubContext) -> bool:
    origin = websocket.headers.get("Origin")
    if not origin:
        return True  # not a browser: nothing to hijack
    if urlsplit(origin).netloc == websocket.headers.get("Host", ""):
        return True
    allowed = context.settings.ws_allowed_origins
    return "*" in allowed or origin in allowed


def _token_and_subprotocol() -> tuple[str | None, str | None]:
    offered = [p.strip() for p in websocket.requested_subprotocols]
    token = next((p[len(TOKEN_PREFIX) :] for p in offered if p.startswith(TOKEN_PREFIX)), None)
    chosen = SUBPROTOCOL if SUBPROTOCOL in offered else None
    return token or websocket.args.get("token"), chosen


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


def _last_event_id() -> int | None:
    raw = websocket.args.get("last_event_id")
    if raw is None or raw == "":
        return None
    return int(raw) if raw.isdigit() else -1


async def _serve(kind: str, project_id: int | None) -> Response | None:
    context = hub()
    if not _origin_allowed(context):
        return Response("origin not allowed", status=403)
    realtime = _realtime(context)
    token, subprotocol = _token_and_subprotocol()
    socket = websocket._get_current_object()

    async def refuse(code: int, reason: str) -> None:
        await websocket.accept(subprotocol=subprotocol)
        await socket.close(code, reason)

    try:
        actor, expires, role = await _admit(context, token, project_id)
    except DomainError as exc:
        await refuse(codes.UNAUTHENTICATED, exc.message)
        return None
    if project_id is not None and role is None:
        await refuse(codes.FORBIDDEN, "no such project, or you are not a member")
        return None
    if realtime.fanout.sockets_of(actor.id) >= MAX_SOCKETS_PER_USER:
        await refuse(codes.TOO_MANY_SOCKETS, f"at most {MAX_SOCKETS_PER_USER} sockets per user")
        return None
    conn = Connection(
        socket_for(websocket.scope.get(SCOPE_KEY), socket), actor, expires, kind, project_id, realtime.stats
    )
    try:
        # Subscribed (and caught up) before the handshake completes: a client that sees the socket
        # open, then writes, is guaranteed to hear about its own write.
        await _attach(realtime, conn)
        await websocket.accept(subprotocol=subprotocol)
        conn.start_writer()
        await _read_loop(context, realtime, conn)
    finally:
        realtime.fanout.unregister(conn)
        if kind == "presence":
            with contextlib.suppress(Exception):
                await asyncio.shield(realtime.presence.leave(conn))
        await conn.stop_writer()
    return None


async def _attach(realtime: Realtime, conn: Connection) -> None:
    after = _last_event_id()
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


async def _read_loop(context: HubContext, realtime: Realtime, conn: Connection) -> None:
    while not conn.closing:
        raw = await websocket.receive()
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


@bp.websocket("/ws/notifications/")
async def notifications_socket() -> Response | None:
    """The user's own notifications, live; `?last_event_id=N` replays what was missed."""
    return await _serve("notifications", None)


@bp.websocket("/ws/projects/<int:project_id>/tickets/")
async def tickets_socket(project_id: int) -> Response | None:
    """The project's ticket events, live; `?last_event_id=N` replays what was missed."""
    return await _serve("tickets", project_id)


@bp.websocket("/ws/projects/<int:project_id>/presence/")
async def presence_socket(project_id: int) -> Response | None:
    """Who is online in the project, what they view, who is typing."""
    return await _serve("presence", project_id)
