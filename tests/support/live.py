"""A hub served by real Hypercorn on a loopback port inside the test's event loop, and a WebSocket
client helper speaking the documented protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
from hypercorn.asyncio import serve
from quart import Quart
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hub.context import HubContext
from hub.server import begin_shutdown, hypercorn_config


@contextlib.asynccontextmanager
async def served(app: Quart, context: HubContext) -> AsyncIterator[str]:
    """Serve `app` on a free port; yields `host:port`. The socket listens before the app starts, so
    there is no window in which a client is refused."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(app, hypercorn_config(f"fd://{sock.detach()}"), shutdown_trigger=stop.wait)
    )
    address = f"127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://{address}/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.05)
    try:
        yield address
    finally:
        begin_shutdown(context)
        stop.set()
        await asyncio.wait_for(task, 20)


class Socket:
    """A connected client socket with JSON helpers."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ready: dict[str, Any] | None = None
        self.pending: list[dict[str, Any]] = []

    async def recv(self, within: float = 5.0) -> dict[str, Any]:
        if self.pending:
            return self.pending.pop(0)
        return dict(json.loads(await asyncio.wait_for(self.ws.recv(), within)))

    async def recv_type(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        """The next message of `kind`, skipping others (e.g. presence chatter)."""
        async with asyncio.timeout(within):
            while True:
                message = await self.recv(within)
                if message.get("type") == kind:
                    return message

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def silent(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Whatever arrives within `seconds` (expected: nothing)."""
        got: list[dict[str, Any]] = self.pending
        self.pending = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    got.append(json.loads(await self.ws.recv()))
        return got

    async def closed_with(self, within: float = 5.0) -> int | None:
        """Wait for the server to close the socket; the close code it sent."""
        try:
            async with asyncio.timeout(within):
                while True:
                    await self.ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    async def close(self) -> None:
        await self.ws.close()


@contextlib.asynccontextmanager
async def ws_connect(
    address: str,
    path: str,
    *,
    token: str | None = None,
    via: str = "protocol",
    expect_ready: bool = True,
    **kw: Any,
) -> AsyncIterator[Socket]:
    """Open a socket; the token goes in the subprotocol header (default) or the query string."""
    params = dict(kw.pop("params", {}))
    subprotocols = None
    if token and via == "protocol":
        subprotocols = ["switchboard", f"bearer.{token}"]
    elif token:
        params["token"] = token
    query = "&".join(f"{k}={v}" for k, v in params.items())
    uri = f"ws://{address}{path}" + (f"?{query}" if query else "")
    async with connect(uri, subprotocols=subprotocols, open_timeout=10, **kw) as ws:  # type: ignore[arg-type]
        sock = Socket(ws)
        if expect_ready and not path.endswith("/presence/"):
            # Tickets and notifications sockets announce their position once subscribed (and caught
            # up); tests wait for it so nothing they do afterwards can race the subscription. What
            # came before it (replayed events) stays queued for recv().
            async with asyncio.timeout(10):
                while (message := dict(json.loads(await ws.recv()))).get("type") != "ready":
                    sock.pending.append(message)
            sock.ready = message
        yield sock
