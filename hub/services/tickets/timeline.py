"""A ticket's history: its `ticket.*` and `comment.*` events, newest first, from the outbox and its
archive (`events_archive`) as one stream, read by `ticket_id` (indexed on both tables, so a busy
project's other events are never scanned). Each event is shown to whom the activity feed shows it
(`policy.can_see_event`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event, User
from hub.adapters.db.retention_models import EventArchive
from hub.adapters.db.uow import UnitOfWork
from hub.domain.events import COMMENT_EVENTS
from hub.domain.identity import Actor
from hub.services.policy import Action, can_see_event
from hub.services.projects.activity import as_event, check_page
from hub.services.tickets.tickets import visible_ticket
from hub.services.views import iso

MAX_LIMIT = 200
#: How much of a comment's body a timeline item carries.
EXCERPT_CHARS = 200


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a comment's text on one line, cut at `limit` characters with an ellipsis."""
    text = " ".join(str(body).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def timeline_item(event: Event, names: dict[int, str]) -> dict[str, Any]:
    """One event as the timeline shows it: who, when, from where, what changed (and which comment)."""
    payload = event.payload or {}
    actor = None
    if event.actor_id is not None and event.actor_id in names:
        actor = {"id": event.actor_id, "name": names[event.actor_id]}
    item: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "created_at": iso(event.created_at),
        "actor": actor,
        "origin": payload.get("origin"),
    }
    if isinstance(payload.get("changes"), dict):
        item["changes"] = payload["changes"]
    comment = payload.get("comment")
    if event.type in COMMENT_EVENTS and isinstance(comment, dict):
        item["comment"] = {"id": comment.get("id"), "excerpt": excerpt(comment.get("body") or "")}
    return item


async def ticket_events(
    uow: UnitOfWork, actor: Actor, ref: int | str, *, before: int | None = None, limit: int = 50
) -> dict[str, Any]:
    """The ticket's events with id < `before` (all, without it), newest first, at most `limit`;
    `next_before` continues the walk (None at the ticket's first event). NotFound for a ticket the
    actor may not see."""
    check_page(before=before, limit=limit, max_limit=MAX_LIMIT)
    async with uow:
        ticket, role = await visible_ticket(uow, actor, ref, Action.READ)
        rows = await _page(uow.session, ticket.project_id, ticket.id, before, limit)
        visible = [e for e in rows if can_see_event(role, actor.id, e.type, e.payload)]
        names = await _names(uow.session, {e.actor_id for e in visible if e.actor_id is not None})
    return {
        "items": [timeline_item(e, names) for e in visible],
        "next_before": rows[-1].id if len(rows) == limit else None,
    }


def page_queries(
    project_id: int, ticket_id: int, before: int | None, limit: int
) -> tuple[Select[Event], Select[EventArchive]]:
    """The two statements of a page: the outbox's and the archive's, each by the `ticket_id` index."""
    current = select(Event).where(Event.ticket_id == ticket_id, Event.project_id == project_id)
    archived = select(EventArchive).where(
        EventArchive.ticket_id == ticket_id, EventArchive.project_id == project_id
    )
    if before is not None:
        current = current.where(Event.id < before)
        archived = archived.where(EventArchive.id < before)
    return (
        current.order_by(Event.id.desc()).limit(limit),
        archived.order_by(EventArchive.id.desc()).limit(limit),
    )


async def _page(
    session: AsyncSession, project_id: int, ticket_id: int, before: int | None, limit: int
) -> list[Event]:
    """Up to `limit` of the ticket's events from both tables, newest first (an id is in one table at a
    time, see `activity._page`)."""
    current, archived = page_queries(project_id, ticket_id, before, limit)
    found = list(await session.scalars(current))
    found.extend(as_event(row) for row in await session.scalars(archived))
    found.sort(key=lambda e: e.id, reverse=True)
    return found[:limit]


async def _names(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
    return {int(user_id): str(name) for user_id, name in rows.all()}
