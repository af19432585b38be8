"""Recording what happened to claimed deliveries, and the endpoint-health rules that follow.

* 2xx: the delivery succeeded and the endpoint's failure record is cleared.
* Anything else (3xx included, network errors, timeouts, refused destinations): the delivery waits
  for the next step of the retry schedule and is `failed` once the schedule is exhausted.
* 429 or 503 with `Retry-After`: that wait replaces the schedule's, and the endpoint's other queued
  messages wait as long (the receiver asked for a pause, not for the next message).
* 410 Gone disables the endpoint at once; failing without a single success for `FAILING_LIMIT` (five
  days) disables it too. Disabling drops the endpoint's queued deliveries (`dead`), writes a
  `webhook.disabled` outbox event and notifies the project's admins and owners (`webhook_disabled`
  notifications, created in the same transaction by the unit of work's notification hook).

Every attempt is written twice: `begin_attempt` commits its row (with `INTERRUPTED` as its error) and
counts it in the delivery's `attempt_count` *before* the request is sent, and `record` fills in the
outcome afterwards. A worker killed mid-attempt therefore leaves a trace: the attempt stays in the log
as interrupted, and the message sent again after its lease runs out is the delivery's next attempt.

Many lanes' outcomes are written in one transaction (group commit). Only the lease holder's update
counts (`locked_by`), so a worker that lost its lease cannot overwrite a newer state; its attempt is
still logged.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from hub.adapters.db.models import Membership
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hub.adapters.webhooks.schedule import next_delay
from hub.adapters.webhooks.sender import AttemptResult
from hub.domain.enums import Role
from hub.domain.events import NotificationCustom, WebhookDisabled
from hub.services.webhooks.claims import Claimed
from hub.services.webhooks.endpoints import drop_pending

FAILING_LIMIT = timedelta(days=5)
ATTEMPT_RETENTION = timedelta(days=30)
RETRY_AFTER_STATUSES = (429, 503)
PRUNE_CHUNK = 5000
REASON_GONE = "the receiver answered 410 Gone"
REASON_FAILING = "every attempt failed for 5 days"
#: The type of the notification (a `NotificationCustom` event, as `notifications.send_custom` writes,
#: routed by `hub.services.notifications.routing`) each admin and owner gets.
NOTIFICATION_TYPE = "webhook_disabled"
#: The error of an attempt whose outcome never got recorded: its worker died while sending it.
INTERRUPTED = "interrupted: the worker stopped during the attempt; the receiver may have got it"

_D = cast(Table, WebhookDelivery.__table__)
_ATTEMPTS = cast(Table, WebhookAttempt.__table__)
_UPDATE_ATTEMPTED = (
    update(_D)
    .where(_D.c.id == bindparam("b_id"), _D.c.locked_by == bindparam("b_owner"))
    .values(
        status=bindparam("b_status"),
        attempt_count=bindparam("b_attempt_count"),
        retry_step=bindparam("b_retry_step"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        last_attempt_at=bindparam("b_last_attempt_at"),
        updated_at=bindparam("b_updated_at"),
        lease_until=None,
        locked_by=None,
    )
)
_UPDATE_ATTEMPT = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("b_id"))
    .values(
        status_code=bindparam("b_status_code"),
        duration_ms=bindparam("b_duration_ms"),
        error=bindparam("b_error"),
        response_body=bindparam("b_response_body"),
    )
)
_RELEASE = (
    update(_D)
    .where(_D.c.id == bindparam("b_id"), _D.c.locked_by == bindparam("b_owner"))
    .values(lease_until=None, locked_by=None)
)


@dataclass(frozen=True)
class Outcome:
    """An attempt of a claimed delivery (`result`), or its release unsent (`result` None)."""

    delivery: Claimed
    attempted_at: datetime | None = None
    result: AttemptResult | None = None
    #: The row `begin_attempt` wrote for this attempt (None: insert one now).
    attempt_id: int | None = None


async def begin_attempt(
    uow: UnitOfWork,
    delivery: Claimed,
    attempted_at: datetime,
    *,
    renew: Sequence[int] = (),
    lease_until: datetime | None = None,
) -> int | None:
    """Log an attempt as `INTERRUPTED` and count it, before it is sent; returns the attempt's id.

    None if `delivery.owner` no longer holds the delivery (its lease ran out, or it was dropped): then
    it must not be sent. `renew`: deliveries of the lane whose lease is extended to `lease_until` in
    the same transaction (the lane's heartbeat).
    """
    async with uow:
        session = uow.session
        held = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.locked_by == delivery.owner,
                WebhookDelivery.lease_until > attempted_at,
                WebhookDelivery.status == "pending",
            )
            .values(
                attempt_count=WebhookDelivery.attempt_count + 1,
                last_attempt_at=attempted_at,
                updated_at=attempted_at,
            ),
            execution_options={"synchronize_session": False},
        )
        if held.rowcount != 1:  # type: ignore[attr-defined]
            await uow.rollback()
            return None
        if renew and lease_until is not None:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(renew), WebhookDelivery.locked_by == delivery.owner)
                .values(lease_until=lease_until),
                execution_options={"synchronize_session": False},
            )
        attempt = WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=attempted_at,
            status_code=None,
            duration_ms=0,
            error=INTERRUPTED,
            response_body="",
        )
        session.add(attempt)
        await session.flush()
        attempt_id = int(attempt.id)
        await uow.commit()
        return attempt_id


def next_state(
    delivery: Claimed,
    result: AttemptResult,
    finished_at: datetime,
    schedule: Sequence[float],
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """The delivery's status, retry step and next attempt time after this attempt."""
    if result.success:
        return {"status": "succeeded", "retry_step": delivery.retry_step, "next_attempt_at": None}
    step = delivery.retry_step + 1
    delay = next_delay(schedule, step, rng)
    if delay is None:
        return {"status": "failed", "retry_step": step, "next_attempt_at": None}
    if result.status_code in RETRY_AFTER_STATUSES and result.retry_after is not None:
        delay = result.retry_after
    return {
        "status": "pending",
        "retry_step": step,
        "next_attempt_at": finished_at + timedelta(seconds=delay),
    }


async def record(
    uow: UnitOfWork,
    outcomes: Sequence[Outcome],
    *,
    now: datetime,
    schedule: Sequence[float],
    rng: random.Random | None = None,
) -> list[int]:
    """Write attempts, delivery states and endpoint health in one transaction; returns disabled ids."""
    async with uow:
        session = uow.session
        endpoints, holders = await _lock(session, outcomes)
        writes = _Writes(now, schedule, rng)
        for outcome in outcomes:
            delivery = outcome.delivery
            if delivery.id in holders:  # else: deleted with its endpoint meanwhile
                writes.add(outcome, holder=holders[delivery.id] == delivery.owner)
        await writes.execute(session)
        disabled: list[int] = []
        for endpoint_id, results in writes.tried.items():
            endpoint = endpoints.get(endpoint_id)
            if endpoint is not None and await _update_health(uow, endpoint, results, now):
                disabled.append(endpoint_id)
        await uow.commit()
        return disabled


async def _lock(
    session: AsyncSession, outcomes: Sequence[Outcome]
) -> tuple[dict[int, WebhookEndpoint], dict[int, str | None]]:
    """Lock the outcomes' endpoints, then their deliveries (the order a claim takes them in); returns
    the endpoints by id and each delivery's current lease holder (deliveries gone meanwhile absent)."""
    endpoint_ids = sorted({o.delivery.endpoint_id for o in outcomes})
    endpoints = {
        e.id: e
        for e in await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(endpoint_ids))
            .order_by(WebhookEndpoint.id)
            .with_for_update(key_share=True)
        )
    }
    rows = await session.execute(
        select(WebhookDelivery.id, WebhookDelivery.locked_by)
        .where(WebhookDelivery.id.in_(sorted({o.delivery.id for o in outcomes})))
        .order_by(WebhookDelivery.id)
        .with_for_update(key_share=True)
    )
    return endpoints, {delivery_id: holder for delivery_id, holder in rows}


