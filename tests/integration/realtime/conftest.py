"""Hubs for the real-time tests: SQLite + in-process bus, and PostgreSQL + Redis, served by Hypercorn."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from quart import Quart

from hub.adapters.db.engine import Database
from hub.app import create_app
from hub.context import HubContext, build_context
from hub.realtime.service import Realtime
from tests.conftest import make_settings
from tests.support.api import HttpApi
from tests.support.database import fresh_sqlite, truncate_pg
from tests.support.live import served
from tests.support.services import require_redis


@dataclass
class Live:
    address: str
    api: HttpApi
    app: Quart
    context: HubContext

    @property
    def realtime(self) -> Realtime:
        return self.context.require_realtime()


@pytest.fixture(
    params=["sqlite-memory", pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis])]
)
async def stack(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None, dict[str, str]]]:
    """(DATABASE_URL, schema, extra settings) of a fresh hub backend pair."""
    if request.param == "sqlite-memory":
        yield fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path), None, {}
    else:
        redis_url = require_redis()
        url, schema = request.getfixturevalue("pg_schema")
        await truncate_pg(url, schema)
        yield url, schema, {"REDIS_URL": redis_url, "REDIS_PREFIX": f"sbt{uuid.uuid4().hex[:8]}"}


async def start_live(stack: tuple[str, str | None, dict[str, str]], **extra: str) -> tuple[Live, object]:
    url, schema, settings_extra = stack
    settings = make_settings(url, **settings_extra, **extra)
    context = build_context(settings)
    if schema:
        await context.db.dispose()
        context.db = Database(url, schema=schema)
    app = create_app(settings, context)
    manager = served(app, context)
    address = await manager.__aenter__()
    return Live(address, HttpApi(f"http://{address}"), app, context), manager


@pytest.fixture
async def live(stack: tuple[str, str | None, dict[str, str]]) -> AsyncIterator[Live]:
    hub, manager = await start_live(stack)
    try:
        yield hub
    finally:
        await hub.api.aclose()
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
