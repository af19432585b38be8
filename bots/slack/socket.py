"""Socket Mode (`SLACK_APP_TOKEN`): Slack pushes events over a WebSocket we open, so the hub needs no
public URL. The connection URL comes from `apps.connections.open` on `SLACK_API_URL`; slack_sdk's
aiohttp client reconnects by itself."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp


class SocketMode:
    def __init__(self, bolt: AsyncApp, app_token: str) -> None:
        self._bolt = bolt
        self._app_token = app_token
        self.handler: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        # Built here, not earlier: the client opens an aiohttp session, which wants a running loop.
        self.handler = AsyncSocketModeHandler(self._bolt, app_token=self._app_token)
        await self.handler.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()  # type: ignore[no-untyped-call]
            self.handler = None
