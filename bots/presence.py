"""Who is online for `/ticket who`, in both ways a bot runs.

Inside `switchboard serve` the bot reads the hub's own presence store (`from_hub`). A bot in its own
process (`switchboard slack|discord`) reads the shared Redis presence that every hub instance writes
to when `REDIS_URL` is set (`standalone`); without Redis there is no shared presence to read, and
`who` says only who works on what.
"""

from __future__ import annotations

from bots.actions import PresenceLookup
from hub.adapters.presence import PresenceStore, create_presence
from hub.config import Settings
from hub.context import HubContext
from hub.realtime.service import instance_id


def from_store(store: PresenceStore) -> PresenceLookup:
    async def lookup(project_id: int) -> list[tuple[int, str, int | None]]:
        return [(u.user_id, u.name, u.viewing) for u in await store.snapshot(project_id)]

    return lookup


def from_hub(context: HubContext) -> PresenceLookup | None:
    realtime = context.realtime
    return from_store(realtime.store) if realtime is not None else None


def standalone(settings: Settings) -> PresenceStore | None:
    """A (not yet started) reader of the hub instances' shared presence, or None without Redis."""
    if not settings.redis_url or settings.redis_url.startswith("memory"):
        return None
    return create_presence(settings.redis_url, instance_id=instance_id(), prefix=settings.redis_prefix)
