"""Alembic migrations produce exactly the models, and go down and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hub.adapters.db.engine import engine_options
from hub.adapters.db.migrate import downgrade, upgrade
from hub.adapters.db.models import Base
from tests.support.database import _exec, sqlite_url
from tests.support.services import require_postgres


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def _check(url: str, schema: str | None) -> None:
    engine = create_async_engine(url, **engine_options(url, schema=schema))
    try:
        await upgrade(url, schema=schema)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            assert await conn.run_sync(_tables) == set(Base.metadata.tables)
        await downgrade(url, "base", schema=schema)
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        await upgrade(url, schema=schema)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    await _check(sqlite_url(tmp_path / "m.db"), None)


@pytest.mark.postgres
async def test_postgres_migrations_match_models() -> None:
    url = require_postgres()
    schema = f"sbmig_{uuid.uuid4().hex[:8]}"
    await _exec(url, f'CREATE SCHEMA "{schema}"')
    try:
        await _check(url, schema)
    finally:
        await _exec(url, f'DROP SCHEMA "{schema}" CASCADE')
