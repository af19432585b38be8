"""Slack and Discord on one hub: what happens in one chat shows in the other, attributed to its author
and its origin, and never comes back to where it was written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bots.discord.runtime import DiscordRuntime
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.integration.chat.conftest import CHANNEL, SlackHub, start_slack_hub
from tests.integration.chat.discord_support import discord_env, text_of


@pytest.fixture
async def both(
    stack: tuple[str, str | None, dict[str, str]], fake_slack: FakeSlack, fake_discord: FakeDiscord
) -> AsyncIterator[tuple[SlackHub, DiscordRuntime]]:
    extra = {k: v for k, v in discord_env(fake_discord).items() if k != "PUBLIC_URL"}
    hub, manager = await start_slack_hub(stack, fake_slack, **extra)
    discord = hub.context.discord
    assert isinstance(discord, DiscordRuntime)
    discord.relay.pacer.interval = 0.2
    discord.relay.poll_interval = 0.3
    await fake_discord.wait_ready()
    await asyncio.wait_for(discord.client.wait_until_ready(), 10)
    try:
        yield hub, discord
    finally:
        await hub.slack.aclose()
        await hub.api.aclose()
        await manager.__aexit__(None, None, None)


async def test_comments_cross_between_slack_and_discord(
    both: tuple[SlackHub, DiscordRuntime], fake_discord: FakeDiscord
) -> None:
    hub, _discord = both
    alice = await hub.person("Alice Archer", "UALICE")  # linked in Slack by verified email
    member = fake_discord.add_user("alice", global_name="Alice Archer")
    code = (await hub.api.post("/api/me/chat-links", token=alice.token)).body["code"]
    linked = await fake_discord.slash(member, "ticket", "link", {"code": code})
    assert "Linked" in text_of(await linked.final())
    await hub.api.project(alice, "OPS")
    assert "now gets OPS updates" in (await hub.command("UALICE", "subscribe OPS"))["text"]
    subscribed = await fake_discord.slash(member, "ticket", "subscribe", {"project": "OPS"})
    assert "now gets OPS updates" in text_of(await subscribed.final())

    created = await fake_discord.slash(member, "ticket", "create", {"title": "Made in Discord"})
    assert "Created OPS-1" in text_of(await created.final())
    slack_root = await hub.root("OPS-1")
    discord_root = await fake_discord.wait_for(
        lambda: next((m for m in fake_discord.channel_messages(fake_discord.channel_id) if m.embeds), None)
    )

    def slack_thread() -> list[str]:
        return [m.text for m in hub.fake.channel_messages(CHANNEL, thread=slack_root.ts)]

    def discord_thread() -> list[str]:
        return [text_of(m.raw) for m in fake_discord.channel_messages(discord_root.id)]

    await fake_discord.say(member, discord_root.id, "typed in Discord")
    await hub.fake.wait_for(lambda: "*Alice Archer* (via Discord): typed in Discord" in slack_thread())
    reply: dict[str, Any] = {
        "type": "message", "channel": CHANNEL, "user": "UALICE", "text": "typed in Slack",
        "ts": "1800000000.000300", "thread_ts": slack_root.ts, "channel_type": "channel",
    }  # fmt: skip
    assert (await hub.slack.event(reply)).status_code == 200
    await fake_discord.wait_for(lambda: [t for t in discord_thread() if "typed in Slack" in t])
    from_slack = next(t for t in discord_thread() if "typed in Slack" in t)
    assert "Alice Archer" in from_slack
    assert "via Slack" in from_slack
    await hub.settle()
    assert [t for t in slack_thread() if "typed in Slack" in t] == []  # never echoed back
    assert len([t for t in discord_thread() if "typed in Discord" in t]) == 1  # only the user's message
