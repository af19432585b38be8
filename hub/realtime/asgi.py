"""Socket frames written straight through the ASGI server's send callable.

Quart's `websocket.send()` yields to the loop, re-checks the handshake and fires a blinker signal for
every message: 10 to 15 % of the server's CPU per delivered message in `bench/fanout.py`. `keep_send`
wraps the app's ASGI callable and keeps the server's `send` in the WebSocket scope; `DirectSocket`
writes text frames through it. Quart still does everything else (accept, receive, close).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

SCOPE_KEY = "switchboard.asgi_send"
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class Closable(Protocol):
    async def close(self, code: int, reason: str = "") -> None: ...


def keep_send(app: ASGIApp) -> ASGIApp:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope = {**scope, SCOPE_KEY: send}
        await app(scope, receive, send)

    return asgi


class DirectSocket:
    """A `SocketLike` (hub.realtime.connection) sending through the ASGI callable, closing via Quart."""

    __slots__ = ("_send", "_socket")

    def __init__(self, send: Send, socket: Closable) -> None:
        self._send = send
        self._socket = socket

    async def send(self, data: str) -> None:
        await self._send({"type": "websocket.send", "bytes": None, "text": data})

    async def close(self, code: int, reason: str = "") -> None:
        await self._socket.close(code, reason)
