"""REST: /api/me/chat-links and /api/projects/{id}/chat-subscriptions (in-process test client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from quart import Quart

from hub.api import chat as chat_api
from hub.app import create_app
from hub.config import Settings
from hub.context import HubContext
from hub.domain.errors import ValidationFailed
from hub.domain.identity import Actor
from hub.services.chat import accounts as chat
from hub.services.chat import subscriptions as chat_subscriptions
from hub.services.chat.accounts import ChatUser
from tests.support.api import Api


@pytest.fixture
async def app(settings: Settings, context: HubContext) -> AsyncIterator[Quart]:
    application = create_app(settings, context)
    if chat_api.bp.name not in application.blueprints:
        application.register_blueprint(chat_api.bp)
    async with application.test_app():
        yield application


async def test_link_codes_list_and_unlink(api: Api, context: HubContext) -> None:
    alice = await api.user("Alice Archer")
    created = await api.post("/api/me/chat-links", token=alice.token)
    assert created.status == 201
    code = created.body["code"]
    assert len(code) == 9
    assert code[4] == "-"
    expires = datetime.fromisoformat(created.body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    assert (await api.get("/api/me/chat-links", token=alice.token)).body == {"items": []}
    who = ChatUser("slack", "T1", "U1", "alice")
    actor = await chat.redeem_link_code(context.uow(), who, code.lower().replace("-", " "))
    assert actor.id == alice.id
    with pytest.raises(ValidationFailed):  # one time only
        await chat.redeem_link_code(context.uow(), ChatUser("discord", "G1", "42"), code)
    listed = (await api.get("/api/me/chat-links", token=alice.token)).body["items"]
    assert [(i["platform"], i["team_id"], i["external_id"], i["linked_via"]) for i in listed] == [
        ("slack", "T1", "U1", "code")
    ]
    bob = await api.user("Bob Baker")
    foreign = await api.delete(f"/api/me/chat-links/{listed[0]['id']}", token=bob.token)
    assert foreign.status == 404
    assert foreign.body["error"]["code"] == "not_found"
    assert (await api.delete(f"/api/me/chat-links/{listed[0]['id']}", token=alice.token)).status == 204
    assert await chat.resolve_actor(context.uow(), who) is None
    assert (await api.post("/api/me/chat-links")).status == 401


async def test_codes_expire_and_are_superseded(api: Api, context: HubContext) -> None:
    alice = await api.user()
    actor = Actor(alice.id, alice.name, alice.email)
    old = await chat.create_link_code(context.uow(), actor, now=datetime.now(UTC) - timedelta(minutes=11))
    with pytest.raises(ValidationFailed, match="expired"):
        await chat.redeem_link_code(context.uow(), ChatUser("slack", "T1", "U9"), old["code"])
    first = await chat.create_link_code(context.uow(), actor)
    await chat.create_link_code(context.uow(), actor)
    with pytest.raises(ValidationFailed):
        await chat.redeem_link_code(context.uow(), ChatUser("slack", "T1", "U9"), first["code"])


async def test_subscriptions_listing_follows_project_roles(api: Api, context: HubContext) -> None:
    alice, viewer, outsider = await api.user(), await api.user(), await api.user()
    project = await api.project(alice, "OPS")
    await api.add(alice, project["id"], viewer, "viewer")
    owner = Actor(alice.id, alice.name, alice.email)
    await chat_subscriptions.subscribe(
        context.uow(), owner, platform="slack", team_id="T1", channel_id="C1", project_key="ops",
        event_types=["status", "ticket.created", "comments"], labels=["db"], format="detailed",
    )  # fmt: skip
    listed = await api.get(f"/api/projects/{project['id']}/chat-subscriptions", token=viewer.token)
    assert listed.status == 200
    (item,) = listed.body["items"]
    assert (item["platform"], item["channel"], item["project_key"]) == ("slack", "C1", "OPS")
    assert item["event_types"] == ["status_changed", "created", "commented"]
    assert (item["labels"], item["format"], item["created_by"]) == (["db"], "detailed", alice.id)
    hidden = await api.get(f"/api/projects/{project['id']}/chat-subscriptions", token=outsider.token)
    assert hidden.status == 404
    assert set(hidden.body["error"]) == {"code", "message", "fields"}
    with pytest.raises(ValidationFailed):
        await chat_subscriptions.subscribe(
            context.uow(), owner, platform="slack", team_id="T1", channel_id="C1", project_key="OPS",
            event_types=["exploded"],
        )  # fmt: skip


async def test_openapi_documents_the_chat_endpoints(api: Api) -> None:
    spec = (await api.get("/openapi.json")).body
    assert "/api/me/chat-links" in spec["paths"]
    assert "/api/me/chat-links/{link_id}" in spec["paths"]
    assert "/api/projects/{project_id}/chat-subscriptions" in spec["paths"]
    assert "/slack/events" not in spec["paths"]
