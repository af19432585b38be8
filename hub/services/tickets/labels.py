"""The labels a project uses, with how many of its tickets carry each (for filters and pickers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hub.adapters.db.models import Ticket, TicketLabel
from hub.adapters.db.uow import UnitOfWork
from hub.domain.identity import Actor
from hub.services.access import authorize
from hub.services.policy import Action

#: At most this many labels are listed (the most used).
MAX_LABELS = 500


async def project_labels(uow: UnitOfWork, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    """`[{name, count}]` over the project's tickets, most used first (then by name); every member,
    viewers included; NotFound for outsiders."""
    async with uow:
        await authorize(uow.session, project_id, actor, Action.READ)
        count = func.count().label("count")
        rows = await uow.session.execute(
            select(TicketLabel.name, count)
            .join(Ticket, Ticket.id == TicketLabel.ticket_id)
            .where(Ticket.project_id == project_id)
            .group_by(TicketLabel.name)
            .order_by(count.desc(), TicketLabel.name)
            .limit(MAX_LABELS)
        )
        return [{"name": str(name), "count": int(n)} for name, n in rows.all()]
