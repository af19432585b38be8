"""Invite links: /api/projects/{id}/invites (admins and owners), /api/invites/* (anyone holding one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import validate_request, validate_response

from hub.api.deps import current_user, hub
from hub.api.limits import client_address, limits
from hub.api.schemas import ProjectOut, RoleName, Strict
from hub.domain.errors import NotFound
from hub.domain.limits import parse_id
from hub.services.projects import invites

bp = Blueprint("invites", __name__, url_prefix="/api")

InviteState = Literal["active", "expired", "revoked", "used_up"]


class InviteIn(Strict):
    role: RoleName = Field(description="the role whoever uses the link gets (owner: owners only)")
    expires_in: int | None = Field(
        default=None,
        ge=invites.MIN_EXPIRES_IN,
        le=invites.MAX_EXPIRES_IN,
        description="seconds until the link expires (default 7 days, at most 30 days)",
    )
    max_uses: int | None = Field(
        default=None,
        ge=1,
        le=invites.MAX_USES,
        description="how many people it may let in (default: no limit)",
    )


class InviteOut(BaseModel):
    id: int
    project_id: int
    role: RoleName
    expires_at: datetime
    max_uses: int | None
    uses: int
    created_by: int | None
    created_by_name: str | None
    created_at: datetime
    revoked_at: datetime | None
    state: InviteState


class InviteCreatedOut(InviteOut):
    token: str = Field(description="shown only in this answer; only its hash is stored")
    url: str = Field(description="the link to share: PUBLIC_URL/#/invite/TOKEN")


class InviteList(BaseModel):
    items: list[InviteOut]


class InviteProject(BaseModel):
    id: int
    key: str
    name: str


class Inviter(BaseModel):
    name: str


class InvitePreview(BaseModel):
    project: InviteProject
    role: RoleName
    inviter: Inviter | None
    expires_at: datetime
    state: Literal["active"]


class InviteAccepted(BaseModel):
    project: ProjectOut
    role: RoleName
    outcome: Literal["joined", "raised", "unchanged"] = Field(
        description="joined; raised (you were a member with a lower role); unchanged (your role was "
        "already as high: no use of the link was counted)"
    )


@bp.post("/projects/<int:project_id>/invites")
@validate_request(InviteIn)
@validate_response(InviteCreatedOut, 201)
async def create_invite(project_id: int, data: InviteIn) -> tuple[dict[str, Any], int]:
    """Make an invite link (admins and owners; only owners make owner invites). The token and url are
    in this answer only."""
    user = await current_user()
    context = hub()
    view = await invites.create_invite(
        context.uow(),
        user,
        project_id,
        role=data.role,
        expires_in=data.expires_in,
        max_uses=data.max_uses,
        public_url=context.settings.public_url,
    )
    return view, 201


@bp.get("/projects/<int:project_id>/invites")
@validate_response(InviteList)
async def list_invites(project_id: int) -> dict[str, Any]:
    """The project's active invites and those that ended in the last 7 days, newest first, with their
    `state` (admins and owners). Tokens are never shown again."""
    user = await current_user()
    return {"items": await invites.list_invites(hub().uow(), user, project_id)}


@bp.delete("/invites/<invite>")
async def revoke_invite(invite: str) -> tuple[str, int]:
    """Revoke an invite by its `id` (admins and owners of its project): the link stops working at once.
    (One path with `GET /api/invites/{token}`, so the parameter is text here; anything but an id is
    404.)"""
    user = await current_user()
    invite_id = parse_id(invite)
    if invite_id is None:
        raise NotFound("no such invite")
    await invites.revoke_invite(hub().uow(), user, invite_id)
    return "", 204


@bp.get("/invites/<invite>")
@validate_response(InvitePreview)
async def preview_invite(invite: str) -> dict[str, Any]:
    """What an invite link (its token) offers; no sign-in needed. 404 for an unknown token, 410 with
    `invite_expired`, `invite_revoked` or `invite_used_up` for one that ended."""
    return await invites.preview_invite(hub().uow(), invite)


@bp.post("/invites/<invite>/accept")
@validate_response(InviteAccepted)
async def accept_invite(invite: str) -> dict[str, Any]:
    """Join the project of an invite link (its token) with its role; a member keeps the higher of their
    role and the invite's. Failed attempts count against the sign-in rate limit of your address."""
    user = await current_user()
    async with limits().invite_attempt(client_address()):
        return await invites.accept_invite(hub().uow(), user, invite)
