"""A user's notifications: list with unread counts, mark read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update

from hub.adapters.db.models import Notification, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import NotFound, ValidationFailed
from hub.domain.events import NotificationCustom
from hub.domain.identity import Actor
from hub.services.views import notification_view

MAX_LIMIT = 200


def _shown(user: Actor) -> ColumnElement[bool]:
    """The user's notifications the web shows (routing may have kept some for chat only)."""
    return and_(Notification.user_id == user.id, Notification.deliver_web != "off")


async def unread_count(uow: UnitOfWork, user: Actor) -> int:
    count = await uow.session.scalar(
        select(func.count()).select_from(Notification).where(_shown(user), Notification.read_at.is_(None))
    )
    return int(count or 0)


async def list_notifications(
    uow: UnitOfWork, user: Actor, *, unread: bool = False, limit: int = 50, before: int | None = None
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("invalid limit", fields={"limit": f"must be between 1 and {MAX_LIMIT}"})
    query = select(Notification).where(_shown(user))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    async with uow:
        rows = list(await uow.session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
        count = await unread_count(uow, user)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [notification_view(n) for n in rows],
        "unread_count": count,
        "next_before": rows[-1].id if more and rows else None,
    }


async def mark_read(uow: UnitOfWork, user: Actor, notification_id: int) -> dict[str, Any]:
    async with uow:
        notification = await uow.session.get(Notification, notification_id)
        if notification is None or notification.user_id != user.id:
            raise NotFound("no such notification")
        if notification.read_at is None:
            notification.read_at = utcnow()
        await uow.commit()
        return notification_view(notification)


async def mark_all_read(uow: UnitOfWork, user: Actor) -> int:
    async with uow:
        result = await uow.session.execute(
            update(Notification).where(_shown(user), Notification.read_at.is_(None)).values(read_at=utcnow())
        )
        await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)


async def send_custom(
    uow: UnitOfWork,
    user_id: int,
    *,
    notification_type: str = "custom",
    title: str,
    message: str = "",
    project_id: int | None = None,
    ticket_id: int | None = None,
) -> int:
    """Send a custom notification (what the seed's `send_notification` did), routed like any other:
    stored, delivered live on every socket the user has open, shown to the chat bots. Returns the
    id of the event that carries it."""
    errors: dict[str, str] = {}
    if not title.strip() or len(title) > 200:
        errors["title"] = "must be 1 to 200 characters"
    if not notification_type or len(notification_type) > 40:
        errors["notification_type"] = "must be 1 to 40 characters"
    if errors:
        raise ValidationFailed("invalid notification", fields=errors)
    async with uow:
        if await uow.session.get(User, user_id) is None:
            raise NotFound("no such user")
        event = uow.emit(
            NotificationCustom(user_id, notification_type, title, message, ticket_id),
            project_id=project_id,
            actor_id=None,
        )
        await uow.commit()
        return int(event.id)
