"""Chat acts exactly as the linked hub user: same permissions as the web, helpful refusals."""

from __future__ import annotations

from tests.integration.chat.conftest import CHANNEL, SlackHub, link_directly


async def test_unlinked_user_gets_a_helpful_answer(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.api.project(alice, "OPS")
    hub.fake.add_user("USTRANGER", "Stranger Danger", "stranger@elsewhere.example")  # no hub account
    answer = await hub.command("USTRANGER", "create OPS Let me in")
    assert answer["response_type"] == "ephemeral"
    assert "not linked" in answer["text"]
    assert "/ticket link CODE" in answer["text"]
    assert "Traceback" not in answer["text"]
    unconfirmed = await hub.person("Una Confirmed", "UUNA", confirmed=False)
    answer = await hub.command("UUNA", "list OPS")
    assert "not linked" in answer["text"]  # an unconfirmed email never links
    assert (await hub.api.get("/api/me/chat-links", token=unconfirmed.token)).body["items"] == []
    answer = await hub.command("USTRANGER", "link")
    assert "/ticket link CODE" in answer["text"]


async def test_confirmed_email_links_automatically_and_code_links_others(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.command("UALICE", "help")
    answer = await hub.command("UALICE", "link")
    assert f"linked as Alice Archer ({alice.email})" in answer["text"]
    links = (await hub.api.get("/api/me/chat-links", token=alice.token)).body["items"]
    assert [(link["external_id"], link["linked_via"]) for link in links] == [("UALICE", "email")]
    bob = await hub.api.user("Bob Baker")
    hub.fake.add_user("UBOBBY", "Robert", "robert@personal.example")  # a different email
    await hub.link(bob, "UBOBBY")
    links = (await hub.api.get("/api/me/chat-links", token=bob.token)).body["items"]
    assert [(link["external_id"], link["linked_via"]) for link in links] == [("UBOBBY", "code")]
    again = await hub.command("UBOBBY", "link ZZZZ-ZZZZ")
    assert "unknown or expired link code" in again["text"].lower()


async def test_viewer_cannot_change_from_slack(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    viewer = await hub.person("Vic Viewer", "UVIC")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], viewer, "viewer")
    ticket = await hub.api.ticket(alice, project["id"], title="Read only for Vic")
    answer = await hub.command("UVIC", "create OPS Vic was here")
    assert answer["text"].startswith(":warning:")
    assert "viewer" in answer["text"]
    answer = await hub.command("UVIC", f"status {ticket['key']} done")
    assert "viewer" in answer["text"]
    answer = await hub.command("UVIC", "subscribe OPS")
    assert "viewer" in answer["text"]
    key, reply = await hub.slack.block_action(
        "UVIC", {"type": "button", "action_id": "sb_assign_me", "block_id": f"status:{ticket['id']}",
                 "value": str(ticket["id"])},
    )  # fmt: skip
    assert reply.status_code == 200
    clicked = await hub.answer(key)
    assert clicked["response_type"] == "ephemeral"
    assert "viewer" in clicked["text"]
    shown = await hub.command("UVIC", f"show {ticket['key']}")  # reading is allowed
    assert "Read only for Vic" in shown["text"]
    after = await hub.api.get(f"/api/tickets/{ticket['id']}", token=alice.token)
    assert (after.body["status"], after.body["assignee"], after.body["version"]) == ("todo", None, 1)
    listed = await hub.api.get(f"/api/projects/{project['id']}/tickets", token=alice.token)
    assert len(listed.body["items"]) == 1
    assert (await hub.api.get(f"/api/projects/{project['id']}/chat-subscriptions", token=alice.token)).body[
        "items"
    ] == []


async def test_outsider_sees_no_project(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.person("Olga Outsider", "UOLGA")
    project = await hub.api.project(alice, "OPS")
    ticket = await hub.api.ticket(alice, project["id"], title="Secret")
    answer = await hub.command("UOLGA", f"show {ticket['key']}")
    assert "no ticket" in answer["text"].lower()
    assert "Secret" not in answer["text"]


async def test_button_click_assigns_and_status_select_moves(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UALICE", "subscribe OPS")
    ticket = await hub.api.ticket(alice, project["id"], title="Click me")
    root = await hub.root(ticket["key"])
    action = {"type": "button", "action_id": "sb_assign_me", "block_id": f"status:{ticket['id']}",
              "value": str(ticket["id"])}  # fmt: skip
    key, reply = await hub.slack.block_action("UBOB", action, message_ts=root.ts)
    assert reply.status_code == 200
    assert "assigned to Bob Baker" in (await hub.answer(key))["text"]
    after = await hub.api.get(f"/api/tickets/{ticket['id']}", token=alice.token)
    assert after.body["assignee"]["id"] == bob.id
    # chat.update; Bob is linked, so the channel's post mentions him (docs/slack.md "Mentions")
    await hub.fake.wait_for(lambda: "assignee: <@UBOB>" in str(hub.fake.messages[root.ts].blocks))
    done = {"text": {"type": "plain_text", "text": "Done"}, "value": "done"}
    select = {"type": "static_select", "action_id": "sb_status", "block_id": f"status:{ticket['id']}",
              "selected_option": done}  # fmt: skip
    key, _reply = await hub.slack.block_action("UBOB", select, message_ts=root.ts, channel=CHANNEL)
    assert "is now Done" in (await hub.answer(key))["text"]
    after = await hub.api.get(f"/api/tickets/{ticket['id']}", token=alice.token)
    assert after.body["status"] == "done"
