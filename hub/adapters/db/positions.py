"""Positions of outbox consumers: how far each reader of the `events` table has got, durably.

Every consumer (the webhook fan-out, the chat relays and digests) keeps a named row in
`consumer_positions`. It locks the row for the transaction that reads a batch of events after it and
moves it past the batch in the same transaction, so a batch is handled exactly once however often a
process dies. On PostgreSQL the lock is `FOR UPDATE SKIP LOCKED` (a second reader skips a round);
SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.webhook_models import ConsumerPosition


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def lock_position(
    session: AsyncSession, name: str, start: Callable[[AsyncSession], Awaitable[int]], now: datetime
) -> int | None:
    """The consumer's position, locked for this transaction; None while another worker holds it.

    A consumer seen for the first time starts at the position `start` computes.
    """
    sqlite = _is_sqlite(session)
    if await session.scalar(select(ConsumerPosition.position).where(ConsumerPosition.name == name)) is None:
        insert_ = sqlite_insert if sqlite else pg_insert
        await session.execute(
            insert_(ConsumerPosition)
            .values(name=name, position=await start(session), updated_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
    query = select(ConsumerPosition.position).where(ConsumerPosition.name == name)
    if not sqlite:
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


async def advance_position(session: AsyncSession, name: str, position: int, now: datetime) -> None:
    await session.execute(
        update(ConsumerPosition)
        .where(ConsumerPosition.name == name)
        .values(position=position, updated_at=now)
    )
