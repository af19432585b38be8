"""External ids of an integration (an alert group, a caller's id) and the tickets they stand for.

`claim` inserts the link before its ticket exists (ticket None), so two deliveries about one new
external id cannot both create a ticket: the second finds the link taken (unique per integration) and
updates instead. A link whose ticket was deleted (ticket None after `SET NULL`) is claimed again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.db.integration_models import IntegrationLink
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork

MAX_EXTERNAL_ID = 200
#: A claim older than this whose ticket never came (its delivery died) may be taken over.
STALE_CLAIM = timedelta(minutes=1)


@dataclass(frozen=True)
class Link:
    id: int
    ticket_id: int | None
    state: dict[str, Any]
    #: Whether this call made the link (so it is the one to create the ticket).
    new: bool


def hashed(prefix: str, text: str) -> str:
    """A fixed-length external id for text of any length (Alertmanager group keys)."""
    return f"{prefix}:{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()}"


async def find(uow: UnitOfWork, integration_id: int, external_id: str) -> Link | None:
    async with uow:
        row = await uow.session.scalar(
            select(IntegrationLink).where(
                IntegrationLink.integration_id == integration_id, IntegrationLink.external_id == external_id
            )
        )
        return None if row is None else Link(row.id, row.ticket_id, dict(row.state or {}), False)


async def claim(uow: UnitOfWork, integration_id: int, external_id: str) -> Link | None:
    """The link of `external_id`, made now (`new`) if there was none; None if another delivery is
    creating its ticket at this moment."""
    found = await find(uow, integration_id, external_id)
    if found is not None:
        return found if found.ticket_id is not None else await _reclaim(uow, found)
    now = utcnow()
    async with uow:
        row = IntegrationLink(
            integration_id=integration_id,
            external_id=external_id,
            ticket_id=None,
            state={"claimed_at": now.isoformat()},
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        try:
            await uow.session.flush()
            link = Link(row.id, None, {}, True)
            await uow.commit()
        except IntegrityError:
            await uow.rollback()
            return await find(uow, integration_id, external_id)
        return link


async def _reclaim(uow: UnitOfWork, link: Link) -> Link | None:
    """A link without a ticket: its ticket was deleted, or a creation is under way (or died). Take it
    over when its claim is older than a minute or it never was a claim (deleted ticket)."""
    now = utcnow()
    try:
        claimed = datetime.fromisoformat(str(link.state.get("claimed_at")))
    except ValueError:
        claimed = None
    if claimed is not None and claimed > now - STALE_CLAIM:
        return None
    async with uow:
        result = await uow.session.execute(
            update(IntegrationLink)
            .where(IntegrationLink.id == link.id, IntegrationLink.ticket_id.is_(None))
            .values(state={"claimed_at": now.isoformat()}, updated_at=now)
        )
        taken = bool(getattr(result, "rowcount", 0))
        await uow.commit()
    return Link(link.id, None, {}, True) if taken else None


async def save(uow: UnitOfWork, link_id: int, *, ticket_id: int | None, state: dict[str, Any]) -> None:
    async with uow:
        await uow.session.execute(
            update(IntegrationLink)
            .where(IntegrationLink.id == link_id)
            .values(ticket_id=ticket_id, state=state, updated_at=utcnow())
        )
        await uow.commit()


async def release(uow: UnitOfWork, link_id: int) -> None:
    """Give up a claim whose ticket could not be created (the next delivery may try again)."""
    async with uow:
        await uow.session.execute(
            update(IntegrationLink)
            .where(IntegrationLink.id == link_id, IntegrationLink.ticket_id.is_(None))
            .values(state={}, updated_at=utcnow())
        )
        await uow.commit()
