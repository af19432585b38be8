"""One request at `POST /hooks/{integration_id}`, from the raw body to the reply.

In order: the integration (404 when there is none: deleted, or never was), the per-integration rate
limit (429), disabled (410, logged), the kind's signature (401, logged, nothing done), the body as a
JSON object (400, logged), the delivery's id claimed once (a duplicate is logged and answered 200
without doing anything), then the kind's handler. What it did is logged with the verdict.

Errors the request itself causes (a body the kind cannot use, a ticket that does not exist) are
answered 4xx and keep the delivery's id: sending the same request again cannot help. Errors on our
side (the database went away, a conflicting write) release the id and are answered 503 (409 for a
conflict) so the sender's retry runs the delivery again. Nothing is answered 500.

Exceptions:

DomainError (hub.domain.errors)
└── IntegrationDisabled   410  the integration's admin switched it off
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select

from hub.adapters.db.integration_models import Integration
from hub.adapters.db.models import Project, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.ratelimit import Rate, RateLimiter
from hub.domain.errors import Conflict, DomainError, NotFound, RateLimited, Unauthenticated
from hub.domain.identity import Actor
from hub.services.integrations import alertmanager, deliveries, generic, github, signatures
from hub.services.integrations.acting import Acting, Outcome
from hub.services.integrations.integrations import ORIGINS, verifying_secrets

log = logging.getLogger(__name__)


class IntegrationDisabled(DomainError):
    status = 410
    code = "gone"


class BadBody(DomainError):
    status = 400
    code = "bad_request"


@dataclass
class Receiving:
    """What receiving needs from the hub: units of work, the rate limiter and the settings' limits."""

    uow: Callable[[], UnitOfWork]
    limiter: RateLimiter | None = None
    rate: Rate | None = None
    tolerance: int = 300
    clock: Callable[[], float] = time.time
    #: Refusals by the rate limit (exported with the other limits' counts).
    refused: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Sender:
    """What a request needs of its integration, read in one statement (`_load`)."""

    id: int
    project_id: int
    kind: str
    enabled: bool
    options: dict[str, Any]
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True)
class _Loaded:
    integration: Sender
    project_key: str
    user: Actor


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


_LOAD = (
    select(
        Integration.id,
        Integration.project_id,
        Integration.kind,
        Integration.enabled,
        Integration.options,
        Integration.secret,
        Integration.previous_secret,
        Integration.previous_secret_expires_at,
        Project.key,
        User.id.label("user_id"),
        User.name,
        User.email,
    )
    .join(Project, Project.id == Integration.project_id)
    .join(User, User.id == Integration.user_id)
    .where(Integration.id == bindparam("integration_id"))
)


async def _load(uow: UnitOfWork, integration_id: int) -> _Loaded:
    """The integration, its project's key and its user: one read-only statement (on PostgreSQL
    autocommitted, one round trip; never cached, so a rotated secret or a switch-off counts at once)."""
    row = await uow.db.read_first(_LOAD, {"integration_id": integration_id})
    if row is None:
        raise NotFound("no such integration")
    sender = Sender(
        id=int(row.id),
        project_id=int(row.project_id),
        kind=str(row.kind),
        enabled=bool(row.enabled),
        options=dict(row.options or {}),
        secret=str(row.secret),
        previous_secret=row.previous_secret,
        previous_secret_expires_at=row.previous_secret_expires_at,
    )
    actor = Actor(id=int(row.user_id), name=str(row.name), email=str(row.email), is_admin=False)
    return _Loaded(sender, str(row.key), actor)


def _event_of(kind: str, headers: Mapping[str, str], payload: dict[str, Any]) -> str:
    if kind == "github":
        return headers.get("x-github-event", "")
    if kind == "alertmanager":
        return str(payload.get("status") or "")
    return str(payload.get("action") or "")


def _delivery_key(kind: str, headers: Mapping[str, str], payload: dict[str, Any], body: bytes) -> str:
    if kind == "github" and (given := headers.get("x-github-delivery", "").strip()):
        return "gh:" + given[:180]
    if kind == "alertmanager":
        return alertmanager.delivery_key(payload)
    if kind == "generic":
        return "wh:" + headers.get("webhook-id", "").strip()[:180]
    return "body:" + hashlib.sha256(body).hexdigest()


def _check_signature(
    receiving: Receiving, loaded: _Loaded, headers: Mapping[str, str], body: bytes
) -> str | None:
    integration = loaded.integration
    secrets = verifying_secrets(
        integration.secret, integration.previous_secret, integration.previous_secret_expires_at, utcnow()
    )
    if integration.kind == "github":
        return signatures.github(secrets, headers, body)
    if integration.kind == "alertmanager":
        return signatures.bearer(secrets, headers)
    return signatures.standard_webhooks(
        secrets, headers, body, now=receiving.clock(), tolerance=receiving.tolerance
    )


