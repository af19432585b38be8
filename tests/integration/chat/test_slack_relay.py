"""The channel relay: one root per ticket, thread replies, comments both ways without echo."""

from __future__ import annotations

from hub.domain.identity import Actor
from hub.services.chat import relay as chat_relay
from hub.services.tickets import comments
from tests.integration.chat.conftest import CHANNEL, SlackHub, link_directly
from tests.support.api import User
from tests.support.live import ws_connect


async def _setup(hub: SlackHub) -> tuple[User, User, dict[str, object]]:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UALICE", "subscribe OPS")
    return alice, bob, project


async def test_thread_reply_becomes_comment_without_echo(hub: SlackHub) -> None:
    alice, bob, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Database is slow")
    root = await hub.root(ticket["key"])
    async with ws_connect(hub.address, f"/ws/projects/{project['id']}/tickets/", token=alice.token) as ws:
        reply = await hub.slack.event({
            "type": "message", "channel": CHANNEL, "user": "UBOB", "text": "on it, <@UALICE> &amp; co",
            "ts": "1800000000.000200", "thread_ts": root.ts, "channel_type": "channel",
        })  # fmt: skip
        assert reply.status_code == 200
        update = await ws.recv_type("ticket_update")
        assert update["action"] == "commented"
        assert update["origin"] == "slack"
        comment = update["data"]["comment"]
        assert comment["author"]["id"] == bob.id
        assert comment["body"] == f"on it, @{alice.email} & co"  # a hub mention of the linked user
    # A web comment goes into the thread, attributed; the Slack-made one never comes back.
    await hub.api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "thanks!"}, token=alice.token)
    web = await hub.fake.wait_for(
        lambda: [m for m in hub.fake.channel_messages(CHANNEL, thread=root.ts) if "thanks!" in m.text]
    )
    assert web[0].text == "*Alice Archer* (via web): thanks!"
    await hub.settle()
    thread = hub.fake.channel_messages(CHANNEL, thread=root.ts)
    assert [m for m in thread if "on it" in m.text] == []
    assert len([m for m in thread if "thanks!" in m.text]) == 1


async def test_comment_edits_and_deletes_follow(hub: SlackHub) -> None:
    alice, _bob, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Edit me")
    root = await hub.root(ticket["key"])
    made = await hub.api.post(
        f"/api/tickets/{ticket['id']}/comments", json={"body": "first"}, token=alice.token
    )
    posted = await hub.fake.wait_for(
        lambda: next(
            (m for m in hub.fake.channel_messages(CHANNEL, thread=root.ts) if "first" in m.text), None
        )
    )
    await hub.api.patch(f"/api/comments/{made.body['id']}", json={"body": "second"}, token=alice.token)
    await hub.fake.wait_for(lambda: "second" in hub.fake.messages[posted.ts].text)
    assert "(edited)" in hub.fake.messages[posted.ts].text
    await hub.api.delete(f"/api/comments/{made.body['id']}", token=alice.token)
    await hub.fake.wait_for(lambda: posted.ts not in hub.fake.messages)


async def test_slack_edit_and_delete_follow_into_the_hub(hub: SlackHub) -> None:
    alice, _bob, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Two-way")
    root = await hub.root(ticket["key"])
    event = {"type": "message", "channel": CHANNEL, "user": "UBOB", "text": "tpyo", "ts": "1800000000.000300",
             "thread_ts": root.ts}  # fmt: skip
    await hub.slack.event(event)
    comments_url = f"/api/tickets/{ticket['id']}/comments"

    async def bodies() -> list[str]:
        return [c["body"] for c in (await hub.api.get(comments_url, token=alice.token)).body["items"]]

    for _ in range(50):
        if await bodies() == ["tpyo"]:
            break
        await hub.settle(0.1)
    await hub.slack.event({"type": "message", "subtype": "message_changed", "channel": CHANNEL,
                           "message": {**event, "text": "typo"}, "previous_message": event})  # fmt: skip
    for _ in range(50):
        if await bodies() == ["typo"]:
            break
        await hub.settle(0.1)
    assert await bodies() == ["typo"]
    await hub.slack.event({"type": "message", "subtype": "message_deleted", "channel": CHANNEL,
                           "deleted_ts": event["ts"], "previous_message": event})  # fmt: skip
    for _ in range(50):
        if await bodies() == []:
            break
        await hub.settle(0.1)
    assert await bodies() == []


