"""Slack interactions as Slack times them: 3-second acknowledgements, expiring triggers, resubmitted
views, the buttons on ticket messages and "Create ticket from message" (docs/slack.md)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.fakes.slack_requests import trigger_id
from tests.integration.chat.conftest import CHANNEL, SlackHub, link_directly

SOURCE_TS = "1700000123.000200"


def _values(project: str, title: str, assignee: str | None = None) -> dict[str, Any]:
    return {
        "project": {"value": {"type": "static_select", "selected_option": {"value": project}}},
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "description": {"value": {"type": "plain_text_input", "value": "from the modal"}},
        "priority": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
        "assignee": {"value": {"type": "users_select", "selected_user": assignee}},
    }


def _seed_view(hub: SlackHub, view_id: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A create modal as if Slack had opened it (its id is what a submission carries)."""
    hub.fake.views[view_id] = {"id": view_id, "hash": f"h{view_id}.1", "callback_id": "sb_create"}
    return {"id": view_id, "callback_id": "sb_create", "private_metadata": json.dumps(metadata or {})}


async def _tickets(hub: SlackHub, token: str, project_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await hub.api.get(f"/api/projects/{project_id}/tickets", token=token)
    ).body["items"]
    return items


def _view_text(view: dict[str, Any]) -> str:
    return json.dumps(view.get("blocks") or [])


async def test_submission_is_acknowledged_before_slow_work_and_a_resubmission_creates_once(
    hub: SlackHub,
) -> None:
    alice = await hub.person("Alice Archer", "UALICE")  # not linked yet: `users.info` will link her
    project = await hub.api.project(alice, "OPS")
    released = hub.fake.hold("users.info")
    meta = _seed_view(hub, "VSLOW01", {"channel": CHANNEL})
    first = await asyncio.wait_for(
        hub.slack.view_submission("UALICE", meta, _values("OPS", "Slow Slack")), 10
    )
    assert first.status_code == 200, first.text
    assert first.json()["response_action"] == "update"  # "Creating…", while users.info still hangs
    again = await hub.slack.view_submission("UALICE", meta, _values("OPS", "Slow Slack"))
    assert again.status_code == 200
    assert again.json()["response_action"] == "update"
    assert await _tickets(hub, alice.token, project["id"]) == []
    released.set()
    await hub.fake.wait_for(lambda: "Created" in _view_text(hub.fake.views["VSLOW01"]))
    later = await hub.slack.view_submission("UALICE", meta, _values("OPS", "Slow Slack"))
    assert later.status_code == 200
    await hub.settle(0.5)
    created = await _tickets(hub, alice.token, project["id"])
    assert [t["title"] for t in created] == ["Slow Slack"]
    assert "OPS-1" in _view_text(hub.fake.views["VSLOW01"])
    confirmations = hub.fake.calls_to("chat.postEphemeral")
    assert len(confirmations) == 1
    assert confirmations[0].params["user"] == "UALICE"


async def test_fast_checks_answer_in_the_acknowledgement_and_slow_ones_update_the_modal(
    hub: SlackHub,
) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    viewer = await hub.person("Vic Viewer", "UVIC")
    quiet = await hub.person("Quinn Viewer", "UQUINN")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], viewer, "viewer")
    await hub.api.add(alice, project["id"], quiet, "viewer")
    await link_directly(hub, viewer, "UVIC")
    meta = _seed_view(hub, "VFAST01")
    empty = await hub.slack.view_submission("UVIC", meta, _values("OPS", "   "))
    assert empty.json() == {"response_action": "errors", "errors": {"title": "A title is required."}}
    refused = await hub.slack.view_submission("UVIC", meta, _values("OPS", "Not allowed"))
    assert refused.json()["response_action"] == "errors"
    assert "viewer" in refused.json()["errors"]["project"]
    # Quinn is not linked yet: only users.info can tell who she is, so she hears it in the modal after.
    later = _seed_view(hub, "VSLOW02")
    update = await hub.slack.view_submission("UQUINN", later, _values("OPS", "Not allowed either"))
    assert update.json()["response_action"] == "update"
    await hub.fake.wait_for(lambda: "viewer" in _view_text(hub.fake.views["VSLOW02"]))
    stranger = _seed_view(hub, "VSLOW03")
    assert (await hub.slack.view_submission("UNOBODY", stranger, _values("OPS", "Who"))).status_code == 200
    await hub.fake.wait_for(lambda: "not linked" in _view_text(hub.fake.views["VSLOW03"]))
    assert await _tickets(hub, alice.token, project["id"]) == []


