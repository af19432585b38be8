"""Socket Mode (`SLACK_APP_TOKEN`): Slack pushes events over a WebSocket we open, so the hub needs no
public URL. The connection URL comes from `apps.connections.open` on `SLACK_API_URL`.

The connection is made by a background task, never by the hub's start-up: with Slack unreachable or
slow the hub still opens its port, answers health checks and stops at once on SIGTERM. Until the first
connection succeeds the task retries with capped, jittered exponential backoff (1 s doubling to 60 s,
each wait 50-100 % of that, so many hubs do not retry in lockstep); once connected, slack_sdk's
client keeps the session up and reconnects by itself. `stop()` cancels whatever is in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger("bots.slack")

#: How long one connection attempt (apps.connections.open, then the WebSocket) may take.
CONNECT_TIMEOUT = 30.0
CLOSE_TIMEOUT = 5.0


class SocketMode:
    def __init__(
        self,
        bolt: AsyncApp,
        app_token: str,
        *,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._bolt = bolt
        self._app_token = app_token
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connect_timeout = connect_timeout
        self.handler: AsyncSocketModeHandler | None = None
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._connect_forever(), name="slack-socket-mode")

    async def _connect_forever(self) -> None:
        delay = self.backoff_initial
        while True:
            # Built here, not earlier: the client opens an aiohttp session, which wants a running loop.
            handler = self.handler = AsyncSocketModeHandler(self._bolt, app_token=self._app_token)
            try:
                await asyncio.wait_for(handler.connect_async(), self.connect_timeout)  # type: ignore[no-untyped-call]
            except asyncio.CancelledError:
                raise
            except Exception as error:  # unreachable, refused token, timeout: try again later
                self.handler = None
                await _close(handler)
                wait = random.uniform(delay / 2, delay)
                log.warning(
                    "Slack Socket Mode: could not connect (%s); retrying in %.1f s",
                    str(error) or type(error).__name__,
                    wait,
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self.backoff_max)
                continue
            self.connected.set()
            log.info("Slack Socket Mode: connected")
            return

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        handler, self.handler = self.handler, None
        if handler is not None:
            await _close(handler)
        self.connected.clear()


async def _close(handler: AsyncSocketModeHandler) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(handler.close_async(), CLOSE_TIMEOUT)  # type: ignore[no-untyped-call]
