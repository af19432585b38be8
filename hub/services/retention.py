"""Retention: the tables that would otherwise grow for ever, pruned in small batches.

Run by the webhook worker (`switchboard worker`, or the one inside `serve`) every
`RETENTION_INTERVAL_SECONDS`; each batch of at most `RETENTION_BATCH` rows is its own short
transaction, so pruning never holds long locks and several workers may run it at once (PostgreSQL:
`FOR UPDATE SKIP LOCKED` on the rows a batch takes; SQLite has one writer anyway).

What goes, and what always stays (docs/operations.md "Retention"):

* **events** older than `EVENTS_RETENTION_DAYS` (at least the 7-day resume window, hub.config) move
  to `events_archive` -- but never one above the **consumer floor**: the lowest position of the
  durable outbox consumers in `consumer_positions` (webhooks, chat relays; the notification consumers'
  rows, which hold notification ids, do not count) and of the *active* chat subscriptions
  (`chat_subscriptions.position`). A lagging or stopped consumer holds events back; it never loses one.
  The activity feed reads the archive and the outbox as one (`hub.services.projects.activity`); a
  socket resuming from before the highest archived id of its project gets `resync_required`
  (:func:`resume_gap`).
* **events_archive** rows older than `EVENTS_ARCHIVE_DAYS` (0, the default: kept).
* **notifications** older than `NOTIFICATIONS_RETENTION_DAYS` that the chat DM and digest consumers
  have passed; a notifications socket resuming from before the highest removed one gets a resync.
* **webhook attempts** older than `WEBHOOK_ATTEMPTS_RETENTION_DAYS`, and finished deliveries untouched
  as long (`hub.services.webhooks.results.prune`).
* **chat_deliveries** past their redelivery window, **chat_link_codes** expired a day ago.
* **sessions** revoked, or without a live refresh token, `SESSIONS_RETENTION_DAYS` ago (with their
  refresh tokens, so a deleted session cannot be revived by a refresh), and refresh tokens expired as
  long ago.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.chat_models import ChatDelivery, ChatLinkCode, ChatSubscription
from hub.adapters.db.models import Event, LoginSession, Notification, RefreshToken
from hub.adapters.db.retention_models import EventArchive, RetentionMark
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import ConsumerPosition
from hub.config import Settings
from hub.services.chat.deliveries import DELIVERY_TTL
from hub.services.webhooks import results as webhook_results

log = logging.getLogger(__name__)

#: Rows of `consumer_positions` whose position is a notification id, or no id at all.
_NOTIFICATION_CONSUMERS = ("%-dm", "%-digest:%")
_NOT_POSITIONS = ("%-digest-attempts:%",)
#: One batch of a pruning rule, inside the transaction it is given; returns the rows removed.
Step = Callable[[UnitOfWork, int], Awaitable[int]]
#: Link codes live minutes; a day later nobody can be in the middle of using one.
LINK_CODE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each table keeps rows, in days (0: for ever), and the batch size."""

    events_days: int = 30
    archive_days: int = 0
    notifications_days: int = 90
    webhook_attempts_days: int = 30
    sessions_days: int = 30
    batch: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            events_days=settings.events_retention_days,
            archive_days=settings.events_archive_days,
            notifications_days=settings.notifications_retention_days,
            webhook_attempts_days=settings.webhook_attempts_retention_days,
            sessions_days=settings.sessions_retention_days,
            batch=settings.retention_batch,
        )