@dataclass
class _Writes:
    """The statements' parameters that a batch of outcomes turns into, written together by `execute`."""

    now: datetime
    schedule: Sequence[float]
    rng: random.Random | None
    attempts: list[dict[str, Any]] = field(default_factory=list)  # new attempt rows
    finished: list[dict[str, Any]] = field(default_factory=list)  # outcomes of begun attempts
    states: list[dict[str, Any]] = field(default_factory=list)  # deliveries' next states
    releases: list[dict[str, Any]] = field(default_factory=list)  # deliveries let go unsent
    #: The attempts per endpoint, for its health.
    tried: dict[int, list[tuple[datetime, AttemptResult]]] = field(default_factory=lambda: defaultdict(list))
    #: How long each endpoint's queue waits, as a `Retry-After` asked.
    pauses: dict[int, datetime] = field(default_factory=dict)

    def add(self, outcome: Outcome, *, holder: bool) -> None:
        """Add one outcome; `holder`: its worker still holds the lease, so it may set the state."""
        delivery = outcome.delivery
        if outcome.result is None or outcome.attempted_at is None:
            if holder:
                self.releases.append({"b_id": delivery.id, "b_owner": delivery.owner})
            return
        result, attempted_at = outcome.result, outcome.attempted_at
        finished_at = attempted_at + timedelta(milliseconds=result.duration_ms)
        self._log(outcome, result, attempted_at)
        self.tried[delivery.endpoint_id].append((attempted_at, result))
        if result.status_code in RETRY_AFTER_STATUSES and result.retry_after is not None:
            until = finished_at + timedelta(seconds=result.retry_after)
            self.pauses[delivery.endpoint_id] = max(until, self.pauses.get(delivery.endpoint_id, until))
        if holder:
            state = next_state(delivery, result, finished_at, self.schedule, self.rng)
            self.states.append(
                {
                    "b_id": delivery.id,
                    "b_owner": delivery.owner,
                    "b_status": state["status"],
                    "b_attempt_count": delivery.attempt_count + 1,  # as begin_attempt counted
                    "b_retry_step": state["retry_step"],
                    "b_next_attempt_at": state["next_attempt_at"],
                    "b_last_attempt_at": attempted_at,
                    "b_updated_at": self.now,
                }
            )

    def _log(self, outcome: Outcome, result: AttemptResult, attempted_at: datetime) -> None:
        """The attempt in the log: the begun attempt's row filled in, or a new row."""
        if outcome.attempt_id is not None:
            self.finished.append(
                {
                    "b_id": outcome.attempt_id,
                    "b_status_code": result.status_code,
                    "b_duration_ms": result.duration_ms,
                    "b_error": result.error,
                    "b_response_body": result.response_body,
                }
            )
        else:
            self.attempts.append(
                {
                    "delivery_id": outcome.delivery.id,
                    "attempted_at": attempted_at,
                    "status_code": result.status_code,
                    "duration_ms": result.duration_ms,
                    "error": result.error,
                    "response_body": result.response_body,
                }
            )

    async def execute(self, session: AsyncSession) -> None:
        if self.attempts:
            await session.execute(_ATTEMPTS.insert(), self.attempts)
        if self.finished:
            await session.execute(_UPDATE_ATTEMPT, self.finished)
        if self.states:
            await session.execute(_UPDATE_ATTEMPTED, self.states)
        if self.releases:
            await session.execute(_RELEASE, self.releases)
        for endpoint_id, until in self.pauses.items():
            await _pause(session, endpoint_id, until, self.now)


