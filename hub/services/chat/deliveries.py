"""Chat requests taken once: a durable record of the platform deliveries already processed.

Slack redelivers an Events API callback (same `event_id`, `X-Slack-Retry-Num` 1-3) when the first
delivery was not acknowledged within 3 s, failed, or reached a restarting hub; the retries come
about 1 minute and 5 minutes apart and may reach another hub process. `claim_delivery` inserts the
delivery's key if absent (`INSERT … ON CONFLICT DO NOTHING`, on SQLite and PostgreSQL alike) and
says whether this call inserted it: exactly one of any number of concurrent or later deliveries of
the same key, on any process sharing the database, is told to go ahead. `finish_delivery` marks the
claim done once the work succeeded. A claim that is not done `RECLAIM_AFTER` after it was taken (the
process died, or the work failed) is taken over by the next redelivery (one conditional UPDATE, so
again exactly one caller wins): a crash or a failure is retried by Slack's own retries instead of
losing the request, and a request still being worked on is never started twice.

Rows are only needed while the platform may still retry, so they expire after `DELIVERY_TTL`;
`prune_deliveries` deletes the expired ones (the Slack adapter calls it at most once a minute per
process, from the request path).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.adapters.db.chat_models import ChatDelivery
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork

#: Slack's last retry comes about 5 minutes after the first delivery; an hour covers a slow one.
DELIVERY_TTL = timedelta(hours=1)
#: A claim not done after this long is taken over by a redelivery. Listeners acknowledge first and
#: finish in well under this; Slack's retries come about 1 and 5 minutes after the first delivery.
RECLAIM_AFTER = timedelta(seconds=30)


async def claim_delivery(uow: UnitOfWork, platform: str, key: str, *, now: datetime | None = None) -> bool:
    """Claim the delivery `key` of `platform` for processing; False if it is done already or is being
    processed (the caller acknowledges it and does nothing). A claim left unfinished for
    `RECLAIM_AFTER` is taken over."""
    now = now or utcnow()
    insert_ = sqlite_insert if uow.db.is_sqlite else pg_insert
    statement = (
        insert_(ChatDelivery)
        .values(platform=platform, delivery_key=key, received_at=now)
        .on_conflict_do_nothing(index_elements=["platform", "delivery_key"])
    )
    reclaim = (
        update(ChatDelivery)
        .where(
            ChatDelivery.platform == platform,
            ChatDelivery.delivery_key == key,
            ChatDelivery.done_at.is_(None),
            ChatDelivery.received_at < now - RECLAIM_AFTER,
        )
        .values(received_at=now)
    )
    async with uow:
        claimed = getattr(await uow.session.execute(statement), "rowcount", 0) == 1
        if not claimed:
            claimed = getattr(await uow.session.execute(reclaim), "rowcount", 0) == 1
        await uow.commit()
    return bool(claimed)


async def finish_delivery(uow: UnitOfWork, platform: str, key: str, *, now: datetime | None = None) -> None:
    """Mark the claimed delivery done: redeliveries of it are dropped from now on."""
    async with uow:
        await uow.session.execute(
            update(ChatDelivery)
            .where(ChatDelivery.platform == platform, ChatDelivery.delivery_key == key)
            .values(done_at=now or utcnow())
        )
        await uow.commit()


async def prune_deliveries(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Delete the records older than `DELIVERY_TTL`; returns how many went."""
    cutoff = (now or utcnow()) - DELIVERY_TTL
    async with uow:
        result = await uow.session.execute(delete(ChatDelivery).where(ChatDelivery.received_at < cutoff))
        await uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