def _shortcut(hub: SlackHub, text: str) -> dict[str, Any]:
    return {
        "type": "message_action", "callback_id": "sb_ticket_from_message", "trigger_id": trigger_id(),
        "team": {"id": "T111", "domain": "fake"}, "user": {"id": "UALICE", "team_id": "T111"},
        "channel": {"id": CHANNEL, "name": "general"}, "response_url": hub.slack.response_url()[1],
        "action_ts": "1.1",
        "message": {"type": "message", "ts": SOURCE_TS, "user": "UOTHER", "text": text},
    }  # fmt: skip


async def test_shortcut_opens_its_modal_while_the_trigger_is_fresh(hub: SlackHub) -> None:
    await hub.person("Alice Archer", "UALICE")  # first use: users.info links her
    await hub.api.project(await hub.api.user("Owner"), "OPS")
    hub.fake.slow("users.info", 5.0)  # costs more than the trigger's 3 s on the fake's clock
    reply = await hub.slack.interactive(_shortcut(hub, "Checkout times out"))
    assert reply.status_code == 200
    await hub.fake.wait_for(lambda: hub.fake.calls_to("views.update"))
    assert [r for r in hub.fake.rejected if r[0] == "views.open"] == []
    assert [c.method for c in hub.fake.calls if c.method.startswith(("views.", "users."))] == [
        "views.open", "users.info", "views.update",
    ]  # fmt: skip
    (view,) = hub.fake.views.values()
    assert view["callback_id"] == "sb_create"
    assert view["blocks"][1]["element"]["initial_value"] == "Checkout times out"


async def test_ticket_create_opens_its_form_while_the_trigger_is_fresh(hub: SlackHub) -> None:
    """`/ticket create` by someone Slack has not told us about yet: resolving them (users.info) takes
    longer than the trigger lives, so the form opens first (loading) and is filled in afterwards."""
    await hub.person("Alice Archer", "UALICE")  # first use: users.info links her
    await hub.api.project(await hub.api.user("Owner"), "OPS")
    hub.fake.slow("users.info", 5.0)  # costs more than the trigger's 3 s on the fake's clock
    _key, reply = await hub.slack.command("UALICE", "create")
    assert reply.status_code == 200
    await hub.fake.wait_for(lambda: hub.fake.calls_to("views.update"))
    assert [r for r in hub.fake.rejected if r[0] == "views.open"] == []
    assert [c.method for c in hub.fake.calls if c.method.startswith(("views.", "users."))] == [
        "views.open", "users.info", "views.update",
    ]  # fmt: skip
    (view,) = hub.fake.views.values()
    assert view["callback_id"] == "sb_create"