async def test_changes_update_the_root_and_reply_in_thread(hub: SlackHub) -> None:
    alice, _bob, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Move along")
    root = await hub.root(ticket["key"])
    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"status": "in_progress"}, token=alice.token)
    reply = await hub.fake.wait_for(lambda: hub.fake.channel_messages(CHANNEL, thread=root.ts))
    assert reply[0].text == "Alice Archer moved it To do → In progress (via web)"
    assert "In progress" in str(hub.fake.messages[root.ts].blocks)
    assert hub.fake.calls_to("chat.update")
    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"title": "Moved along"}, token=alice.token)
    await hub.fake.wait_for(lambda: "Moved along" in str(hub.fake.messages[root.ts].blocks))
    await hub.settle()
    assert len(hub.fake.channel_messages(CHANNEL, thread=root.ts)) == 1  # compact: no reply for a title edit
    await hub.api.delete(f"/api/tickets/{ticket['id']}", token=alice.token)
    await hub.fake.wait_for(lambda: "deleted" in hub.fake.messages[root.ts].text)
    assert len(hub.fake.channel_messages(CHANNEL)) == 1  # still one root per ticket


async def test_filters_labels_and_unsubscribe(hub: SlackHub) -> None:
    alice, _bob, project = await _setup(hub)
    await hub.command("UALICE", "subscribe OPS created label:db", channel="CDB")
    await hub.api.ticket(alice, project["id"], title="Frontend glitch", labels=["ui"])
    await hub.api.ticket(alice, project["id"], title="Index missing", labels=["db"])
    await hub.fake.wait_for(hub.root_of("OPS-2", channel="CDB"))
    await hub.fake.wait_for(hub.root_of("OPS-1"))
    await hub.settle()
    assert [m for m in hub.fake.channel_messages("CDB") if "OPS-1" in m.text] == []
    listed = await hub.api.get(f"/api/projects/{project['id']}/chat-subscriptions", token=alice.token)
    by_channel = {s["channel"]: s for s in listed.body["items"]}
    assert by_channel["CDB"]["event_types"] == ["created"]
    assert by_channel["CDB"]["labels"] == ["db"]
    assert by_channel[CHANNEL]["event_types"] is None
    answer = await hub.command("UALICE", "unsubscribe OPS", channel="CDB")
    assert "no longer gets updates of OPS" in answer["text"]
    await hub.api.ticket(alice, project["id"], title="Another db thing", labels=["db"])
    await hub.fake.wait_for(hub.root_of("OPS-3"))
    await hub.settle()
    assert [m for m in hub.fake.channel_messages("CDB") if "OPS-3" in m.text] == []


async def test_relay_itself_never_echoes_a_comment_typed_in_the_channel(hub: SlackHub) -> None:
    """Even without the listener's own record (e.g. a comment written by another process)."""
    alice, _bob, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Echo chamber")
    root = await hub.root(ticket["key"])
    actor = Actor(alice.id, alice.name, alice.email)
    meta = {"slack_team": hub.fake.team_id, "slack_channel": CHANNEL, "slack_ts": "1800000000.000900"}
    made = await comments.add_comment(
        hub.context.uow(), actor, ticket["id"], "typed in Slack", origin="slack", meta=meta
    )
    other = {**meta, "slack_channel": "COTHER"}
    await comments.add_comment(
        hub.context.uow(), actor, ticket["id"], "typed elsewhere", origin="slack", meta=other
    )
    await hub.fake.wait_for(
        lambda: any("typed elsewhere" in t.text for t in hub.fake.channel_messages(CHANNEL, thread=root.ts))
    )
    assert [m.text for m in hub.fake.channel_messages(CHANNEL, thread=root.ts)] == [
        "*Alice Archer* (via Slack): typed elsewhere"
    ]
    found = await chat_relay.comment_of_message(
        hub.context.uow(), "slack", hub.fake.team_id, CHANNEL, meta["slack_ts"]
    )
    assert found == made["id"]


async def test_detailed_format_shows_description_labels_and_every_change(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    answer = await hub.command("UALICE", "subscribe OPS format:detailed", channel="CDETAIL")
    assert "detailed" in answer["text"]
    ticket = await hub.api.ticket(
        alice, project["id"], title="Slow queries", description="p99 is 2 s", labels=["db", "perf"]
    )
    root = await hub.fake.wait_for(hub.root_of(ticket["key"], channel="CDETAIL"))
    blocks = str(root.blocks)
    assert "p99 is 2 s" in blocks
    assert "labels: db, perf" in blocks
    assert "reporter: Alice Archer" in blocks
    await hub.api.patch(
        f"/api/tickets/{ticket['id']}", json={"title": "Slow report queries"}, token=alice.token
    )
    reply = await hub.fake.wait_for(lambda: hub.fake.channel_messages("CDETAIL", thread=root.ts))
    assert reply[0].text == "Alice Archer changed title (via web)"  # compact would not reply to this
