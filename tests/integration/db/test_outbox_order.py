"""Outbox readers never skip a late commit while writers commit in parallel (PostgreSQL).

Writers go through the real unit of work (`OUTBOX_ORDERING=snapshot`: no lock); its event hook holds
some transactions open after their ids are drawn, makes some take their transaction id long before
(an older xid with a younger event id), and rolls some back. Readers page `id > position` up to the
safe horizon (`hub.adapters.db.horizon`) and resume from where they stopped, as the webhook
consumer, the chat relays and the fan-out do. Every reader must see every committed event exactly
once, in id order, and nothing else.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import Horizon, horizon, safe_horizon, set_ordering
from hub.adapters.db.models import Event, Notification
from hub.adapters.db.outbox import outbox_lock_key, write_events
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import EventHook, UnitOfWork
from hub.domain.events import ProjectBroadcast
from tests.support.database import truncate_pg

pytestmark = pytest.mark.postgres

WRITERS = 12
TRANSACTIONS = 20  # per writer and round
READERS = 4
ROUNDS = 16


class RolledBack(Exception):
    pass


@pytest.fixture
async def db(pg_schema: tuple[str, str]) -> AsyncIterator[Database]:
    url, schema = pg_schema
    await truncate_pg(url, schema)
    database = Database(url, schema=schema, pool_size=WRITERS + READERS + 4)
    set_ordering(database, "snapshot")
    yield database
    await database.dispose()


def _broadcast(n: int) -> ProjectBroadcast:
    return ProjectBroadcast(event="order.check", data={"n": n})


@dataclass
class Reader:
    """Pages the outbox like the durable consumers: after its position, up to the horizon."""

    db: Database
    rng: random.Random
    #: A private horizon (each process has one per database), or the shared one.
    own: Horizon | None
    position: int = 0
    seen: list[int] = field(default_factory=list)

    async def poll(self) -> None:
        if self.own is not None:
            safe = (await self.own.advance(self.db, fresh=self.rng.random() < 0.5)).events
        else:
            safe = (await safe_horizon(self.db)).events
        query = (
            select(Event.id)
            .where(Event.id > self.position, Event.id <= safe)
            .order_by(Event.id)
            .limit(self.rng.randint(1, 40))
        )
        async with self.db.read_session() as session:
            ids = list(await session.scalars(query))
        self.seen.extend(ids)
        if ids:
            self.position = ids[-1]
        elif self.rng.random() < 0.5:
            self.position = max(self.position, safe)  # nothing up to the horizon: move to it (fan-out)


def _hook(rng: random.Random, drawn: list[int], roll_back: bool) -> EventHook:
    async def hook(session: AsyncSession, events: Sequence[Event]) -> Sequence[Notification]:
        drawn.extend(e.id for e in events)
        # The ids are drawn: hold the transaction open a while (later writers commit first).
        await asyncio.sleep(rng.choice((0, 0, 0, 0.001, 0.005, 0.02)))
        if roll_back:
            raise RolledBack
        return []

    return hook


async def _writer(db: Database, rng: random.Random, committed: list[int], aborted: list[int]) -> None:
    for n in range(TRANSACTIONS):
        drawn: list[int] = []
        try:
            async with UnitOfWork(db, hook=_hook(rng, drawn, rng.random() < 0.1)) as uow:
                if rng.random() < 0.3:
                    # Take a transaction id now, then wait: an older xid that draws a younger id.
                    await uow.session.execute(text("SELECT pg_current_xact_id()"))
                    await asyncio.sleep(rng.choice((0.001, 0.01)))
                for i in range(rng.randint(1, 3)):
                    uow.emit(_broadcast(n * 10 + i), project_id=None, actor_id=None)
                await uow.commit()
            committed.extend(drawn)
        except RolledBack:
            aborted.extend(drawn)


async def _round(db: Database, seed: int) -> None:
    start = (await safe_horizon(db)).events
    committed: list[int] = []
    aborted: list[int] = []
    readers = [
        Reader(db, random.Random(seed * 100 + i), None if i % 2 else Horizon("snapshot"), start)
        for i in range(READERS)
    ]
    writing = asyncio.gather(
        *(_writer(db, random.Random(seed * 1000 + w), committed, aborted) for w in range(WRITERS))
    )

    async def read_until_done(reader: Reader) -> None:
        while not writing.done() or not committed or reader.position < max(committed):
            await reader.poll()
            await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(writing, *(read_until_done(r) for r in readers)), timeout=60)
    expected = sorted(committed)
    assert expected, f"seed {seed}: nothing committed"
    for i, reader in enumerate(readers):
        assert reader.seen == expected, (
            f"seed {seed}, reader {i}: missing {sorted(set(expected) - set(reader.seen))[:10]}, "
            f"unexpected {sorted(set(reader.seen) - set(expected))[:10]}, "
            f"out of order or twice: {reader.seen != sorted(set(reader.seen))}"
        )
    assert not set(aborted) & set(committed)


async def test_every_reader_sees_every_committed_event_once_in_order(db: Database) -> None:
    for seed in range(ROUNDS):
        await _round(db, seed)


async def _draw(db: Database, session: AsyncSession, n: int) -> int:
    """Write one event in `session`'s transaction (left open) through the outbox's insert."""
    event = UnitOfWork.row(_broadcast(n), project_id=None, actor_id=None)
    await write_events(session, [event], utcnow(), sqlite=False, lock_key=outbox_lock_key(db.schema))
    return event.id


async def _visible(db: Database, after: int, until: int | None) -> list[int]:
    query = select(Event.id).where(Event.id > after).order_by(Event.id)
    if until is not None:
        query = query.where(Event.id <= until)
    async with db.read_session() as session:
        return list(await session.scalars(query))


async def test_a_lower_id_committing_late_holds_the_horizon(db: Database) -> None:
    """T1 draws id a and stays open; T2 takes its transaction id *first* (older xid), draws b > a and
    commits. A naive reader would return b and move past a; a reader keeping only `xid < xmin`
    rows would too (T2's xid is older than T1's). The horizon stays below a until T1 ends."""
    start = (await safe_horizon(db)).events
    async with db.session() as t2, db.session() as t1:
        await t2.execute(text("SELECT pg_current_xact_id()"))
        await t1.execute(text("SELECT pg_current_xact_id()"))
        a = await _draw(db, t1, 1)
        b = await _draw(db, t2, 2)
        await t2.commit()
        assert a < b
        assert await _visible(db, start, None) == [b]  # what `id > position` alone would take
        for _ in range(3):
            assert (await horizon(db).advance(db, fresh=True)).events < a
        await t1.commit()
    safe = (await horizon(db).settle(db)) or (await safe_horizon(db))
    assert safe.events >= b
    assert await _visible(db, start, safe.events) == [a, b]


async def test_a_rolled_back_id_does_not_stop_readers(db: Database) -> None:
    start = (await safe_horizon(db)).events
    async with db.session() as t1:
        a = await _draw(db, t1, 1)
        await t1.rollback()
    async with UnitOfWork(db) as uow:
        uow.emit(_broadcast(2), project_id=None, actor_id=None)
        (b,) = [e.id for e in await uow.commit()]
    safe = await horizon(db).settle(db)
    assert safe is not None
    assert safe.events >= b > a
    assert await _visible(db, start, safe.events) == [b]
