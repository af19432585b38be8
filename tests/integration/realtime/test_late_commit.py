"""Writers commit in parallel on PostgreSQL: a lower event id that commits after a higher one still
reaches every socket, once and in id order (the fan-out never fills a gap past the safe horizon)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event, Notification
from hub.adapters.db.uow import UnitOfWork
from hub.domain.events import ProjectBroadcast
from tests.integration.realtime.conftest import Live
from tests.support.live import ws_connect
from tests.support.waiting import wait_until


async def _event_ids(ws, count: int, within: float = 10.0) -> list[int]:  # type: ignore[no-untyped-def]
    ids: list[int] = []
    async with asyncio.timeout(within):
        while len(ids) < count:
            message = await ws.recv(within)
            if "event_id" in message and message.get("type") in ("ticket_update", "broadcast"):
                ids.append(int(message["event_id"]))
    return ids


async def test_a_lower_id_committing_after_a_higher_one_is_delivered_first(live: Live) -> None:
    if live.context.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: ids commit in order")
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    drawn, release = asyncio.Event(), asyncio.Event()

    async def hold(session: AsyncSession, events: Sequence[Event]) -> Sequence[Notification]:
        drawn.set()  # the event has its id; keep the transaction open until released
        await release.wait()
        return []

    async def slow_writer() -> int:
        uow = UnitOfWork(live.context.db, publisher=live.context.publisher, hook=hold)
        async with uow:
            event = uow.emit(ProjectBroadcast(event="slow", data={}), project_id=pid, actor_id=user.id)
            await uow.commit()
        return event.id

    async with ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=user.token) as ws:
        slow = asyncio.create_task(slow_writer())
        await asyncio.wait_for(drawn.wait(), 10)
        stats = live.realtime.stats
        fetches, delivered = stats.get("gap_fetches", 0), stats.get("events_delivered", 0)
        ticket = await live.api.ticket(user, pid, title="committed first")
        # The fan-out hears the later id, waits out the grace for the missing one and reads the
        # outbox: a second read of the same gap means the first one finished while the lower id was
        # still open (a fan-out that filled the gap would deliver the later id instead).
        await wait_until(
            lambda: (
                stats.get("gap_fetches", 0) >= fetches + 2 or stats.get("events_delivered", 0) > delivered
            ),
            what="the gap read twice, or the later event delivered",
            within=10,
        )
        release.set()
        low = await slow
        ids = await _event_ids(ws, 2)
        assert low < ids[1]
        assert ids == sorted(ids)
        assert ids[0] == low
        assert await ws.silent(1.2) == []
    assert ticket["id"]
