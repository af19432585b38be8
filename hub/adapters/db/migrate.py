"""Run Alembic migrations from code (`switchboard migrate`, `serve` and the tests)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


class _OnlyRevisions(logging.Filter):
    """Of Alembic's migration log keep the revisions it applies ("Running upgrade 0003 -> 0004"),
    not the lines it writes on every start ("Context impl …", "Will assume …")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or str(record.msg).startswith("Running ")


# (Alembic's plugin list, logged while it is imported, is quieted by hub.observability.logs.configure.)
logging.getLogger("alembic.runtime.migration").addFilter(_OnlyRevisions())


def alembic_config(url: str, schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["url"] = url
    config.attributes["schema"] = schema
    return config


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def upgrade_sync(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url, schema), revision)


def downgrade_sync(url: str, revision: str, *, schema: str | None = None) -> None:
    command.downgrade(alembic_config(url, schema), revision)


async def upgrade(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Alembic runs its own event loop (asyncio.run in env.py), so give it a thread."""
    await asyncio.to_thread(upgrade_sync, url, revision, schema=schema)


async def downgrade(url: str, revision: str, *, schema: str | None = None) -> None:
    await asyncio.to_thread(downgrade_sync, url, revision, schema=schema)
