"""After commit: put each event (with its notifications) on the bus, serialised once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson

from hub.adapters.bus import BusUnavailable, EventBus
from hub.adapters.db.models import Event, Notification
from hub.realtime.fanout import CHANNEL, envelope, notification_entry
from hub.services.views import event_view

log = logging.getLogger(__name__)


class EventPublisher:
    def __init__(self, bus: EventBus, stats: dict[str, int]) -> None:
        self.bus = bus
        self.stats = stats

    async def __call__(self, events: Sequence[Event], notifications: Sequence[Notification]) -> None:
        by_event: dict[int, list[Notification]] = {}
        for row in notifications:
            by_event.setdefault(int(row.event_id or 0), []).append(row)
        for event in events:
            item = envelope(event_view(event), (notification_entry(n) for n in by_event.get(event.id, [])))
            try:
                await self.bus.publish(CHANNEL, orjson.dumps(item))
                self.stats["events_published"] = self.stats.get("events_published", 0) + 1
            except BusUnavailable:
                # Committed already: every hub's fan-out reads it from the outbox on its next poll.
                self.stats["publish_failures"] = self.stats.get("publish_failures", 0) + 1
                log.warning(
                    "event %s not published (bus unavailable); the outbox poll will deliver it", event.id
                )
