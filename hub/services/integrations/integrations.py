"""Integrations of a project: create, list, read, change, delete, rotate the secret.

Only project admins and owners manage them (`Action.MANAGE`); outsiders get `NotFound` for the
integration itself, as for webhooks. The secret is shown on creation and rotation only; rotation keeps
the previous one verifying for `ROTATION_GRACE` so the sender can be switched without losing a request.

Each integration acts as a hub user of its own, made with it: named after the sender ("GitHub",
"Alertmanager", or the integration's name for the generic kind), a `member` of the project, and
deactivated (no password, no sign-in, no token: it acts only through its integration). It reports the
tickets the integration opens and writes its comments. Deleting the integration removes its membership
but keeps the user, whose name its tickets and comments still show.
"""

from __future__ import annotations

import secrets as _secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from hub.adapters.db.integration_models import Integration
from hub.adapters.db.models import Membership, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.adapters.webhooks.signing import generate_secret
from hub.domain.enums import Role
from hub.domain.errors import NotFound, ValidationFailed
from hub.domain.identity import Actor
from hub.services.access import authorize
from hub.services.integrations.options import KINDS, check_options
from hub.services.policy import Action
from hub.services.views import iso

ROTATION_GRACE = timedelta(hours=24)
MAX_NAME = 100
MAX_PER_PROJECT = 50
EDITABLE = ("name", "options", "enabled")
#: The display name of each kind's user; the generic kind's user takes the integration's name.
ACTOR_NAMES = {"github": "GitHub", "alertmanager": "Alertmanager"}
#: The `origin` each kind's changes carry in their events.
ORIGINS = {"github": "github", "alertmanager": "alertmanager", "generic": "integration"}
#: No password hash verifies against this (it is not a hash at all).
NO_PASSWORD = "!integration"


def integration_view(integration: Integration, public_url: str) -> dict[str, Any]:
    """An integration as the API shows it: never the secret."""
    return {
        "id": integration.id,
        "project_id": integration.project_id,
        "kind": integration.kind,
        "name": integration.name,
        "options": integration.options,
        "enabled": integration.enabled,
        "url": hook_url(public_url, integration.id),
        "user_id": integration.user_id,
        "previous_secret_expires_at": iso(integration.previous_secret_expires_at),
        "created_by": integration.created_by,
        "created_at": iso(integration.created_at),
        "updated_at": iso(integration.updated_at),
    }


def hook_url(public_url: str, integration_id: int) -> str:
    return f"{public_url.rstrip('/')}/hooks/{integration_id}"


