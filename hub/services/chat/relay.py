"""What the chat relays read and record: outbox batches, subscriptions, and the message maps.

A relay is a durable consumer of the `events` outbox. Each subscription keeps its own cursor and
failure record (`hub.services.chat.cursors`); the relay's row in `consumer_positions` (e.g.
`slack-relay`) is its frontier, where new subscriptions start. A new relay starts after the events
older than its start: channels are not flooded with history.

Exactly-once posting across restarts rests on the message maps, not on the position alone (see
`bots/relay.py` for the protocol): before each non-idempotent post the relay commits a write-ahead
marker (`pending_event_id`, or a comment row without `message_id`); after the platform answers it
records the message id and clears the marker. Events at or below a ticket row's `last_event_id` are
already reflected in that channel and are skipped; a marker found on restart is reconciled by looking
for the message that carries the event id in its metadata.

Subscriptions whose creator is no longer a member (see `chat_subscriptions`) are left out of each
batch: whether a subscription relays is decided from current membership at every round. So are those
not `active` (paused after failures, archived, removed, uninstalled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.chat_models import ChatCommentMessage, ChatSubscription, ChatTicketMessage
from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import safe_horizon
from hub.adapters.db.models import Event, Ticket, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.events import COMMENT_EVENTS
from hub.services.chat.subscriptions import KIND_OF_EVENT, relays, with_creator_access
from hub.services.tickets.tickets import TICKET_LOAD
from hub.services.views import ticket_view


@dataclass(frozen=True)
class Target:
    """A channel subscribed to a project, with its filters."""

    subscription_id: int
    platform: str
    team_id: str
    channel_id: str
    project_id: int
    format: str
    event_types: tuple[str, ...] | None
    labels: tuple[str, ...] | None
    summary: bool
    summary_message_id: str | None
    #: Mention linked people in this channel's posts (`chat_subscriptions.mentions`).
    mentions: bool = True

    def wants(self, event_type: str, labels: list[str] | None) -> bool:
        kind = KIND_OF_EVENT.get(event_type)
        if kind is None or (self.event_types is not None and kind not in self.event_types):
            return False
        return self.labels is None or labels is None or bool(set(self.labels) & set(labels))


@dataclass
class TicketMessage:
    team_id: str
    channel_id: str
    ticket_id: int
    message_id: str | None = None
    thread_id: str | None = None
    last_event_id: int = 0
    pending_event_id: int | None = None


@dataclass
class CommentMessage:
    team_id: str
    channel_id: str
    comment_id: int
    ticket_id: int
    event_id: int
    message_id: str | None = None
    from_chat: bool = False


@dataclass(frozen=True)
class RelayEvent:
    """An outbox event as the relays read it: a plain value, so the bots never hold ORM rows."""

    id: int
    type: str
    project_id: int | None
    actor_id: int | None
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, row: Event) -> RelayEvent:
        return cls(row.id, row.type, row.project_id, row.actor_id, row.payload, row.created_at)


@dataclass
class RelayBatch:
    position: int
    events: list[RelayEvent]
    targets: dict[int, list[Target]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    #: Current views of the tickets that comment events point at (None: deleted since).
    tickets_now: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    ticket_messages: dict[tuple[str, str, int], TicketMessage] = field(default_factory=dict)
    comment_messages: dict[tuple[str, str, int], CommentMessage] = field(default_factory=dict)


def start_before(since: datetime | None, db: Database | None = None) -> Any:
    """Where a new relay starts: after the events older than `since` (its start), so channels are not
    flooded with history, but never past the safe horizon of `db` (`hub.adapters.db.horizon`): an
    older event whose transaction commits after the start has an id at or below the last one, and
    starting past it would skip it; starting at the horizon relays it (with at most the few events
    that were committing then)."""

    async def start(session: Any) -> int:
        query = select(func.coalesce(func.max(Event.id), 0))
        if since is not None:
            query = query.where(Event.created_at < since)
        latest = int(await session.scalar(query) or 0)
        return latest if db is None else min(latest, (await safe_horizon(db)).events)

    return start


async def load_batch(uow: UnitOfWork, *, platform: str, after: int, limit: int = 200) -> RelayBatch:
    """The next events after `after` (the furthest-behind ready lane's cursor, see
    `hub.services.chat.cursors`), with everything needed to relay them: one read shared by the lanes."""
    safe = (await safe_horizon(uow.db)).events  # never past an id that may still commit
    async with uow:
        session = uow.session
        query = select(Event).where(Event.id > after, Event.id <= safe).order_by(Event.id).limit(limit)
        rows = await session.scalars(query)
        events = [RelayEvent.of(row) for row in rows]
        batch = RelayBatch(after, events)
        relevant = [e for e in events if e.project_id is not None and e.type in KIND_OF_EVENT]
        if relevant:
            batch.targets = await _targets(session, platform, relevant)
            batch.names = await _actor_names(session, relevant)
            batch.tickets_now = await _tickets_now(session, relevant)
            batch.ticket_messages = await _ticket_messages(session, platform, relevant)
            batch.comment_messages = await _comment_messages(session, platform, relevant)
        return batch


async def _targets(session: AsyncSession, platform: str, events: list[RelayEvent]) -> dict[int, list[Target]]:
    """The channels subscribed to the events' projects, by project; only `active` subscriptions whose
    creator is still a member (the others relay nothing)."""
    targets: dict[int, list[Target]] = {}
    subs = await session.execute(
        with_creator_access(select(ChatSubscription)).where(
            ChatSubscription.platform == platform,
            ChatSubscription.project_id.in_({e.project_id for e in events}),
            ChatSubscription.state == "active",
        )
    )
    for sub, creator_role, creator_is_admin in subs.all():
        if relays(creator_role, creator_is_admin):  # paused: its creator is no longer a member
            targets.setdefault(sub.project_id, []).append(_target(sub))
    return targets


async def _actor_names(session: AsyncSession, events: list[RelayEvent]) -> dict[int, str]:
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    if not actor_ids:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(actor_ids)))
    return {uid: name for uid, name in rows.all()}


async def _tickets_now(session: AsyncSession, events: list[RelayEvent]) -> dict[int, dict[str, Any] | None]:
    """Current views of the tickets that comment events point at (their events carry no ticket)."""
    ticket_ids = {_ticket_id(e) for e in events if e.type in COMMENT_EVENTS}
    if not ticket_ids:
        return {}
    found = await session.scalars(select(Ticket).options(*TICKET_LOAD).where(Ticket.id.in_(ticket_ids)))
    views = {t.id: ticket_view(t) for t in found.unique()}
    return {tid: views.get(tid) for tid in ticket_ids}


async def _ticket_messages(
    session: AsyncSession, platform: str, events: list[RelayEvent]
) -> dict[tuple[str, str, int], TicketMessage]:
    ticket_ids = {_ticket_id(e) for e in events}
    rows = await session.scalars(
        select(ChatTicketMessage).where(
            ChatTicketMessage.platform == platform, ChatTicketMessage.ticket_id.in_(ticket_ids)
        )
    )
    return {(row.team_id, row.channel_id, row.ticket_id): _ticket_message(row) for row in rows}


async def _comment_messages(
    session: AsyncSession, platform: str, events: list[RelayEvent]
) -> dict[tuple[str, str, int], CommentMessage]:
    comment_ids = {int(e.payload["comment"]["id"]) for e in events if e.type in COMMENT_EVENTS}
    if not comment_ids:
        return {}
    rows = await session.scalars(
        select(ChatCommentMessage).where(
            ChatCommentMessage.platform == platform, ChatCommentMessage.comment_id.in_(comment_ids)
        )
    )
    return {(row.team_id, row.channel_id, row.comment_id): _comment_message(row) for row in rows}


def _ticket_id(event: RelayEvent) -> int:
    if event.type in COMMENT_EVENTS:
        return int(event.payload["ticket_id"])
    return int(event.payload["ticket"]["id"])


def _target(sub: ChatSubscription) -> Target:
    return Target(
        sub.id, sub.platform, sub.team_id, sub.channel_id, sub.project_id, sub.format,
        tuple(sub.event_types) if sub.event_types is not None else None,
        tuple(sub.labels) if sub.labels is not None else None,
        sub.summary, sub.summary_message_id, sub.mentions,
    )  # fmt: skip


def _ticket_message(row: ChatTicketMessage) -> TicketMessage:
    return TicketMessage(
        row.team_id, row.channel_id, row.ticket_id, row.message_id, row.thread_id,
        row.last_event_id, row.pending_event_id,
    )  # fmt: skip


def _comment_message(row: ChatCommentMessage) -> CommentMessage:
    return CommentMessage(
        row.team_id, row.channel_id, row.comment_id, row.ticket_id, row.event_id,
        row.message_id, row.from_chat,
    )  # fmt: skip


async def save_ticket_message(uow: UnitOfWork, platform: str, message: TicketMessage) -> None:
    """Insert or update a ticket's map row (the relay is the only writer: it holds the leader lock)."""
    async with uow:
        row = await uow.session.scalar(
            select(ChatTicketMessage).where(
                ChatTicketMessage.platform == platform,
                ChatTicketMessage.team_id == message.team_id,
                ChatTicketMessage.channel_id == message.channel_id,
                ChatTicketMessage.ticket_id == message.ticket_id,
            )
        )
        now = utcnow()
        if row is None:
            row = ChatTicketMessage(
                platform=platform, team_id=message.team_id, channel_id=message.channel_id,
                ticket_id=message.ticket_id, created_at=now,
            )  # fmt: skip
            uow.session.add(row)
        row.message_id = message.message_id
        row.thread_id = message.thread_id
        row.last_event_id = message.last_event_id
        row.pending_event_id = message.pending_event_id
        row.updated_at = now
        await uow.commit()


