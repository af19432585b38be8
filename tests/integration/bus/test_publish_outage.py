"""A Redis outage seen from the publisher: one WARNING when it starts, one line with the count when it
ends, and every refused event counted (`publish_failures`), however many events it refused."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub.adapters.bus.redis import RedisBus
from hub.adapters.db.models import Event
from hub.adapters.db.types import utcnow
from hub.realtime.publisher import EventPublisher
from tests.integration.bus.private_redis import PrivateRedis

pytestmark = pytest.mark.redis

UNPUBLISHED = 20


def event(event_id: int) -> Event:
    return Event(
        id=event_id, project_id=1, actor_id=None, type="ticket.created", payload={}, created_at=utcnow()
    )


async def test_an_outage_is_logged_once_with_its_count(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisBus(private_redis.url, connect_timeout=0.2, socket_timeout=0.2, backoff_max=0.1)
    # Each step is bounded: a publish or a stop that hangs is a bug, named by the step that hung.
    async with asyncio.timeout(10):
        await bus.start()
    stats: dict[str, int] = {}
    publish = EventPublisher(bus, stats)
    try:
        async with asyncio.timeout(10):
            await publish([event(1)], [])
        private_redis.kill()
        with caplog.at_level(logging.INFO, logger="hub.realtime.publisher"):
            async with asyncio.timeout(30):
                for n in range(UNPUBLISHED):
                    await publish([event(2 + n)], [])
            during = [r for r in caplog.records if r.name == "hub.realtime.publisher"]
            assert [r.levelno for r in during] == [logging.WARNING]
            assert "bus unavailable" in during[0].getMessage()
            caplog.clear()

            private_redis.start()
            async with asyncio.timeout(10):
                await publish([event(100)], [])
            after = [r.getMessage() for r in caplog.records if r.name == "hub.realtime.publisher"]
        assert len(after) == 1
        assert f"{UNPUBLISHED} events were not published" in after[0]
        assert stats == {"events_published": 2, "publish_failures": UNPUBLISHED}
    finally:
        async with asyncio.timeout(10):
            await bus.stop()
