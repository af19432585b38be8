"""Webhook endpoints of a project: create, list, read, change, delete, rotate the secret.

Only project admins and owners manage webhooks (`Action.MANAGE`): a URL and its delivery log can say a
lot about a team's infrastructure. Outsiders get `NotFound` for the webhook itself, as for projects.

The secret is returned on creation and on rotation only. Rotation keeps the previous secret signing
for `ROTATION_GRACE` so receivers can switch without losing a message. URLs are checked against the SSRF
policy when saved (unless `WEBHOOK_ALLOW_PRIVATE`); the sender checks the addresses again for every
connection it opens and connects only to those, so a name that later resolves somewhere private is
still refused.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.db.webhook_models import WebhookDelivery, WebhookEndpoint
from hub.adapters.webhooks.signing import generate_secret
from hub.adapters.webhooks.ssrf import UnsafeURLError, parse_url, resolve_and_check
from hub.domain.errors import NotFound, ValidationFailed
from hub.domain.identity import Actor
from hub.services.access import authorize
from hub.services.policy import Action
from hub.services.views import iso
from hub.services.webhooks.messages import WEBHOOK_EVENT_TYPES

ROTATION_GRACE = timedelta(hours=24)
MAX_URL = 2048
MAX_DESCRIPTION = 500
RESOLVE_TIMEOUT = 5.0
EDITABLE = ("url", "description", "event_types", "enabled")
MAX_PER_PROJECT = 100


def webhook_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as the API shows it: never the secret."""
    return {
        "id": endpoint.id,
        "project_id": endpoint.project_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": iso(endpoint.disabled_at),
        "failing_since": iso(endpoint.failing_since),
        "previous_secret_expires_at": iso(endpoint.previous_secret_expires_at),
        "created_by": endpoint.created_by,
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }


def _with_secret(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {**webhook_view(endpoint), "secret": endpoint.secret}


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a message now: the current one, plus the previous one during its grace."""
    return active_secrets(endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_expires_at, now)


def active_secrets(
    secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    if previous and previous_expires_at is not None and previous_expires_at > now:
        return [secret, previous]
    return [secret]


async def check_url(url: str, *, allow_private: bool) -> str:
    """Refuse URLs the SSRF policy forbids; `ValidationFailed` names the `url` field."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise ValidationFailed("invalid webhook", fields={"url": f"must be 1 to {MAX_URL} characters"})
    try:
        parsed = parse_url(url)
        if not allow_private:
            host, port = parsed.raw_host or "", parsed.port or 0  # parse_url guarantees both
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                await resolve_and_check(host, port, allow_private=False)
    except UnsafeURLError as exc:
        raise ValidationFailed("unsafe webhook URL", fields={"url": str(exc)}) from None
    except (TimeoutError, socket.gaierror, OSError):
        raise ValidationFailed("invalid webhook", fields={"url": "the host name does not resolve"}) from None
    return url


def _check_fields(changes: dict[str, Any], errors: dict[str, str]) -> None:
    if "description" in changes:
        description = str(changes["description"] or "")
        if len(description) > MAX_DESCRIPTION:
            errors["description"] = f"at most {MAX_DESCRIPTION} characters"
        changes["description"] = description
    if "event_types" in changes:
        changes["event_types"] = clean_event_types(changes["event_types"], errors)
    if "enabled" in changes and not isinstance(changes["enabled"], bool):
        errors["enabled"] = "must be true or false"


def clean_event_types(event_types: Iterable[str] | None, errors: dict[str, str]) -> list[str] | None:
    """None means every event type; otherwise a non-empty list of known types, without duplicates."""
    if event_types is None:
        return None
    cleaned: list[str] = []
    for item in event_types:
        if item not in WEBHOOK_EVENT_TYPES:
            errors["event_types"] = "each must be one of " + ", ".join(WEBHOOK_EVENT_TYPES)
            return None
        if item not in cleaned:
            cleaned.append(item)
    if not cleaned:
        errors["event_types"] = "list at least one event type, or send null for all of them"
    return cleaned


async def last_event_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)


