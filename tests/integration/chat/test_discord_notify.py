"""Discord DMs follow the same preferences as the web and Slack; digests go out at the digest hour of
each user's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bots.notify import Notifier
from hub.services.chat import notify as chat_notify
from tests.integration.chat.discord_support import DiscordHub, text_of


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_preferences_off_means_no_dm(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, _member = await hub.person("Alice Archer")
    bob, bob_member = await hub.person("Bob Baker")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    answer = await hub.command(bob_member, "prefs", {"setting": "ticket_assigned discord off"})
    assert "ticket_assigned: web immediate, slack immediate, discord off" in text_of(answer)
    await hub.api.ticket(alice, project["id"], title="Quietly assigned", assignee_id=bob.id)
    await hub.api.ticket(alice, project["id"], title="Mentioned", description="@bob.baker look")
    dm = await hub.fake.wait_for(lambda: hub.fake.dm_messages(bob_member.id))
    await hub.settle()
    texts = [text_of(m.raw) for m in hub.fake.dm_messages(bob_member.id)]
    assert len(texts) == len(dm) == 1
    assert "Mentioned" in texts[0] or "mentioned" in texts[0]


async def test_digest_at_the_hour_of_each_users_time_zone(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    await hub.runtime.notifier.stop()  # this test drives its own notifier and clock
    alice, alice_member = await hub.person("Alice Archer")
    bob, bob_member = await hub.person("Bob Baker")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    for member in (alice_member, bob_member):
        await hub.command(member, "prefs", {"setting": "ticket_assigned discord digest"})
    await hub.command(bob_member, "prefs", {"setting": "quiet 23:00-06:00 Asia/Tokyo"})  # UTC+9
    for title in ("First", "Second"):
        await hub.api.ticket(alice, project["id"], title=title, assignee_id=bob.id)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    clock = Clock(day - timedelta(minutes=30))  # 23:30 UTC = 08:30 in Tokyo
    notifier = Notifier(hub.context.db, hub.runtime.sink, digest_hour=9, clock=clock)
    assert await notifier.run_dms_once() == 0  # digest, not immediate
    assert await notifier.run_digests_once() == 0
    clock.now = day + timedelta(minutes=5)  # 00:05 UTC = 09:05 in Tokyo: Bob's morning, Alice's night
    due = await chat_notify.due_digests(hub.context.uow(), platform="discord", now=clock.now, hour=9)
    assert [d.user_id for d in due] == [bob.id]
    assert await notifier.run_digests_once() == 1
    digest = text_of(hub.fake.dm_messages(bob_member.id)[-1].raw)
    assert "2 notification(s)" in digest
    assert "OPS-1 First" in digest
    assert "OPS-2 Second" in digest
    assert await chat_notify.due_digests(hub.context.uow(), platform="discord", now=clock.now, hour=9) == []
    clock.now = day + timedelta(hours=9, minutes=5)  # Alice's 9 o'clock (UTC); Bob's evening, done today
    due = await chat_notify.due_digests(hub.context.uow(), platform="discord", now=clock.now, hour=9)
    assert [d.user_id for d in due] == [alice.id]
