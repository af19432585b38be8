"""The daily digest goes to one account per user (however many workspaces they linked), and a digest
Slack refuses is retried a bounded number of times, then given up for the day with a log line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bots.notify import Notifier
from hub.services.chat import accounts as chat
from hub.services.chat.accounts import ChatUser
from tests.integration.chat.conftest import SlackHub, link_directly
from tests.support.api import User


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _digests(hub: SlackHub) -> list[str]:
    return [str(c.params.get("channel")) for c in hub.fake.calls_to("chat.postMessage")
            if "digest" in str(c.params.get("text", ""))]  # fmt: skip


async def _bob_with_digest(hub: SlackHub) -> tuple[User, User, dict[str, object]]:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UBOB", "prefs ticket_assigned slack digest")
    return alice, bob, project


async def test_a_user_linked_in_two_workspaces_gets_one_digest(hub: SlackHub) -> None:
    await hub.runtime.notifier.stop()  # this test drives its own notifier and clock
    alice, bob, project = await _bob_with_digest(hub)
    code = (await hub.api.post("/api/me/chat-links", token=bob.token)).body["code"]
    await chat.redeem_link_code(hub.context.uow(), ChatUser("slack", "T999", "UBOB9"), code)  # linked last
    await hub.api.ticket(alice, project["id"], title="First", assignee_id=bob.id)
    clock = Clock(datetime.now(UTC).replace(hour=9, minute=5))
    notifier = Notifier(hub.context.db, hub.runtime.sink, digest_hour=9, clock=clock)
    assert await notifier.run_digests_once() == 1
    assert _digests(hub) == ["DBOB9"]  # one destination: the most recently linked account

    # The next day that account cannot take messages: the digest goes to the other one, still once.
    await hub.api.ticket(alice, project["id"], title="Second", assignee_id=bob.id)
    clock.now += timedelta(days=1)
    hub.fake.refuse("conversations.open", "user_not_found")
    assert await notifier.run_digests_once() == 1
    assert _digests(hub) == ["DBOB9", "DBOB"]
    assert await notifier.run_digests_once() == 0


async def test_a_refused_digest_is_retried_a_bounded_number_of_times(
    hub: SlackHub, caplog: pytest.LogCaptureFixture
) -> None:
    await hub.runtime.notifier.stop()
    alice, bob, project = await _bob_with_digest(hub)
    await hub.api.ticket(alice, project["id"], title="Kept for tomorrow", assignee_id=bob.id)
    clock = Clock(datetime.now(UTC).replace(hour=9, minute=5))
    notifier = Notifier(
        hub.context.db, hub.runtime.sink, digest_hour=9, clock=clock, digest_attempts=3,
        digest_retry_seconds=300,
    )  # fmt: skip
    hub.fake.refuse("chat.postMessage", "invalid_blocks", times=3)
    tries = lambda: len(hub.fake.calls_to("chat.postMessage"))  # noqa: E731
    assert await notifier.run_digests_once() == 0
    assert tries() == 1
    assert await notifier.run_digests_once() == 0  # a minute later: not yet
    assert tries() == 1
    with caplog.at_level(logging.ERROR, logger="bots.notify"):
        for attempt in (2, 3):
            clock.now += timedelta(seconds=300)
            assert await notifier.run_digests_once() == 0
            assert tries() == attempt
    assert "giving up today's digest" in caplog.text
    clock.now += timedelta(hours=2)
    assert await notifier.run_digests_once() == 0  # given up for the day: no fourth attempt
    assert tries() == 3
    # The next day the notifications of the day given up come with the new digest.
    await hub.api.ticket(alice, project["id"], title="Next day", assignee_id=bob.id)
    clock.now += timedelta(days=1)
    assert await notifier.run_digests_once() == 1
    blocks = str(hub.fake.calls_to("chat.postMessage")[-1].params["blocks"])
    assert "OPS-1 Kept for tomorrow" in blocks
    assert "OPS-2 Next day" in blocks
    assert await notifier.run_digests_once() == 0
