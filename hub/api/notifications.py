"""/api/notifications/*."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hub.api.deps import current_user, hub
from hub.api.schemas import NotificationList, NotificationOut, NotificationQuery, ReadAllOut
from hub.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/api/notifications")


@bp.get("")
@validate_querystring(NotificationQuery)
@validate_response(NotificationList)
async def list_notifications(query_args: NotificationQuery) -> dict[str, Any]:
    """Newest first, with the unread count; `unread=true` lists only unread ones."""
    user = await current_user()
    return await notifications.list_notifications(
        hub().uow(), user, unread=query_args.unread, limit=query_args.limit, before=query_args.before
    )


@bp.post("/<int:notification_id>/read")
@validate_response(NotificationOut)
async def mark_read(notification_id: int) -> dict[str, Any]:
    user = await current_user()
    return await notifications.mark_read(hub().uow(), user, notification_id)


@bp.post("/read-all")
@validate_response(ReadAllOut)
async def mark_all_read() -> dict[str, Any]:
    user = await current_user()
    return {"updated": await notifications.mark_all_read(hub().uow(), user)}
