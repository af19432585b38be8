"""Per-channel cursors of the chat relays: how far each subscription has got, and how it is doing.

Every subscription (a channel and a project) is a **lane** with its own durable cursor
(`chat_subscriptions.position`, the last event fully relayed to it) and its own failure record
(`failures`, `retry_at`, `last_error`). One channel that is rate limited, slow or refusing never
holds back another: each lane moves on its own.

The relay's row in `consumer_positions` (`slack-relay`, `discord-relay`) is the **frontier**: the
newest event any round has read, never past the safe horizon (`hub.adapters.db.horizon`). When the
relay first runs, the frontier is the last event older than its start, or the safe horizon if that is
lower (`chat.relay.start_before`): an older event still committing then is relayed, not skipped.

**Where a lane starts.** A lane relays the events after its cursor. A subscription whose cursor is
None (new, or resumed) starts at the frontier, so a channel is never flooded with history. So does one
whose cursor is *stale*: below the retention mark (`retention_marks` "events", the highest id the
retention job moved out of the outbox). Only a lane that was not active when retention passed can be
behind it (active lanes hold retention back), e.g. a channel archived for longer than
`EVENTS_RETENTION_DAYS` and unarchived: some of what it would read is gone, so it resumes like a
resubscribed channel, from the frontier, instead of replaying an arbitrary remainder. In both cases the
start is pinned (`start`) before the lane is first handed events, so a failure before its first
success retries from the same point (nothing skipped), and the message maps keep a restart from
posting anything twice (`bots/relay.py`).

Only `state == "active"` subscriptions are lanes. A failing one is paused (`state` "paused",
`state_reason` the platform's error); subscribing the channel again resumes it (and it starts at the
frontier: what happened while it was paused is not replayed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update

from hub.adapters.db.chat_models import ChatSubscription
from hub.adapters.db.models import Project
from hub.adapters.db.positions import advance_position, lock_position
from hub.adapters.db.retention_models import RetentionMark
from hub.adapters.db.uow import UnitOfWork
from hub.services.chat.relay import start_before

ACTIVE = "active"
PAUSED = "paused"
#: `last_error` and `state_reason` are cut to their column's size.
_REASON = 300


@dataclass(frozen=True)
class Lane:
    """An active subscription as the relay schedules it."""

    subscription_id: int
    team_id: str
    channel_id: str
    project_id: int
    project_key: str
    created_by: int | None
    position: int | None
    failures: int
    retry_at: datetime | None

    def ready(self, now: datetime) -> bool:
        return self.retry_at is None or self.retry_at <= now


async def frontier(uow: UnitOfWork, consumer: str, since: datetime | None, now: datetime) -> int | None:
    """The relay's frontier (created on first use: after the events older than `since`); None while
    another transaction holds the row this instant."""
    async with uow:
        position = await lock_position(uow.session, consumer, start_before(since, uow.db), now)
        await uow.commit()
        return position


async def move_frontier(uow: UnitOfWork, consumer: str, position: int, now: datetime) -> None:
    async with uow:
        await advance_position(uow.session, consumer, position, now)
        await uow.commit()


_RETAINED_FROM = select(RetentionMark.position).where(RetentionMark.name == "events").scalar_subquery()


async def load_lanes(uow: UnitOfWork, platform: str) -> list[Lane]:
    """The platform's active subscriptions, oldest first; a stale cursor (below the retention mark)
    comes back as None: the lane starts at the frontier (module docstring)."""
    async with uow:
        rows = await uow.session.execute(
            select(ChatSubscription, Project.key, _RETAINED_FROM)
            .join(Project, Project.id == ChatSubscription.project_id)
            .where(ChatSubscription.platform == platform, ChatSubscription.state == ACTIVE)
            .order_by(ChatSubscription.id)
        )
        return [
            Lane(
                row.id,
                row.team_id,
                row.channel_id,
                row.project_id,
                key,
                row.created_by,
                None if row.position is not None and row.position < (mark or 0) else row.position,
                row.failures or 0,
                row.retry_at,
            )
            for row, key, mark in rows.all()
        ]


async def advance(uow: UnitOfWork, positions: dict[int, int], now: datetime) -> None:
    """Lanes that relayed everything up to their new position: cursor moved, failures forgotten.
    A cursor never moves back."""
    if not positions:
        return
    async with uow:
        for sub_id, position in positions.items():
            await uow.session.execute(
                update(ChatSubscription)
                .where(
                    ChatSubscription.id == sub_id,
                    or_(ChatSubscription.position.is_(None), ChatSubscription.position < position),
                )
                .values(position=position)
            )
        await uow.session.execute(
            update(ChatSubscription)
            .where(ChatSubscription.id.in_(positions), ChatSubscription.failures > 0)
            .values(failures=0, retry_at=None, last_error=None, updated_at=now)
        )
        await uow.commit()


async def start(uow: UnitOfWork, positions: dict[int, int]) -> None:
    """Pin where lanes without a cursor, or with a stale one, start (the frontier they were first
    handed events from), so a failure before their first success does not skip what they were given."""
    if not positions:
        return
    async with uow:
        for sub_id, position in positions.items():
            await uow.session.execute(
                update(ChatSubscription)
                .where(
                    ChatSubscription.id == sub_id,
                    or_(ChatSubscription.position.is_(None), ChatSubscription.position < position),
                )
                .values(position=position)
            )
        await uow.commit()


async def delay(uow: UnitOfWork, sub_id: int, *, retry_at: datetime, error: str, failed: bool) -> int:
    """A lane that must wait (`failed`: one more consecutive failure; else a rate limit, which is
    not the channel's fault). Returns the consecutive failures now recorded."""
    async with uow:
        sub = await uow.session.get(ChatSubscription, sub_id)
        if sub is None:
            return 0
        if failed:
            sub.failures = (sub.failures or 0) + 1
        sub.retry_at = retry_at
        sub.last_error = error[:_REASON]
        count = sub.failures or 0
        await uow.commit()
        return count


async def pause(uow: UnitOfWork, sub_id: int, reason: str, now: datetime) -> bool:
    """Stop relaying into a subscription until it is subscribed again; False if it is gone or no
    longer active (someone else changed it meanwhile)."""
    async with uow:
        sub = await uow.session.get(ChatSubscription, sub_id)
        if sub is None or sub.state != ACTIVE:
            return False
        sub.state = PAUSED
        sub.state_reason = reason[:_REASON]
        sub.state_changed_at = now
        sub.last_error = reason[:_REASON]
        sub.retry_at = None
        sub.updated_at = now
        await uow.commit()
        return True
