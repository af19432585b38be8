"""Test databases: a migrated SQLite template copied per test; one PostgreSQL schema per run, truncated
between tests. Both are built by the real Alembic migrations, not by `create_all`."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.adapters.db.migrate import upgrade_sync
from hub.adapters.db.models import Base


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def make_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    upgrade_sync(sqlite_url(path))
    return path


def fresh_sqlite(template: Path, directory: Path) -> str:
    path = directory / "hub.db"
    shutil.copyfile(template, path)
    return sqlite_url(path)


async def _exec(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, also from inside a running loop (pytest-asyncio fixtures), via a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def create_pg_schema(url: str) -> str:
    schema = f"sbtest_{uuid.uuid4().hex[:10]}"
    _run(_exec(url, f'CREATE SCHEMA "{schema}"'))
    upgrade_sync(url, schema=schema)
    return schema


def drop_pg_schema(url: str, schema: str) -> None:
    _run(_exec(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


TABLES = ", ".join(f'"{table.name}"' for table in reversed(Base.metadata.sorted_tables))


async def truncate_pg(url: str, schema: str) -> None:
    await _exec(url, f'SET search_path TO "{schema}"', f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")


async def exec_autocommit(url: str, statement: str) -> None:
    """Run a statement outside a transaction (CREATE/DROP DATABASE)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()
