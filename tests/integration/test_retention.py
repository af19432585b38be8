"""Retention (hub.services.retention): old rows go in bounded batches, what a resume or a lagging
consumer needs stays, and the activity feed keeps reading what moved to the archive. SQLite and PG."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from hub.adapters.db.chat_models import ChatLinkCode, ChatSubscription
from hub.adapters.db.models import Event, LoginSession, Notification, RefreshToken
from hub.adapters.db.retention_models import EventArchive
from hub.adapters.db.types import utcnow
from hub.adapters.db.webhook_models import ConsumerPosition
from hub.config import ConfigError
from hub.context import HubContext
from hub.services import retention
from hub.services.retention import RetentionPolicy
from tests.conftest import make_settings
from tests.support.api import Api, User

DAY = timedelta(days=1)


async def _ids(context: HubContext, model: type[Event] | type[EventArchive], pid: int) -> list[int]:
    async with context.uow() as uow:
        return list(
            await uow.session.scalars(select(model.id).where(model.project_id == pid).order_by(model.id))
        )


async def _age(context: HubContext, up_to: int, days: float) -> None:
    """Make every event with id <= `up_to` `days` old."""
    async with context.uow() as uow:
        await uow.session.execute(
            update(Event).where(Event.id <= up_to).values(created_at=utcnow() - days * DAY)
        )
        await uow.commit()


async def _project_with_events(api: Api, tickets: int) -> tuple[User, int, list[int]]:
    owner = await api.user("Alice Archer")
    pid = (await api.project(owner))["id"]
    for n in range(tickets):
        await api.ticket(owner, pid, title=f"ticket {n}")
    feed = await api.get(f"/api/projects/{pid}/events", query={"limit": 500}, token=owner.token)
    return owner, pid, [e["id"] for e in feed.body["items"]]


async def test_old_events_move_to_the_archive_and_the_feed_still_reads_them(
    api: Api, context: HubContext
) -> None:
    owner, pid, ids = await _project_with_events(api, 6)
    old, recent = ids[:4], ids[4:]
    await _age(context, old[-1], days=31)
    policy = RetentionPolicy(events_days=30, batch=3)  # batches smaller than the work: several rounds

    removed = await retention.prune(context.uow, policy, utcnow())

    assert removed["events"] == len(old)
    assert await _ids(context, Event, pid) == recent
    assert await _ids(context, EventArchive, pid) == old
    # The feed reads both tables as one, forwards ...
    feed = await api.get(f"/api/projects/{pid}/events", query={"limit": 500}, token=owner.token)
    assert [e["id"] for e in feed.body["items"]] == ids
    assert feed.body["next_after"] == ids[-1]
    page = await api.get(
        f"/api/projects/{pid}/events", query={"after": old[1], "limit": 3}, token=owner.token
    )
    assert [e["id"] for e in page.body["items"]] == ids[2:5]  # archive and outbox in one page
    # ... and backwards with `before`, newest first, across the boundary.
    back, before = [], None
    while True:
        query = {"limit": 4} | ({"before": before} if before else {"before": ids[-1] + 1})
        page = await api.get(f"/api/projects/{pid}/events", query=query, token=owner.token)
        assert page.status == 200
        back += [e["id"] for e in page.body["items"]]
        before = page.body["next_before"]
        if before is None:
            break
    assert back == ids[::-1]
    # Nothing left to do: a second run removes nothing.
    again = await retention.prune(context.uow, policy, utcnow())
    assert again["events"] == 0


async def test_events_within_the_retention_stay(api: Api, context: HubContext) -> None:
    _owner, pid, ids = await _project_with_events(api, 3)
    await _age(context, ids[-1], days=29)
    assert (await retention.prune(context.uow, RetentionPolicy(events_days=30), utcnow()))["events"] == 0
    assert await _ids(context, Event, pid) == ids


async def test_a_lagging_consumer_holds_events_back(api: Api, context: HubContext) -> None:
    owner, pid, ids = await _project_with_events(api, 6)
    await _age(context, ids[-1], days=60)  # all of them are past the retention
    async with context.uow() as uow:
        # A relay that stopped at ids[1], a notification consumer far behind (notification ids: ignored).
        uow.session.add(ConsumerPosition(name="slack-relay", position=ids[1], updated_at=utcnow()))
        uow.session.add(ConsumerPosition(name="slack-dm", position=0, updated_at=utcnow()))
        uow.session.add(ConsumerPosition(name="slack-digest-attempts:1", position=0, updated_at=utcnow()))
        await uow.commit()

    await retention.prune(context.uow, RetentionPolicy(events_days=30), utcnow())
    assert await _ids(context, EventArchive, pid) == ids[:2]
    assert await _ids(context, Event, pid) == ids[2:]  # everything the relay has not handled stays

    # An active chat subscription behind the relay holds back too; a paused one does not.
    async with context.uow() as uow:
        await uow.session.execute(update(ConsumerPosition).values(position=ids[-1]))
        for state, position in (("active", ids[3]), ("paused", ids[0])):
            uow.session.add(
                ChatSubscription(
                    platform="slack", team_id="T1", channel_id=f"C-{state}", project_id=pid,
                    created_by=owner.id, state=state, position=position,
                )
            )  # fmt: skip
        await uow.commit()
    await retention.prune(context.uow, RetentionPolicy(events_days=30), utcnow())
    assert await _ids(context, Event, pid) == ids[4:]
    assert await _ids(context, EventArchive, pid) == ids[:4]


async def test_archive_retention_and_the_other_tables(api: Api, context: HubContext) -> None:
    owner, pid, _ids_made = await _project_with_events(api, 2)
    bob = await api.user("Bob Baker")
    await api.add(owner, pid, bob, "member")
    await api.ticket(owner, pid, title="for bob", assignee_id=bob.id)  # a notification for Bob
    now = utcnow()
    async with context.uow() as uow:
        session = uow.session
        await session.execute(update(Event).values(created_at=now - 400 * DAY))
        await session.execute(update(Notification).values(created_at=now - 100 * DAY))
        # An ended login long ago, a live one; a link code expired two days ago, one still valid.
        await session.execute(
            update(LoginSession).where(LoginSession.user_id == owner.id).values(revoked_at=now - 40 * DAY)
        )
        session.add(ChatLinkCode(code_hash="a" * 64, user_id=bob.id, expires_at=now - 2 * DAY))
        session.add(ChatLinkCode(code_hash="b" * 64, user_id=bob.id, expires_at=now + DAY))
        await uow.commit()
    policy = RetentionPolicy(events_days=30, archive_days=365, notifications_days=90, sessions_days=30)

    removed = await retention.prune(context.uow, policy, now)

    assert removed["events"] > 0
    assert removed["events_archive"] == removed["events"]  # 400 days old: past both retentions
    assert removed["notifications"] >= 1
    assert removed["chat_link_codes"] == 1
    async with context.uow() as uow:
        session = uow.session
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0
        assert await session.scalar(select(func.count()).select_from(ChatLinkCode)) == 1
        # The owner's ended sessions went with their refresh tokens; Bob's live ones stay.
        assert await session.scalar(select(func.count()).where(LoginSession.user_id == owner.id)) == 0
        assert await session.scalar(select(func.count()).where(RefreshToken.user_id == owner.id)) == 0
        assert await session.scalar(select(func.count()).where(LoginSession.user_id == bob.id)) >= 1
    assert (await api.get("/api/me", token=bob.token)).status == 200
    assert (await api.get("/api/me", token=owner.token)).status == 401  # its session is gone


@pytest.mark.parametrize("days", ["1", "6"])
def test_retention_shorter_than_the_resume_window_is_refused(days: str) -> None:
    with pytest.raises(ConfigError, match=r"EVENTS_RETENTION_DAYS=.* shorter than the 7-day resume window"):
        make_settings("sqlite+aiosqlite:///:memory:", EVENTS_RETENTION_DAYS=days)
    with pytest.raises(ConfigError, match="NOTIFICATIONS_RETENTION_DAYS"):
        make_settings("sqlite+aiosqlite:///:memory:", NOTIFICATIONS_RETENTION_DAYS=days)


def test_retention_settings_are_read() -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:",
        EVENTS_RETENTION_DAYS="7",
        EVENTS_ARCHIVE_DAYS="0",
        RETENTION_BATCH="50",
    )
    policy = RetentionPolicy.from_settings(settings)
    assert (policy.events_days, policy.archive_days, policy.batch) == (7, 0, 50)
    assert make_settings("sqlite+aiosqlite:///:memory:", EVENTS_RETENTION_DAYS="0").events_retention_days == 0
