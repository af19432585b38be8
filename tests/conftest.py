"""Shared fixtures: a hub on SQLite and on PostgreSQL, and an API client speaking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from quart import Quart

from hub.app import create_app
from hub.config import Settings, load_settings
from hub.context import HubContext, build_context
from tests.support.api import Api
from tests.support.database import (
    create_pg_schema,
    drop_pg_schema,
    fresh_sqlite,
    make_sqlite_template,
    truncate_pg,
)
from tests.support.services import require_postgres

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[tuple[str, str]]:
    url = require_postgres()
    schema = create_pg_schema(url)
    yield url, schema
    drop_pg_schema(url, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str | None]]:
    """(DATABASE_URL, schema) of an empty, migrated database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        yield fresh_sqlite(template, tmp_path), None
    else:
        url, schema = request.getfixturevalue("pg_schema")
        await truncate_pg(url, schema)
        yield url, schema


def make_settings(database_url: str, **extra: str) -> Settings:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "SWITCHBOARD_ENV": "test", **extra}
    return load_settings(env)


@pytest.fixture
def settings(database: tuple[str, str | None]) -> Settings:
    return make_settings(database[0])


@pytest.fixture
async def context(settings: Settings, database: tuple[str, str | None]) -> AsyncIterator[HubContext]:
    from hub.adapters.db.engine import Database

    ctx = build_context(settings)
    if database[1]:
        await ctx.db.dispose()
        ctx.db = Database(settings.database_url, schema=database[1])
    yield ctx
    await ctx.db.dispose()


@pytest.fixture
async def app(settings: Settings, context: HubContext) -> AsyncIterator[Quart]:
    application = create_app(settings, context)
    async with application.test_app():
        yield application


@pytest.fixture
def api(app: Quart) -> Api:
    return Api(app.test_client())
