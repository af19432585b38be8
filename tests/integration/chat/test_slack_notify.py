"""DMs follow each user's `deliver_slack` routing: immediate now, digest once a day, off never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bots.notify import Notifier
from tests.integration.chat.conftest import SlackHub, link_directly


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _dms(hub: SlackHub, channel: str = "DBOB") -> list[str]:
    return [call.params.get("text", "") for call in hub.fake.calls_to("chat.postMessage")
            if call.params.get("channel") == channel]  # fmt: skip


async def test_web_assignment_sends_the_assignee_a_dm(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    ticket = await hub.api.ticket(alice, project["id"], title="Pager fires twice")
    await hub.api.patch(f"/api/tickets/{ticket['id']}", json={"assignee_id": bob.id}, token=alice.token)
    await hub.fake.wait_for(lambda: _dms(hub))
    assert hub.fake.calls_to("conversations.open")[0].params["users"] == "UBOB"
    assert _dms(hub) == [f"Assigned to you: {ticket['key']} Pager fires twice"]
    dm = hub.fake.calls_to("chat.postMessage")[-1]
    elements = dm.params["blocks"][-1]["elements"]
    assert elements[0]["url"] == f"http://board.test/#/p/{project['id']}/t/{ticket['id']}"
    assert elements[1]["action_id"] == "sb_mark_read"
    notification_id = int(elements[1]["value"])
    key, _reply = await hub.slack.block_action("UBOB", {"type": "button", **elements[1]}, channel="DBOB")
    assert (await hub.answer(key))["text"].startswith("✓ Read")
    unread = await hub.api.get("/api/notifications", token=bob.token, query={"unread": "true"})
    assert notification_id not in [n["id"] for n in unread.body["items"]]
    # Alice (the actor) got nothing; Bob turns Slack off for assignments: no more DMs.
    assert _dms(hub, "DALICE") == []
    await hub.command("UBOB", "prefs ticket_assigned off")
    other = await hub.api.ticket(alice, project["id"], title="Quietly assigned")
    await hub.api.patch(f"/api/tickets/{other['id']}", json={"assignee_id": bob.id}, token=alice.token)
    await hub.settle(1.0)
    assert len(_dms(hub)) == 1
    prefs = await hub.api.get("/api/me/preferences", token=bob.token)
    assert prefs.body["types"]["ticket_assigned"]["slack"] == "off"
    assert prefs.body["types"]["ticket_assigned"]["web"] == "immediate"


async def test_digest_once_a_day_with_an_injected_clock(hub: SlackHub) -> None:
    await hub.runtime.notifier.stop()  # this test drives its own notifier and clock
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    answer = await hub.command("UBOB", "prefs ticket_assigned slack digest")
    assert "ticket_assigned: web immediate, slack digest" in answer["text"]
    for title in ("First", "Second"):
        await hub.api.ticket(alice, project["id"], title=title, assignee_id=bob.id)
    clock = Clock(datetime.now(UTC).replace(hour=8, minute=0))
    notifier = Notifier(hub.context.db, hub.runtime.sink, digest_hour=9, clock=clock)
    assert await notifier.run_dms_once() == 0  # digest, not immediate
    assert await notifier.run_digests_once() == 0  # not 9 o'clock yet
    clock.now = clock.now.replace(hour=9, minute=5)
    assert await notifier.run_digests_once() == 1
    digest = hub.fake.calls_to("chat.postMessage")[-1]
    assert digest.params["channel"] == "DBOB"
    assert "OPS-1 First" in str(digest.params["blocks"])
    assert "OPS-2 Second" in str(digest.params["blocks"])
    assert await notifier.run_digests_once() == 0  # once a day
    clock.now += timedelta(days=1)
    assert await notifier.run_digests_once() == 0  # nothing new to tell
    await hub.api.ticket(alice, project["id"], title="Third", assignee_id=bob.id)
    clock.now += timedelta(days=1)
    assert await notifier.run_digests_once() == 1
    blocks = str(hub.fake.calls_to("chat.postMessage")[-1].params["blocks"])
    assert "OPS-3 Third" in blocks
    assert "OPS-1" not in blocks
