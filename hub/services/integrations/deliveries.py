"""The delivery log of an integration, and the claim that runs each delivery once.

Every request received at `/hooks/{id}` leaves one row. A delivery with a sender's id is *claimed* by
inserting its row with that id (`delivery_key`, unique per integration) in a transaction of its own
before anything is done: a retry, even one arriving while the first is still running, fails that
insert and is logged as `duplicate` without doing anything (PostgreSQL makes the second insert wait
for the first to commit; SQLite runs one writer at a time). A delivery that fails on our side
releases its id (the row stays, as `failed`, without it), so the sender's retry runs it again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from hub.adapters.db.integration_models import IntegrationDelivery
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import ValidationFailed
from hub.domain.identity import Actor
from hub.services.integrations.integrations import managed_integration
from hub.services.views import iso

EXCERPT_BYTES = 2048
MAX_LIMIT = 100
MAX_SUMMARY = 4000
VERDICTS = ("processing", "processed", "ignored", "invalid", "failed", "duplicate", "rejected", "disabled")


def excerpt(body: bytes) -> str:
    """The first 2 KiB of a body as storable text (invalid UTF-8 and NULs become U+FFFD)."""
    return body[:EXCERPT_BYTES].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def delivery_view(delivery: IntegrationDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "integration_id": delivery.integration_id,
        "delivery_key": delivery.delivery_key,
        "event": delivery.event,
        "verdict": delivery.verdict,
        "status_code": delivery.status_code,
        "summary": delivery.summary,
        "body": delivery.body,
        "received_at": iso(delivery.received_at),
        "finished_at": iso(delivery.finished_at),
    }


async def _insert(uow: UnitOfWork, values: dict[str, Any]) -> int | None:
    """Insert one log row; its id, or None when its `delivery_key` is taken (a duplicate).

    On PostgreSQL one autocommitted `INSERT … ON CONFLICT DO NOTHING RETURNING id` (one round trip
    instead of BEGIN, INSERT, COMMIT): an insert racing a claim of the same key still waits for that
    claim's transaction to end before it decides, so the key is claimed once."""
    if not uow.db.is_sqlite:
        statement = (
            pg_insert(IntegrationDelivery)
            .values(values)
            .on_conflict_do_nothing(index_elements=["integration_id", "delivery_key"])
            .returning(IntegrationDelivery.id)
        )
        async with uow.db.single_statements() as conn:
            found = (await conn.execute(statement)).scalar()
        return None if found is None else int(found)
    async with uow:
        row = IntegrationDelivery(**values)
        uow.session.add(row)
        try:
            await uow.session.flush()
            row_id = int(row.id)
            await uow.commit()
        except IntegrityError:
            await uow.rollback()
            return None
        return row_id


async def record(
    uow: UnitOfWork,
    integration_id: int,
    *,
    event: str,
    verdict: str,
    status_code: int,
    summary: str,
    body: bytes,
) -> int:
    """Log a request that claims nothing (rejected, duplicate, disabled); returns the row's id."""
    now = utcnow()
    row_id = await _insert(
        uow,
        {
            "integration_id": integration_id,
            "delivery_key": None,
            "event": event[:64],
            "verdict": verdict,
            "status_code": status_code,
            "summary": summary[:MAX_SUMMARY],
            "body": excerpt(body),
            "received_at": now,
            "finished_at": now,
        },
    )
    if row_id is None:  # pragma: no cover - a row without a key conflicts with nothing
        raise RuntimeError("a delivery without a key was refused as a duplicate")
    return row_id


async def claim(uow: UnitOfWork, integration_id: int, key: str, *, event: str, body: bytes) -> int | None:
    """Claim delivery `key`: the new row's id, or None when it was claimed before (a duplicate)."""
    return await _insert(
        uow,
        {
            "integration_id": integration_id,
            "delivery_key": key[:200],
            "event": event[:64],
            "verdict": "processing",
            "status_code": 202,
            "summary": "",
            "body": excerpt(body),
            "received_at": utcnow(),
            "finished_at": None,
        },
    )


async def claimed_by(uow: UnitOfWork, integration_id: int, key: str) -> IntegrationDelivery | None:
    async with uow:
        return await uow.session.scalar(
            select(IntegrationDelivery).where(
                IntegrationDelivery.integration_id == integration_id,
                IntegrationDelivery.delivery_key == key[:200],
            )
        )


async def finish(uow: UnitOfWork, delivery_id: int, *, verdict: str, status_code: int, summary: str) -> None:
    """Record how a claimed delivery ended; `failed` releases its id for the sender's retry (one
    autocommitted UPDATE on PostgreSQL)."""
    values: dict[str, Any] = {
        "verdict": verdict,
        "status_code": status_code,
        "summary": summary[:MAX_SUMMARY],
        "finished_at": utcnow(),
    }
    if verdict == "failed":
        values["delivery_key"] = None
    statement = update(IntegrationDelivery).where(IntegrationDelivery.id == delivery_id).values(**values)
    if not uow.db.is_sqlite:
        async with uow.db.single_statements() as conn:
            await conn.execute(statement)
        return
    async with uow:
        await uow.session.execute(statement)
        await uow.commit()


async def list_deliveries(
    uow: UnitOfWork,
    actor: Actor,
    integration_id: int,
    *,
    verdict: str | None = None,
    limit: int = 20,
    before: int | None = None,
) -> dict[str, Any]:
    """Received requests, newest first; filter by `verdict`, page with `before` (a delivery id)."""
    errors: dict[str, str] = {}
    if verdict is not None and verdict not in VERDICTS:
        errors["verdict"] = "must be one of " + ", ".join(VERDICTS)
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"must be between 1 and {MAX_LIMIT}"
    if errors:
        raise ValidationFailed("invalid query", fields=errors)
    query = select(IntegrationDelivery).where(IntegrationDelivery.integration_id == integration_id)
    if verdict is not None:
        query = query.where(IntegrationDelivery.verdict == verdict)
    if before is not None:
        query = query.where(IntegrationDelivery.id < before)
    async with uow:
        await managed_integration(uow, actor, integration_id)
        rows = list(await uow.session.scalars(query.order_by(IntegrationDelivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [delivery_view(r) for r in rows], "next_before": rows[-1].id if more and rows else None}
