"""The webhook consumer of the outbox: turn committed events into delivery rows, durably.

The `events` table is read in id order from a position kept in `consumer_positions` (row `webhooks`).
One transaction reads a batch of events after the position, inserts a delivery for every enabled
endpoint of the event's project whose filter matches, and moves the position past the batch, so an
event is fanned out exactly once however often a worker dies, including events committed while no
worker ran. Each batch stops at the outbox's safe horizon (`hub.adapters.db.horizon`): on PostgreSQL
writers commit in parallel, and the position never passes an id whose transaction may still commit.

Several workers may call `fan_out` at once: on PostgreSQL the position row is locked with
`FOR UPDATE SKIP LOCKED` (the loser simply skips a round); SQLite serialises writers anyway.

The position row is kept by `hub.adapters.db.positions`, which the chat relays use too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.horizon import safe_horizon
from hub.adapters.db.models import Event
from hub.adapters.db.positions import advance_position, lock_position
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import WebhookDelivery, WebhookEndpoint
from hub.services.webhooks.endpoints import last_event_id
from hub.services.webhooks.messages import is_webhook_event, message_body, msg_id, subscribes

CONSUMER = "webhooks"
BATCH = 500


@dataclass(frozen=True)
class FanOut:
    events: int
    deliveries: int
    position: int | None


def _start_position(safe: int) -> Callable[[AsyncSession], Awaitable[int]]:
    async def start(session: AsyncSession) -> int:
        """Where the webhook consumer starts on its first run: no endpoint can miss an event from
        there, and no transaction can still commit below it (`safe`, the horizon).

        Endpoints only get events after their `events_after`, so older history need not be scanned.
        The newest id is read first: an endpoint created after that read has a larger `events_after`.
        """
        newest = min(await last_event_id(session), safe)
        oldest_cutoff = await session.scalar(
            select(func.min(WebhookEndpoint.events_after)).where(WebhookEndpoint.enabled)
        )
        return newest if oldest_cutoff is None else min(newest, int(oldest_cutoff))

    return start


async def any_enabled(uow: UnitOfWork) -> bool:
    """Whether any endpoint anywhere is enabled (when none is, the worker has nothing to do)."""
    async with uow:
        found = await uow.session.scalar(
            select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True)).limit(1)
        )
        return found is not None


async def fan_out(uow: UnitOfWork, now: datetime, *, batch: int = BATCH) -> FanOut:
    """Queue deliveries for the next batch of outbox events and advance the position past them."""
    safe = (await safe_horizon(uow.db)).events
    async with uow:
        session = uow.session
        position = await lock_position(session, CONSUMER, _start_position(safe), now)
        if position is None:
            return FanOut(0, 0, None)
        query = select(Event).where(Event.id > position, Event.id <= safe).order_by(Event.id).limit(batch)
        events = list(await session.scalars(query))
        if not events:
            await uow.commit()  # keeps a just-created position row
            return FanOut(0, 0, position)
        rows = await _delivery_rows(session, events, now)
        if rows:
            await session.execute(insert(cast(Table, WebhookDelivery.__table__)), rows)
        await advance_position(session, CONSUMER, events[-1].id, now)
        await uow.commit()
        return FanOut(len(events), len(rows), events[-1].id)


async def _delivery_rows(session: AsyncSession, events: list[Event], now: datetime) -> list[dict[str, Any]]:
    relevant = [e for e in events if e.project_id is not None and is_webhook_event(e.type)]
    if not relevant:
        return []
    endpoints = await session.execute(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.project_id,
            WebhookEndpoint.event_types,
            WebhookEndpoint.events_after,
        )
        .where(WebhookEndpoint.enabled, WebhookEndpoint.project_id.in_({e.project_id for e in relevant}))
        .order_by(WebhookEndpoint.id)
    )
    by_project: dict[int, list[Any]] = defaultdict(list)
    for endpoint in endpoints:
        by_project[endpoint.project_id].append(endpoint)
    rows: list[dict[str, Any]] = []
    for event in relevant:
        assert event.project_id is not None
        targets = [
            endpoint
            for endpoint in by_project.get(event.project_id, ())
            if event.id > endpoint.events_after and subscribes(endpoint.event_types, event.type)
        ]
        if not targets:
            continue
        body = message_body(event)
        for endpoint in targets:
            rows.append(
                {
                    "endpoint_id": endpoint.id,
                    "event_id": event.id,
                    "event_type": event.type,
                    "msg_id": msg_id(event.id, endpoint.id),
                    "body": body,
                    "status": "pending",
                    "attempt_count": 0,
                    "retry_step": 0,
                    "next_attempt_at": now,
                    "last_attempt_at": None,
                    "lease_until": None,
                    "locked_by": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return rows