async def prune(uow: Callable[[], UnitOfWork], policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    """Run every retention rule once, batch after batch; returns rows removed per table."""
    removed = {
        "events": await prune_events(uow, policy, now),
        "events_archive": 0,
        "notifications": 0,
        "webhooks": await webhook_results.prune(
            uow(), now, keep=timedelta(days=policy.webhook_attempts_days)
        ),
        "chat_deliveries": await _batches(uow, policy.batch, _chat_deliveries(now - DELIVERY_TTL)),
        "chat_link_codes": await _batches(uow, policy.batch, _link_codes(now - LINK_CODE_GRACE)),
        "sessions": await _prune_sessions(uow, policy, now - timedelta(days=policy.sessions_days)),
    }
    if policy.archive_days:
        cutoff = now - timedelta(days=policy.archive_days)
        removed["events_archive"] = await _batches(uow, policy.batch, _archive(cutoff))
    if policy.notifications_days:
        removed["notifications"] = await prune_notifications(uow, policy, now)
    if any(removed.values()):
        log.info("retention removed %s", ", ".join(f"{n} {t}" for t, n in removed.items() if n))
    return removed


# -- events ----------------------------------------------------------------------------------------


async def event_floor(session: AsyncSession) -> int | None:
    """The highest event id every durable consumer has passed (None: no consumer to wait for)."""
    consumers = await session.scalar(
        select(func.min(ConsumerPosition.position)).where(
            *(ConsumerPosition.name.not_like(p) for p in (*_NOTIFICATION_CONSUMERS, *_NOT_POSITIONS))
        )
    )
    lanes = await session.scalar(
        select(func.min(ChatSubscription.position)).where(
            ChatSubscription.state == "active", ChatSubscription.position.is_not(None)
        )
    )
    known = [int(p) for p in (consumers, lanes) if p is not None]
    return min(known) if known else None


async def prune_events(uow: Callable[[], UnitOfWork], policy: RetentionPolicy, now: datetime) -> int:
    """Move events older than the retention and behind every consumer to `events_archive`."""
    if not policy.events_days:
        return 0
    cutoff = now - timedelta(days=policy.events_days)
    moved = 0
    while True:
        async with uow() as work:
            session = work.session
            floor = await event_floor(session)
            query = select(Event).where(Event.created_at < cutoff).order_by(Event.id).limit(policy.batch)
            if floor is not None:
                query = query.where(Event.id <= floor)
            rows = list(await session.scalars(_skip_locked(work, query)))
            if rows:
                await session.execute(
                    _insert(work, EventArchive).on_conflict_do_nothing(index_elements=["id"]),
                    [_archived(row) for row in rows],
                )
                await session.execute(delete(Event).where(Event.id.in_([row.id for row in rows])))
                await _mark(work, "events", rows[-1].id, now)
            elif floor is not None:
                await _warn_if_held(session, floor, cutoff)
            await work.commit()
        moved += len(rows)
        if len(rows) < policy.batch:
            return moved


async def _warn_if_held(session: AsyncSession, floor: int, cutoff: datetime) -> None:
    """Say which consumer keeps expired events in the outbox (a stopped relay, a removed platform)."""
    held = await session.scalar(select(func.count()).where(Event.id > floor, Event.created_at < cutoff))
    if held:
        log.warning(
            "retention: %d expired event(s) kept because a consumer is at event %d (consumer_positions /"
            " active chat_subscriptions); remove the row of a consumer that is gone for good",
            held,
            floor,
        )


def _archived(row: Event) -> dict[str, Any]:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "actor_id": row.actor_id,
        "type": row.type,
        "payload": row.payload,
        "request_id": row.request_id,
        "created_at": row.created_at,
        "ticket_id": row.ticket_id,
    }


def _archive(cutoff: datetime) -> Step:
    async def run(work: UnitOfWork, batch: int) -> int:
        session = work.session
        ids = list(
            await session.scalars(
                select(EventArchive.id)
                .where(EventArchive.created_at < cutoff)
                .order_by(EventArchive.id)
                .limit(batch)
            )
        )
        if ids:
            await session.execute(delete(EventArchive).where(EventArchive.id.in_(ids)))
            await _mark(work, "events_archive", ids[-1], cutoff)
        return len(ids)

    return run


async def resume_gap(session: AsyncSession, project_id: int, after: int) -> bool:
    """Whether events of `project_id` after `after` were removed from the outbox by retention, so a
    socket resuming from `after` must be told to resync instead of replayed."""
    rows = await session.execute(select(RetentionMark.name, RetentionMark.position))
    marks = {name: position for name, position in rows}
    if after >= marks.get("events", 0):
        return False
    if after < marks.get("events_archive", 0):
        return True  # archived rows of the project may be gone as well
    archived = select(exists().where(EventArchive.project_id == project_id, EventArchive.id > after))
    return bool(await session.scalar(archived))


async def notifications_gap(session: AsyncSession, after: int) -> bool:
    """Whether notifications with an event id above `after` were removed by retention."""
    mark = await session.scalar(select(RetentionMark.position).where(RetentionMark.name == "notifications"))
    return mark is not None and after < mark


# -- notifications ---------------------------------------------------------------------------------


