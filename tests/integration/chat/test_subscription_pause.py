"""A channel subscription relays with its creator's access: paused while they are not a member of the
project (no relaying, no board summary), resumed when they are added back (issue #14)."""

from __future__ import annotations

import asyncio

from hub.adapters.db.types import utcnow
from hub.adapters.db.webhook_models import ConsumerPosition
from hub.services.chat import summary as chat_summary
from tests.integration.chat.conftest import CHANNEL, SlackHub


async def _relayed_past(hub: SlackHub, event_id: int) -> None:
    """Wait until the Slack relay's position is at or past `event_id` (it made its decisions)."""
    for _ in range(200):
        async with hub.context.uow() as uow:
            row = await uow.session.get(ConsumerPosition, "slack-relay")
            if row is not None and row.position >= event_id:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the relay never got past event {event_id}")


async def test_subscription_pauses_while_its_creator_is_not_a_member(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    pid = (await hub.api.project(alice, "OPS"))["id"]
    await hub.api.add(alice, pid, bob, "member")
    answer = await hub.command("UBOB", "subscribe OPS summary:on")
    assert "OPS" in answer["text"], answer
    (sub,) = (await hub.api.get(f"/api/projects/{pid}/chat-subscriptions", token=alice.token)).body["items"]
    assert (sub["created_by"], sub["state"]) == (bob.id, "active")
    before = await hub.api.ticket(alice, pid, title="Before the removal")
    root = await hub.root(before["key"])
    assert await chat_summary.project_summary(hub.context.uow(), pid, utcnow(), subscription_id=sub["id"])

    gone = await hub.api.delete(f"/api/projects/{pid}/members/{bob.id}", token=alice.token)
    assert gone.status == 204
    listed = await hub.api.get(f"/api/projects/{pid}/chat-subscriptions", token=alice.token)
    assert listed.body["items"][0]["state"] == "paused"
    hidden = await hub.api.ticket(alice, pid, title="Made while paused")
    changed = await hub.api.patch(f"/api/tickets/{before['id']}", json={"status": "done"}, token=alice.token)
    assert changed.status == 200
    await hub.api.post(f"/api/tickets/{before['id']}/comments", json={"body": "quiet"}, token=alice.token)
    summary = await chat_summary.project_summary(hub.context.uow(), pid, utcnow(), subscription_id=sub["id"])
    assert summary is None  # a paused subscription keeps no board summary either
    events = await hub.api.get(f"/api/projects/{pid}/events", token=alice.token)
    await _relayed_past(hub, events.body["items"][-1]["id"])
    assert hub.root_of(hidden["key"])() is None

    await hub.api.add(alice, pid, bob, "member")
    assert (await hub.api.get(f"/api/projects/{pid}/chat-subscriptions", token=alice.token)).body["items"][0][
        "state"
    ] == "active"
    after = await hub.api.ticket(alice, pid, title="After re-adding")
    await hub.root(after["key"])  # resumed
    assert hub.root_of(hidden["key"])() is None
    thread = hub.fake.channel_messages(CHANNEL, thread=root.ts)
    assert [m.text for m in thread if "quiet" in m.text or "done" in m.text.lower()] == []
