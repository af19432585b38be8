"""The project's activity: the events table and its archive (`events_archive`, filled by retention,
`hub.services.retention`), read as one stream in id order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event
from hub.adapters.db.retention_models import EventArchive
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import ValidationFailed
from hub.domain.identity import Actor
from hub.domain.limits import BIGINT_MAX
from hub.services.access import authorize
from hub.services.policy import Action, can_see_event
from hub.services.views import event_view

MAX_LIMIT = 500


def check_page(*, before: int | None, limit: int, after: int = 0, max_limit: int = MAX_LIMIT) -> None:
    """ValidationFailed naming each paging argument (`after`, `before`, `limit`) out of range: the
    one rule for every events feed (the project's activity, a ticket's timeline)."""
    errors: dict[str, str] = {}
    if not 0 <= after <= BIGINT_MAX:
        errors["after"] = f"must be between 0 and {BIGINT_MAX}"
    if before is not None and not 1 <= before <= BIGINT_MAX:
        errors["before"] = f"must be between 1 and {BIGINT_MAX}"
    if not 1 <= limit <= max_limit:
        errors["limit"] = f"must be between 1 and {max_limit}"
    if errors:
        raise ValidationFailed("invalid query", fields=errors)


async def list_events(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    *,
    after: int = 0,
    before: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Events of one project with id > `after` that the actor's role may see (`policy.can_see_event`),
    oldest first; `next_after` continues the walk (past hidden events too, so a page may hold fewer than
    `limit` items while more follow). With `before`: ids in (`after`, `before`), newest first, and
    `next_before` continues backwards (None once the page reached `after`)."""
    check_page(after=after, before=before, limit=limit)
    async with uow:
        role = await authorize(uow.session, project_id, actor, Action.READ)
        rows = await _page(uow.session, project_id, after, before, limit)
    items = [event_view(e) for e in rows if can_see_event(role, actor.id, e.type, e.payload)]
    if before is None:
        return {"items": items, "next_after": rows[-1].id if rows else after, "next_before": None}
    next_before = rows[-1].id if len(rows) == limit else None
    return {"items": items, "next_after": after, "next_before": next_before}


async def _page(
    session: AsyncSession, project_id: int, after: int, before: int | None, limit: int
) -> list[Event]:
    """Up to `limit` events from both tables, ascending (or descending with `before`). An id is in one
    table at a time (retention moves it in one transaction), so merging needs no de-duplication."""
    archived = select(EventArchive).where(EventArchive.project_id == project_id, EventArchive.id > after)
    current = select(Event).where(Event.project_id == project_id, Event.id > after)
    if before is not None:
        archived = archived.where(EventArchive.id < before).order_by(EventArchive.id.desc())
        current = current.where(Event.id < before).order_by(Event.id.desc())
    else:
        archived, current = archived.order_by(EventArchive.id), current.order_by(Event.id)
    found = [as_event(row) for row in await session.scalars(archived.limit(limit))]
    found.extend(await session.scalars(current.limit(limit)))
    found.sort(key=lambda e: e.id, reverse=before is not None)
    return found[:limit]


def as_event(row: EventArchive) -> Event:
    """An archived event as an `Event` (not added to any session), so feeds read both tables alike."""
    return Event(
        id=row.id,
        project_id=row.project_id,
        actor_id=row.actor_id,
        type=row.type,
        payload=row.payload,
        request_id=row.request_id,
        created_at=row.created_at,
        ticket_id=row.ticket_id,
    )
