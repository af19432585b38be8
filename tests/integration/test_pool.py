"""PostgreSQL connections that died while idle in the pool are replaced before a request sees them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.adapters.db.engine import Database
from tests.support.database import exec_autocommit
from tests.support.services import require_postgres

pytestmark = pytest.mark.postgres


async def _backend_pid(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def _kill(url: str, pid: int) -> None:
    await exec_autocommit(url, f"SELECT pg_terminate_backend({pid})")
    await asyncio.sleep(0.1)  # the backend is gone; the pooled client has not noticed


async def test_an_idle_connection_killed_by_the_server_is_replaced_transparently() -> None:
    url = require_postgres()
    db = Database(url, pool_size=1, ping_after_idle=0.2)
    try:
        first = await _backend_pid(db)
        await _kill(url, first)
        await asyncio.sleep(0.3)  # idle longer than ping_after_idle: pinged at checkout, found dead
        second = await _backend_pid(db)
        assert second != first
    finally:
        await db.dispose()


async def test_a_just_used_connection_is_not_pinged_and_one_failure_resets_the_pool() -> None:
    # The other half of the trade: without the ping, the dead connection reaches the query (this is
    # what the ping above prevents), and SQLAlchemy then replaces it for the next request.
    url = require_postgres()
    db = Database(url, pool_size=1, ping_after_idle=60.0)
    try:
        first = await _backend_pid(db)
        await _kill(url, first)
        with pytest.raises(DBAPIError) as failure:
            await _backend_pid(db)
        assert failure.value.connection_invalidated
        assert await _backend_pid(db) != first
    finally:
        await db.dispose()
