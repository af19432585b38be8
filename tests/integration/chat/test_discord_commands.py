"""`/ticket` in Discord: every subcommand through the real app-command tree, autocomplete, refusals,
DMs, and what an unlinked user sees."""

from __future__ import annotations

from tests.integration.chat.discord_support import (
    DiscordHub,
    text_of,
)
from tests.integration.realtime.conftest import stack  # noqa: F401  (the backend pairs)

CONTRACT = {
    "create", "list", "show", "assign", "status", "comment", "who", "link", "subscribe", "unsubscribe",
    "help",
}  # fmt: skip


async def test_the_command_is_registered_once_with_every_subcommand(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    registered = hub.fake.synced_commands[None]
    assert [(c["name"], c["type"]) for c in registered] == [("ticket", 1), ("Create ticket", 3)]
    subs = {o["name"]: o for o in registered[0]["options"]}
    assert set(subs) >= CONTRACT
    autocompleted = {
        (name, o["name"])
        for name, sub in subs.items()
        for o in sub.get("options", [])
        if o.get("autocomplete")
    }
    assert {
        ("show", "ticket"),
        ("status", "ticket"),
        ("status", "status"),
        ("create", "project"),
    } <= autocompleted
    assert hub.runtime.client.synced == 1
    assert await hub.runtime.client.sync_commands() is False  # Discord has them: no second sync
    assert len(hub.fake.requests_to("PUT", r"/applications/\d+/commands")) == 1


async def test_unlinked_user_is_told_how_to_link(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    stranger = hub.fake.add_user("stranger")
    answer = await hub.command(stranger, "list", {})
    assert "not linked" in text_of(answer)
    assert "/ticket link" in text_of(answer)
    bad = await hub.command(stranger, "link", {"code": "NOPE-NOPE"})
    assert "unknown or expired link code" in text_of(bad).lower()


async def test_link_in_a_dm_covers_every_guild(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    user = await hub.api.user("Dana Dev")
    member = hub.fake.add_user("dana")
    code = (await hub.api.post("/api/me/chat-links", token=user.token)).body["code"]
    answer = await hub.command(member, "link", {"code": code}, guild=False)
    assert "Linked" in text_of(answer)
    await hub.api.project(user, "DEV")
    listed = await hub.command(member, "list", {"project": "DEV"})  # in the guild now
    assert "Open tickets in DEV: none." in text_of(listed)


async def test_commands_show_list_status_comment_who(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    await hub.api.ticket(alice, project["id"], title="Pager fires twice")
    shown = await hub.command(member, "show", {"ticket": "ops-1"})
    assert "Pager fires twice" in text_of(shown)
    moved = await hub.command(member, "status", {"ticket": "OPS-1", "status": "wip"})
    assert "OPS-1 is now In progress" in text_of(moved)
    assert "Commented on OPS-1" in text_of(
        await hub.command(member, "comment", {"ticket": "OPS-1", "text": "on it"})
    )
    listed = await hub.command(member, "list", {"project": "mine"})
    assert "none" in text_of(listed)
    mine = await hub.command(member, "assign", {"ticket": "OPS-1"})
    assert "assigned to Alice Archer" in text_of(mine)
    listed = await hub.command(member, "list", {"project": "mine"})
    assert "OPS-1" in text_of(listed)
    who = await hub.command(member, "who", {"project": "OPS"})
    assert "Alice Archer: OPS-1" in text_of(who)
    comments = (await hub.api.get("/api/tickets/OPS-1/comments", token=alice.token)).body
    items = comments["items"] if isinstance(comments, dict) else comments
    assert [c["body"] for c in items] == ["on it"]


async def test_assign_to_a_discord_user_and_bad_input(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    bob, bob_member = await hub.person("Bob Baker")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await hub.api.ticket(alice, project["id"], title="Rotate keys")
    done = await hub.command(member, "assign", {"ticket": "OPS-1", "user": bob_member})
    assert "assigned to Bob Baker" in text_of(done)
    outsider = hub.fake.add_user("carol")
    unknown = await hub.command(member, "assign", {"ticket": "OPS-1", "user": outsider})
    assert "can't find" in text_of(unknown)
    assert "link" in text_of(unknown)
    bad_status = await hub.command(member, "status", {"ticket": "OPS-1", "status": "sideways"})
    assert "I don't know the status 'sideways'" in text_of(bad_status)
    assert "/ticket status" in text_of(bad_status)
    bad_key = await hub.command(member, "show", {"ticket": "nonsense"})
    assert "is not a ticket key like OPS-12" in text_of(bad_key)
    missing = await hub.command(member, "show", {"ticket": "OPS-99"})
    assert "no ticket ops-99" in text_of(missing).lower()
    typo = await hub.command(member, "create", {"title": "Lost ticket", "project": "OPZ"})
    assert "No project OPZ" in text_of(typo)
    listed = (await hub.api.get(f"/api/projects/{project['id']}/tickets", token=alice.token)).body
    assert [t["title"] for t in listed["items"]] == ["Rotate keys"]  # not created in another project
    both = await hub.command(member, "assign", {"ticket": "OPS-1", "user": bob_member, "nobody": True})
    assert "not both" in text_of(both)


async def test_outsiders_and_viewers_are_refused(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, _member = await hub.person("Alice Archer")
    victor, viewer = await hub.person("Victor Viewer")
    _eve, outsider = await hub.person("Eve Outsider")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], victor, "viewer")
    await hub.api.ticket(alice, project["id"], title="Secret")
    assert "Secret" in text_of(await hub.command(viewer, "show", {"ticket": "OPS-1"}))
    refused = await hub.command(viewer, "comment", {"ticket": "OPS-1", "text": "hi"})
    assert "your role (viewer) does not allow this" in text_of(refused).lower()
    hidden = await hub.command(outsider, "show", {"ticket": "OPS-1"})
    assert "Secret" not in text_of(hidden)
    assert "no ticket ops-1" in text_of(hidden).lower()
    sub = await hub.command(viewer, "subscribe", {"project": "OPS"})
    assert "role" in text_of(sub).lower()


async def test_autocomplete_suggests_only_what_the_user_may_see(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    ops = await hub.api.project(alice, "OPS")
    await hub.api.project(alice, "WEB")
    bob = await hub.api.user("Bob Baker")
    hidden = await hub.api.project(bob, "SEC")
    for title in ("Pager fires twice", "Disk full", "Slow search"):
        await hub.api.ticket(alice, ops["id"], title=title)
    await hub.api.ticket(bob, hidden["id"], title="Leaked key")

    async def choices(sub: str, options: dict[str, str], focused: str) -> list[dict[str, str]]:
        interaction = await hub.slash(member, sub, options, focused=focused)
        answer = await interaction.answered()
        assert answer["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
        return list(answer["data"]["choices"])

    projects = await choices("create", {"title": "x", "project": ""}, "project")
    assert sorted(c["value"] for c in projects) == ["OPS", "WEB"]
    keys = await choices("show", {"ticket": "OPS-"}, "ticket")
    assert sorted(c["value"] for c in keys) == ["OPS-1", "OPS-2", "OPS-3"]
    by_title = await choices("show", {"ticket": "disk"}, "ticket")
    assert [c["value"] for c in by_title] == ["OPS-2"]
    assert await choices("show", {"ticket": "SEC-"}, "ticket") == []
    statuses = await choices("status", {"ticket": "OPS-1", "status": "rev"}, "status")
    assert [c["value"] for c in statuses] == ["in_review"]
    stranger = hub.fake.add_user("stranger")
    interaction = await hub.slash(stranger, "show", {"ticket": "OPS"}, focused="ticket")
    assert (await interaction.answered())["data"]["choices"] == []


async def test_help_lists_every_subcommand(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    member = hub.fake.add_user("anyone")
    text = text_of(await hub.command(member, "help", {}))
    for name in CONTRACT:
        assert f"/ticket {name}" in text