async def prune_notifications(uow: Callable[[], UnitOfWork], policy: RetentionPolicy, now: datetime) -> int:
    """Delete notifications older than the retention that the chat DM and digest consumers passed."""
    cutoff = now - timedelta(days=policy.notifications_days)
    removed = 0
    while True:
        async with uow() as work:
            session = work.session
            floor = await session.scalar(
                select(func.min(ConsumerPosition.position)).where(
                    or_(*(ConsumerPosition.name.like(p) for p in _NOTIFICATION_CONSUMERS)),
                    *(ConsumerPosition.name.not_like(p) for p in _NOT_POSITIONS),
                )
            )
            query = select(Notification.id, Notification.event_id).where(Notification.created_at < cutoff)
            if floor is not None:
                query = query.where(Notification.id <= floor)
            rows = list(
                (
                    await session.execute(
                        _skip_locked(work, query.order_by(Notification.id).limit(policy.batch))
                    )
                ).all()
            )
            if rows:
                await session.execute(delete(Notification).where(Notification.id.in_([r.id for r in rows])))
                await _mark(work, "notifications", max(int(r.event_id or 0) for r in rows), now)
            await work.commit()
        removed += len(rows)
        if len(rows) < policy.batch:
            return removed


# -- small tables ----------------------------------------------------------------------------------


def _chat_deliveries(cutoff: datetime) -> Step:
    async def run(work: UnitOfWork, batch: int) -> int:
        session = work.session
        keys = list(
            (
                await session.execute(
                    select(ChatDelivery.platform, ChatDelivery.delivery_key)
                    .where(ChatDelivery.received_at < cutoff)
                    .limit(batch)
                )
            ).all()
        )
        if keys:
            pairs = [(k.platform, k.delivery_key) for k in keys]
            await session.execute(
                delete(ChatDelivery).where(
                    tuple_(ChatDelivery.platform, ChatDelivery.delivery_key).in_(pairs)
                )
            )
        return len(keys)

    return run


def _link_codes(cutoff: datetime) -> Step:
    async def run(work: UnitOfWork, batch: int) -> int:
        session = work.session
        ids = list(
            await session.scalars(
                select(ChatLinkCode.id).where(ChatLinkCode.expires_at < cutoff).limit(batch)
            )
        )
        if ids:
            await session.execute(delete(ChatLinkCode).where(ChatLinkCode.id.in_(ids)))
        return len(ids)

    return run


async def _prune_sessions(uow: Callable[[], UnitOfWork], policy: RetentionPolicy, cutoff: datetime) -> int:
    live_token = exists().where(RefreshToken.family_id == LoginSession.id, RefreshToken.expires_at >= cutoff)
    ended = or_(LoginSession.revoked_at < cutoff, and_(LoginSession.created_at < cutoff, ~live_token))

    async def sessions(work: UnitOfWork, batch: int) -> int:
        session = work.session
        ids = list(await session.scalars(select(LoginSession.id).where(ended).limit(batch)))
        if ids:
            # The tokens go with their session: a refresh of an orphaned family would re-create it.
            await session.execute(delete(RefreshToken).where(RefreshToken.family_id.in_(ids)))
            await session.execute(delete(LoginSession).where(LoginSession.id.in_(ids)))
        return len(ids)

    async def tokens(work: UnitOfWork, batch: int) -> int:
        session = work.session
        ids = list(
            await session.scalars(
                select(RefreshToken.id).where(RefreshToken.expires_at < cutoff).limit(batch)
            )
        )
        if ids:
            await session.execute(delete(RefreshToken).where(RefreshToken.id.in_(ids)))
        return len(ids)

    return await _batches(uow, policy.batch, sessions) + await _batches(uow, policy.batch, tokens)


# -- helpers ---------------------------------------------------------------------------------------


async def _batches(uow: Callable[[], UnitOfWork], batch: int, step: Step) -> int:
    """Run `step` (one batch, returns rows removed) in its own transaction until a batch is short."""
    removed = 0
    while True:
        async with uow() as work:
            count = await step(work, batch)
            await work.commit()
        removed += count
        if count < batch:
            return removed


def _skip_locked(work: UnitOfWork, query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    return query if work.db.is_sqlite else query.with_for_update(skip_locked=True)


def _insert(work: UnitOfWork, table: Any) -> Any:
    return (sqlite_insert if work.db.is_sqlite else pg_insert)(table)


async def _mark(work: UnitOfWork, name: str, position: int, now: datetime) -> None:
    """Raise the stream's retention mark to `position` (never lower it)."""
    row = await work.session.get(RetentionMark, name, with_for_update=not work.db.is_sqlite)
    if row is None:
        await work.session.execute(
            _insert(work, RetentionMark)
            .values(name=name, position=position, updated_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = await work.session.get(
            RetentionMark, name, with_for_update=not work.db.is_sqlite, populate_existing=True
        )
    if row is not None and row.position < position:
        row.position = position
        row.updated_at = now
