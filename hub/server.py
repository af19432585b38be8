"""Serving the app with Hypercorn, and shutting down the way clients can recover from."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Awaitable, Callable

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from hub.context import HubContext
from hub.realtime import codes

MAX_WS_MESSAGE = 64 * 1024


def hypercorn_config(bind: str) -> Config:
    """`bind` is `host:port` or `fd://N` (a listening socket made by the caller, e.g. tests)."""
    config = Config()
    config.bind = [bind]
    config.accesslog = None
    config.graceful_timeout = 10
    config.websocket_max_message_size = MAX_WS_MESSAGE
    config.backlog = 2048
    return config


def begin_shutdown(context: HubContext) -> None:
    """Close every socket with 1012 (service restart) so clients reconnect — to another instance if
    there is one — and resume with `last_event_id`."""
    realtime = context.extras.get("realtime")
    if realtime is not None:
        realtime.fanout.close_all(codes.SERVICE_RESTART, "server restarting")


async def serve_forever(
    app: Quart, context: HubContext, bind: str, stop: asyncio.Event | None = None
) -> None:
    """Serve until SIGINT/SIGTERM (or `stop` is set), then shut down gracefully."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()

    def _on_signal() -> None:
        begin_shutdown(context)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal)
    # Everything allocated so far (modules, the app, the ORM's mappers) lives for the whole process:
    # move it out of the cyclic collector's reach so full collections stay short with many sockets.
    gc.collect()
    gc.freeze()
    trigger: Callable[[], Awaitable[None]] = stop.wait  # type: ignore[assignment]
    await serve(app, hypercorn_config(bind), shutdown_trigger=trigger)  # type: ignore[arg-type]
