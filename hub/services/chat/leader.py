"""One active chat relay per consumer, however many hub processes run.

PostgreSQL: a session-level advisory lock held on a dedicated connection for as long as the consumer
runs; if the process dies the connection drops and another process takes over. SQLite is one
process's embedded database: leadership is always granted.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator

from sqlalchemy import text

from hub.adapters.db.engine import Database

#: Arbitrary constant naming relay leadership locks (the low 32 bits: CRC-32 of the consumer name).
LEADER_LOCK = 0x5B0C00


def leader_lock_key(consumer: str, schema: str | None) -> int:
    """The advisory lock key for leading `consumer`. Advisory locks are per database, not per schema:
    with a schema (parallel test workers, one schema each) it is part of the name, so relays in other
    schemas never block each other; without one the key is unchanged (running deployments keep their
    lock across an upgrade)."""
    name = f"{schema}/{consumer}" if schema else consumer
    return (LEADER_LOCK << 32) | zlib.crc32(name.encode())


@contextlib.asynccontextmanager
async def leadership(db: Database, consumer: str) -> AsyncIterator[bool]:
    """Hold the right to run `consumer` while the block runs; yields False if another process has it.

    PostgreSQL: a session-level advisory lock on a dedicated connection (released if the process
    dies). SQLite is one process's embedded database: always granted.
    """
    if db.is_sqlite:
        yield True
        return
    key = leader_lock_key(consumer, db.schema)
    async with db.engine.connect() as conn:
        got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
