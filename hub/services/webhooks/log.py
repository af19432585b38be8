"""The delivery log of a webhook, and the admin's levers on it: redeliver, replay, test.

* `list_deliveries`: newest first, each with every attempt (time, status code, duration, error, the
  first 2 KiB of the response body), filtered by status, paged with `before`.
* `redeliver`: queue one delivery again, whatever its state; it keeps its `webhook-id`.
* `replay`: queue again every delivery of the endpoint created since a time that `failed` or was
  dropped (`dead`) — what a receiver missed during an outage.
* `send_test`: sign and send a `webhook.test` message now and report the receiver's answer; it is
  logged like any delivery but not retried (unless redelivered) and does not count towards disabling
  the endpoint.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, update

from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hub.adapters.webhooks.sender import WebhookSender
from hub.adapters.webhooks.signing import build_headers
from hub.domain.errors import Conflict, NotFound, ValidationFailed
from hub.domain.identity import Actor
from hub.services.views import iso
from hub.services.webhooks.endpoints import managed_endpoint, signing_secrets
from hub.services.webhooks.messages import TEST_EVENT, test_body

STATUSES = ("pending", "succeeded", "failed", "dead")
MAX_LIMIT = 100
REPLAYABLE = ("failed", "dead")


def attempt_view(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "attempted_at": iso(attempt.attempted_at),
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
        "response_body": attempt.response_body,
    }


def delivery_view(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "msg_id": delivery.msg_id,
        "status": delivery.status,
        "attempt_count": delivery.attempt_count,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "last_attempt_at": iso(delivery.last_attempt_at),
        "created_at": iso(delivery.created_at),
        "updated_at": iso(delivery.updated_at),
        "payload": orjson.loads(delivery.body),
        "attempts": [attempt_view(a) for a in attempts],
    }


async def _views(uow: UnitOfWork, deliveries: list[WebhookDelivery]) -> list[dict[str, Any]]:
    by_delivery: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        rows = await uow.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(by_delivery)))
            .order_by(WebhookAttempt.id)
        )
        for attempt in rows:
            by_delivery[attempt.delivery_id].append(attempt)
    return [delivery_view(d, by_delivery[d.id]) for d in deliveries]


async def list_deliveries(
    uow: UnitOfWork,
    actor: Actor,
    webhook_id: int,
    *,
    status: str | None = None,
    limit: int = 20,
    before: int | None = None,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if status is not None and status not in STATUSES:
        errors["status"] = "must be one of " + ", ".join(STATUSES)
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"must be between 1 and {MAX_LIMIT}"
    if errors:
        raise ValidationFailed("invalid query", fields=errors)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == webhook_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    async with uow:
        await managed_endpoint(uow, actor, webhook_id)
        rows = list(await uow.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": await _views(uow, rows), "next_before": rows[-1].id if more and rows else None}


async def _managed_delivery(uow: UnitOfWork, actor: Actor, delivery_id: int) -> WebhookDelivery:
    delivery = await uow.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("no such delivery")
    try:
        await managed_endpoint(uow, actor, delivery.endpoint_id)
    except NotFound:
        raise NotFound("no such delivery") from None
    return delivery


async def get_delivery(uow: UnitOfWork, actor: Actor, delivery_id: int) -> dict[str, Any]:
    async with uow:
        delivery = await _managed_delivery(uow, actor, delivery_id)
        return (await _views(uow, [delivery]))[0]


def _requeue_values(now: datetime) -> dict[str, Any]:
    return {
        "status": "pending",
        "retry_step": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "locked_by": None,
        "updated_at": now,
    }


async def redeliver(uow: UnitOfWork, actor: Actor, delivery_id: int) -> dict[str, Any]:
    """Queue a delivery again with a fresh retry schedule (409 while it is being sent, or disabled)."""
    async with uow:
        delivery = await _managed_delivery(uow, actor, delivery_id)
        endpoint = await uow.session.get(WebhookEndpoint, delivery.endpoint_id)
        assert endpoint is not None
        now = utcnow()
        if not endpoint.enabled:
            raise Conflict("the webhook is disabled; enable it first", fields={"enabled": "false"})
        if delivery.lease_until is not None and delivery.lease_until > now:
            raise Conflict("the delivery is being attempted right now")
        await uow.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**_requeue_values(now))
        )
        await uow.session.refresh(delivery)
        view = (await _views(uow, [delivery]))[0]
        await uow.commit()
        return view


async def replay(uow: UnitOfWork, actor: Actor, webhook_id: int, since: datetime) -> int:
    """Queue again the endpoint's failed and dropped deliveries created at or after `since`."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    async with uow:
        endpoint = await managed_endpoint(uow, actor, webhook_id)
        if not endpoint.enabled:
            raise Conflict("the webhook is disabled; enable it first", fields={"enabled": "false"})
        now = utcnow()
        result = await uow.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == webhook_id,
                WebhookDelivery.status.in_(REPLAYABLE),
                WebhookDelivery.event_type != TEST_EVENT,
                WebhookDelivery.created_at >= since,
            )
            .values(**_requeue_values(now))
        )
        await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)


async def send_test(
    uow: UnitOfWork, actor: Actor, webhook_id: int, *, sender: WebhookSender
) -> dict[str, Any]:
    """Send a signed `webhook.test` message now (even to a disabled endpoint) and report the answer."""
    async with uow:
        endpoint = await managed_endpoint(uow, actor, webhook_id)
        now = utcnow()
        body = test_body(webhook_id=endpoint.id, project_id=endpoint.project_id, actor_id=actor.id, now=now)
        url, keys = endpoint.url, signing_secrets(endpoint, now)
    message_id = f"msg_test_{secrets.token_hex(8)}"
    data = body.encode()
    attempted_at = utcnow()
    result = await sender.send(url, build_headers(keys, message_id, int(time.time()), data), data)
    async with uow:
        await managed_endpoint(uow, actor, webhook_id)
        delivery = WebhookDelivery(
            endpoint_id=webhook_id,
            event_id=None,
            event_type=TEST_EVENT,
            msg_id=message_id,
            body=body,
            status="succeeded" if result.success else "failed",
            attempt_count=1,
            retry_step=0,
            last_attempt_at=attempted_at,
            created_at=attempted_at,
            updated_at=utcnow(),
        )
        uow.session.add(delivery)
        await uow.session.flush()
        uow.session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                attempted_at=attempted_at,
                status_code=result.status_code,
                duration_ms=result.duration_ms,
                error=result.error,
                response_body=result.response_body,
            )
        )
        await uow.commit()
    return {
        "delivery_id": delivery.id,
        "msg_id": message_id,
        "success": result.success,
        "status_code": result.status_code,
        "duration_ms": result.duration_ms,
        "error": result.error,
        "response_body": result.response_body,
    }
