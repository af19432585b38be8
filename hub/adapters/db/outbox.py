"""Writing a transaction's events to the outbox table in one statement.

Event ids must become visible in id order (see the unit of work). On PostgreSQL a transaction-scoped
advisory lock serialises the "insert events, commit" tail of writing transactions; here the lock and
the insert are one statement (one round trip instead of two), and the events' ids are drawn after the
lock is held because the rows to insert are produced by a join with the lock. On SQLite the write lock
taken at `BEGIN IMMEDIATE` serialises writers already, and the insert is a plain Core insert.

Both are Core statements, not ORM flushes: the Event objects stay transient and get their ids set
from `RETURNING`, which is all the notification hook, the publisher and the callers read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

import orjson
from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event

#: Arbitrary constant naming the outbox lock.
OUTBOX_LOCK = 0x5B0A4D

_PG_INSERT = text(
    """
    WITH outbox_lock AS (SELECT pg_advisory_xact_lock(:lock_key))
    INSERT INTO events (project_id, actor_id, type, payload, request_id, created_at)
    SELECT e.project_id, e.actor_id, e.type, CAST(e.payload AS jsonb), e.request_id,
           CAST(:created_at AS timestamptz)
    FROM outbox_lock,
         unnest(CAST(:project_ids AS integer[]), CAST(:actor_ids AS integer[]), CAST(:types AS text[]),
                CAST(:payloads AS text[]), CAST(:request_ids AS text[]))
           WITH ORDINALITY AS e(project_id, actor_id, type, payload, request_id, ord)
    ORDER BY e.ord
    RETURNING id
    """
)

_EVENTS = cast(Table, Event.__table__)
_SQLITE_INSERT = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


async def write_events(
    session: AsyncSession, events: Sequence[Event], now: datetime, *, sqlite: bool
) -> None:
    """Insert `events` (stamped `now`) in order and set their `id` and `created_at`."""
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
            }
            for e in events
        ]
        ids = list((await session.execute(_SQLITE_INSERT, rows)).scalars())
    else:
        params = {
            "lock_key": OUTBOX_LOCK,
            "created_at": now,
            "project_ids": [e.project_id for e in events],
            "actor_ids": [e.actor_id for e in events],
            "types": [e.type for e in events],
            "payloads": [orjson.dumps(e.payload, option=orjson.OPT_NON_STR_KEYS).decode() for e in events],
            "request_ids": [e.request_id for e in events],
        }
        # Ids come from one sequence in insertion order, with the lock held: sorted = event order.
        ids = sorted((await session.execute(_PG_INSERT, params)).scalars())
    if len(ids) != len(events):
        raise RuntimeError(f"outbox insert returned {len(ids)} ids for {len(events)} events")
    for event, event_id in zip(events, ids, strict=True):
        event.id = int(event_id)
