"""/api/me/chat-links and /api/projects/{id}/chat-subscriptions: chat accounts and channel relays."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import validate_response

from hub.api.deps import current_user, hub
from hub.services.chat import accounts as chat
from hub.services.chat import subscriptions as chat_subscriptions

bp = Blueprint("chat", __name__, url_prefix="/api")


class LinkCodeOut(BaseModel):
    code: str
    expires_at: datetime


class ChatLinkOut(BaseModel):
    id: int
    platform: Literal["slack", "discord"]
    team_id: str
    external_id: str
    display_name: str
    linked_via: Literal["email", "code"]
    linked_at: datetime


class ChatLinkList(BaseModel):
    items: list[ChatLinkOut]


class ChatSubscriptionOut(BaseModel):
    id: int
    platform: Literal["slack", "discord"]
    team_id: str
    channel: str
    project_id: int
    project_key: str | None
    event_types: list[str] | None
    labels: list[str] | None
    format: Literal["compact", "detailed"]
    summary: bool
    created_by: int | None = Field(description="who subscribed the channel: it relays with their access")
    created_at: datetime
    events: list[str] = Field(description="the event kinds relayed (all of them when unfiltered)")
    state: Literal["active", "paused", "archived", "removed", "uninstalled"] = Field(
        description="paused while its creator is not a member of the project (it resumes if they are "
        "added back), or by the relay after the channel refused posts (`state_reason`; subscribing "
        "the channel again resumes it); archived, removed, uninstalled: the channel or app went away"
    )
    state_reason: str | None = Field(default=None, description="why it is not active (the platform's error)")
    failures: int = Field(default=0, description="consecutive failed deliveries to the channel")
    retry_at: datetime | None = Field(default=None, description="when the relay tries the channel again")


class ChatSubscriptionList(BaseModel):
    items: list[ChatSubscriptionOut]


@bp.post("/me/chat-links")
@validate_response(LinkCodeOut, 201)
async def create_link_code() -> tuple[dict[str, Any], int]:
    """A one-time code, valid 10 minutes: type `/ticket link CODE` in Slack or Discord to link that
    chat account to you. Asking again invalidates the previous unused code."""
    user = await current_user()
    return await chat.create_link_code(hub().uow(), user), 201


@bp.get("/me/chat-links")
@validate_response(ChatLinkList)
async def list_links() -> dict[str, Any]:
    """Your linked chat accounts."""
    user = await current_user()
    return {"items": await chat.list_links(hub().uow(), user)}


@bp.delete("/me/chat-links/<int:link_id>")
async def unlink(link_id: int) -> tuple[str, int]:
    """Unlink a chat account: commands from it stop acting as you, and it gets no more DMs."""
    user = await current_user()
    await chat.unlink(hub().uow(), user, link_id)
    return "", 204


@bp.get("/projects/<int:project_id>/chat-subscriptions")
@validate_response(ChatSubscriptionList)
async def list_subscriptions(project_id: int) -> dict[str, Any]:
    """The chat channels relaying this project, with their filters and state (any member may look)."""
    user = await current_user()
    return {"items": await chat_subscriptions.list_project_subscriptions(hub().uow(), user, project_id)}


@bp.delete("/projects/<int:project_id>/chat-subscriptions/<int:subscription_id>")
async def delete_subscription(project_id: int, subscription_id: int) -> tuple[str, int]:
    """Stop a channel relaying this project, whoever subscribed it (admins and owners)."""
    user = await current_user()
    await chat_subscriptions.delete_subscription(hub().uow(), user, project_id, subscription_id)
    return "", 204
