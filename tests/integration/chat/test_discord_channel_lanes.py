"""A Discord channel where every post fails never holds back another (issue #16): the subscription is
paused with Discord's error, its creator gets a DM, and subscribing the channel again resumes it."""

from __future__ import annotations

from typing import Any

from tests.integration.chat.discord_support import DiscordHub, text_of
from tests.support.api import User


async def _subscription(hub: DiscordHub, alice: User, project_id: int, channel: int) -> dict[str, Any]:
    listed = await hub.api.get(f"/api/projects/{project_id}/chat-subscriptions", token=alice.token)
    found: dict[str, Any] = next(s for s in listed.body["items"] if s["channel"] == str(channel))
    return found


async def test_a_channel_answering_50024_is_paused_and_the_others_go_on(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    await hub.command(member, "subscribe", {"project": "OPS"})
    bad = hub.fake.add_channel("wrong-kind")
    await hub.command(member, "subscribe", {"project": "OPS"}, channel_id=bad.id)
    hub.fake.fail(
        "POST", rf"/channels/{bad.id}/messages$", status=400, code=50024,
        message="Cannot execute action on this channel type", times=1,
    )  # fmt: skip
    first = await hub.api.ticket(alice, project["id"], title="Only the good channel")
    await hub.root(first["key"])
    note = await hub.fake.wait_for(lambda: hub.fake.dm_messages(member.id))
    text = text_of(note[0].raw)
    assert f"stopped posting OPS tickets in <#{bad.id}>" in text
    assert "50024" in text
    assert "/ticket subscribe OPS" in text
    sub = await _subscription(hub, alice, project["id"], bad.id)
    assert sub["state"] == "paused"
    assert "50024" in sub["state_reason"]
    assert len(hub.fake.requests_to("POST", rf"/channels/{bad.id}/messages$")) == 1  # not tried again
    second = await hub.api.ticket(alice, project["id"], title="Still flowing")
    await hub.root(second["key"])
    assert hub.fake.channel_messages(bad.id) == []

    await hub.command(member, "subscribe", {"project": "OPS"}, channel_id=bad.id)
    sub = await _subscription(hub, alice, project["id"], bad.id)
    assert (sub["state"], sub["state_reason"], sub["failures"]) == ("active", None, 0)
    third = await hub.api.ticket(alice, project["id"], title="Resumed")
    await hub.root(third["key"], channel=bad.id)
    assert [m.embeds[0]["title"].split()[0] for m in hub.fake.channel_messages(bad.id) if m.embeds] == [
        third["key"]
    ]
