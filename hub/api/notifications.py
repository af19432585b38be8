"""/api/notifications/*."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from hub.api.deps import current_user, hub
from hub.api.schemas import (
    NotificationList,
    NotificationOut,
    NotificationQuery,
    PreferencesIn,
    PreferencesOut,
    ReadAllOut,
)
from hub.services.notifications import notifications, preferences

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


prefs_bp = Blueprint("preferences", __name__, url_prefix="/api/me")


@prefs_bp.get("/preferences")
@validate_response(PreferencesOut)
async def get_preferences() -> dict[str, Any]:
    """Where each kind of notification goes (web, Slack, Discord: immediate, digest or off)."""
    user = await current_user()
    return await preferences.get_preferences(hub().uow(), user)


@prefs_bp.put("/preferences")
@validate_request(PreferencesIn)
@validate_response(PreferencesOut)
async def put_preferences(data: PreferencesIn) -> dict[str, Any]:
    """Change some preferences; types and quiet-hour fields you leave out stay as they are."""
    user = await current_user()
    return await preferences.update_preferences(hub().uow(), user, data.model_dump(exclude_unset=True))
