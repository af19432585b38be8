"""Where a chat relay starts (issue #20): its first frontier never passes the safe horizon, and a
subscription whose cursor is older than the retained events starts at the frontier, posting nothing
twice (hub.services.chat.cursors, "Where a lane starts")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.adapters.db.chat_models import ChatSubscription
from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import safe_horizon, set_ordering
from hub.adapters.db.models import Event
from hub.adapters.db.outbox import outbox_lock_key, write_events
from hub.adapters.db.retention_models import RetentionMark
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import ConsumerPosition
from hub.domain.events import ProjectBroadcast
from hub.services import retention
from hub.services.chat import cursors
from hub.services.chat import relay as chat_relay
from tests.integration.chat.conftest import CHANNEL, SlackHub
from tests.support.database import truncate_pg


@pytest.fixture
async def db(pg_schema: tuple[str, str]) -> AsyncIterator[Database]:
    url, schema = pg_schema
    await truncate_pg(url, schema)
    database = Database(url, schema=schema)
    set_ordering(database, "snapshot")
    yield database
    await database.dispose()


@pytest.mark.postgres
async def test_a_first_start_stops_below_an_event_still_committing(db: Database) -> None:
    """T1 draws id a and stays open, T2 draws b > a and commits, then the relay starts for the first
    time: its frontier must stay below a (else a, an event committed after the start, is skipped)."""
    async with db.session() as t1, db.session() as t2:
        for session, n in ((t1, 1), (t2, 2)):
            row = UnitOfWork.row(ProjectBroadcast(event="start.check", data={"n": n}), project_id=None,
                                 actor_id=None)  # fmt: skip
            await write_events(session, [row], utcnow(), sqlite=False, lock_key=outbox_lock_key(db.schema))
            if n == 1:
                a = row.id
            else:
                b = row.id
        await t2.commit()
        assert a < b
        started = utcnow() + timedelta(seconds=1)  # both events are older than the relay's start
        frontier = await cursors.frontier(UnitOfWork(db), "test-relay", started, utcnow())
        assert frontier is not None
        assert frontier < a
        await t1.commit()
    safe = await safe_horizon(db)
    assert safe.events >= b
    batch = await chat_relay.load_batch(UnitOfWork(db), platform="slack", after=frontier)
    assert [e.id for e in batch.events if e.id in (a, b)] == [a, b]
    # The row is durable: a restart keeps the same frontier, it does not recompute it.
    assert await cursors.frontier(UnitOfWork(db), "test-relay", utcnow(), utcnow()) == frontier


async def _event_ids(hub: SlackHub) -> list[int]:
    async with hub.context.uow() as uow:
        return list(await uow.session.scalars(select(Event.id).order_by(Event.id)))


async def _frontier_at(hub: SlackHub, event_id: int) -> None:
    for _ in range(200):
        async with hub.context.uow() as uow:
            row = await uow.session.get(ConsumerPosition, "slack-relay")
            if row is not None and row.position >= event_id:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the relay never got past event {event_id}")


async def _subscription(hub: SlackHub) -> ChatSubscription:
    async with hub.context.uow() as uow:
        sub = await uow.session.scalar(select(ChatSubscription).where(ChatSubscription.channel_id == CHANNEL))
        assert sub is not None
        return sub


async def _set_state(hub: SlackHub, state: str) -> None:
    from hub.services.chat.subscriptions import set_channel_state

    changed = await set_channel_state(hub.context.uow(), "slack", hub.fake.team_id, CHANNEL, state)
    assert changed == 1


async def test_a_cursor_older_than_the_retained_events_starts_at_the_frontier(hub: SlackHub) -> None:
    """A channel archived while retention moved part of what it missed out of the outbox: unarchived,
    it starts at the frontier (nothing of the archived time, not the arbitrary remainder either),
    relays what comes next, and posts nothing twice."""
    alice = await hub.person("Alice Archer", "UALICE")
    pid = (await hub.api.project(alice, "OPS"))["id"]
    for channel in (CHANNEL, "C222"):  # C222 stays active: the relay reads on (its frontier moves)
        assert "now gets OPS updates" in (await hub.command("UALICE", "subscribe OPS", channel))["text"]
    before = await hub.api.ticket(alice, pid, title="Before the archive")
    await hub.root(before["key"])
    await _set_state(hub, "archived")

    expired = await hub.api.ticket(alice, pid, title="Expired while archived")
    boundary = (await _event_ids(hub))[-1]
    await asyncio.sleep(0.05)
    kept = await hub.api.ticket(alice, pid, title="Kept while archived")
    await hub.root(kept["key"], "C222")
    ids = await _event_ids(hub)
    await _frontier_at(hub, ids[-1])
    old_position = (await _subscription(hub)).position
    assert old_position is not None
    assert old_position < ids[-1]

    # Retention runs as the worker would, `days` later for the first ticket's events only.
    policy = retention.RetentionPolicy(events_days=7)
    async with hub.context.uow() as uow:
        kept_at = await uow.session.scalar(select(func.min(Event.created_at)).where(Event.id > boundary))
    assert kept_at is not None
    moved = await retention.prune_events(hub.context.uow, policy, kept_at + timedelta(days=7))
    assert moved > 0
    async with hub.context.uow() as uow:
        mark = await uow.session.get(RetentionMark, "events")
        assert mark is not None
        assert mark.position > old_position
        assert await uow.session.scalar(select(func.count()).where(Event.id > boundary))

    await _set_state(hub, "active")
    after = await hub.api.ticket(alice, pid, title="After the unarchive")
    await hub.root(after["key"])
    await hub.settle()
    texts = [m.text for m in hub.fake.channel_messages(CHANNEL)]
    assert not [t for t in texts if expired["key"] in t or kept["key"] in t], texts
    assert len([t for t in texts if before["key"] in t]) == 1  # nothing re-posted
    position = (await _subscription(hub)).position
    assert position is not None
    assert position >= mark.position
