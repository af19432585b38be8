"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


class Database:
    """Owns the engine; `session()` hands out sessions. Nothing connects until first use."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, schema: str | None = None
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = create_async_engine(url, **engine_options(url, echo, pool_size, schema))
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def engine_options(
    url: str, echo: bool = False, pool_size: int = 10, schema: str | None = None
) -> dict[str, Any]:
    """Engine keyword arguments; `schema` pins PostgreSQL's search_path (the tests use one per run)."""
    options: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
        if schema:
            options["connect_args"] = {"server_settings": {"search_path": schema}}
    return options


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, and `BEGIN IMMEDIATE`.

    pysqlite's deferred transactions let two connections both read and then both try to write, which
    deadlocks into "database is locked" no busy timeout can cure. Taking the write lock at BEGIN makes
    the second writer wait (up to the timeout) instead. Readers still run concurrently under WAL.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
