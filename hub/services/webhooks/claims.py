"""Claiming due deliveries for a worker: leases, per-endpoint lanes, fairness across endpoints.

A worker claims *lanes*: for one endpoint, its oldest due deliveries (up to `lane_size`, in id order),
leased to the worker until `lease_until`. A lane is sent one message at a time, so an endpoint has at
most `endpoint_concurrency` messages in flight (lanes held by any worker), order is kept while the
receiver keeps up, and a slow receiver holds one slot, never all of them. Endpoints are served oldest
due message first, so a backlog on one endpoint does not hide fresh messages of the others for long.

Several workers: on PostgreSQL the endpoints of a claim are locked with `FOR NO KEY UPDATE SKIP LOCKED`
(so concurrent claimers pick different endpoints and never block fan-out inserts), and the endpoint's
active leases are counted again after the lock, in a fresh snapshot, before leasing anything. A
delivery is therefore leased to one lane at a time. SQLite runs each claim under `BEGIN IMMEDIATE`,
which serialises claimers outright. A worker that dies leaves its leases to expire; the deliveries
are then claimable again (at-least-once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, distinct, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import WebhookDelivery as D
from hub.adapters.db.webhook_models import WebhookEndpoint as E
from hub.services.webhooks.endpoints import active_secrets


@dataclass(frozen=True)
class Claimed:
    """One leased delivery with what is needed to send it."""

    id: int
    endpoint_id: int
    msg_id: str
    body: str
    attempt_count: int
    retry_step: int
    url: str
    secrets: tuple[str, ...]
    owner: str
    lease_until: datetime


@dataclass(frozen=True)
class Lane:
    endpoint_id: int
    owner: str
    lease_until: datetime
    deliveries: list[Claimed]


@dataclass(frozen=True)
class Claim:
    lanes: list[Lane]
    #: When something may next become due (None: nothing is queued).
    next_due: datetime | None = None
    #: Due work was there but other workers held it: look again soon.
    contended: bool = False


def _due(now: datetime) -> ColumnElement[bool]:
    return (
        (D.status == "pending")
        & (D.next_attempt_at <= now)
        & or_(D.lease_until.is_(None), D.lease_until <= now)
    )


async def _lanes_in_use(
    session: AsyncSession, now: datetime, endpoint_ids: list[int] | None
) -> dict[int, int]:
    query = select(D.endpoint_id, func.count(distinct(D.locked_by))).where(D.lease_until > now)
    if endpoint_ids is not None:
        query = query.where(D.endpoint_id.in_(endpoint_ids))
    rows = await session.execute(query.group_by(D.endpoint_id))
    return {endpoint_id: int(count) for endpoint_id, count in rows}


async def _next_due(session: AsyncSession, now: datetime, full: set[int]) -> datetime | None:
    """The earliest moment a delivery of a free endpoint becomes due, or a lease runs out."""
    waiting = (
        select(func.min(D.next_attempt_at))
        .join(E, E.id == D.endpoint_id)
        .where(D.status == "pending", E.enabled, or_(D.lease_until.is_(None), D.lease_until <= now))
    )
    if full:
        waiting = waiting.where(D.endpoint_id.not_in(full))
    leases = select(func.min(D.lease_until)).where(D.lease_until > now)
    times = [await session.scalar(waiting), await session.scalar(leases)]
    present = [t for t in times if t is not None]
    return min(present) if present else None


async def claim(
    uow: UnitOfWork,
    *,
    now: datetime,
    owner: str,
    slots: int,
    lane_size: int,
    lease_seconds: float,
    endpoint_concurrency: int = 1,
) -> Claim:
    """Lease up to `slots` lanes of due deliveries to `owner` until now + `lease_seconds`."""
    lease_until = now + timedelta(seconds=lease_seconds)
    async with uow:
        session = uow.session
        in_use = await _lanes_in_use(session, now, None)
        full = {e for e, n in in_use.items() if n >= endpoint_concurrency}
        candidates_query = (
            select(D.endpoint_id, func.min(D.next_attempt_at).label("due"))
            .join(E, E.id == D.endpoint_id)
            .where(_due(now), E.enabled)
            .group_by(D.endpoint_id)
            .order_by(func.min(D.next_attempt_at), D.endpoint_id)
            .limit(slots)
        )
        if full:
            candidates_query = candidates_query.where(D.endpoint_id.not_in(full))
        candidates = [row[0] for row in await session.execute(candidates_query)]
        if not candidates:
            next_due = await _next_due(session, now, full)
            await uow.commit()
            return Claim([], next_due)
        locked = set(
            await session.scalars(
                select(E.id)
                .where(E.id.in_(candidates), E.enabled)
                .order_by(E.id)
                .with_for_update(skip_locked=True, key_share=True)
            )
        )
        # Fresh snapshot, after the lock: a lane another worker committed meanwhile counts too.
        in_use = await _lanes_in_use(session, now, sorted(locked)) if locked else {}
        chosen = [e for e in candidates if e in locked and in_use.get(e, 0) < endpoint_concurrency]
        if not chosen:
            await uow.commit()
            return Claim([], contended=True)
        lanes = await _lease(session, chosen, now, owner, lane_size, lease_until)
        await uow.commit()
        return Claim(lanes)


async def _lease(
    session: AsyncSession, chosen: list[int], now: datetime, owner: str, lane_size: int, lease_until: datetime
) -> list[Lane]:
    parts = [
        select(D.id, D.endpoint_id, D.msg_id, D.body, D.attempt_count, D.retry_step)
        .where(D.endpoint_id == endpoint_id, _due(now))
        .order_by(D.id)
        .limit(lane_size)
        .subquery()
        for endpoint_id in chosen
    ]
    rows = list(await session.execute(union_all(*(select(part) for part in parts))))
    if not rows:
        return []
    endpoints: dict[int, Any] = {
        row.id: row
        for row in await session.execute(
            select(E.id, E.url, E.secret, E.previous_secret, E.previous_secret_expires_at).where(
                E.id.in_(chosen)
            )
        )
    }
    ids = [row.id for row in rows]
    await session.execute(
        update(D).where(D.id.in_(ids)).values(lease_until=lease_until, locked_by=owner),
        execution_options={"synchronize_session": False},
    )
    by_endpoint: dict[int, list[Claimed]] = {e: [] for e in chosen}
    for row in sorted(rows, key=lambda r: r.id):
        endpoint = endpoints[row.endpoint_id]
        secrets = active_secrets(
            endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_expires_at, now
        )
        by_endpoint[row.endpoint_id].append(
            Claimed(
                id=row.id,
                endpoint_id=row.endpoint_id,
                msg_id=row.msg_id,
                body=row.body,
                attempt_count=row.attempt_count,
                retry_step=row.retry_step,
                url=endpoint.url,
                secrets=tuple(secrets),
                owner=owner,
                lease_until=lease_until,
            )
        )
    return [Lane(e, owner, lease_until, items) for e, items in by_endpoint.items() if items]
