"""Serving the app with Hypercorn, and shutting down the way clients can recover from.

`serve_forever` runs one hub in this process. `run_workers` forks N of them (`switchboard serve
--workers N`) on one listening socket made by the parent: each worker is a full hub (its own fan-out,
presence, webhook worker and bots) and the kernel hands each new connection to one of them. The
parent only supervises: it prints one "running at" line once every worker serves, passes SIGTERM and
SIGINT on, replaces a worker that dies later, and exits when all have stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import select
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from types import FrameType

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from hub.context import HubContext
from hub.realtime import codes

log = logging.getLogger(__name__)

MAX_WS_MESSAGE = 64 * 1024
#: A worker that dies within this many seconds of its start is replaced only after RESPAWN_DELAY.
RESPAWN_DELAY = 1.0


def hypercorn_config(bind: str) -> Config:
    """`bind` is `host:port` or `fd://N` (a listening socket made by the caller, e.g. tests)."""
    config = Config()
    config.bind = [bind]
    config.accesslog = None
    config.graceful_timeout = 10
    config.websocket_max_message_size = MAX_WS_MESSAGE
    config.backlog = 2048
    # Hypercorn's own messages go through our handler (once, in our format); its "Running on" line
    # is INFO on a logger that configure() keeps at WARNING: `serve` prints its own.
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


def begin_shutdown(context: HubContext) -> None:
    """Close every socket with 1012 (service restart) so clients reconnect — to another instance if
    there is one — and resume with `last_event_id`."""
    realtime = context.realtime
    if realtime is not None:
        realtime.fanout.close_all(codes.SERVICE_RESTART, "server restarting")


async def serve_forever(
    app: Quart,
    context: HubContext,
    bind: str,
    stop: asyncio.Event | None = None,
    on_serving: Callable[[], object] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or `stop` is set), then shut down gracefully. `on_serving` is
    called once the app has started and the server accepts connections."""
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

    async def trigger() -> None:
        # Hypercorn awaits the shutdown trigger only after the app's start-up and once it accepts.
        if on_serving is not None:
            on_serving()
        await stop.wait()

    shutdown: Callable[[], Awaitable[None]] = trigger
    await serve(app, hypercorn_config(bind), shutdown_trigger=shutdown)


def run_workers(count: int, worker: Callable[[Callable[[], None]], int], on_ready: Callable[[], None]) -> int:
    """Fork `count` processes running `worker(ready)`, where `ready()` says the worker serves.

    Call with the listening socket already made (inherited by the workers) and no event loop or
    thread running. `on_ready` runs once, when every worker has called `ready`. A worker that exits
    before that ends start-up: the others are stopped and its exit code returned. A worker that dies
    later is replaced. SIGTERM/SIGINT are passed to the workers; returns 0 once they have stopped.
    """
    read_fd, write_fd = os.pipe()
    children: dict[int, float] = {}  # pid -> when it started
    state = {"stopping": False, "announced": False, "code": 0}

    def stop_all(signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        state["stopping"] = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def spawn() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.close(read_fd)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                code = worker(lambda: _say_ready(write_fd))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = time.monotonic()

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    for _ in range(count):
        spawn()
    ready = 0
    while children:
        readable, _, _ = select.select([read_fd], [], [], 0.2)
        if readable:
            ready += len(os.read(read_fd, 64))
            if ready >= count and not state["announced"]:
                state["announced"] = True
                on_ready()
        _reap(children, state, spawn, stop_all)
    os.close(read_fd)
    os.close(write_fd)
    return int(state["code"])


def _say_ready(fd: int) -> None:
    os.write(fd, b"r")


def _reap(
    children: dict[int, float],
    state: dict[str, int | bool],
    spawn: Callable[[], None],
    stop_all: Callable[[], None],
) -> None:
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        started = children.pop(pid, time.monotonic())
        code = os.waitstatus_to_exitcode(status)
        if state["stopping"]:
            continue
        if not state["announced"]:
            state["code"] = code or 1
            stop_all()
            continue
        log.warning("worker %d exited with %d; starting another", pid, code)
        if time.monotonic() - started < 10:
            time.sleep(RESPAWN_DELAY)
        if not state["stopping"]:
            spawn()
