"""Who may subscribe a Slack channel: a member of it (conversations.members, paged), not in a Slack
Connect channel unless SLACK_ALLOW_SHARED_CHANNELS, and — as before — a hub member of the project."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bots.slack.channel_access import NOT_MEMBER, NOT_VISIBLE, SHARED
from hub.adapters.db.chat_models import ChatSubscription
from tests.fakes.slack import FakeSlack
from tests.integration.chat.conftest import SlackHub, start_slack_hub


async def _count(hub: SlackHub) -> int:
    uow = hub.context.uow()
    async with uow:
        return int(await uow.session.scalar(select(func.count()).select_from(ChatSubscription)) or 0)


async def test_only_members_of_the_channel_subscribe_it(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.person("Bob Baker", "UBOB")
    await hub.api.project(alice, "OPS")
    # 2,500 members: the check pages through conversations.members with its cursor.
    crowd = [f"UCROWD{n:05d}" for n in range(2_500)]
    hub.fake.add_channel("C500", [*crowd, "UBOB", "UALICE"])
    hub.fake.add_channel("C600", ["UBOB"])
    refused = await hub.command("UALICE", "subscribe OPS", "C600")
    assert refused["text"] == f":warning: {NOT_MEMBER}"
    assert await _count(hub) == 0
    assert "now gets OPS updates" in (await hub.command("UALICE", "subscribe OPS", "C500"))["text"]
    assert len(hub.fake.calls_to("conversations.members")) >= 3  # 1,000 a page
    # The hub's own role check still applies: Bob is in the channel but not in the project.
    answer = await hub.command("UBOB", "subscribe OPS", "C500")
    assert "now gets" not in answer["text"]
    assert await _count(hub) == 1


async def test_private_channel_the_bot_is_not_in_says_to_invite_it(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.api.project(alice, "OPS")
    hub.fake.add_channel("G700", ["UALICE"], private=True, bot_member=False)
    answer = await hub.command("UALICE", "subscribe OPS", "G700")
    assert answer["text"] == f":warning: {NOT_VISIBLE}"
    assert await _count(hub) == 0


async def test_slack_connect_channels_are_refused_by_default(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.api.project(alice, "OPS")
    hub.fake.add_channel("C800", ["UALICE"], ext_shared=True)
    answer = await hub.command("UALICE", "subscribe OPS", "C800")
    assert answer["text"] == f":warning: {SHARED}"
    assert await _count(hub) == 0


@pytest.fixture
async def sharing_hub(
    stack: tuple[str, str | None, dict[str, str]], fake_slack: FakeSlack
) -> AsyncIterator[SlackHub]:
    live, manager = await start_slack_hub(stack, fake_slack, SLACK_ALLOW_SHARED_CHANNELS="true")
    try:
        yield live
    finally:
        await live.slack.aclose()
        await live.api.aclose()
        await manager.__aexit__(None, None, None)


async def test_slack_connect_channels_when_allowed(sharing_hub: SlackHub) -> None:
    hub = sharing_hub
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.api.project(alice, "OPS")
    hub.fake.add_channel("C800", ["UALICE"], ext_shared=True)
    assert "now gets OPS updates" in (await hub.command("UALICE", "subscribe OPS", "C800"))["text"]
    hub.fake.add_channel("C801", ["UBOB"], ext_shared=True)
    assert (await hub.command("UALICE", "subscribe OPS", "C801"))["text"] == f":warning: {NOT_MEMBER}"
