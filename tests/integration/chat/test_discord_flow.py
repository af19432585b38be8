"""End to end through the real discord.py client: fake users act over the fake gateway; the hub's
answers, channel posts, threads and DMs arrive at the fake REST API."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.discord import FakeMessage, FakeUser
from tests.integration.chat.discord_support import (
    BOARD,
    DiscordHub,
    text_of,
)
from tests.integration.realtime.conftest import stack  # noqa: F401  (the backend pairs)
from tests.support.api import User
from tests.support.live import ws_connect


async def _relayed_ticket(hub: DiscordHub, title: str) -> tuple[User, FakeUser, dict[str, Any], FakeMessage]:
    """Alice, linked, with OPS subscribed in the channel and one web-made ticket relayed into it."""
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    await hub.command(member, "subscribe", {"project": "OPS"})
    ticket = await hub.api.ticket(alice, project["id"], title=title)
    return alice, member, ticket, await hub.root(ticket["key"])


async def test_slash_create_reaches_socket_channel_and_thread(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    answer = await hub.command(member, "subscribe", {"project": "OPS"})
    assert "now gets OPS updates" in text_of(answer)
    async with ws_connect(hub.address, f"/ws/projects/{project['id']}/tickets/", token=alice.token) as ws:
        started = time.monotonic()
        interaction = await hub.slash(member, "create", {"title": "Pager fires twice"})
        assert (await interaction.answered())["type"] == 5
        assert time.monotonic() - started < 3.0  # deferred within Discord's 3 seconds
        update = await ws.recv_type("ticket_update")
        assert update["action"] == "created"
        assert update["origin"] == "discord"
        assert update["data"]["reporter"]["id"] == alice.id  # acted as the linked hub user
    answer = await interaction.final()
    assert interaction.ephemeral
    assert "Created OPS-1" in text_of(answer)
    root = await hub.root("OPS-1")
    embed = root.embeds[0]
    assert embed["title"] == "OPS-1 · Pager fires twice"
    assert embed["url"] == f"{BOARD}/#/p/{project['id']}/t/{update['data']['id']}"
    assert f"event {update['event_id']}" in embed["footer"]["text"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Status"] == "To do"
    assert fields["Assignee"] == "nobody"
    custom_ids = [c.get("custom_id") for row in root.components for c in row["components"]]
    assert f"sb:assign:{update['data']['id']}" in custom_ids
    assert f"sb:status:{update['data']['id']}" in custom_ids
    thread = next(t for t in hub.fake.threads() if t.id == root.id)
    assert thread.parent_id == hub.channel
    assert thread.name.startswith("OPS-1 Pager")


async def test_button_assigns_and_the_root_follows(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    await hub.api.project(alice, "OPS")
    await hub.command(member, "subscribe", {"project": "OPS"})
    await hub.command(member, "create", {"title": "Disk full"})
    root = await hub.root("OPS-1")
    click = await hub.fake.click(member, root, next(
        c["custom_id"] for row in root.components for c in row["components"]
        if str(c.get("custom_id", "")).startswith("sb:assign:")
    ))  # fmt: skip
    answer = await click.final()
    assert click.ephemeral
    assert "assigned to Alice Archer" in text_of(answer)
    await hub.fake.wait_for(lambda: "Alice Archer" in text_of(hub.fake.messages[root.id].raw))
    reply = await hub.fake.wait_for(lambda: [m for m in hub.thread(root) if "assigned it" in text_of(m.raw)])
    assert "Alice Archer assigned it to Alice Archer (via Discord)" in text_of(reply[0].raw)


async def test_status_select_and_viewer_refusal(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    victor, viewer = await hub.person("Victor Viewer")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], victor, "viewer")
    await hub.command(member, "subscribe", {"project": "OPS"})
    await hub.command(member, "create", {"title": "Slow search"})
    root = await hub.root("OPS-1")
    select = next(c for row in root.components for c in row["components"] if c["type"] == 3)
    refused = await hub.fake.click(viewer, root, select["custom_id"], values=["done"])
    assert "role" in text_of(await refused.final()).lower()
    moved = await hub.fake.click(member, root, select["custom_id"], values=["in_progress"])
    assert "now In progress" in text_of(await moved.final())
    ticket = (await hub.api.get("/api/tickets/OPS-1", token=alice.token)).body
    assert ticket["status"] == "in_progress"


async def test_assignment_from_the_web_dms_the_linked_user(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, _alice_member = await hub.person("Alice Archer")
    bob, bob_member = await hub.person("Bob Baker")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    ticket = await hub.api.ticket(alice, project["id"], title="Rotate keys")
    await hub.api.patch(f"/api/tickets/{ticket['id']}", token=alice.token, json={"assignee_id": bob.id})
    dm = await hub.fake.wait_for(lambda: hub.fake.dm_messages(bob_member.id))
    assert "Rotate keys" in text_of(dm[0].raw)
    ids = [c.get("custom_id") for row in dm[0].components for c in row["components"]]
    assert any(str(i).startswith("sb:read:") for i in ids)
    read = await hub.fake.click(bob_member, dm[0], next(i for i in ids if str(i).startswith("sb:read:")))
    assert "Read" in text_of(await read.final())
    unread = (await hub.api.get("/api/notifications?unread=true", token=bob.token)).body
    assert unread["items"] == []


async def test_thread_replies_become_comments_without_echo(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member, ticket, root = await _relayed_ticket(hub, "Flaky login")
    typed = await hub.fake.say(member, root.id, "Seen it on staging too")
    comments_url = f"/api/tickets/{ticket['id']}/comments"
    items = await hub.comments(alice, ticket["id"], until=bool)
    assert items[0]["body"] == "Seen it on staging too"
    assert items[0]["author"]["id"] == alice.id
    # a comment written on the web appears in the thread, attributed; the Discord one is not echoed
    await hub.api.post(comments_url, token=alice.token, json={"body": "Fixed by a retry"})
    web = await hub.fake.wait_for(
        lambda: [m for m in hub.thread(root) if "Fixed by a retry" in text_of(m.raw)]
    )
    assert "Alice Archer" in text_of(web[0].raw)
    assert "via web" in text_of(web[0].raw)
    await hub.settle()
    assert [m for m in hub.thread(root) if "Seen it on staging" in text_of(m.raw)] == [typed]


async def test_unlinked_thread_reply_is_explained_by_dm(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    *_rest, root = await _relayed_ticket(hub, "Flaky login")
    stranger = hub.fake.add_user("stranger")
    await hub.fake.say(stranger, root.id, "me too")
    dm = await hub.fake.wait_for(lambda: hub.fake.dm_messages(stranger.id))
    assert "not linked" in text_of(dm[0].raw)


async def test_editing_or_deleting_a_thread_reply_follows_to_the_comment(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member, ticket, root = await _relayed_ticket(hub, "Flaky login")
    typed = await hub.fake.say(member, root.id, "first thought")

    async def bodies(expected: list[str]) -> list[str]:
        found = await hub.comments(
            alice, ticket["id"], until=lambda items: [c["body"] for c in items] == expected
        )
        return [c["body"] for c in found]

    assert await bodies(["first thought"]) == ["first thought"]
    typed.content = "second thought"
    edited = {**hub.fake.message_payload(typed), "guild_id": str(hub.fake.guild_id)}
    await hub.fake.dispatch("MESSAGE_UPDATE", edited)
    assert await bodies(["second thought"]) == ["second thought"]
    await hub.fake.dispatch(
        "MESSAGE_DELETE",
        {"id": str(typed.id), "channel_id": str(root.id), "guild_id": str(hub.fake.guild_id)},
    )
    assert await bodies([]) == []


async def test_who_lists_online_and_viewing_users(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    ticket = await hub.api.ticket(alice, project["id"], title="Pager fires twice")
    async with ws_connect(hub.address, f"/ws/projects/{project['id']}/presence/", token=alice.token) as ws:
        await ws.recv_type("presence_state")
        await ws.send({"type": "viewing", "ticket_id": ticket["id"]})
        await ws.recv_type("viewing")
        who = text_of(await hub.command(member, "who", {"project": "OPS"}))
    assert "Online on the board: Alice Archer (viewing OPS-1)" in who
    after = text_of(await hub.command(member, "who", {"project": "OPS"}))
    assert "Online on the board: nobody" in after


async def test_detailed_format_shows_description_labels_and_every_change(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    answer = await hub.command(member, "subscribe", {"project": "OPS", "format": "detailed", "labels": "db"})
    assert "labels db, detailed" in text_of(answer)
    await hub.api.ticket(alice, project["id"], title="No label, not relayed")
    ticket = await hub.api.ticket(
        alice, project["id"], title="Slow queries", description="p99 is 2 s", labels=["db"]
    )
    root = await hub.root(ticket["key"])
    shown = text_of(root.raw)
    assert "p99 is 2 s" in shown
    assert "Labels: db" in shown
    assert "Reporter: Alice Archer" in shown
    await hub.api.patch(
        f"/api/tickets/{ticket['id']}", json={"title": "Slow queries on reports"}, token=alice.token
    )
    reply = await hub.fake.wait_for(
        lambda: [m for m in hub.thread(root) if "changed title" in text_of(m.raw)]
    )
    assert "Alice Archer changed title (via web)" in text_of(reply[0].raw)
    assert not hub.root_of("OPS-1")()  # filtered out by label