def _parse(body: bytes) -> dict[str, Any]:
    """The body as a JSON object. NUL characters (`\\u0000`), which no text column takes, become U+FFFD:
    senders such as GitHub pass commit messages through as they are."""
    try:
        payload = orjson.loads(body.replace(b"\\u0000", b"\\ufffd"))
    except (orjson.JSONDecodeError, RecursionError):
        raise BadBody("the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadBody("the request body must be a JSON object")
    return payload


async def _rate_limit(receiving: Receiving, integration_id: int) -> None:
    if receiving.limiter is None or receiving.rate is None:
        return
    hit = await receiving.limiter.hit(f"integration:{integration_id}", receiving.rate)
    if not hit.allowed:
        receiving.refused["integration"] = receiving.refused.get("integration", 0) + 1
        raise RateLimited("too many requests for this integration; wait", retry_after=hit.retry_after)


async def receive(
    receiving: Receiving, integration_id: int, headers: Mapping[str, str], body: bytes
) -> Reply:
    """Verify, claim and run one delivery (`headers` with lower-case names)."""
    loaded = await _load(receiving.uow(), integration_id)
    integration = loaded.integration
    await _rate_limit(receiving, integration_id)
    event = headers.get("x-github-event", "") if integration.kind == "github" else ""
    if not integration.enabled:
        await deliveries.record(
            receiving.uow(), integration_id, event=event, verdict="disabled", status_code=410,
            summary="the integration is disabled", body=body,
        )  # fmt: skip
        raise IntegrationDisabled("this integration is disabled")
    if problem := _check_signature(receiving, loaded, headers, body):
        await deliveries.record(
            receiving.uow(), integration_id, event=event, verdict="rejected", status_code=401,
            summary=problem, body=body,
        )  # fmt: skip
        raise Unauthenticated(problem)
    try:
        payload = _parse(body)
        event = _event_of(integration.kind, headers, payload)
        key = _delivery_key(integration.kind, headers, payload, body)
    except DomainError as error:
        await deliveries.record(
            receiving.uow(), integration_id, event=event, verdict="invalid", status_code=error.status,
            summary=error.message, body=body,
        )  # fmt: skip
        raise
    return await _run_once(receiving, loaded, key, event, payload, body)


async def _run_once(
    receiving: Receiving, loaded: _Loaded, key: str, event: str, payload: dict[str, Any], body: bytes
) -> Reply:
    integration_id = loaded.integration.id
    delivery_id = await deliveries.claim(receiving.uow(), integration_id, key, event=event, body=body)
    if delivery_id is None:
        first = await deliveries.claimed_by(receiving.uow(), integration_id, key)
        said = f"delivery {first.id} ({first.verdict})" if first else "an earlier delivery"
        duplicate = await deliveries.record(
            receiving.uow(), integration_id, event=event, verdict="duplicate", status_code=200,
            summary=f"already received as {said}; nothing done", body=body,
        )  # fmt: skip
        return Reply(200, {"delivery_id": duplicate, "verdict": "duplicate", "summary": "already received"})
    try:
        outcome = await _handle(receiving, loaded, event, payload)
    except DomainError as error:
        failed = isinstance(error, Conflict)  # a race: the sender's retry may well succeed
        verdict = "failed" if failed else "invalid"
        await deliveries.finish(
            receiving.uow(), delivery_id, verdict=verdict, status_code=error.status, summary=error.message
        )
        raise
    except Exception as error:
        log.exception("integration %s: delivery %s failed", integration_id, delivery_id)
        await _finish_quietly(receiving, delivery_id, f"failed on our side: {type(error).__name__}")
        return Reply(503, _unavailable())
    await deliveries.finish(
        receiving.uow(), delivery_id, verdict=outcome.verdict, status_code=200, summary=outcome.summary
    )
    return Reply(200, {"delivery_id": delivery_id, "verdict": outcome.verdict, "summary": outcome.summary})


def _unavailable() -> dict[str, Any]:
    message = "the delivery could not be processed now; send it again"
    return {"error": {"code": "unavailable", "message": message, "fields": {}}}


async def _finish_quietly(receiving: Receiving, delivery_id: int, summary: str) -> None:
    try:
        await deliveries.finish(
            receiving.uow(), delivery_id, verdict="failed", status_code=503, summary=summary
        )
    except Exception:  # the database is what failed: the claim stays, the log says why
        log.exception("integration delivery %s: could not record the failure", delivery_id)


async def _handle(receiving: Receiving, loaded: _Loaded, event: str, payload: dict[str, Any]) -> Outcome:
    integration = loaded.integration
    acting = Acting(
        integration_id=integration.id,
        project_id=integration.project_id,
        project_key=loaded.project_key,
        actor=loaded.user,
        origin=ORIGINS[integration.kind],
        options=dict(integration.options),
        uow=receiving.uow,
    )
    if integration.kind == "github":
        return await github.handle(acting, event, payload)
    if integration.kind == "alertmanager":
        return await alertmanager.handle(acting, payload)
    return await generic.handle(acting, payload)
