"""Writing a transaction's events to the outbox table in one statement.

Readers must never step over an event whose transaction commits late (see `horizon.py`). On
PostgreSQL writers commit in parallel (`OUTBOX_ORDERING=snapshot`, the default): the insert records
the transaction's id (`pg_current_xact_id()`) in `events.xid` and takes the outbox advisory lock
*shared* (writers never wait for each other), both in CTEs the rows are built from, so the
transaction has its id and holds the lock before the sequence hands out the events' ids, which is
what the readers' safe horizon rests on. The previous path stays selectable (`OUTBOX_ORDERING=lock`, a
fallback and the write benchmark's "before"): the same lock taken exclusively, by the same
statement before the ids are drawn, serialises the "insert events, commit" tail of writing
transactions so ids commit in order. On SQLite the write lock taken at `BEGIN IMMEDIATE` serialises
writers already, and the insert is a plain Core insert.

Both are Core statements, not ORM flushes: the Event objects stay transient and get their ids set
from `RETURNING`, which is all the notification hook, the publisher and the callers read.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import cast

import orjson
from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event

#: Arbitrary constant naming the outbox lock.
OUTBOX_LOCK = 0x5B0A4D


def outbox_lock_key(schema: str | None) -> int:
    """The outbox lock's key for a database whose tables live in `schema` (None: the search_path's
    default). Advisory locks are per database, not per schema: without a schema the key stays
    `OUTBOX_LOCK` (what running deployments hold, so an upgrade keeps them in step); with one it is
    `OUTBOX_LOCK` in the high 32 bits and the CRC-32 of the schema name in the low ones, so writers and
    readers in other schemas (parallel test workers) neither serialise with nor hold back each other."""
    if not schema:
        return OUTBOX_LOCK
    return (OUTBOX_LOCK << 32) | zlib.crc32(schema.encode())


#: The rows are built from `tx` and the lock's row: the transaction has its id, then the outbox lock
#: (shared among parallel writers: readers see who may hold drawn ids, `horizon.py`; exclusive with
#: `OUTBOX_ORDERING=lock`), before the sequence draws the first event id.
_PG_INSERT = """
    WITH tx AS MATERIALIZED (SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint) AS xid){lock}
    INSERT INTO events (project_id, actor_id, type, payload, request_id, created_at, xid, ticket_id)
    SELECT e.project_id, e.actor_id, e.type, CAST(e.payload AS jsonb), e.request_id,
           CAST(:created_at AS timestamptz), tx.xid, e.ticket_id
    FROM tx{lock_from},
         unnest(CAST(:project_ids AS integer[]), CAST(:actor_ids AS integer[]), CAST(:types AS text[]),
                CAST(:payloads AS text[]), CAST(:request_ids AS text[]), CAST(:ticket_ids AS integer[]))
           WITH ORDINALITY AS e(project_id, actor_id, type, payload, request_id, ticket_id, ord)
    ORDER BY e.ord
    RETURNING id
    """
_PG_INSERT_PARALLEL = text(
    _PG_INSERT.format(
        lock=",\n         outbox_lock AS (SELECT pg_advisory_xact_lock_shared(:lock_key) FROM tx)",
        lock_from=", outbox_lock",
    )
)
_PG_INSERT_LOCKED = text(
    _PG_INSERT.format(
        lock=",\n         outbox_lock AS (SELECT pg_advisory_xact_lock(:lock_key) FROM tx)",
        lock_from=", outbox_lock",
    )
)

_EVENTS = cast(Table, Event.__table__)
_SQLITE_INSERT = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


async def write_events(
    session: AsyncSession,
    events: Sequence[Event],
    now: datetime,
    *,
    sqlite: bool,
    lock_key: int,
    lock: bool = False,
) -> None:
    """Insert `events` (stamped `now`) in order and set their `id` and `created_at`; on PostgreSQL
    with `lock`, under the outbox lock (`OUTBOX_ORDERING=lock`). `lock_key`: the database's
    `outbox_lock_key`, taken shared (exclusive with `lock`) before the ids are drawn."""
    for event in events:
        event.created_at = now
    if sqlite:
        rows = [
            {
                "project_id": e.project_id,
                "actor_id": e.actor_id,
                "type": e.type,
                "payload": e.payload,
                "request_id": e.request_id,
                "created_at": now,
                "ticket_id": e.ticket_id,
            }
            for e in events
        ]
        ids = list((await session.execute(_SQLITE_INSERT, rows)).scalars())
    else:
        params = {
            "created_at": now,
            "project_ids": [e.project_id for e in events],
            "actor_ids": [e.actor_id for e in events],
            "types": [e.type for e in events],
            "payloads": [orjson.dumps(e.payload, option=orjson.OPT_NON_STR_KEYS).decode() for e in events],
            "request_ids": [e.request_id for e in events],
            "ticket_ids": [e.ticket_id for e in events],
        }
        params["lock_key"] = lock_key
        statement = _PG_INSERT_LOCKED if lock else _PG_INSERT_PARALLEL
        # Ids come from one sequence in insertion order (`ord`): sorted = event order.
        ids = sorted((await session.execute(statement, params)).scalars())
    if len(ids) != len(events):
        raise RuntimeError(f"outbox insert returned {len(ids)} ids for {len(events)} events")
    for event, event_id in zip(events, ids, strict=True):
        event.id = int(event_id)
