"""Every Slack channel is a lane of its own (issue #16): a rate-limited or failing channel never holds
back another, a post Slack took but never answered is not doubled, and a channel that keeps failing
is paused, its creator told, and resumed by subscribing again."""

from __future__ import annotations

from typing import Any

import pytest

from bots.lanes import ChannelRetry
from tests.integration.chat.conftest import CHANNEL, SlackHub
from tests.support.api import User

SLOW = "CSLOW"


async def _two_channels(hub: SlackHub, other: str) -> tuple[User, dict[str, Any]]:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    for channel in (CHANNEL, other):
        answer = await hub.command("UALICE", "subscribe OPS", channel=channel)
        assert "OPS" in answer["text"], answer
    return alice, project


async def _subscription(hub: SlackHub, alice: User, project_id: int, channel: str) -> dict[str, Any]:
    listed = await hub.api.get(f"/api/projects/{project_id}/chat-subscriptions", token=alice.token)
    found: dict[str, Any] = next(s for s in listed.body["items"] if s["channel"] == channel)
    return found


def _roots(hub: SlackHub, channel: str) -> list[str]:
    return [m.text.split()[0] for m in hub.fake.channel_messages(channel)]


async def test_a_rate_limited_channel_does_not_hold_up_the_others(hub: SlackHub) -> None:
    alice, project = await _two_channels(hub, SLOW)
    hub.fake.rate_limit_channel(SLOW, retry_after=8)
    first = await hub.api.ticket(alice, project["id"], title="First")
    await hub.root(first["key"])
    second = await hub.api.ticket(alice, project["id"], title="Second")
    await hub.root(second["key"])
    # Both reached the other channel while the slow one is still inside its Retry-After window.
    assert hub.fake.rate_limited(SLOW)
    assert hub.fake.channel_messages(SLOW) == []
    # ... and the slow channel gets everything afterwards, once each, in order.
    await hub.fake.wait_for(lambda: len(hub.fake.channel_messages(SLOW)) == 2, within=20)
    await hub.root(second["key"], channel=SLOW)
    assert _roots(hub, SLOW) == [first["key"], second["key"]]
    assert _roots(hub, CHANNEL) == [first["key"], second["key"]]
    sub = await _subscription(hub, alice, project["id"], SLOW)
    assert (sub["state"], sub["failures"]) == ("active", 0)  # a rate limit is not a failure


async def test_a_post_slack_took_but_never_answered_is_not_posted_twice(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    await hub.command("UALICE", "subscribe OPS")
    hub.runtime.relay.failures.retry = ChannelRetry(retry_seconds=0.1)
    hub.fake.drop_after("chat.postMessage")
    ticket = await hub.api.ticket(alice, project["id"], title="Dropped on the way back")
    await hub.root(ticket["key"])  # recorded by the relay
    assert _roots(hub, CHANNEL) == [ticket["key"]]
    posts = hub.fake.calls_to("chat.postMessage")
    assert len(posts) == 1  # never re-sent by the client
    lookups = hub.fake.calls_to("conversations.history")
    assert lookups  # found again by its metadata
    assert lookups[-1].params["include_all_metadata"] in (True, "true", "1")
    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"status": "done"}, token=alice.token)
    root = hub.fake.channel_messages(CHANNEL)[0]
    await hub.fake.wait_for(lambda: hub.fake.channel_messages(CHANNEL, thread=root.ts))
    assert len(hub.fake.channel_messages(CHANNEL)) == 1


@pytest.mark.parametrize(
    ("error", "times", "reason"),
    [("fatal_error", 3, "3 failed attempts in a row"), ("channel_not_found", 1, "channel_not_found")],
    ids=["transient", "permanent"],
)
async def test_a_failing_channel_is_paused_its_creator_told_and_resumed(
    hub: SlackHub, error: str, times: int, reason: str
) -> None:
    broken = "CBROKEN"
    alice, project = await _two_channels(hub, broken)
    hub.runtime.relay.failures.retry = ChannelRetry(max_failures=3, retry_seconds=0.05)
    hub.fake.refuse_channel(broken, error, times=times)
    first = await hub.api.ticket(alice, project["id"], title="Refused over there")
    await hub.root(first["key"])
    note = await hub.fake.wait_for(lambda: hub.fake.channel_messages("DALICE"))
    assert f"stopped posting OPS tickets in <#{broken}>" in note[0].text
    assert error in note[0].text
    assert "/ticket subscribe OPS" in note[0].text
    sub = await _subscription(hub, alice, project["id"], broken)
    assert sub["state"] == "paused"
    assert reason in sub["state_reason"]
    assert sub["failures"] == (times if times > 1 else 0)
    attempts = [c for c in hub.fake.calls_to("chat.postMessage") if c.params.get("channel") == broken]
    assert len(attempts) == times  # paused: not tried again
    second = await hub.api.ticket(alice, project["id"], title="The others go on")
    await hub.root(second["key"])
    assert hub.fake.channel_messages(broken) == []

    answer = await hub.command("UALICE", "subscribe OPS", channel=broken)
    assert "OPS" in answer["text"], answer
    sub = await _subscription(hub, alice, project["id"], broken)
    assert (sub["state"], sub["state_reason"], sub["failures"], sub["retry_at"]) == ("active", None, 0, None)
    third = await hub.api.ticket(alice, project["id"], title="After resuming")
    await hub.root(third["key"], channel=broken)
    assert _roots(hub, broken) == [third["key"]]  # what happened while paused is not replayed