async def test_create_from_message_links_back_and_answers_in_the_thread(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    await link_directly(hub, alice, "UALICE")
    assert (await hub.slack.interactive(_shortcut(hub, "Login <is> broken"))).status_code == 200
    await hub.fake.wait_for(lambda: hub.fake.calls_to("views.update"))
    (view,) = hub.fake.views.values()
    meta = {
        "id": view["id"],
        "callback_id": view["callback_id"],
        "private_metadata": view["private_metadata"],
    }
    reply = await hub.slack.view_submission("UALICE", meta, _values("OPS", "Login is broken"))
    assert reply.json()["response_action"] == "update"
    replies = await hub.fake.wait_for(lambda: hub.fake.channel_messages(CHANNEL, thread=SOURCE_TS))
    (ticket,) = await _tickets(hub, alice.token, project["id"])
    permalink = f"https://fake.slack.com/archives/{CHANNEL}/p{SOURCE_TS.replace('.', '')}"
    assert ticket["description"].endswith(f"From Slack: {permalink}")
    assert replies[0].text.startswith("<@UALICE> created OPS-1")  # a channel message, not ephemeral
    assert "OPS-1" in json.dumps(replies[0].blocks)
    assert hub.fake.calls_to("chat.postEphemeral") == []
    assert hub.fake.calls_to("chat.getPermalink")[0].params["message_ts"] == SOURCE_TS


# --- buttons on ticket messages --------------------------------------------------------------------
async def _team(hub: SlackHub) -> tuple[Any, Any, Any, dict[str, Any], dict[str, Any]]:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    viewer = await hub.person("Vic Viewer", "UVIC")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await hub.api.add(alice, project["id"], viewer, "viewer")
    for user, slack_id in ((alice, "UALICE"), (bob, "UBOB"), (viewer, "UVIC")):
        await link_directly(hub, user, slack_id)
    ticket = await hub.api.ticket(alice, project["id"], title="Buttons", description="First words")
    return alice, bob, viewer, project, ticket


async def test_ticket_messages_carry_assign_to_comment_and_edit(hub: SlackHub) -> None:
    *_people, ticket = await _team(hub)
    await hub.command("UALICE", "subscribe OPS")
    root = await hub.root(ticket["key"])
    (actions,) = [b for b in root.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "sb_assign_me", "sb_assign_to", "sb_status", "sb_comment", "sb_edit", "sb_open",
    ]  # fmt: skip
    assert hub.fake.rejected == []  # within Block Kit's limits


async def test_assign_to_a_chosen_member_and_refusals(hub: SlackHub) -> None:
    alice, bob, _viewer, _project, ticket = await _team(hub)
    select = {"type": "users_select", "action_id": "sb_assign_to", "block_id": f"status:{ticket['id']}"}
    key, _reply = await hub.slack.block_action("UALICE", {**select, "selected_user": "UBOB"})
    assert "assigned to Bob Baker" in (await hub.answer(key))["text"]
    assigned = await hub.api.get(f"/api/tickets/{ticket['id']}", token=alice.token)
    assert assigned.body["assignee"]["id"] == bob.id
    key, _reply = await hub.slack.block_action("UVIC", {**select, "selected_user": "UALICE"})
    refused = await hub.answer(key)
    assert refused["response_type"] == "ephemeral"
    assert "viewer" in refused["text"]
    key, _reply = await hub.slack.block_action("USTRANGER", {**select, "selected_user": "UALICE"})
    assert "/ticket link CODE" in (await hub.answer(key))["text"]


async def test_comment_button_opens_a_modal_whose_submission_comments(hub: SlackHub) -> None:
    alice, _bob, _viewer, _project, ticket = await _team(hub)
    button = {"type": "button", "action_id": "sb_comment", "value": str(ticket["id"])}
    await hub.slack.block_action("UBOB", button)
    opened = (await hub.fake.wait_for(lambda: hub.fake.calls_to("views.open")))[0].params["view"]
    assert opened["callback_id"] == "sb_comment_modal"
    meta = {"id": "VC", "callback_id": opened["callback_id"], "private_metadata": opened["private_metadata"]}
    empty = await hub.slack.view_submission("UBOB", meta, {"body": {"value": {"value": " "}}})
    assert empty.json()["response_action"] == "errors"
    done = await hub.slack.view_submission("UBOB", meta, {"body": {"value": {"value": "On it <now>"}}})
    assert done.status_code == 200
    assert done.text == ""  # closes the modal

    async def bodies() -> list[str]:
        found = await hub.api.get(f"/api/tickets/{ticket['id']}/comments", token=alice.token)
        return [c["body"] for c in found.body["items"]]

    for _ in range(100):
        if await bodies():
            break
        await asyncio.sleep(0.05)
    assert await bodies() == ["On it <now>"]


async def test_comment_and_edit_buttons_refuse_viewers_and_unlinked_people(hub: SlackHub) -> None:
    *_people, ticket = await _team(hub)
    hub.fake.add_user("USTRANGER", "Stranger", "stranger@elsewhere.example")
    for action in ("sb_comment", "sb_edit"):
        button = {"type": "button", "action_id": action, "value": str(ticket["id"])}
        await hub.slack.block_action("UVIC", button)
        await hub.slack.block_action("USTRANGER", button)
    notes = await hub.fake.wait_for(
        lambda: (found := hub.fake.calls_to("chat.postEphemeral")) and len(found) == 4 and found
    )
    texts = {
        (n.params["user"], "viewer" in n.params["text"], "not linked" in n.params["text"]) for n in notes
    }
    assert texts == {("UVIC", True, False), ("USTRANGER", False, True)}
    assert hub.fake.calls_to("views.open") == []


async def test_edit_button_prefills_and_saves(hub: SlackHub) -> None:
    alice, _bob, _viewer, _project, ticket = await _team(hub)
    await hub.slack.block_action(
        "UBOB", {"type": "button", "action_id": "sb_edit", "value": str(ticket["id"])}
    )
    view = (await hub.fake.wait_for(lambda: hub.fake.calls_to("views.open")))[0].params["view"]
    assert view["callback_id"] == "sb_edit_modal"
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert fields["title"]["initial_value"] == "Buttons"
    assert fields["description"]["initial_value"] == "First words"
    assert fields["priority"]["initial_option"]["value"] == ticket["priority"]
    values = {
        "title": {"value": {"value": "Buttons, edited"}},
        "description": {"value": {"value": "Second words"}},
        "priority": {"value": {"selected_option": {"value": "urgent"}}},
    }
    meta = {"id": "VE", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"]}
    assert (await hub.slack.view_submission("UBOB", meta, values)).status_code == 200

    async def current() -> tuple[str, str, str]:
        found = (await hub.api.get(f"/api/tickets/{ticket['id']}", token=alice.token)).body
        return found["title"], found["description"], found["priority"]

    for _ in range(100):
        if (await current())[0] != "Buttons":
            break
        await asyncio.sleep(0.05)
    assert await current() == ("Buttons, edited", "Second words", "urgent")


# --- mentions --------------------------------------------------------------------------------------
async def test_posts_mention_linked_people_unless_the_channel_turned_it_off(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    carol = await hub.api.user("Carol Cook")  # no Slack account: stays a plain name
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await hub.api.add(alice, project["id"], carol, "member")
    await link_directly(hub, alice, "UALICE")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UALICE", "subscribe OPS")
    ticket = await hub.api.ticket(alice, project["id"], title="Mention me", assignee_id=bob.id)
    root = await hub.root(ticket["key"])
    assert "<@UBOB>" in root.text  # the fallback text is what notifies
    assert "assignee: <@UBOB>" in json.dumps(root.blocks)
    await hub.api.post(
        f"/api/tickets/{ticket['id']}/comments", json={"body": "@bob and @carol, look"}, token=alice.token
    )
    posted = await hub.fake.wait_for(
        lambda: [m for m in hub.fake.channel_messages(CHANNEL, thread=root.ts) if "look" in m.text]
    )
    assert posted[0].text.endswith("@bob and @carol, look\ncc <@UBOB>")
    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"assignee_id": carol.id}, token=alice.token)
    await hub.fake.wait_for(lambda: "assignee: Carol Cook" in json.dumps(hub.fake.messages[root.ts].blocks))
    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"assignee_id": bob.id}, token=alice.token)
    reassigned = await hub.fake.wait_for(
        lambda: [m for m in hub.fake.channel_messages(CHANNEL, thread=root.ts) if "Bob Baker" in m.text]
    )
    assert reassigned[0].text.endswith("assigned it to Bob Baker (via web)\ncc <@UBOB>")
    answer = await hub.command("UALICE", "subscribe OPS mentions:off")
    assert "no mentions" in answer["text"]
    quiet = await hub.api.ticket(alice, project["id"], title="Quietly", assignee_id=bob.id)
    quiet_root = await hub.root(quiet["key"])
    assert "<@" not in quiet_root.text + json.dumps(quiet_root.blocks)
    assert "Bob Baker" in json.dumps(quiet_root.blocks)


