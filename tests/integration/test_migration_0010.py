"""0010 fills `ticket_id` into the events already written (outbox and archive), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.adapters.db.engine import engine_options
from hub.adapters.db.migrate import upgrade
from tests.support.database import _exec, sqlite_url
from tests.support.services import require_postgres

_ROWS = [
    (1, "ticket.created", '{"ticket": {"id": 7, "key": "OPS-1"}, "origin": "web", "mentions": []}', 7),
    (2, "comment.created", '{"ticket_id": 7, "ticket": {"id": 7}, "comment": {"id": 3}}', 7),
    (3, "comment.deleted", '{"ticket_id": 9, "comment": {"id": 4}}', 9),
    (4, "member.added", '{"member": {"user_id": 2}, "project": {"id": 1}}', None),
    (5, "ticket.updated", '{"ticket": {"id": "x"}}', None),
]


async def _backfilled(url: str, schema: str | None) -> None:
    await upgrade(url, "0009", schema=schema)
    engine = create_async_engine(url, **engine_options(url, schema=schema))
    try:
        async with engine.begin() as conn:
            for table in ("events", "events_archive"):
                for event_id, kind, payload, _ in _ROWS:
                    await conn.execute(
                        text(
                            f"INSERT INTO {table} (id, project_id, actor_id, type, payload, created_at) "
                            "VALUES (:id, 1, 1, :type, :payload, CURRENT_TIMESTAMP)"
                        ),
                        {"id": event_id, "type": kind, "payload": payload},
                    )
        await upgrade(url, schema=schema)
        async with engine.connect() as conn:
            for table in ("events", "events_archive"):
                rows = (await conn.execute(text(f"SELECT id, ticket_id FROM {table} ORDER BY id"))).all()
                assert [tuple(row) for row in rows] == [(r[0], r[3]) for r in _ROWS], table
    finally:
        await engine.dispose()


async def test_sqlite_backfill(tmp_path: Path) -> None:
    await _backfilled(sqlite_url(tmp_path / "m.db"), None)


@pytest.mark.postgres
async def test_postgres_backfill() -> None:
    url = require_postgres()
    schema = f"sbmig_{uuid.uuid4().hex[:8]}"
    await _exec(url, f'CREATE SCHEMA "{schema}"')
    try:
        await _backfilled(url, schema)
    finally:
        await _exec(url, f'DROP SCHEMA "{schema}" CASCADE')
