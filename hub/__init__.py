"""Switchboard hub. `hub.notify(...)` sends a custom notification, like the seed's `send_notification`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.context import HubContext


async def notify(
    user_id: int,
    notification_type: str = "custom",
    title: str = "",
    message: str = "",
    *,
    project_id: int | None = None,
    ticket_id: int | None = None,
    context: HubContext | None = None,
) -> int:
    """Store a notification for `user_id` and deliver it live on every socket they have open, on any
    instance (and to their chat DMs, by their preferences). Inside a request or app context the hub's
    own context is used; elsewhere pass `context`. Returns the id of the event that carries it."""
    from hub.services.notifications import send_custom

    if context is None:
        from quart import current_app

        context = current_app.extensions["switchboard"]
    assert context is not None
    return await send_custom(
        context.uow(),
        user_id,
        notification_type=notification_type,
        title=title,
        message=message,
        project_id=project_id,
        ticket_id=ticket_id,
    )