def verifying_secrets(
    secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The secrets a request may be signed with now: the current one, and the previous one in its grace."""
    if previous and previous_expires_at is not None and previous_expires_at > now:
        return [secret, previous]
    return [secret]


def actor_name(kind: str, name: str) -> str:
    return ACTOR_NAMES.get(kind, name)[:120]


def _check_name(name: object, errors: dict[str, str]) -> str:
    text = str(name or "").strip()
    if not text or len(text) > MAX_NAME:
        errors["name"] = f"must be 1 to {MAX_NAME} characters"
    return text


async def managed_integration(uow: UnitOfWork, actor: Actor, integration_id: int) -> Integration:
    """The integration if the actor may manage it; NotFound if it does not exist or is not visible."""
    integration = await uow.session.get(Integration, integration_id)
    if integration is None:
        raise NotFound("no such integration")
    try:
        await authorize(uow.session, integration.project_id, actor, Action.MANAGE)
    except NotFound:
        raise NotFound("no such integration") from None
    return integration


async def create_integration(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    *,
    kind: str,
    name: str | None,
    options: dict[str, Any] | None,
    public_url: str,
) -> dict[str, Any]:
    """Create an integration and its user; the result carries the `secret`, never shown again."""
    errors: dict[str, str] = {}
    if kind not in KINDS:
        raise ValidationFailed("invalid integration", fields={"kind": "must be one of " + ", ".join(KINDS)})
    clean_name = _check_name(name or ACTOR_NAMES.get(kind, ""), errors)
    clean_options = check_options(kind, options or {}, errors)
    if errors:
        raise ValidationFailed("invalid integration", fields=errors)
    async with uow:
        await authorize(uow.session, project_id, actor, Action.MANAGE)
        count = await uow.session.scalar(
            select(func.count()).select_from(Integration).where(Integration.project_id == project_id)
        )
        if int(count or 0) >= MAX_PER_PROJECT:
            raise ValidationFailed(
                "too many integrations", fields={"kind": f"a project has at most {MAX_PER_PROJECT}"}
            )
        now = utcnow()
        user = User(
            email=f"integration-{_secrets.token_hex(8)}@integrations.invalid",
            name=actor_name(kind, clean_name),
            password_hash=NO_PASSWORD,
            is_admin=False,
            preferences={},
            created_at=now,
            deactivated_at=now,
        )
        uow.session.add(user)
        await uow.session.flush()
        uow.session.add(Membership(project_id=project_id, user_id=user.id, role=Role.MEMBER, created_at=now))
        integration = Integration(
            project_id=project_id,
            kind=kind,
            name=clean_name,
            options=clean_options,
            enabled=True,
            secret=generate_secret(),
            user_id=user.id,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(integration)
        await uow.session.flush()
        view = {**integration_view(integration, public_url), "secret": integration.secret}
        await uow.commit()
        return view


async def list_integrations(
    uow: UnitOfWork, actor: Actor, project_id: int, *, public_url: str
) -> list[dict[str, Any]]:
    async with uow:
        await authorize(uow.session, project_id, actor, Action.MANAGE)
        rows = await uow.session.scalars(
            select(Integration).where(Integration.project_id == project_id).order_by(Integration.id)
        )
        return [integration_view(row, public_url) for row in rows]


async def get_integration(
    uow: UnitOfWork, actor: Actor, integration_id: int, *, public_url: str
) -> dict[str, Any]:
    async with uow:
        return integration_view(await managed_integration(uow, actor, integration_id), public_url)


async def update_integration(
    uow: UnitOfWork, actor: Actor, integration_id: int, changes: dict[str, Any], *, public_url: str
) -> dict[str, Any]:
    """Change some of name, options (replaced whole) and enabled."""
    errors = {field: "cannot be changed" for field in set(changes) - set(EDITABLE)}
    if "enabled" in changes and not isinstance(changes["enabled"], bool):
        errors["enabled"] = "must be true or false"
    async with uow:
        integration = await managed_integration(uow, actor, integration_id)
        clean = dict(changes)
        if "name" in changes:
            clean["name"] = _check_name(changes["name"], errors)
        if "options" in changes:
            clean["options"] = check_options(integration.kind, changes["options"] or {}, errors)
        if errors:
            raise ValidationFailed("invalid change", fields=errors)
        for field in EDITABLE:
            if field in clean:
                setattr(integration, field, clean[field])
        if "name" in clean:
            user = await uow.session.get(User, integration.user_id)
            if user is not None:
                user.name = actor_name(integration.kind, clean["name"])
        integration.updated_at = utcnow()
        await uow.session.flush()
        view = integration_view(integration, public_url)
        await uow.commit()
        return view


async def delete_integration(uow: UnitOfWork, actor: Actor, integration_id: int) -> None:
    """Delete an integration with its delivery log and links; its user stays, without membership."""
    async with uow:
        integration = await managed_integration(uow, actor, integration_id)
        await uow.session.execute(
            delete(Membership).where(
                Membership.project_id == integration.project_id, Membership.user_id == integration.user_id
            )
        )
        await uow.session.delete(integration)
        await uow.commit()


async def rotate_secret(
    uow: UnitOfWork, actor: Actor, integration_id: int, *, public_url: str
) -> dict[str, Any]:
    """A new secret; the one it replaces keeps verifying for 24 hours."""
    async with uow:
        integration = await managed_integration(uow, actor, integration_id)
        now = utcnow()
        integration.previous_secret = integration.secret
        integration.previous_secret_expires_at = now + ROTATION_GRACE
        integration.secret = generate_secret()
        integration.updated_at = now
        view = {**integration_view(integration, public_url), "secret": integration.secret}
        await uow.commit()
        return view
