"""The project's activity: the events table, read in id order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.adapters.db.models import Event
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import ValidationFailed
from hub.domain.identity import Actor
from hub.domain.limits import BIGINT_MAX
from hub.services.access import authorize
from hub.services.policy import Action, can_see_event
from hub.services.views import event_view

MAX_LIMIT = 500


async def list_events(
    uow: UnitOfWork, actor: Actor, project_id: int, *, after: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Events of one project with id > `after` that the actor's role may see (`policy.can_see_event`),
    oldest first; `next_after` continues the walk (past hidden events too, so a page may hold fewer than
    `limit` items while more follow)."""
    errors: dict[str, str] = {}
    if not 0 <= after <= BIGINT_MAX:
        errors["after"] = f"must be between 0 and {BIGINT_MAX}"
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"must be between 1 and {MAX_LIMIT}"
    if errors:
        raise ValidationFailed("invalid query", fields=errors)
    async with uow:
        role = await authorize(uow.session, project_id, actor, Action.READ)
        rows = list(
            await uow.session.scalars(
                select(Event)
                .where(Event.project_id == project_id, Event.id > after)
                .order_by(Event.id)
                .limit(limit)
            )
        )
    items = [event_view(e) for e in rows if can_see_event(role, actor.id, e.type, e.payload)]
    return {"items": items, "next_after": rows[-1].id if rows else after}
