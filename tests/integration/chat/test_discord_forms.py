"""The create form (`/ticket create` without a title, the New ticket button, "Create ticket" on a
message), the Comment and Edit modals and "Assign to…" on ticket messages, and locked threads."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord import FakeMessage
from tests.integration.chat.discord_support import DiscordHub, text_of
from tests.integration.realtime.conftest import stack  # noqa: F401  (the backend pairs)


def _custom_id(message: FakeMessage | dict[str, Any], prefix: str) -> str:
    rows = message.components if isinstance(message, FakeMessage) else message.get("components") or []
    return next(
        str(c["custom_id"]) for row in rows for c in row["components"]
        if str(c.get("custom_id", "")).startswith(prefix)
    )  # fmt: skip


def _tickets(hub: DiscordHub, token: str, project_id: int) -> Any:
    return hub.api.get(f"/api/projects/{project_id}/tickets", token=token)


async def test_create_without_a_title_opens_the_form_and_a_double_submit_creates_one(
    discord_hub: DiscordHub,
) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    bob, bob_member = await hub.person("Bob Baker")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    shown = await hub.slash(member, "create", {})
    modal = (await shown.answered())["data"]
    assert (await shown.answered())["type"] == 9  # the modal is the first answer
    labels = [row["label"] for row in modal["components"]]
    assert labels == ["Project", "Title", "Description", "Priority", "Assignee"]
    bad = await hub.fake.submit_modal(member, shown, {
        "project": ["OPS"], "title": "Pager fires twice", "priority": ["high"], "assignee": "nobody@nowhere",
    })  # fmt: skip
    assert "Assignee: I can't find 'nobody@nowhere' among the members of OPS" in text_of(await bad.final())
    assert "Pager fires twice" in text_of(await bad.final())  # what was typed is repeated
    shown = await hub.slash(member, "create", {})
    await shown.answered()
    form = {
        "project": ["OPS"], "title": "Pager fires twice", "description": "every night",
        "priority": ["urgent"], "assignee": f"<@{bob_member.id}>",
    }  # fmt: skip
    first = await hub.fake.submit_modal(member, shown, form)
    second = await hub.fake.submit_modal(member, shown, form)  # the same modal submitted twice
    answers = sorted([text_of(await first.final()), text_of(await second.final())])
    assert "Created OPS-1: Pager fires twice" in answers[0]
    assert "already submitted" in answers[1]
    items = (await _tickets(hub, alice.token, project["id"])).body["items"]
    assert len(items) == 1
    assert (items[0]["priority"], items[0]["description"]) == ("urgent", "every night")
    assert items[0]["assignee"]["id"] == bob.id


async def test_comment_edit_and_assign_to_buttons_with_viewer_refusal(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    bob, bob_member = await hub.person("Bob Baker")
    victor, viewer = await hub.person("Victor Viewer")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await hub.api.add(alice, project["id"], victor, "viewer")
    await hub.command(member, "subscribe", {"project": "OPS"})
    ticket = await hub.api.ticket(alice, project["id"], title="Disk full")
    root = await hub.root(ticket["key"])
    for prefix in ("sb:comment:", "sb:edit:"):
        refused = await hub.fake.click(viewer, root, _custom_id(root, prefix))
        first = await refused.answered()
        assert first["type"] == 4  # no form for a viewer: a clear refusal
        assert "viewer" in text_of(first["data"]).lower()
    click = await hub.fake.click(member, root, _custom_id(root, "sb:comment:"))
    assert (await click.answered())["type"] == 9
    done = await hub.fake.submit_modal(member, click, {"text": "Freed 20 GB"})
    assert "Commented on OPS-1" in text_of(await done.final())
    comments = await hub.comments(alice, ticket["id"], until=bool)
    assert comments[0]["body"] == "Freed 20 GB"
    edit = await hub.fake.click(member, root, _custom_id(root, "sb:edit:"))
    modal = (await edit.answered())["data"]
    assert modal["components"][0]["component"]["value"] == "Disk full"  # prefilled
    saved = await hub.fake.submit_modal(member, edit, {"title": "Disk full on db-2", "priority": ["high"]})
    assert "Saved OPS-1: priority, title changed" in text_of(await saved.final())
    assign = _custom_id(root, "sb:assignto:")
    moved = await hub.fake.click(member, root, assign, values=[str(bob_member.id)], component_type=5)
    assert "assigned to Bob Baker" in text_of(await moved.final())
    denied = await hub.fake.click(viewer, root, assign, values=[str(viewer.id)], component_type=5)
    assert "role" in text_of(await denied.final()).lower()
    now = (await hub.api.get(f"/api/tickets/{ticket['id']}", token=alice.token)).body
    assert (now["title"], now["priority"], now["assignee"]["id"]) == ("Disk full on db-2", "high", bob.id)


async def test_create_ticket_from_a_message_links_back_and_confirms_in_the_channel(
    discord_hub: DiscordHub,
) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    source = await hub.fake.say(member, hub.channel, "Checkout is broken\nSince the 2.3 deploy")
    shown = await hub.fake.message_command(member, "Create ticket", source)
    modal = (await shown.answered())["data"]
    assert modal["components"][1]["component"]["value"] == "Checkout is broken"
    done = await hub.fake.submit_modal(member, shown, {"project": ["OPS"]})
    assert "Created OPS-1: Checkout is broken" in text_of(await done.final())
    items = (await _tickets(hub, alice.token, project["id"])).body["items"]
    jump = f"https://discord.com/channels/{hub.fake.guild_id}/{hub.channel}/{source.id}"
    assert jump in items[0]["description"]
    assert "Since the 2.3 deploy" in items[0]["description"]
    reply = await hub.fake.wait_for(
        lambda: [m for m in hub.fake.channel_messages(hub.channel) if m.message_reference]
    )
    assert reply[0].message_reference is not None
    assert reply[0].message_reference["message_id"] == str(source.id)
    assert "created **[OPS-1]" in reply[0].content
    assert not reply[0].ephemeral  # visible to the channel


async def test_locked_threads_tell_the_author(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    await hub.command(member, "subscribe", {"project": "OPS"})
    ticket = await hub.api.ticket(alice, project["id"], title="Flaky login")
    root = await hub.root(ticket["key"])
    thread = hub.fake.channels[root.id]
    thread.locked = thread.archived = True
    await hub.fake.dispatch("THREAD_UPDATE", hub.fake.channel_payload(thread))
    answer = text_of(await hub.command(member, "comment", {"ticket": "OPS-1", "text": "still broken"}))
    assert "Commented on OPS-1" in answer
    assert f"thread in <#{hub.channel}> is locked" in answer
    # an unlinked user who refuses DMs replies in the locked thread: told in the channel instead
    stranger = hub.fake.add_user("stranger")
    dm = hub.fake.dm_channel(stranger)
    hub.fake.fail("POST", rf"/channels/{dm.id}/messages", status=403, code=50007,
                  message="Cannot send messages to this user")  # fmt: skip
    await hub.fake.say(stranger, root.id, "me too")
    told = await hub.fake.wait_for(
        lambda: [m for m in hub.fake.channel_messages(hub.channel) if f"<@{stranger.id}>" in m.content]
    )
    assert "not linked" in told[0].content


async def test_channel_posts_mention_linked_people_unless_the_channel_says_no(
    discord_hub: DiscordHub,
) -> None:
    hub = discord_hub
    alice, member = await hub.person("Alice Archer")
    bob, bob_member = await hub.person("Bob Baker")
    carol = await hub.api.user("Carol Clark")  # a member without a Discord account: stays a plain name
    project = await hub.api.project(alice, "OPS")
    for person in (bob, carol):
        await hub.api.add(alice, project["id"], person, "member")
    await hub.command(member, "subscribe", {"project": "OPS"})
    quiet = hub.fake.add_channel("quiet")
    answer = await hub.command(
        member, "subscribe", {"project": "OPS", "mentions": False}, channel_id=quiet.id
    )
    assert "no mentions" in text_of(answer)
    ticket = await hub.api.ticket(
        alice, project["id"], title="@everyone rotate keys", description="@alice and @carol please look",
        assignee_id=bob.id,
    )  # fmt: skip
    root = await hub.root(ticket["key"])
    assert root.content == f"Assigned to <@{bob_member.id}> · cc <@{member.id}>"
    assert root.raw["allowed_mentions"] == {"parse": [], "users": [bob_member.id, member.id]}
    silent = await hub.root(ticket["key"], quiet.id)
    assert silent.content == ""
    assert "<@" not in str(silent.raw.get("content"))
    await hub.api.post(
        f"/api/tickets/{ticket['id']}/comments", token=alice.token, json={"body": "@bob can you?"}
    )
    comment = await hub.fake.wait_for(lambda: [m for m in hub.thread(root) if "can you?" in text_of(m.raw)])
    assert comment[0].content == f"cc <@{bob_member.id}>"
    await hub.api.patch(f"/api/tickets/{ticket['id']}", token=alice.token, json={"assignee_id": alice.id})
    reply = await hub.fake.wait_for(lambda: [m for m in hub.thread(root) if "assigned it" in text_of(m.raw)])
    assert reply[0].content == f"Assigned to <@{member.id}>"  # the new assignee is pinged in the thread
    await hub.fake.wait_for(lambda: hub.fake.messages[root.id].content == f"Assigned to <@{member.id}>")
