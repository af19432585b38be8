"""Notifications for chat: the immediate DMs and the daily digests, as routing decided them.

Routing (`services/notifications/routing.py`) stores per destination what each notification should do
(`deliver_slack`, `deliver_discord`: immediate, digest or off). The chat bots only read that decision:

- **immediate** — a durable consumer of `notifications` by id (row `{platform}-dm` in
  `consumer_positions`; a new one starts at the newest notification). Notification ids become visible
  in id order like event ids (they are written under the same outbox lock).
- **digest** — once a day per user, at the digest hour of the user's own time zone (the one in their
  notification preferences; UTC unless they chose one). Row `{platform}-digest:{user_id}`: its
  position is the last notification included, its `updated_at` the time of the last digest run.
  One destination per user and platform, whatever the number of workspaces (guilds) they linked:
  `Digest.accounts` lists their accounts most recently linked first, and the bot sends to the first
  that can take messages. A digest the platform refused is tried again `retry_seconds` later (row
  `{platform}-digest-attempts:{user_id}`: attempts so far today, the last one's time) up to the
  bot's limit, then given up for the day: the day counts as done but the position stays, so its
  notifications come with the next day's digest (`give_up_digest`).

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
from hub.adapters.db.horizon import safe_horizon
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
    #: Where it stays if the digest is given up (the notifications wait for the next one).
    kept_position: int = 0
    #: Attempts already made today that the platform refused.
    attempts: int = 0


def _column(platform: str) -> Any:
    return getattr(Notification, f"deliver_{platform}")


def _start_before(since: datetime | None, safe: int) -> Any:
    """A new consumer starts after the notifications older than `since` (the bot's start): no flood of
    history, and nothing made while the bot was starting up is skipped (never past the safe horizon
    `safe`: a lower id may still be committing)."""

    async def start(session: Any) -> int:
        query = select(func.coalesce(func.max(Notification.id), 0))
        if since is not None:
            query = query.where(Notification.created_at < since)
        return min(int(await session.scalar(query) or 0), safe)

    return start


async def pending_direct_messages(
    uow: UnitOfWork, *, platform: str, consumer: str, limit: int = 100, since: datetime | None = None
) -> tuple[int, list[tuple[int, DirectMessage | None]]]:
    """(position, [(notification id, message or None when nothing is to be sent)]) after the position,
    never past the safe horizon (`hub.adapters.db.horizon`: notification ids commit out of order too)."""
    safe = (await safe_horizon(uow.db)).notifications
    async with uow:
        position = await lock_position(uow.session, consumer, _start_before(since, safe), utcnow())
        await uow.commit()
        if position is None:
            return 0, []
        query = select(Notification).where(Notification.id > position, Notification.id <= safe)
        rows = list(await uow.session.scalars(query.order_by(Notification.id).limit(limit)))
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


def attempts_consumer(platform: str, user_id: int) -> str:
    return f"{platform}-digest-attempts:{user_id}"


def _zone(preferences: dict[str, Any] | None) -> ZoneInfo:
    """A user's time zone: the one in their notification preferences (UTC unless they chose one)."""
    name = str(merged(preferences)["quiet_hours"].get("timezone") or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def due_digests(
    uow: UnitOfWork, *, platform: str, now: datetime, hour: int, retry_seconds: float = 300
) -> list[Digest]:
    """The digests to send at `now`: users with an account on the platform for whom it is past `hour`
    o'clock in their own time zone and whose digest did not run on their local today yet (nor was
    refused less than `retry_seconds` ago). A digest may be empty (nothing to say): the caller still
    marks it done so the day counts."""
    async with uow:
        due = await _due(uow.session, platform, now, hour, retry_seconds)
        accounts = await _accounts(uow, platform, {uid for uid, _, _ in due})
        member_of = await _projects_of(uow.session, {uid for uid, _, _ in due})
        digests: list[Digest] = []
        for user_id, after, attempts in due:
            rows = await _digest_rows(uow.session, platform, user_id, after, now)
            position = rows[-1].id if rows else (after or 0)
            kept_position = after if after is not None else (rows[0].id - 1 if rows else 0)
            members = {(project_id, user_id) for project_id in member_of.get(user_id, ())}
            kept = [r for r in rows if receives_notification(r.project_id, user_id, members)]
            views = [notification_view(r) for r in kept]
            digests.append(
                Digest(user_id, accounts.get(user_id, []), views, position, kept_position, attempts)
            )
        return digests


async def _due(
    session: AsyncSession, platform: str, now: datetime, hour: int, retry_seconds: float
) -> list[tuple[int, int | None, int]]:
    """(user id, digest position or None for a first digest, refused attempts today) of the users
    whose digest is due at `now`."""
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
            select(ConsumerPosition).where(
                ConsumerPosition.name.like(f"{platform}-digest:%")
                | ConsumerPosition.name.like(f"{platform}-digest-attempts:%")
            )
        )
    }
    due: list[tuple[int, int | None, int]] = []
    for user_id, prefs in users:
        zone = _zone(prefs)
        local = now.astimezone(zone)
        if local.hour < hour:
            continue
        row = positions.get(digest_consumer(platform, user_id))
        if row is not None and _aware(row.updated_at).astimezone(zone).date() >= local.date():
            continue  # already ran on the user's local today
        attempts = _attempts_today(positions.get(attempts_consumer(platform, user_id)), zone, local)
        if attempts is not None and attempts[1] + timedelta(seconds=retry_seconds) > now:
            continue  # refused a moment ago: wait before trying again
        due.append((user_id, row.position if row is not None else None, attempts[0] if attempts else 0))
    return due