async def drop_pending(session: AsyncSession, endpoint_id: int, now: datetime) -> int:
    """Mark an endpoint's queued deliveries `dead` (it was disabled); replay can queue them again."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
        .values(status="dead", next_attempt_at=None, lease_until=None, locked_by=None, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def managed_endpoint(uow: UnitOfWork, actor: Actor, webhook_id: int) -> WebhookEndpoint:
    """The endpoint if the actor may manage it; NotFound if it does not exist or is not visible."""
    endpoint = await uow.session.get(WebhookEndpoint, webhook_id)
    if endpoint is None:
        raise NotFound("no such webhook")
    try:
        await authorize(uow.session, endpoint.project_id, actor, Action.MANAGE)
    except NotFound:
        raise NotFound("no such webhook") from None
    return endpoint


async def create_webhook(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    *,
    url: str,
    description: str = "",
    event_types: Iterable[str] | None = None,
    enabled: bool = True,
    allow_private: bool = False,
) -> dict[str, Any]:
    """Create an endpoint; the result carries its `secret`, which is never shown again."""
    changes: dict[str, Any] = {"description": description, "event_types": event_types, "enabled": enabled}
    errors: dict[str, str] = {}
    _check_fields(changes, errors)
    if errors:
        raise ValidationFailed("invalid webhook", fields=errors)
    async with uow:
        await authorize(uow.session, project_id, actor, Action.MANAGE)
        count = await uow.session.scalar(
            select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.project_id == project_id)
        )
        if int(count or 0) >= MAX_PER_PROJECT:
            raise ValidationFailed(
                "too many webhooks", fields={"url": f"a project has at most {MAX_PER_PROJECT} webhooks"}
            )
    # Resolving can take a while; do it outside any transaction.
    clean_url = await check_url(url, allow_private=allow_private)
    async with uow:
        await authorize(uow.session, project_id, actor, Action.MANAGE)
        now = utcnow()
        endpoint = WebhookEndpoint(
            project_id=project_id,
            url=clean_url,
            description=changes["description"],
            event_types=changes["event_types"],
            enabled=changes["enabled"],
            secret=generate_secret(),
            events_after=await last_event_id(uow.session),
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(endpoint)
        await uow.session.flush()
        view = _with_secret(endpoint)
        await uow.commit()
        return view


async def list_webhooks(uow: UnitOfWork, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    async with uow:
        await authorize(uow.session, project_id, actor, Action.MANAGE)
        rows = await uow.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.project_id == project_id)
            .order_by(WebhookEndpoint.id)
        )
        return [webhook_view(e) for e in rows]


async def get_webhook(uow: UnitOfWork, actor: Actor, webhook_id: int) -> dict[str, Any]:
    async with uow:
        return webhook_view(await managed_endpoint(uow, actor, webhook_id))


async def update_webhook(
    uow: UnitOfWork, actor: Actor, webhook_id: int, changes: dict[str, Any], *, allow_private: bool = False
) -> dict[str, Any]:
    """Change some of url, description, event_types (null: all) and enabled.

    Disabling drops the queued deliveries (`dead`; replay brings them back). Enabling clears the failure
    record, and the endpoint gets the events committed from then on.
    """
    changes = dict(changes)
    errors = {field: "cannot be changed" for field in set(changes) - set(EDITABLE)}
    _check_fields(changes, errors)
    if "url" in changes and not isinstance(changes["url"], str):
        errors["url"] = "must be a URL"
    if errors:
        raise ValidationFailed("invalid change", fields=errors)
    async with uow:
        await managed_endpoint(uow, actor, webhook_id)
    if "url" in changes:
        changes["url"] = await check_url(changes["url"], allow_private=allow_private)
    async with uow:
        endpoint = await managed_endpoint(uow, actor, webhook_id)
        now = utcnow()
        if "enabled" in changes and changes["enabled"] != endpoint.enabled:
            if changes["enabled"]:
                endpoint.disabled_reason = None
                endpoint.disabled_at = None
                endpoint.failing_since = None
                endpoint.events_after = await last_event_id(uow.session)
            else:
                endpoint.disabled_reason = "disabled by a project admin"
                endpoint.disabled_at = now
                await drop_pending(uow.session, endpoint.id, now)
        for field in ("url", "description", "event_types", "enabled"):
            if field in changes:
                setattr(endpoint, field, changes[field])
        endpoint.updated_at = now
        await uow.session.flush()
        view = webhook_view(endpoint)
        await uow.commit()
        return view


async def delete_webhook(uow: UnitOfWork, actor: Actor, webhook_id: int) -> None:
    """Delete an endpoint with its deliveries and their attempts."""
    async with uow:
        endpoint = await managed_endpoint(uow, actor, webhook_id)
        await uow.session.delete(endpoint)
        await uow.commit()


async def rotate_secret(uow: UnitOfWork, actor: Actor, webhook_id: int) -> dict[str, Any]:
    """A new secret; the one it replaces keeps signing (as a second signature) for 24 hours."""
    async with uow:
        endpoint = await managed_endpoint(uow, actor, webhook_id)
        now = utcnow()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + ROTATION_GRACE
        endpoint.secret = generate_secret()
        endpoint.updated_at = now
        view = _with_secret(endpoint)
        await uow.commit()
        return view
