"""What a bot needs to run as its own process (`switchboard slack`, `switchboard discord`).

`bot_process` builds the hub context from the settings, connects the event bus when `REDIS_URL` is
set (so the bot's changes reach the hub instances' sockets at once, and the relays wake on every
committed event), opens the shared presence for `/ticket who`, and turns SIGINT/SIGTERM into the
`stop` event. Everything is closed again in reverse order when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bots import presence
from bots.actions import PresenceLookup
from hub.adapters.bus import EventBus, create_bus
from hub.config import Settings
from hub.context import HubContext, build_context
from hub.realtime.publisher import EventPublisher

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class BotProcess:
    context: HubContext
    bus: EventBus | None
    presence: PresenceLookup | None
    stop: asyncio.Event


@contextlib.asynccontextmanager
async def bot_process(
    settings: Settings, *, stop: asyncio.Event | None = None, context: HubContext | None = None
) -> AsyncIterator[BotProcess]:
    """`context` defaults to one built from `settings` (tests pass theirs to share a database schema)."""
    context = context or build_context(settings)
    bus = create_bus(settings.redis_url, prefix=settings.redis_prefix) if settings.redis_url else None
    store = presence.standalone(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        if bus is not None:
            context.publisher = EventPublisher(bus, {})
            await bus.start()
        if store is not None:
            await store.start()
        for sig in SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        yield BotProcess(context, bus, presence.from_store(store) if store else None, stop)
    finally:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
        if store is not None:
            await store.stop()
        if bus is not None:
            await bus.stop()
        await context.db.dispose()