async def _pause(session: AsyncSession, endpoint_id: int, until: datetime, now: datetime) -> None:
    """Hold the endpoint's other queued messages until `until`, as its `Retry-After` asked.

    They then go out in order, after the one that was refused.
    """
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at < until,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until <= now),
        )
        .values(next_attempt_at=until)
    )


async def _update_health(
    uow: UnitOfWork, endpoint: WebhookEndpoint, results: list[tuple[datetime, AttemptResult]], now: datetime
) -> bool:
    """Track the failure streak; disable on 410 or five failing days. True if disabled now."""
    results.sort(key=lambda item: item[0])
    last_success = max((i for i, (_t, r) in enumerate(results) if r.success), default=None)
    if last_success == len(results) - 1:
        endpoint.failing_since = None
    else:
        first_failure = results[0 if last_success is None else last_success + 1][0]
        if last_success is not None or endpoint.failing_since is None:
            endpoint.failing_since = first_failure
    if not endpoint.enabled:
        return False
    if any(r.gone for _t, r in results):
        await disable_endpoint(uow, endpoint, REASON_GONE, now)
        return True
    if endpoint.failing_since is not None and now - endpoint.failing_since >= FAILING_LIMIT:
        await disable_endpoint(uow, endpoint, REASON_FAILING, now)
        return True
    return False


async def disable_endpoint(uow: UnitOfWork, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Disable, drop its queue, and tell the project's admins and owners.

    Each of them gets a `webhook_disabled` notification through a `notification.custom` event, so the
    unit of work's notification hook stores it in this transaction (honouring their preferences) and
    the live fan-out delivers it like any other. The events name the webhook by id and host only: a
    URL can carry a token, and project events are visible to every member.
    """
    session = uow.session
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    endpoint.updated_at = now
    await drop_pending(session, endpoint.id, now)
    disabled = WebhookDisabled(webhook_id=endpoint.id, reason=reason)
    uow.emit(disabled, project_id=endpoint.project_id, actor_id=None)
    admins = await session.scalars(
        select(Membership.user_id)
        .where(Membership.project_id == endpoint.project_id, Membership.role.in_([Role.OWNER, Role.ADMIN]))
        .order_by(Membership.user_id)
    )
    name = f"webhook #{endpoint.id} ({URL(endpoint.url).host})"
    for user_id in admins:
        notification = NotificationCustom(
            user_id=user_id,
            notification_type=NOTIFICATION_TYPE,
            title=f"Webhook disabled: {name}",
            message=(
                f"The {name} was disabled: {reason}. Fix the receiver, enable the webhook "
                "again, then replay the failed deliveries."
            ),
            ticket_id=None,
        )
        uow.emit(notification, project_id=endpoint.project_id, actor_id=None)


async def prune(uow: UnitOfWork, now: datetime, *, keep: timedelta = ATTEMPT_RETENTION) -> int:
    """Delete attempts older than `keep`, and finished deliveries untouched as long; returns rows gone."""
    cutoff = now - keep
    removed = 0
    targets = (
        (WebhookAttempt, WebhookAttempt.attempted_at < cutoff),
        (
            WebhookDelivery,
            WebhookDelivery.status.in_(["succeeded", "failed", "dead"])
            & (WebhookDelivery.updated_at < cutoff),
        ),
    )
    for model, condition in targets:
        while True:
            async with uow:
                ids = list(await uow.session.scalars(select(model.id).where(condition).limit(PRUNE_CHUNK)))
                if ids:
                    await uow.session.execute(delete(model).where(model.id.in_(ids)))
                await uow.commit()
            removed += len(ids)
            if len(ids) < PRUNE_CHUNK:
                break
    return removed
