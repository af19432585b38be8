"""The board summary a subscribed channel may keep pinned: counts per status, today's changes, and who
works on what. Read on behalf of the subscription: only while its creator may still relay the project
(a paused subscription gets no summary)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from hub.adapters.db.chat_models import ChatSubscription
from hub.adapters.db.models import Event, Project, Ticket
from hub.adapters.db.uow import UnitOfWork
from hub.domain.events import TICKET_EVENTS
from hub.services.chat.subscriptions import relays, with_creator_access


async def project_summary(
    uow: UnitOfWork, project_id: int, now: datetime, *, subscription_id: int | None = None
) -> dict[str, Any] | None:
    """The summary, or None when the project is gone or `subscription_id` is gone or paused."""
    async with uow:
        if subscription_id is not None:
            query = with_creator_access(select(ChatSubscription))
            found = (await uow.session.execute(query.where(ChatSubscription.id == subscription_id))).first()
            if found is None or not relays(found[1], found[2]):
                return None
        project = await uow.session.get(Project, project_id)
        if project is None:
            return None
        counts = dict(
            (
                await uow.session.execute(
                    select(Ticket.status, func.count())
                    .where(Ticket.project_id == project_id)
                    .group_by(Ticket.status)
                )
            ).all()
        )
        midnight = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
        changed = await uow.session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.project_id == project_id,
                Event.created_at >= midnight,
                Event.type.in_(sorted(TICKET_EVENTS)),
            )
        )
        in_progress = await uow.session.scalars(
            select(Ticket)
            .options(joinedload(Ticket.assignee), joinedload(Ticket.project))
            .where(Ticket.project_id == project_id, Ticket.status == "in_progress")
            .order_by(Ticket.number)
        )
        working: dict[str, list[str]] = {}
        for ticket in in_progress:
            name = ticket.assignee.name if ticket.assignee else "nobody"
            working.setdefault(name, []).append(ticket.key)
    return {
        "project": {"id": project.id, "key": project.key, "name": project.name},
        "counts": {str(k): int(v) for k, v in counts.items()},
        "changed_today": int(changed or 0),
        "working": [{"name": name, "tickets": keys} for name, keys in sorted(working.items())],
    }
