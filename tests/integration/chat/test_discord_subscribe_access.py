"""`/ticket subscribe` refuses channels the relay cannot post into (threads, voice, forums, categories,
missing bot permissions) and members who may not decide what a channel follows — before the hub
stores anything."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.discord import ADMIN_PERMISSIONS, EVERYONE_PERMISSIONS, GUILD_ID, FakeChannel, FakeDiscord
from tests.integration.chat.discord_support import DiscordHub, start_discord_hub, text_of
from tests.integration.realtime.conftest import stack  # noqa: F401  (the backend pairs)

CREATE_PUBLIC_THREADS = 1 << 35
READ_MESSAGE_HISTORY = 1 << 16


async def _subscriptions(hub: DiscordHub, token: str, project_id: int) -> list[object]:
    listed = (await hub.api.get(f"/api/projects/{project_id}/chat-subscriptions", token=token)).body
    return list(listed["items"] if isinstance(listed, dict) else listed)


async def test_threads_and_channels_that_cannot_take_posts_are_refused(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    thread = FakeChannel(hub.fake.snowflake(), 11, "a thread", GUILD_ID, parent_id=hub.channel)
    hub.fake.channels[thread.id] = thread
    answer = await hub.command(member, "subscribe", {"project": "OPS"}, channel_id=thread.id)
    assert "Threads cannot follow a project" in text_of(answer)
    assert f"<#{hub.channel}>" in text_of(answer)
    for kind, name in ((2, "a voice channel"), (13, "a stage channel"), (15, "a forum"), (4, "a category")):
        channel = hub.fake.add_channel(f"kind-{kind}", kind)
        refused = await hub.command(member, "subscribe", {"project": "OPS"}, channel_id=channel.id)
        assert f"I can't post tickets into {name}" in text_of(refused), (kind, refused)
    assert await _subscriptions(hub, alice.token, project["id"]) == []
    accepted = await hub.command(member, "subscribe", {"project": "OPS"})
    assert "now gets OPS updates" in text_of(accepted)


async def test_missing_bot_permissions_are_named(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    hub.fake.app_permissions = ADMIN_PERMISSIONS & ~(1 << 3) & ~CREATE_PUBLIC_THREADS & ~READ_MESSAGE_HISTORY
    refused = text_of(await hub.command(member, "subscribe", {"project": "OPS"}))
    assert "I lack permissions in this channel: Create Public Threads, Read Message History." in refused
    assert await _subscriptions(hub, alice.token, project["id"]) == []


async def test_members_without_manage_channels_are_refused(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    member.permissions = EVERYONE_PERMISSIONS  # an owner of the project, but no Manage Channels here
    refused = text_of(await hub.command(member, "subscribe", {"project": "OPS"}))
    assert "Only members with the Manage Channels permission in this channel may" in refused
    assert await _subscriptions(hub, alice.token, project["id"]) == []
    # Nor may they stop what a channel follows: a channel manager subscribed it, they cannot undo it.
    member.permissions = ADMIN_PERMISSIONS
    assert "now gets OPS updates" in text_of(await hub.command(member, "subscribe", {"project": "OPS"}))
    member.permissions = EVERYONE_PERMISSIONS
    refused = text_of(await hub.command(member, "unsubscribe", {"project": "OPS"}))
    assert "Ask one of them to run `/ticket unsubscribe` here." in refused
    assert len(await _subscriptions(hub, alice.token, project["id"])) == 1


@pytest.fixture
async def role_hub(
    stack: tuple[str, str | None, dict[str, str]],  # noqa: F811
    fake_discord: FakeDiscord,
) -> AsyncIterator[DiscordHub]:
    live, manager = await start_discord_hub(stack, fake_discord, DISCORD_SUBSCRIBE_ROLE="Relay Managers")
    try:
        yield live
    finally:
        await live.api.aclose()
        await manager.__aexit__(None, None, None)


async def test_the_configured_role_may_subscribe_and_the_hub_role_still_counts(role_hub: DiscordHub) -> None:
    hub = role_hub
    alice, member = await hub.person("Alice Archer")
    victor, viewer = await hub.person("Victor Viewer")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], victor, "viewer")
    member.permissions = viewer.permissions = EVERYONE_PERMISSIONS
    refused = text_of(await hub.command(member, "subscribe", {"project": "OPS"}))
    assert "Manage Channels permission in this channel or the role **Relay Managers**" in refused
    role = await hub.fake.add_role("relay managers")
    member.role_ids = viewer.role_ids = [role]
    accepted = text_of(await hub.command(member, "subscribe", {"project": "OPS"}))
    assert "now gets OPS updates" in accepted
    by_viewer = text_of(await hub.command(viewer, "subscribe", {"project": "OPS", "format": "detailed"}))
    assert "your role (viewer) does not allow this" in by_viewer.lower()  # the hub role, checked after
