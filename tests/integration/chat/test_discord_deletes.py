"""Deleting thread replies that became comments, when discord.py never cached them (after a restart,
or with `DISCORD_MESSAGE_CACHE=0`): Discord's MESSAGE_DELETE and MESSAGE_DELETE_BULK carry only ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.discord import FakeDiscord
from tests.integration.chat.discord_support import DiscordHub, start_discord_hub
from tests.integration.realtime.conftest import stack  # noqa: F401  (the backend pairs)
from tests.support.api import User


@pytest.fixture
async def uncached_hub(
    stack: tuple[str, str | None, dict[str, str]],  # noqa: F811
    fake_discord: FakeDiscord,
) -> AsyncIterator[DiscordHub]:
    live, manager = await start_discord_hub(stack, fake_discord, DISCORD_MESSAGE_CACHE="0")
    try:
        yield live
    finally:
        await live.api.aclose()
        await manager.__aexit__(None, None, None)


async def _bodies(hub: DiscordHub, user: User, ticket_id: int, expected: list[str]) -> list[str]:
    found = await hub.comments(
        user, ticket_id, until=lambda items: sorted(c["body"] for c in items) == expected
    )
    return sorted(c["body"] for c in found)


async def test_deleting_an_uncached_reply_deletes_its_comment(uncached_hub: DiscordHub) -> None:
    hub = uncached_hub
    assert hub.runtime.client._connection._messages is None  # discord.py keeps no message at all
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    await hub.command(member, "subscribe", {"project": "OPS"})
    ticket = await hub.api.ticket(alice, project["id"], title="Flaky login")
    root = await hub.root(ticket["key"])
    kept = await hub.fake.say(member, root.id, "keep me")
    typed = await hub.fake.say(member, root.id, "delete me")
    assert await _bodies(hub, alice, ticket["id"], ["delete me", "keep me"]) == ["delete me", "keep me"]
    await hub.fake.delete_message(typed)
    assert await _bodies(hub, alice, ticket["id"], ["keep me"]) == ["keep me"]
    await hub.fake.delete_message(kept)
    assert await _bodies(hub, alice, ticket["id"], []) == []


async def test_a_bulk_delete_removes_every_mirrored_comment(uncached_hub: DiscordHub) -> None:
    hub = uncached_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    await hub.command(member, "subscribe", {"project": "OPS"})
    ticket = await hub.api.ticket(alice, project["id"], title="Spam")
    root = await hub.root(ticket["key"])
    typed = [await hub.fake.say(member, root.id, f"spam {n}") for n in range(3)]
    await _bodies(hub, alice, ticket["id"], ["spam 0", "spam 1", "spam 2"])
    # a web comment's relayed copy is not a mirror: purging it keeps the comment
    await hub.api.post(
        f"/api/tickets/{ticket['id']}/comments", token=alice.token, json={"body": "from the web"}
    )
    relayed = await hub.fake.wait_for(
        lambda: [m for m in hub.thread(root) if m.embeds and "from the web" in str(m.embeds)]
    )
    await hub.fake.bulk_delete([*typed[:2], relayed[0]])
    assert await _bodies(hub, alice, ticket["id"], ["from the web", "spam 2"]) == ["from the web", "spam 2"]
