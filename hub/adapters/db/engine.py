"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Executable, Row, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hub.adapters.db.gate import WriteGate

#: A pooled PostgreSQL connection that sat idle longer than this (seconds) is pinged before reuse.
PING_AFTER_IDLE = 1.0


class Database:
    """Owns the engine; `session()` hands out sessions. Nothing connects until first use."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 20,
        schema: str | None = None,
        ping_after_idle: float = PING_AFTER_IDLE,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        #: The PostgreSQL schema pinned as search_path, if any (the tests run one per session): advisory
        #: locks are per database, so their keys include it (`outbox_lock_key`, chat `leadership`).
        self.schema = schema
        self.engine: AsyncEngine = create_async_engine(url, **engine_options(url, echo, pool_size, schema))
        #: SQLite only: units of work of this process take the write lock in arrival order.
        self.gate: WriteGate | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            self.gate = WriteGate()
        else:
            _ping_idle_connections(self.engine, ping_after_idle)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads: a deferred BEGIN on SQLite (no write lock: WAL readers run beside
        the writer), autocommit on PostgreSQL (no BEGIN/ROLLBACK round trips)."""
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                yield await conn.execution_options(read_only=True)
            else:
                yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def read_first(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Row[Any] | None:
        """First row of one read-only statement. On PostgreSQL it runs outside a transaction: one
        round trip instead of BEGIN, the query and ROLLBACK. On SQLite it does not wait for the write
        lock that every other transaction takes at BEGIN (WAL readers run beside the writer)."""
        async with self._reader() as conn:
            return (await conn.execute(statement, params)).first()

    @contextlib.asynccontextmanager
    async def single_statements(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which every statement commits on its own (PostgreSQL's autocommit): for
        a write that is one statement, it saves the BEGIN and COMMIT round trips."""
        if self.is_sqlite:
            raise RuntimeError("single_statements is for PostgreSQL; SQLite writes take the gate")
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (the fan-out's catch-up, socket resumes). On SQLite it begins
        deferred, so it never queues for the write lock behind a stream of writers (WAL readers run
        beside the writer); on PostgreSQL each statement runs on its own (no BEGIN/ROLLBACK)."""
        async with (
            self._reader() as conn,
            AsyncSession(bind=conn, expire_on_commit=False, autoflush=False) as session,
        ):
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def engine_options(
    url: str, echo: bool = False, pool_size: int = 20, schema: str | None = None
) -> dict[str, Any]:
    """Engine keyword arguments; `schema` pins PostgreSQL's search_path (the tests use one per run)."""
    options: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    else:
        # Connections beyond `pool_size` are closed when handed back: a pool smaller than the requests
        # in flight reconnects (a PostgreSQL fork, codec set-up) all the time under load.
        options.update(pool_size=pool_size, max_overflow=pool_size)
        if schema:
            options["connect_args"] = {"server_settings": {"search_path": schema}}
    return options


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, and `BEGIN IMMEDIATE`.

    pysqlite's deferred transactions let two connections both read and then both try to write, which
    deadlocks into "database is locked" no busy timeout can cure. Taking the write lock at BEGIN makes
    the second writer wait (up to the timeout) instead. Readers still run concurrently under WAL;
    connections marked `read_only` (see `Database.read_first`) begin deferred, without the lock.
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
        read_only = conn.get_execution_options().get("read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _ping_idle_connections(engine: AsyncEngine, after: float) -> None:
    """Pessimistic disconnect handling for connections that sat idle, without taxing busy ones.

    SQLAlchemy's `pool_pre_ping` pings on every checkout, and asyncpg's ping is three round trips
    (BEGIN, `;`, ROLLBACK), which cost more than most of our requests' own statements. A connection
    handed back moments ago is alive; one idle for longer than `after` seconds may have been cut by a
    database restart, a failover or a proxy's idle timeout, so only it is pinged, and a dead one is
    replaced before the request sees it. Should a connection die within `after` seconds of its last
    use, the request on it fails and SQLAlchemy invalidates the pool, so the rest reconnect."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < after:
            return  # new, or just used
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("pooled connection is dead; the pool opens a new one") from exc
