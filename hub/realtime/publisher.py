"""After commit: put each event (with its notifications) on the bus, serialised once.

An event the bus refuses is not lost: it is committed, and every hub's fan-out reads it from the outbox
on its next poll. A bus outage is logged twice, not once per event: a WARNING at its first refused
event, and one line when a publish succeeds again, with the number of events left to the outbox
meanwhile. Each refused event counts in `switchboard_publish_failures_total`.
"""

from __future__ import annotations

import logging
import time
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
        #: Events refused since the current outage began (0: the bus is taking publishes).
        self.unpublished = 0
        self._outage_started = 0.0

    async def __call__(self, events: Sequence[Event], notifications: Sequence[Notification]) -> None:
        by_event: dict[int, list[Notification]] = {}
        for row in notifications:
            by_event.setdefault(int(row.event_id or 0), []).append(row)
        for event in events:
            item = envelope(event_view(event), (notification_entry(n) for n in by_event.get(event.id, [])))
            try:
                await self.bus.publish(CHANNEL, orjson.dumps(item))
            except BusUnavailable as exc:
                # Committed already: every hub's fan-out reads it from the outbox on its next poll.
                self.stats["publish_failures"] = self.stats.get("publish_failures", 0) + 1
                if not self.unpublished:
                    self._outage_started = time.monotonic()
                    log.warning(
                        "bus unavailable, events are not published (first: %s): %s; the outbox poll "
                        "delivers them until it is back",
                        event.id,
                        exc,
                    )
                self.unpublished += 1
                continue
            self.stats["events_published"] = self.stats.get("events_published", 0) + 1
            if self.unpublished:
                log.warning(
                    "bus available again after %.1f s; %d events were not published meanwhile "
                    "(delivered from the outbox)",
                    time.monotonic() - self._outage_started,
                    self.unpublished,
                )
                self.unpublished = 0
