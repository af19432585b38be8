"""Running Slack: inside `switchboard serve` (`install`) or as its own process (`run_standalone`).

Either way the same parts run: the bolt app (HTTP endpoint or Socket Mode), the channel relay and the
DM/digest notifier. The relay and notifier wake on every committed event heard on the bus channel
`events` (in-process, or Redis when `REDIS_URL` is set) and poll the outbox every 2 s besides, so a
standalone bot without Redis still follows within seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from quart import Quart

from bots import presence
from bots.actions import PresenceLookup
from bots.lanes import ChannelRetry
from bots.notify import Notifier
from bots.relay import Relay, RelayObserver
from bots.slack.app import SlackParts, build
from bots.slack.config import SlackConfig
from bots.slack.people import SlackMentions
from bots.slack.routes import blueprint, standalone_app
from bots.slack.sink import SlackSink
from bots.slack.socket import SocketMode
from bots.standalone import bot_process
from hub.adapters.bus import EventBus
from hub.config import ConfigError, Settings
from hub.context import HubContext
from hub.observability.health import heartbeat, heartbeat_path

BUS_CHANNEL = "events"


class SlackRuntime:
    def __init__(
        self,
        config: SlackConfig,
        context: HubContext,
        presence_lookup: PresenceLookup | None = None,
        *,
        observer: RelayObserver | None = None,
    ) -> None:
        self.config = config
        self.parts: SlackParts = build(config, context.db, uow=context.uow, presence=presence_lookup)
        self.sink = SlackSink(self.parts.clients, config.public_url, SlackMentions(context.uow))
        retry = ChannelRetry.from_settings(context.settings)
        self.relay = Relay(context.db, self.sink, observer=observer, retry=retry)
        self.notifier = Notifier(
            context.db, self.sink, digest_hour=config.digest_hour, observer=observer,
            digest_attempts=context.settings.chat_digest_attempts,
            digest_retry_seconds=context.settings.chat_digest_retry_seconds,
        )  # fmt: skip
        self.socket = SocketMode(self.parts.bolt, config.app_token) if config.app_token else None
        self._bus: EventBus | None = None

    @property
    def bolt(self) -> Any:
        return self.parts.bolt

    def _wake(self, _channel: str, _message: bytes) -> None:
        self.relay.wake()
        self.notifier.wake()

    async def start(self, bus: EventBus | None = None) -> None:
        self._bus = bus
        if bus is not None:
            bus.add_listener(BUS_CHANNEL, self._wake)
        await self.relay.start()
        await self.notifier.start()
        if self.socket is not None:
            await self.socket.start()

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.stop()
        if self._bus is not None:
            self._bus.remove_listener(BUS_CHANNEL, self._wake)
        await self.relay.stop()
        await self.notifier.stop()


def install(
    app: Quart,
    context: HubContext,
    config: SlackConfig | None = None,
    *,
    observer: RelayObserver | None = None,
) -> SlackRuntime | None:
    """Serve Slack from the hub when it is configured: registers `POST /slack/events` (and the OAuth
    routes in multi-workspace mode) and runs relay, notifier and Socket Mode while the app serves.
    Call it after `create_app` built the real-time parts; `observer` (the app's chat metrics) hears the
    relay's and the DMs' lag. Returns None when Slack is not configured."""
    config = config or SlackConfig.from_settings(context.settings)
    if config is None:
        return None
    runtime = SlackRuntime(config, context, presence.from_hub(context), observer=observer)
    context.slack = runtime
    app.register_blueprint(blueprint(runtime.bolt, config.signing_secret))
    realtime = context.realtime

    @app.while_serving
    async def _slack() -> AsyncGenerator[None, None]:
        await runtime.start(realtime.bus if realtime is not None else None)
        yield
        await runtime.stop()

    return runtime


async def run_standalone(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 3000, stop: asyncio.Event | None = None
) -> None:
    """`switchboard slack`: the bot as its own process, until SIGINT/SIGTERM (or `stop` is set). In HTTP
    mode it serves `POST /slack/events` (and `/healthz`) on host:port; in Socket Mode it serves nothing."""
    from hub.server import hypercorn_config

    config = SlackConfig.from_settings(settings)
    if config is None:
        raise ConfigError(
            "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (docs/slack.md)"
        )
    beat = heartbeat_path(settings.heartbeat_dir, "slack")  # for `switchboard healthcheck`
    async with bot_process(settings, stop=stop) as process, heartbeat(beat):
        runtime = SlackRuntime(config, process.context, process.presence)
        await runtime.start(process.bus)
        where = "Socket Mode" if config.socket_mode else f"http://{host}:{port}"
        print(f"Switchboard Slack bot is running ({where})", flush=True)
        try:
            if config.socket_mode:
                await process.stop.wait()
            else:
                from hypercorn.asyncio import serve

                web = standalone_app(runtime.bolt, config.signing_secret, settings.max_body_bytes)
                await serve(web, hypercorn_config(f"{host}:{port}"), shutdown_trigger=process.stop.wait)
        finally:
            await runtime.stop()
