"""Running Discord: inside `switchboard serve` (`install`) or as its own process (`run_standalone`).

Either way the same parts run: the gateway client (commands, buttons, thread replies), the channel
relay and the DM/digest notifier. The relay and notifier start once the client has logged in (they
post through its REST client), wake on every committed event heard on the bus channel `events`
(in-process, or Redis when `REDIS_URL` is set) and poll the outbox every 2 s besides. A gateway that
drops the bot is discord.py's to reconnect (RESUME, else a fresh IDENTIFY, with backoff); the relay
keeps posting meanwhile, since posting needs only REST.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator

import discord
from quart import Quart

from bots import presence
from bots.actions import Actions, PresenceLookup
from bots.discord.bot import DiscordBot
from bots.discord.client import SwitchboardClient, point_at
from bots.discord.config import DiscordConfig
from bots.discord.mentions import DiscordMentions
from bots.discord.sink import DiscordSink
from bots.lanes import ChannelRetry
from bots.notify import Notifier
from bots.relay import Relay, RelayObserver
from bots.standalone import bot_process
from hub.adapters.bus import EventBus
from hub.config import ConfigError, Settings
from hub.context import HubContext
from hub.observability.health import heartbeat, heartbeat_path

log = logging.getLogger("bots.discord")
BUS_CHANNEL = "events"
#: Names discord.py gives the tasks that run our handlers.
HANDLER_TASKS = (
    "discord.py: ",
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-dynamic-item",
)


class DiscordRuntime:
    def __init__(
        self,
        config: DiscordConfig,
        context: HubContext,
        presence_lookup: PresenceLookup | None = None,
        *,
        observer: RelayObserver | None = None,
    ) -> None:
        self.config = config
        self.bot = DiscordBot(config, Actions(context.uow, presence_lookup), context.uow)
        self.client = SwitchboardClient(self.bot)
        self.sink = DiscordSink(self.client, config.public_url, DiscordMentions(context.uow))
        retry = ChannelRetry.from_settings(context.settings)
        self.relay = Relay(context.db, self.sink, observer=observer, retry=retry)
        self.notifier = Notifier(context.db, self.sink, digest_hour=config.digest_hour, observer=observer)
        self._bus: EventBus | None = None
        self._client_task: asyncio.Task[None] | None = None
        self._consumers_task: asyncio.Task[None] | None = None
        #: Set when the client stopped for good (e.g. the token was refused).
        self.failed: BaseException | None = None

    def _wake(self, _channel: str, _message: bytes) -> None:
        self.relay.wake()
        self.notifier.wake()

    async def start(self, bus: EventBus | None = None) -> None:
        point_at(self.config)
        self._bus = bus
        if bus is not None:
            bus.add_listener(BUS_CHANNEL, self._wake)
        self._client_task = asyncio.create_task(self._run_client(), name="discord-client")
        self._consumers_task = asyncio.create_task(self._start_consumers(), name="discord-consumers")

    async def _run_client(self) -> None:
        try:
            await self.client.start(self.config.token, reconnect=True)
        except discord.LoginFailure as error:
            self.failed = error
            log.error("Discord refused DISCORD_BOT_TOKEN (%s); the Discord bot is not running", error)
        except Exception as error:  # discord.py gave up (e.g. privileged intents not enabled)
            self.failed = error
            log.exception("the Discord client stopped")

    async def _start_consumers(self) -> None:
        await self.client.logged_in.wait()
        await self.relay.start()
        await self.notifier.start()
        await self.client.wait_until_ready()
        log.info("Discord: connected as %s to %d guild(s)", self.client.user, len(self.client.guilds))

    async def stop(self) -> None:
        if self._bus is not None:
            self._bus.remove_listener(BUS_CHANNEL, self._wake)
        if self._consumers_task is not None:
            self._consumers_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumers_task
        await self.relay.stop()
        await self.notifier.stop()
        await self._finish_handlers(grace=5.0)
        await self.client.close()
        if self._client_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._client_task
        await asyncio.sleep(0)  # events read while the socket closed are scheduled now
        await self._finish_handlers(grace=0)

    @staticmethod
    async def _finish_handlers(grace: float) -> None:
        """Let in-flight event handlers (a command, a thread reply) finish; cancel what is left after
        `grace` seconds. discord.py names the tasks it runs handlers in (events, commands, components)."""
        current = asyncio.current_task()
        running = [
            t for t in asyncio.all_tasks()
            if t is not current and not t.done() and t.get_name().startswith(HANDLER_TASKS)
        ]  # fmt: skip
        if not running:
            return
        if grace > 0:
            _done, running_set = await asyncio.wait(running, timeout=grace)
            running = list(running_set)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def install(
    app: Quart,
    context: HubContext,
    config: DiscordConfig | None = None,
    *,
    observer: RelayObserver | None = None,
) -> DiscordRuntime | None:
    """Run the Discord bot inside the hub while it serves, when `DISCORD_BOT_TOKEN` is set. Call it
    after `create_app` built the real-time parts. Returns None when Discord is not configured."""
    config = config or DiscordConfig.from_settings(context.settings)
    if config is None:
        return None
    runtime = DiscordRuntime(config, context, presence.from_hub(context), observer=observer)
    context.discord = runtime
    realtime = context.realtime

    @app.while_serving
    async def _discord() -> AsyncGenerator[None, None]:
        await runtime.start(realtime.bus if realtime is not None else None)
        yield
        await runtime.stop()

    return runtime


async def run_standalone(
    settings: Settings, *, stop: asyncio.Event | None = None, context: HubContext | None = None
) -> int:
    """`switchboard discord`: the bot as its own process, until SIGINT/SIGTERM (or `stop` is set).
    Returns the exit status (1 when Discord refused the token)."""
    config = DiscordConfig.from_settings(settings)
    if config is None:
        raise ConfigError("Discord is not configured: set DISCORD_BOT_TOKEN (docs/discord.md)")
    beat = heartbeat_path(settings.heartbeat_dir, "discord")  # for `switchboard healthcheck`
    async with bot_process(settings, stop=stop, context=context) as process, heartbeat(beat):
        runtime = DiscordRuntime(config, process.context, process.presence)
        await runtime.start(process.bus)
        print("Switchboard Discord bot is running", flush=True)
        stopped = asyncio.create_task(process.stop.wait())
        try:
            assert runtime._client_task is not None
            await asyncio.wait([stopped, runtime._client_task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await runtime.stop()
    return 1 if runtime.failed is not None else 0
