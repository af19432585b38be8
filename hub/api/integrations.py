"""/api/projects/{id}/integrations and /api/integrations/*: inbound integrations (admins and owners)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from hub.api.deps import current_user, hub
from hub.api.integration_schemas import (
    IntegrationDeliveryList,
    IntegrationDeliveryQuery,
    IntegrationIn,
    IntegrationList,
    IntegrationOut,
    IntegrationPatch,
    IntegrationWithSecretOut,
)
from hub.services.integrations import deliveries
from hub.services.integrations import integrations as service

bp = Blueprint("integrations", __name__, url_prefix="/api")


def _public_url() -> str:
    return hub().settings.public_url


@bp.get("/projects/<int:project_id>/integrations")
@validate_response(IntegrationList)
async def list_integrations(project_id: int) -> dict[str, Any]:
    """The project's integrations (admins and owners)."""
    user = await current_user()
    items = await service.list_integrations(hub().uow(), user, project_id, public_url=_public_url())
    return {"items": items}


@bp.post("/projects/<int:project_id>/integrations")
@validate_request(IntegrationIn)
@validate_response(IntegrationWithSecretOut, 201)
async def create_integration(project_id: int, data: IntegrationIn) -> tuple[dict[str, Any], int]:
    """Create an integration. The response carries its `secret`, which is never shown again."""
    user = await current_user()
    view = await service.create_integration(
        hub().uow(),
        user,
        project_id,
        kind=data.kind,
        name=data.name,
        options=data.options,
        public_url=_public_url(),
    )
    return view, 201


@bp.get("/integrations/<int:integration_id>")
@validate_response(IntegrationOut)
async def get_integration(integration_id: int) -> dict[str, Any]:
    user = await current_user()
    return await service.get_integration(hub().uow(), user, integration_id, public_url=_public_url())


@bp.patch("/integrations/<int:integration_id>")
@validate_request(IntegrationPatch)
@validate_response(IntegrationOut)
async def update_integration(integration_id: int, data: IntegrationPatch) -> dict[str, Any]:
    """Change name, options (replaced whole) or enabled."""
    user = await current_user()
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    return await service.update_integration(
        hub().uow(), user, integration_id, changes, public_url=_public_url()
    )


@bp.delete("/integrations/<int:integration_id>")
async def delete_integration(integration_id: int) -> tuple[str, int]:
    user = await current_user()
    await service.delete_integration(hub().uow(), user, integration_id)
    return "", 204


@bp.post("/integrations/<int:integration_id>/rotate-secret")
@validate_response(IntegrationWithSecretOut)
async def rotate_secret(integration_id: int) -> dict[str, Any]:
    """A new secret; the previous one keeps verifying for 24 hours."""
    user = await current_user()
    return await service.rotate_secret(hub().uow(), user, integration_id, public_url=_public_url())


@bp.get("/integrations/<int:integration_id>/deliveries")
@validate_querystring(IntegrationDeliveryQuery)
@validate_response(IntegrationDeliveryList)
async def list_deliveries(integration_id: int, query_args: IntegrationDeliveryQuery) -> dict[str, Any]:
    """Every request received, newest first: time, verdict, what it did, the first 2 KiB of the body."""
    user = await current_user()
    return await deliveries.list_deliveries(
        hub().uow(),
        user,
        integration_id,
        verdict=query_args.verdict,
        limit=query_args.limit,
        before=query_args.before,
    )
