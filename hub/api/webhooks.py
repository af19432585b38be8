"""/api/projects/{id}/webhooks, /api/webhooks/*, /api/deliveries/*: outbound webhooks (admins)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from hub.adapters.webhooks.sender import WebhookSender
from hub.api.deps import current_user, hub
from hub.api.webhook_schemas import (
    DeliveryList,
    DeliveryOut,
    DeliveryQuery,
    ReplayIn,
    ReplayOut,
    TestOut,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecretOut,
)
from hub.services.webhooks import endpoints as webhooks
from hub.services.webhooks import log as webhook_log

bp = Blueprint("webhooks", __name__, url_prefix="/api")


def _allow_private() -> bool:
    return hub().settings.webhook_allow_private


def _wake_worker() -> None:
    worker = hub().webhook_worker  # the in-process worker, if `serve` attached one
    if worker is not None:
        worker.wake()


@bp.get("/projects/<int:project_id>/webhooks")
@validate_response(WebhookList)
async def list_webhooks(project_id: int) -> dict[str, Any]:
    """The project's webhooks (admins and owners)."""
    user = await current_user()
    return {"items": await webhooks.list_webhooks(hub().uow(), user, project_id)}


@bp.post("/projects/<int:project_id>/webhooks")
@validate_request(WebhookIn)
@validate_response(WebhookWithSecretOut, 201)
async def create_webhook(project_id: int, data: WebhookIn) -> tuple[dict[str, Any], int]:
    """Create a webhook. The response carries its signing `secret`, which is never shown again."""
    user = await current_user()
    view = await webhooks.create_webhook(
        hub().uow(),
        user,
        project_id,
        url=data.url,
        description=data.description,
        event_types=data.event_types,
        enabled=data.enabled,
        allow_private=_allow_private(),
    )
    _wake_worker()  # it may have been idling with no endpoint enabled
    return view, 201


@bp.get("/webhooks/<int:webhook_id>")
@validate_response(WebhookOut)
async def get_webhook(webhook_id: int) -> dict[str, Any]:
    user = await current_user()
    return await webhooks.get_webhook(hub().uow(), user, webhook_id)


@bp.patch("/webhooks/<int:webhook_id>")
@validate_request(WebhookPatch)
@validate_response(WebhookOut)
async def update_webhook(webhook_id: int, data: WebhookPatch) -> dict[str, Any]:
    """Change url, description, event_types (null: all) or enabled."""
    user = await current_user()
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    view = await webhooks.update_webhook(
        hub().uow(), user, webhook_id, changes, allow_private=_allow_private()
    )
    _wake_worker()
    return view


@bp.delete("/webhooks/<int:webhook_id>")
async def delete_webhook(webhook_id: int) -> tuple[str, int]:
    user = await current_user()
    await webhooks.delete_webhook(hub().uow(), user, webhook_id)
    return "", 204


@bp.post("/webhooks/<int:webhook_id>/rotate-secret")
@validate_response(WebhookWithSecretOut)
async def rotate_secret(webhook_id: int) -> dict[str, Any]:
    """A new secret; the previous one keeps signing (a second signature) for 24 hours."""
    user = await current_user()
    return await webhooks.rotate_secret(hub().uow(), user, webhook_id)


@bp.post("/webhooks/<int:webhook_id>/test")
@validate_response(TestOut)
async def test_webhook(webhook_id: int) -> dict[str, Any]:
    """Send a `webhook.test` message now and report the receiver's answer."""
    user = await current_user()
    settings = hub().settings
    async with WebhookSender(allow_private=settings.webhook_allow_private) as sender:
        return await webhook_log.send_test(hub().uow(), user, webhook_id, sender=sender)


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@validate_querystring(DeliveryQuery)
@validate_response(DeliveryList)
async def list_deliveries(webhook_id: int, query_args: DeliveryQuery) -> dict[str, Any]:
    """Deliveries, newest first, each with all its attempts; filter by `status`, page with `before`."""
    user = await current_user()
    return await webhook_log.list_deliveries(
        hub().uow(),
        user,
        webhook_id,
        status=query_args.status,
        limit=query_args.limit,
        before=query_args.before,
    )


@bp.post("/webhooks/<int:webhook_id>/replay")
@validate_request(ReplayIn)
@validate_response(ReplayOut, 202)
async def replay(webhook_id: int, data: ReplayIn) -> tuple[dict[str, Any], int]:
    """Queue again every delivery created since `since` that failed or was dropped."""
    user = await current_user()
    count = await webhook_log.replay(hub().uow(), user, webhook_id, data.since)
    _wake_worker()
    return {"requeued": count}, 202


@bp.get("/deliveries/<int:delivery_id>")
@validate_response(DeliveryOut)
async def get_delivery(delivery_id: int) -> dict[str, Any]:
    user = await current_user()
    return await webhook_log.get_delivery(hub().uow(), user, delivery_id)


@bp.post("/deliveries/<int:delivery_id>/redeliver")
@validate_response(DeliveryOut, 202)
async def redeliver(delivery_id: int) -> tuple[dict[str, Any], int]:
    """Queue one delivery again; it keeps its webhook-id."""
    user = await current_user()
    view = await webhook_log.redeliver(hub().uow(), user, delivery_id)
    _wake_worker()
    return view, 202