async def save_comment_message(uow: UnitOfWork, platform: str, message: CommentMessage) -> None:
    async with uow:
        row = await uow.session.scalar(
            select(ChatCommentMessage).where(
                ChatCommentMessage.platform == platform,
                ChatCommentMessage.team_id == message.team_id,
                ChatCommentMessage.channel_id == message.channel_id,
                ChatCommentMessage.comment_id == message.comment_id,
            )
        )
        if row is None:
            row = ChatCommentMessage(
                platform=platform, team_id=message.team_id, channel_id=message.channel_id,
                comment_id=message.comment_id, created_at=utcnow(),
            )  # fmt: skip
            uow.session.add(row)
        row.ticket_id = message.ticket_id
        row.event_id = message.event_id
        row.message_id = message.message_id
        row.from_chat = message.from_chat
        await uow.commit()


async def forget_comment_message(uow: UnitOfWork, platform: str, message: CommentMessage) -> None:
    async with uow:
        await uow.session.execute(
            delete(ChatCommentMessage).where(
                ChatCommentMessage.platform == platform,
                ChatCommentMessage.team_id == message.team_id,
                ChatCommentMessage.channel_id == message.channel_id,
                ChatCommentMessage.comment_id == message.comment_id,
            )
        )
        await uow.commit()


