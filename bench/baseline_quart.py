"""The ceiling of our stack: a bare Quart + Hypercorn fan-out server and nothing else.

No database, no auth, no bus. `GET /ws` accepts a WebSocket (choosing the `switchboard` subprotocol
when offered, like the hub), announces `{"type":"ready","last_event_id":0}`, and from then on receives
every body POSTed to `/publish`, verbatim. Each socket has a bounded deque and its own writer task, the
same shape as the hub's `Connection` (a socket that falls 256 messages behind is closed with 4008), so
the difference between the two is what the hub does on top. A client `{"type":"ping"}` gets a pong.

    .venv/bin/python bench/baseline_quart.py --port 8100

Served by Hypercorn with the hub's settings (no access log, 64 KiB messages, backlog 2048). Binds to
127.0.0.1 only. SIGTERM/SIGINT shut it down.

`--send asgi` makes the writer hand each message straight to the ASGI `send` callable instead of
Quart's `websocket.send()` (which yields with `asyncio.sleep(0)`, re-checks the accept and fires the
`websocket_sent` signal per message): it measures what that layer costs per message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, cast

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, Response, request, websocket

MAX_QUEUE_MESSAGES = 256
MAX_QUEUE_BYTES = 1 << 20
SLOW_CONSUMER = 4008
READY = '{"type":"ready","last_event_id":0}'
PONG = '{"type":"pong"}'

app = Quart(__name__)
#: "quart": `websocket.send()`, as the hub does; "asgi": the ASGI send callable underneath it.
SEND_MODE = "quart"


class Peer:
    """One socket: a bounded send queue drained by its writer task."""

    __slots__ = ("closing", "queue", "queued_bytes", "wake")

    def __init__(self) -> None:
        self.queue: deque[str] = deque()
        self.queued_bytes = 0
        self.wake = asyncio.Event()
        self.closing = False

    def push(self, text: str) -> None:
        if self.closing:
            return
        if len(self.queue) >= MAX_QUEUE_MESSAGES or self.queued_bytes + len(text) > MAX_QUEUE_BYTES:
            self.closing = True
            self.queue.clear()
        else:
            self.queue.append(text)
            self.queued_bytes += len(text)
        self.wake.set()

    async def write(self, socket: Any) -> None:
        send: Callable[[str], Awaitable[None]] = socket.send
        if SEND_MODE == "asgi":
            asgi_send = socket._send.args[0]  # Quart's partial(send_data, send): the ASGI callable

            async def send(text: str) -> None:
                await asgi_send({"type": "websocket.send", "bytes": None, "text": text})

        while not self.closing:
            await self.wake.wait()
            self.wake.clear()
            while self.queue and not self.closing:
                text = self.queue.popleft()
                self.queued_bytes -= len(text)
                await send(text)
        with contextlib.suppress(Exception):
            await socket.close(SLOW_CONSUMER, "fell behind")


peers: set[Peer] = set()


@app.get("/healthz")
async def healthz() -> dict[str, Any]:
    return {"status": "ok", "sockets": len(peers)}


@app.post("/publish")
async def publish() -> Response:
    """Broadcast the request body, as one shared `str`, to every connected socket."""
    body = await request.get_data(as_text=True)
    text = body if isinstance(body, str) else body.decode()
    for peer in list(peers):
        peer.push(text)
    return Response("", status=204)


@app.websocket("/ws")
async def ws() -> None:
    offered = websocket.requested_subprotocols
    await websocket.accept(subprotocol="switchboard" if "switchboard" in offered else None)
    socket = cast(Any, websocket)._get_current_object()  # the real object, not the context proxy
    peer = Peer()
    peers.add(peer)
    writer = asyncio.get_running_loop().create_task(peer.write(socket))
    peer.push(READY)
    try:
        while not peer.closing:
            raw = await websocket.receive()
            if isinstance(raw, str) and '"ping"' in raw:
                peer.push(PONG)
    finally:
        peers.discard(peer)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


def hypercorn_config(port: int) -> Config:
    """The hub's Hypercorn settings (hub/server.py), bound to 127.0.0.1."""
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.graceful_timeout = 5
    config.websocket_max_message_size = 64 * 1024
    config.backlog = 2048
    return config


async def run(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(app, hypercorn_config(port), shutdown_trigger=stop.wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--send", choices=("quart", "asgi"), default="quart", help="how sockets are written")
    args = parser.parse_args(argv)
    global SEND_MODE
    SEND_MODE = args.send
    print(f"baseline fan-out server on http://127.0.0.1:{args.port}/ (ws: /ws, POST /publish)", flush=True)
    asyncio.run(run(args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
