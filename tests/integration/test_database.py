"""The database adapter: dead pooled connections replaced, and single reads that skip transactions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hub.adapters.db.engine import Database
from hub.adapters.db.models import User
from tests.support.database import exec_autocommit, fresh_sqlite
from tests.support.services import require_postgres


async def _backend_pid(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def _kill(url: str, pid: int) -> None:
    await exec_autocommit(url, f"SELECT pg_terminate_backend({pid})")
    await asyncio.sleep(0.1)  # the backend is gone; the pooled client has not noticed


@pytest.mark.postgres
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


@pytest.mark.postgres
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


async def test_a_sqlite_read_does_not_wait_for_the_write_lock(tmp_path: Path, sqlite_template: Path) -> None:
    db = Database(fresh_sqlite(sqlite_template, tmp_path))
    try:
        async with db.session() as writer:
            await writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this session holds the write lock
            row = await asyncio.wait_for(db.read_first(select(func.count()).select_from(User)), 3)
            assert row is not None
            assert row[0] == 0
    finally:
        await db.dispose()


async def test_a_sqlite_read_session_does_not_wait_for_the_write_lock(
    tmp_path: Path, sqlite_template: Path
) -> None:
    db = Database(fresh_sqlite(sqlite_template, tmp_path))
    try:
        async with db.session() as writer:
            await writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this session holds the write lock

            async def read() -> tuple[int, int]:
                async with db.read_session() as session:
                    users = await session.scalar(select(func.count()).select_from(User))
                    events = await session.scalar(select(func.count()).select_from(text("events")))
                    return int(users or 0), int(events or 0)

            assert await asyncio.wait_for(read(), 3) == (0, 0)
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_a_postgres_read_session_runs_each_statement_on_its_own() -> None:
    db = Database(require_postgres(), pool_size=1)
    try:
        async with db.read_session() as session:
            # Outside a transaction, every statement is a transaction of its own.
            first = await session.scalar(text("SELECT txid_current()"))
            assert await session.scalar(text("SELECT txid_current()")) != first
        async with db.session() as session:  # the same pooled connection, back to transactions
            first = await session.scalar(text("SELECT txid_current()"))
            assert await session.scalar(text("SELECT txid_current()")) == first
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_a_postgres_read_leaves_its_connection_as_it_found_it() -> None:
    db = Database(require_postgres(), pool_size=1)
    try:
        row = await db.read_first(select(func.count()).select_from(text("pg_class")))
        assert row is not None
        assert row[0] > 0
        async with db.session() as session:  # the same pooled connection, back in a transaction
            assert await session.scalar(text("SHOW transaction_isolation")) == "read committed"
            assert await session.scalar(text("SELECT now() = statement_timestamp()")) is False
    finally:
        await db.dispose()