async def test_create_from_message_where_slack_refuses_the_thread_and_the_permalink(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    await link_directly(hub, alice, "UALICE")
    await hub.slack.interactive(_shortcut(hub, "Printer on fire"))
    await hub.fake.wait_for(lambda: hub.fake.calls_to("views.update"))
    (view,) = hub.fake.views.values()
    hub.fake.refuse("chat.getPermalink", "message_not_found")
    hub.fake.refuse("chat.postMessage", "not_in_channel")
    meta = {
        "id": view["id"],
        "callback_id": view["callback_id"],
        "private_metadata": view["private_metadata"],
    }
    await hub.slack.view_submission("UALICE", meta, _values("OPS", "Printer on fire"))
    note = (await hub.fake.wait_for(lambda: hub.fake.calls_to("chat.postEphemeral")))[0]
    assert note.params["user"] == "UALICE"
    assert "OPS-1" in note.params["text"]
    (ticket,) = await _tickets(hub, alice.token, project["id"])
    assert ticket["description"] == "from the modal"


async def test_a_modal_submission_is_checked_again(hub: SlackHub) -> None:
    alice, bob, _viewer, project, ticket = await _team(hub)
    await hub.slack.block_action(
        "UBOB", {"type": "button", "action_id": "sb_comment", "value": str(ticket["id"])}
    )
    opened = (await hub.fake.wait_for(lambda: hub.fake.calls_to("views.open")))[0].params["view"]
    changed = await hub.api.patch(
        f"/api/projects/{project['id']}/members/{bob.id}", json={"role": "viewer"}, token=alice.token
    )
    assert changed.status == 200, changed.body
    meta = {"id": "VC2", "callback_id": opened["callback_id"], "private_metadata": opened["private_metadata"]}
    await hub.slack.view_submission("UBOB", meta, {"body": {"value": {"value": "Too late"}}})
    note = (await hub.fake.wait_for(lambda: hub.fake.calls_to("chat.postEphemeral")))[0]
    assert note.params["user"] == "UBOB"
    assert "viewer" in note.params["text"]
    found = await hub.api.get(f"/api/tickets/{ticket['id']}/comments", token=alice.token)
    assert found.body["items"] == []
