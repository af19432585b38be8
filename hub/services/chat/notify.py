"""Notifications for chat: the immediate DMs and the daily digests, as routing decided them.

Routing (`services/notifications/routing.py`) stores per destination what each notification should do
(`deliver_slack`, `deliver_discord`: immediate, digest or off). The chat bots only read that decision:

- **immediate** — a durable consumer of `notifications` by id (row `{platform}-dm` in
  `consumer_positions`; a new one starts at the newest notification). Notification ids become visible
  in id order like event ids (they are written under the same outbox lock).
- **digest** — once a day per user, at the digest hour of the user's own time zone (the one in their
  notification preferences; UTC unless they chose one). Row `{platform}-digest:{user_id}`: its
  position is the last notification included, its `updated_at` the time of the last digest run.

Only users with a linked account on the platform are served; others are skipped (their web
notifications are unaffected). A notification about a project goes out only while its user is still a
member of it (`policy.receives_notification`, asked when the DM or digest is built): one routed before
a removal but not yet sent is dropped, not delivered late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.chat_models import ChatIdentity
from hub.adapters.db.models import Membership, Notification, User
from hub.adapters.db.positions import advance_position, lock_position
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import ConsumerPosition
from hub.services.access import memberships_among
from hub.services.chat.accounts import ChatUser, chat_accounts_of
from hub.services.notifications.preferences import merged
from hub.services.policy import receives_notification
from hub.services.views import notification_view


@dataclass(frozen=True)
class DirectMessage:
    notification: dict[str, Any]
    accounts: list[ChatUser]


@dataclass(frozen=True)
class Digest:
    user_id: int
    accounts: list[ChatUser]
    notifications: list[dict[str, Any]]
    #: Where this user's digest position moves once it is sent.
    position: int


def _column(platform: str) -> Any:
    return getattr(Notification, f"deliver_{platform}")


def _start_before(since: datetime | None) -> Any:
    """A new consumer starts after the notifications older than `since` (the bot's start): no flood of
    history, and nothing made while the bot was starting up is skipped."""

    async def start(session: Any) -> int:
        query = select(func.coalesce(func.max(Notification.id), 0))
        if since is not None:
            query = query.where(Notification.created_at < since)
        return int(await session.scalar(query) or 0)

    return start


async def pending_direct_messages(
    uow: UnitOfWork, *, platform: str, consumer: str, limit: int = 100, since: datetime | None = None
) -> tuple[int, list[tuple[int, DirectMessage | None]]]:
    """(position, [(notification id, message or None when nothing is to be sent)]) after the position."""
    async with uow:
        position = await lock_position(uow.session, consumer, _start_before(since), utcnow())
        await uow.commit()
        if position is None:
            return 0, []
        rows = list(
            await uow.session.scalars(
                select(Notification).where(Notification.id > position).order_by(Notification.id).limit(limit)
            )
        )
        members = await memberships_among(
            uow.session,
            {row.project_id for row in rows if row.project_id is not None},
            {row.user_id for row in rows},
        )
    wanted = {
        row.id
        for row in rows
        if getattr(row, f"deliver_{platform}") == "immediate"
        and receives_notification(row.project_id, row.user_id, members)
    }
    accounts = await chat_accounts_of(uow, platform, {row.user_id for row in rows if row.id in wanted})
    found: list[tuple[int, DirectMessage | None]] = []
    for row in rows:
        mine = accounts.get(row.user_id) if row.id in wanted else None
        found.append((row.id, DirectMessage(notification_view(row), mine) if mine else None))
    return position, found


async def advance(uow: UnitOfWork, consumer: str, position: int) -> None:
    async with uow:
        await advance_position(uow.session, consumer, position, utcnow())
        await uow.commit()


def digest_consumer(platform: str, user_id: int) -> str:
    return f"{platform}-digest:{user_id}"


def _zone(preferences: dict[str, Any] | None) -> ZoneInfo:
    """A user's time zone: the one in their notification preferences (UTC unless they chose one)."""
    name = str(merged(preferences)["quiet_hours"].get("timezone") or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def due_digests(uow: UnitOfWork, *, platform: str, now: datetime, hour: int) -> list[Digest]:
    """The digests to send at `now`: users with an account on the platform for whom it is past `hour`
    o'clock in their own time zone and whose digest did not run on their local today yet. A digest may
    be empty (nothing to say): the caller still marks it done so the day counts."""
    async with uow:
        due = await _due(uow.session, platform, now, hour)
        accounts = await _accounts(uow, platform, {uid for uid, _ in due})
        member_of = await _projects_of(uow.session, {uid for uid, _ in due})
        digests: list[Digest] = []
        for user_id, after in due:
            rows = await _digest_rows(uow.session, platform, user_id, after, now)
            position = rows[-1].id if rows else (after or 0)
            members = {(project_id, user_id) for project_id in member_of.get(user_id, ())}
            kept = [r for r in rows if receives_notification(r.project_id, user_id, members)]
            digests.append(
                Digest(user_id, accounts.get(user_id, []), [notification_view(r) for r in kept], position)
            )
        return digests


async def _due(
    session: AsyncSession, platform: str, now: datetime, hour: int
) -> list[tuple[int, int | None]]:
    """(user id, digest position or None for a first digest) of the users whose digest is due at `now`."""
    users = list(
        await session.execute(
            select(User.id, User.preferences)
            .where(User.id.in_(select(ChatIdentity.user_id).where(ChatIdentity.platform == platform)))
            .order_by(User.id)
        )
    )
    positions = {
        row.name: row
        for row in await session.scalars(
            select(ConsumerPosition).where(ConsumerPosition.name.like(f"{platform}-digest:%"))
        )
    }
    due: list[tuple[int, int | None]] = []
    for user_id, prefs in users:
        zone = _zone(prefs)
        local = now.astimezone(zone)
        if local.hour < hour:
            continue
        row = positions.get(digest_consumer(platform, user_id))
        if row is not None and _aware(row.updated_at).astimezone(zone).date() >= local.date():
            continue  # already ran on the user's local today
        due.append((user_id, row.position if row is not None else None))
    return due


async def _projects_of(session: AsyncSession, user_ids: set[int]) -> dict[int, set[int]]:
    """The ids of the projects each user is a member of."""
    member_of: dict[int, set[int]] = {}
    rows = await session.execute(
        select(Membership.project_id, Membership.user_id).where(Membership.user_id.in_(user_ids))
    )
    for project_id, user_id in rows.all():
        member_of.setdefault(user_id, set()).add(project_id)
    return member_of


async def _digest_rows(
    session: AsyncSession, platform: str, user_id: int, after: int | None, now: datetime
) -> list[Notification]:
    """A user's digest notifications after their position (a first digest: those of the last day)."""
    query = select(Notification).where(Notification.user_id == user_id, _column(platform) == "digest")
    if after is None:
        query = query.where(Notification.created_at >= now - timedelta(days=1))
    else:
        query = query.where(Notification.id > after)
    return list(await session.scalars(query.order_by(Notification.id).limit(200)))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; ours are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _accounts(uow: UnitOfWork, platform: str, user_ids: set[int]) -> dict[int, list[ChatUser]]:
    rows = await uow.session.scalars(
        select(ChatIdentity).where(ChatIdentity.platform == platform, ChatIdentity.user_id.in_(user_ids))
    )
    found: dict[int, list[ChatUser]] = {}
    for row in rows:
        found.setdefault(row.user_id, []).append(ChatUser(row.platform, row.team_id, row.external_id))
    return found


async def mark_digest_sent(
    uow: UnitOfWork, *, platform: str, user_id: int, position: int, now: datetime
) -> None:
    name = digest_consumer(platform, user_id)
    async with uow:
        row = await uow.session.get(ConsumerPosition, name)
        if row is None:
            uow.session.add(ConsumerPosition(name=name, position=position, updated_at=now))
        else:
            row.position = position
            row.updated_at = now
        await uow.commit()