async def set_summary_message(uow: UnitOfWork, subscription_id: int, message_id: str) -> None:
    async with uow:
        sub = await uow.session.get(ChatSubscription, subscription_id)
        if sub is not None:
            sub.summary_message_id = message_id
            await uow.commit()


async def ticket_of_thread(
    uow: UnitOfWork, platform: str, team_id: str, channel_id: str, thread: str
) -> int | None:
    """The ticket whose relayed thread this is (for replies typed in chat), or None."""
    async with uow:
        found = await uow.session.scalar(
            select(ChatTicketMessage.ticket_id).where(
                ChatTicketMessage.platform == platform,
                ChatTicketMessage.team_id == team_id,
                ChatTicketMessage.channel_id == channel_id,
                ChatTicketMessage.thread_id == thread,
            )
        )
        return int(found) if found is not None else None


async def comment_of_message(
    uow: UnitOfWork, platform: str, team_id: str, channel_id: str, message_id: str
) -> int | None:
    """The hub comment that a message typed in chat became (to follow its edits and deletion)."""
    async with uow:
        found = await uow.session.scalar(
            select(ChatCommentMessage.comment_id).where(
                ChatCommentMessage.platform == platform,
                ChatCommentMessage.team_id == team_id,
                ChatCommentMessage.channel_id == channel_id,
                ChatCommentMessage.message_id == message_id,
                ChatCommentMessage.from_chat.is_(True),
            )
        )
        return int(found) if found is not None else None
