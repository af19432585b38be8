"""Switchboard hub: push to users and sockets from your own code, like the seed's `send_notification`
and `send_to_channel_layer`.

    import hub
    await hub.notify(user_id, "deploy", "Deployed", "v2 is live")
    await hub.broadcast(project_id, "deploy.finished", {"version": "2.0"})

Both work from any Python process with the hub's settings (its environment or `.env`; `DATABASE_URL`
is what they use): inside a running hub they use its own context;
elsewhere (a script, a cron job, a task-queue worker) they connect with `load_settings()` for the call
and close again, or use the `context` you pass (`hub.context.build_context(settings)`, to reuse one
connection pool for many calls). Either way they write an event to the outbox in one transaction, and
every running hub instance delivers it to its sockets: at once when written inside a hub (published on
the bus), within about a second otherwise (each hub's outbox poll). Nothing is lost if no hub runs: the
notification is stored, and sockets that resume with `last_event_id` get both.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.context import HubContext

__all__ = ["broadcast", "notify"]


@contextlib.asynccontextmanager
async def _hub_context(context: HubContext | None) -> AsyncIterator[HubContext]:
    """`context`, else the running hub's (inside an app context), else one built from the settings
    for this call only."""
    if context is not None:
        yield context
        return
    from quart import current_app, has_app_context

    if has_app_context():
        yield current_app.extensions["switchboard"]
        return
    from hub.config import load_settings
    from hub.context import build_context

    standalone = build_context(load_settings())
    try:
        yield standalone
    finally:
        await standalone.db.dispose()


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
    instance (and to their chat DMs, by their preferences). Works inside a hub and in any other
    process with the hub's settings (see the module docstring). Returns the id of the event that
    carries it. ValidationFailed for an empty or too long title or type; NotFound for no such user."""
    from hub.services.notifications.notifications import send_custom

    async with _hub_context(context) as hub_context:
        return await send_custom(
            hub_context.uow(),
            user_id,
            notification_type=notification_type,
            title=title,
            message=message,
            project_id=project_id,
            ticket_id=ticket_id,
        )


async def broadcast(
    project_id: int, type: str, data: dict[str, Any], *, context: HubContext | None = None
) -> int:
    """Send `{"type": "broadcast", "event": type, "data": data}` to every tickets socket of the
    project, on every instance (the seed's `send_to_channel_layer`). Works inside a hub and in any
    other process with the hub's settings (see the module docstring). Returns the id of the event
    that carries it. ValidationFailed for a bad `type` or `data` (not a JSON object, or larger than
    BROADCAST_MAX_BYTES); NotFound for no such project."""
    from hub.services.projects.broadcast import broadcast as send_broadcast

    async with _hub_context(context) as hub_context:
        return await send_broadcast(
            hub_context.uow(),
            None,
            project_id,
            type,
            data,
            max_bytes=hub_context.settings.broadcast_max_bytes,
        )
