"""Advisory locks are per database, not per schema: the outbox lock and the chat relays' leadership
locks include the schema when one is pinned (parallel test workers, one schema each), so databases in
other schemas neither serialise nor hold back each other; without a schema the keys are unchanged."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import horizon, set_ordering
from hub.adapters.db.outbox import OUTBOX_LOCK, outbox_lock_key
from hub.adapters.db.uow import UnitOfWork
from hub.domain.events import ProjectBroadcast
from hub.services.chat.leader import LEADER_LOCK, leader_lock_key, leadership
from tests.support.database import truncate_pg

pytestmark = pytest.mark.postgres

ELSEWHERE = "sbtest_elsewhere"  # another worker's schema: no tables needed, only its lock keys


@pytest.fixture
async def db(pg_schema: tuple[str, str]) -> AsyncIterator[Database]:
    url, schema = pg_schema
    await truncate_pg(url, schema)
    database = Database(url, schema=schema)
    yield database
    await database.dispose()


def test_without_a_schema_the_keys_are_the_deployed_ones() -> None:
    assert outbox_lock_key(None) == OUTBOX_LOCK
    assert leader_lock_key("slack-relay", None) == (LEADER_LOCK << 32) | zlib.crc32(b"slack-relay")
    assert outbox_lock_key("a") != outbox_lock_key("b") != OUTBOX_LOCK
    assert leader_lock_key("slack-relay", "a") != leader_lock_key("slack-relay", "b")


async def test_a_writer_in_another_schema_neither_blocks_nor_holds_back_this_one(db: Database) -> None:
    """Another schema's writer holds its outbox lock exclusively (`OUTBOX_ORDERING=lock`) and stays
    open: this schema's writers (also exclusive) still commit, and its readers' horizon passes them."""
    set_ordering(db, "lock")
    other = Database(db.url, schema=ELSEWHERE)
    try:
        async with other.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": outbox_lock_key(ELSEWHERE)})
            async with asyncio.timeout(10):
                async with UnitOfWork(db) as uow:
                    uow.emit(ProjectBroadcast(event="keys.check", data={}), project_id=None, actor_id=None)
                    (event,) = await uow.commit()
                safe = await horizon(db).settle(db)
            assert safe is not None
            assert safe.events >= event.id
            await conn.rollback()
    finally:
        await other.dispose()


async def test_relays_in_other_schemas_lead_side_by_side(db: Database) -> None:
    other = Database(db.url, schema=ELSEWHERE)
    try:
        async with leadership(db, "slack-relay") as here, leadership(other, "slack-relay") as there:
            assert here
            assert there
            async with leadership(db, "slack-relay") as again:
                assert not again  # still one leader per consumer within a schema
    finally:
        await other.dispose()
