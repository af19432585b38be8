"""The board summary a subscribed channel may keep pinned: counts per status, today's changes, and who
works on what. Read on behalf of the subscription (whose creator was allowed to relay the project)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from hub.adapters.db.models import Event, Project, Ticket
from hub.adapters.db.uow import UnitOfWork


async def project_summary(uow: UnitOfWork, project_id: int, now: datetime) -> dict[str, Any] | None:
    async with uow:
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
            .where(Event.project_id == project_id, Event.created_at >= midnight, Event.type.like("ticket.%"))
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