def _attempts_today(
    row: ConsumerPosition | None, zone: ZoneInfo, local: datetime
) -> tuple[int, datetime] | None:
    """(refused attempts, the last one's time) when the last was on the user's local today."""
    if row is None:
        return None
    last = _aware(row.updated_at)
    return (int(row.position), last) if last.astimezone(zone).date() == local.date() else None


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
        select(ChatIdentity)
        .where(ChatIdentity.platform == platform, ChatIdentity.user_id.in_(user_ids))
        .order_by(ChatIdentity.linked_at.desc(), ChatIdentity.id.desc())  # most recently linked first
    )
    found: dict[int, list[ChatUser]] = {}
    for row in rows:
        found.setdefault(row.user_id, []).append(ChatUser(row.platform, row.team_id, row.external_id))
    return found


async def mark_digest_sent(
    uow: UnitOfWork, *, platform: str, user_id: int, position: int, now: datetime
) -> None:
    """The day's digest is done (sent, or given up with `position` kept); refused attempts forgotten."""
    async with uow:
        await _put(uow.session, digest_consumer(platform, user_id), position, now)
        attempts = await uow.session.get(ConsumerPosition, attempts_consumer(platform, user_id))
        if attempts is not None:
            await uow.session.delete(attempts)
        await uow.commit()


async def record_digest_refusal(
    uow: UnitOfWork, *, platform: str, user_id: int, attempts: int, now: datetime
) -> None:
    """The platform refused the digest: `attempts` refusals so far today (the next waits for the
    retry interval)."""
    async with uow:
        await _put(uow.session, attempts_consumer(platform, user_id), attempts, now)
        await uow.commit()


async def give_up_digest(uow: UnitOfWork, *, platform: str, digest: Digest, now: datetime) -> None:
    """Stop trying today's digest: the day counts as done, its notifications wait for the next one."""
    await mark_digest_sent(
        uow, platform=platform, user_id=digest.user_id, position=digest.kept_position, now=now
    )


async def _put(session: AsyncSession, name: str, position: int, now: datetime) -> None:
    row = await session.get(ConsumerPosition, name)
    if row is None:
        session.add(ConsumerPosition(name=name, position=position, updated_at=now))
    else:
        row.position = position
        row.updated_at = now
