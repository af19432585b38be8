"""Relay durability and politeness: restarts and crashes neither drop nor double-post; 429 is retried
after Retry-After; bursts to one ticket coalesce into one update."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bots.relay import Relay
from hub.adapters.db.types import utcnow
from tests.integration.chat.conftest import CHANNEL, SlackHub, link_directly
from tests.support.api import User
from tests.support.crash import CrashAfter


def _later() -> datetime:
    """A clock past any retry the failed round scheduled."""
    return utcnow() + timedelta(hours=1)


async def _setup(hub: SlackHub) -> tuple[User, User, dict[str, Any]]:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UALICE", "subscribe OPS")
    return alice, bob, project


def _texts(hub: SlackHub, thread: str) -> list[str]:
    return [m.text for m in hub.fake.channel_messages(CHANNEL, thread=thread)]


async def test_restart_neither_drops_nor_double_posts(hub: SlackHub) -> None:
    alice, _bob, project = await _setup(hub)
    first = await hub.api.ticket(alice, project["id"], title="Before the restart")
    root = await hub.root(first["key"])
    await hub.runtime.relay.stop()  # the relay process goes away; the hub keeps working
    await hub.api.patch(f"/api/tickets/{first['id']}", json={"status": "done"}, token=alice.token)
    await hub.api.post(f"/api/tickets/{first['id']}/comments", json={"body": "while away"}, token=alice.token)
    second = await hub.api.ticket(alice, project["id"], title="During the outage")
    await hub.settle(0.5)
    assert len(hub.fake.channel_messages(CHANNEL)) == 1
    restarted = Relay(hub.context.db, hub.runtime.sink, interval=0.2, poll_interval=0.2)
    await restarted.start()
    try:
        await hub.root(second["key"])
        await hub.fake.wait_for(lambda: len(_texts(hub, root.ts)) == 2)
        await hub.settle()
        roots = [m.text for m in hub.fake.channel_messages(CHANNEL)]
        assert sorted(r.split()[0] for r in roots) == ["OPS-1", "OPS-2"]
        assert _texts(hub, root.ts) == [
            "Alice Archer moved it To do → Done (via web)",
            "*Alice Archer* (via web): while away",
        ]
        await restarted.stop()  # and once more: nothing is posted twice
        again = Relay(hub.context.db, hub.runtime.sink)
        assert await again.run_once() == 0
    finally:
        await restarted.stop()
    assert len(hub.fake.calls_to("chat.postMessage")) == 4


@pytest.mark.parametrize("method", ["post_ticket", "post_reply", "post_comment"])
async def test_crash_between_post_and_record_does_not_double_post(hub: SlackHub, method: str) -> None:
    alice, _bob, project = await _setup(hub)
    await hub.runtime.relay.stop()
    steady = Relay(hub.context.db, hub.runtime.sink)
    # The relay's position must exist before the ticket: a relay's very first round starts from the
    # events committed before it was made (a busy machine may stop the hub's relay before its first).
    await steady.run_once()
    ticket = await hub.api.ticket(alice, project["id"], title="Crash test")
    if method != "post_ticket":
        await steady.run_once()  # the root exists already
        if method == "post_reply":
            await hub.api.patch(
                f"/api/tickets/{ticket['id']}", json={"status": "in_review"}, token=alice.token
            )
        else:
            await hub.api.post(
                f"/api/tickets/{ticket['id']}/comments", json={"body": "once"}, token=alice.token
            )
    posts_before = len(hub.fake.messages)
    crashing = Relay(hub.context.db, CrashAfter(hub.runtime.sink, method))  # type: ignore[arg-type]
    await crashing.run_once()  # the channel's lane fails: its cursor stays, a retry is scheduled
    (sub,) = (await hub.api.get(f"/api/projects/{project['id']}/chat-subscriptions", token=alice.token)).body[
        "items"
    ]
    assert (sub["failures"], sub["state"]) == (1, "active")
    assert sub["retry_at"] is not None
    assert len(hub.fake.messages) == posts_before + 1  # Slack has it; our records do not
    # the restart (after the retry time) redoes the batch
    assert await Relay(hub.context.db, hub.runtime.sink, clock=_later).run_once() >= 1
    assert len(hub.fake.messages) == posts_before + 1
    lookups = hub.fake.calls_to(
        "conversations.history" if method == "post_ticket" else "conversations.replies"
    )
    assert lookups
    assert lookups[-1].params["include_all_metadata"] in (True, "true", "1")
    # ... and what comes next still lands in the right thread, once.
    await hub.api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "after"}, token=alice.token)
    await Relay(hub.context.db, hub.runtime.sink).run_once()
    root = hub.fake.channel_messages(CHANNEL)
    assert len(root) == 1
    assert _texts(hub, root[0].ts)[-1] == "*Alice Archer* (via web): after"


async def test_rate_limited_post_is_retried_after_retry_after(hub: SlackHub) -> None:
    alice, _bob, project = await _setup(hub)
    hub.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    ticket = await hub.api.ticket(alice, project["id"], title="Slow down")
    await hub.root(ticket["key"])
    attempts = hub.fake.calls_to("chat.postMessage")
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After honoured
    assert len(hub.fake.channel_messages(CHANNEL)) == 1


async def test_burst_of_changes_coalesces_into_one_update(hub: SlackHub) -> None:
    alice, bob, project = await _setup(hub)
    hub.runtime.relay.pacer.interval = 2.0
    ticket = await hub.api.ticket(alice, project["id"], title="Busy ticket")
    root = await hub.root(ticket["key"])
    url = f"/api/tickets/{ticket['id']}"
    await hub.api.patch(url, json={"status": "in_progress"}, token=alice.token)
    await hub.api.patch(url, json={"assignee_id": bob.id}, token=alice.token)
    await hub.api.patch(url, json={"status": "in_review"}, token=alice.token)
    replies = await hub.fake.wait_for(lambda: _texts(hub, root.ts))
    await hub.settle(0.5)
    assert len(hub.fake.calls_to("chat.update")) == 1
    assert replies == [
        "Alice Archer moved it To do → In progress (via web)\n"
        "Alice Archer assigned it to Bob Baker (via web)\n"
        "Alice Archer moved it In progress → In review (via web)\n"
        "cc <@UBOB>"  # Bob is linked in this workspace and the channel allows mentions
    ]
    assert "In review" in str(hub.fake.messages[root.ts].blocks)


async def test_summary_is_pinned_and_edited_in_place(hub: SlackHub) -> None:
    alice, bob, project = await _setup(hub)
    hub.runtime.relay.summaries._every = 0.1
    await hub.command("UALICE", "subscribe OPS summary:on", channel="CBOARD")
    ticket = await hub.api.ticket(alice, project["id"], title="Summarise me", assignee_id=bob.id)
    pinned = await hub.fake.wait_for(lambda: hub.fake.calls_to("pins.add"))
    summary_ts = pinned[0].params["timestamp"]
    assert "To do: 1" in str(hub.fake.messages[summary_ts].blocks)
    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"status": "in_progress"}, token=alice.token)
    await hub.fake.wait_for(
        lambda: f"Bob Baker: {ticket['key']}" in str(hub.fake.messages[summary_ts].blocks)
    )
    assert len(hub.fake.calls_to("pins.add")) == 1


async def test_a_second_hub_process_does_not_relay_twice(hub: SlackHub) -> None:
    if hub.context.db.is_sqlite:
        pytest.skip("SQLite is a single-process database: one relay by construction")
    alice, _bob, project = await _setup(hub)
    second = Relay(hub.context.db, hub.runtime.sink, interval=0.2, poll_interval=0.1)
    await second.start()  # as another process would: it waits for the leader's advisory lock
    try:
        for n in range(3):
            await hub.api.ticket(alice, project["id"], title=f"Only once {n}")
        await hub.root("OPS-3")
        await hub.settle(1.0)
        assert second.rounds == 0
        assert sorted(m.text.split()[0] for m in hub.fake.channel_messages(CHANNEL)) == [
            "OPS-1",
            "OPS-2",
            "OPS-3",
        ]
        await hub.runtime.relay.stop()  # the leader goes away: the other one takes over
        await hub.api.ticket(alice, project["id"], title="After the handover")
        await hub.root("OPS-4")
        assert second.rounds >= 1
    finally:
        await second.stop()
