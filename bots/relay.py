"""The channel relay: a durable consumer of the `events` outbox that keeps chat channels in step.

One round: read the events after the consumer's position (`chat_relay.load_batch`), group them per
subscribed channel and ticket, do what each group needs through the platform's `RelaySink`, then
advance the position. Per channel and ticket there is one root message (re-rendered with
`update_ticket` on every change) and a thread with one short reply per round of changes plus the
hub's comments. Channels are served concurrently; within a channel, posts are paced (`ChannelPacer`).

**Coalescing.** After a round that posted, the next round waits until the pacing window has passed;
everything that happened meanwhile lands in one round, so several changes to a ticket become one
update and one reply.

**Exactly once across restarts.** Before each post that is not idempotent (a root, a change reply, a
comment reply) the relay commits a write-ahead marker; after the platform answers it records the
message id and clears the marker. On restart:

- events at or below a channel's `last_event_id` for the ticket are already shown → skipped;
- a comment already mapped to a message → skipped;
- a marker left behind (crash between post and record) → the sink looks for the message that carries
  the event id in its metadata (`find_posted`); found → recorded, not posted again; absent → posted.

A round whose sends fail transiently does not advance the position; the next round redoes only what
is missing. A destination that refuses for good (`PermanentSendError`) is logged and skipped.
Only one process relays at a time (`chat_leader.leadership`: a PostgreSQL advisory lock).

**Observing.** An optional `RelayObserver` (the hub's metrics) hears, after each round's position
advanced, how long ago every event relayed to some channel was created (`kind` "relay"); the notifier
tells it the same for DMs (`kind` "dm").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bots.pacing import ChannelPacer
from bots.sink import PermanentSendError, RelaySink
from bots.summaries import SummaryKeeper
from bots.text import actor_name, change_line
from hub.adapters.db.engine import Database
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.context import uow_factory
from hub.domain.enums import EventType
from hub.domain.events import COMMENT_EVENTS, TICKET_EVENTS
from hub.services.chat import leader as chat_leader
from hub.services.chat import relay as chat_relay
from hub.services.chat.relay import CommentMessage, RelayBatch, RelayEvent, Target, TicketMessage

log = logging.getLogger(__name__)
#: Change kinds worth a thread reply in the compact format (detailed: every change).
COMPACT_REPLIES = frozenset(
    {EventType.TICKET_STATUS_CHANGED, EventType.TICKET_ASSIGNED, EventType.TICKET_DELETED}
)


class RelayObserver(Protocol):
    """Told how far behind the chat consumers run; `hub.observability.consumers.ChatMetrics` is one."""

    def relayed(self, platform: str, kind: str, lag_seconds: float) -> None:
        """An event (`kind` "relay") or notification (`kind` "dm") created `lag_seconds` ago is out."""


@dataclass
class _Group:
    target: Target
    ticket_id: int
    events: list[RelayEvent] = field(default_factory=list)


class Relay:
    def __init__(
        self,
        db: Database,
        sink: RelaySink,
        *,
        consumer: str | None = None,
        interval: float = 1.0,
        poll_interval: float = 2.0,
        summary_every: float = 10.0,
        batch: int = 200,
        clock: Callable[[], datetime] = utcnow,
        observer: RelayObserver | None = None,
    ) -> None:
        self.db = db
        self.sink = sink
        self.observer = observer
        self.consumer = consumer or f"{sink.platform}-relay"
        self.pacer = ChannelPacer(interval)
        self.poll_interval = poll_interval
        self.batch = batch
        self._clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # The relay writes only its own bookkeeping (position, message maps, markers), never events.
        self._make_uow = uow_factory(db, notify=False)
        self.summaries = SummaryKeeper(self.uow, sink, every=summary_every, clock=clock)
        self.rounds = 0
        self.started_at = clock()

    def uow(self) -> UnitOfWork:
        return self._make_uow()

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"{self.consumer}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self, *_args: object) -> None:
        """Called on every committed event (a bus listener); cheap, never blocks."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            async with chat_leader.leadership(self.db, self.consumer) as leader:
                while leader and not self._stopping:
                    await self._tick()
            if not self._stopping:  # another process relays; check again later
                await self._sleep(self.poll_interval * 5)

    async def _tick(self) -> None:
        self._wake.clear()
        try:
            handled = await self.run_once()
        except Exception:
            log.exception("%s round failed; retrying", self.consumer)
            handled = 0
        if handled and self.pacer.quiet_for() > 0:
            await asyncio.sleep(self.pacer.quiet_for())  # coalesce whatever happens meanwhile
        elif not handled:
            await self._sleep(self.poll_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    # --- one round ------------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Relay the next batch of events; returns how many were read (0: nothing new)."""
        batch = await chat_relay.load_batch(
            self.uow(),
            platform=self.sink.platform,
            consumer=self.consumer,
            limit=self.batch,
            since=self.started_at,
        )
        if batch.events:
            plan = self._plan(batch)
            results = await asyncio.gather(
                *(self._channel(groups, batch) for groups in plan.values()), return_exceptions=True
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                raise failures[0]  # keep the position: the next round redoes only what is missing
            await chat_relay.advance(self.uow(), self.consumer, batch.events[-1].id)
            self.rounds += 1
            if self.observer is not None:
                self._observe(plan)
        await self.summaries.flush()
        return len(batch.events)

    def _observe(self, plan: dict[tuple[str, str], dict[int, _Group]]) -> None:
        """Each event relayed to at least one channel, once; wall-clock lag (not the injected clock)."""
        assert self.observer is not None
        now = utcnow()
        events = {e.id: e for groups in plan.values() for group in groups.values() for e in group.events}
        for event in events.values():
            self.observer.relayed(self.sink.platform, "relay", (now - event.created_at).total_seconds())

    def _plan(self, batch: RelayBatch) -> dict[tuple[str, str], dict[int, _Group]]:
        plan: dict[tuple[str, str], dict[int, _Group]] = {}
        for event in batch.events:
            for target in batch.targets.get(event.project_id or 0, []):
                ticket_id, labels = self._ticket_of(event, batch)
                if ticket_id is None or not target.wants(event.type, labels):
                    continue
                groups = plan.setdefault((target.team_id, target.channel_id), {})
                groups.setdefault(ticket_id, _Group(target, ticket_id)).events.append(event)
                if target.summary:
                    self.summaries.touch(target)
        return plan

    @staticmethod
    def _ticket_of(event: RelayEvent, batch: RelayBatch) -> tuple[int | None, list[str] | None]:
        if event.type in COMMENT_EVENTS:
            ticket_id = int(event.payload["ticket_id"])
            now = batch.tickets_now.get(ticket_id)
            return ticket_id, (now or {}).get("labels")
        ticket = event.payload.get("ticket") or {}
        return ticket.get("id"), ticket.get("labels")

    async def _channel(self, groups: dict[int, _Group], batch: RelayBatch) -> None:
        for group in groups.values():
            try:
                await self._group(group, batch)
            except PermanentSendError as error:
                log.warning("%s: %s/%s refuses messages: %s", self.consumer, group.target.team_id,
                            group.target.channel_id, error)  # fmt: skip

    async def _save(self, message: TicketMessage) -> None:
        await chat_relay.save_ticket_message(self.uow(), self.sink.platform, message)

    async def _group(self, group: _Group, batch: RelayBatch) -> None:
        target = group.target
        key = (target.team_id, target.channel_id, group.ticket_id)
        msg = batch.ticket_messages.get(key) or TicketMessage(
            target.team_id, target.channel_id, group.ticket_id
        )
        batch.ticket_messages[key] = msg
        if msg.pending_event_id is not None:
            await self._reconcile(target, msg)
        changes = [e for e in group.events if e.type in TICKET_EVENTS and e.id > msg.last_event_id]
        deleted = any(e.type == EventType.TICKET_DELETED for e in changes)
        if msg.message_id is None:
            if not await self._post_root(group, msg, changes, deleted, batch):
                return
            changes = []  # the new root already shows the latest state
        if changes:
            await self._changes(target, msg, changes, deleted, batch)
        if not deleted:
            for event in group.events:
                if event.type in COMMENT_EVENTS:
                    await self._comment(target, msg, event, batch)

    async def _post_root(
        self, group: _Group, msg: TicketMessage, changes: list[RelayEvent], deleted: bool, batch: RelayBatch
    ) -> bool:
        """Post the ticket's root message in the channel, behind a write-ahead marker; False when there
        is nothing to show (the ticket is gone, or only comments changed and none was created)."""
        target = group.target
        latest = changes[-1].payload["ticket"] if changes else batch.tickets_now.get(group.ticket_id)
        if deleted or latest is None or (not changes and not self._posts_comment(group)):
            return False
        top = group.events[-1].id
        msg.pending_event_id = top
        await self._save(msg)
        await self.pacer.slot(target.channel_id)
        msg.message_id = msg.thread_id = await self.sink.post_ticket(target, latest, event_id=top)
        msg.last_event_id = max([msg.last_event_id, *(e.id for e in changes)])
        msg.pending_event_id = None
        await self._save(msg)
        return True

    @staticmethod
    def _posts_comment(group: _Group) -> bool:
        return any(e.type == EventType.COMMENT_CREATED for e in group.events)

    async def _reconcile(self, target: Target, msg: TicketMessage) -> None:
        pending = msg.pending_event_id
        assert pending is not None
        found = await self.sink.find_posted(target, msg.thread_id if msg.message_id else None, pending)
        if found is not None:
            if msg.message_id is None:
                msg.message_id = msg.thread_id = found
            msg.last_event_id = max(msg.last_event_id, pending)
        msg.pending_event_id = None
        await self._save(msg)

    async def _changes(
        self, target: Target, msg: TicketMessage, changes: list[RelayEvent], deleted: bool, batch: RelayBatch
    ) -> None:
        assert msg.message_id is not None
        assert msg.thread_id is not None
        await self.sink.update_ticket(target, msg.message_id, changes[-1].payload["ticket"], deleted=deleted)
        worth = [e for e in changes if target.format == "detailed" or e.type in COMPACT_REPLIES]
        top = changes[-1].id
        if worth:
            lines = [
                change_line(e.type, e.payload, actor_name(e.payload, e.actor_id, batch.names)) for e in worth
            ]
            msg.pending_event_id = top
            await self._save(msg)
            await self.pacer.slot(target.channel_id)
            await self.sink.post_reply(target, msg.thread_id, lines, event_id=top)
        msg.last_event_id = top
        msg.pending_event_id = None
        await self._save(msg)

    async def _comment(
        self, target: Target, msg: TicketMessage, event: RelayEvent, batch: RelayBatch
    ) -> None:
        payload: dict[str, Any] = event.payload
        comment = payload["comment"]
        key = (target.team_id, target.channel_id, int(comment["id"]))
        known = batch.comment_messages.get(key)
        origin = str(payload.get("origin") or "web")
        if event.type == EventType.COMMENT_CREATED:
            await self._new_comment(target, msg, event, known, key)
            return
        if known is None or known.message_id is None:
            return
        if event.type == EventType.COMMENT_UPDATED and not known.from_chat:
            await self.sink.update_comment(target, known.message_id, comment, origin, thread_id=msg.thread_id)
        elif event.type == EventType.COMMENT_DELETED:
            if not known.from_chat:
                await self.sink.delete_message(target, known.message_id, thread_id=msg.thread_id)
            await chat_relay.forget_comment_message(self.uow(), self.sink.platform, known)
            batch.comment_messages.pop(key, None)

    async def _new_comment(
        self, target: Target, msg: TicketMessage, event: RelayEvent, known: CommentMessage | None, key: Any
    ) -> None:
        payload: dict[str, Any] = event.payload
        comment = payload["comment"]
        if known is not None and known.message_id is not None:
            return  # already in the thread
        row = CommentMessage(target.team_id, target.channel_id, int(comment["id"]), msg.ticket_id, event.id)
        typed_here = self.sink.chat_message_of(payload.get("meta") or {}, target)
        if typed_here is not None:  # written in this very channel: record it, never echo it back
            row.message_id, row.from_chat = typed_here, True
            await chat_relay.save_comment_message(self.uow(), self.sink.platform, row)
            return
        if msg.thread_id is None:
            return
        if known is not None:  # a marker from a crash: was it posted?
            row.message_id = await self.sink.find_posted(target, msg.thread_id, event.id)
        if row.message_id is None:
            await chat_relay.save_comment_message(self.uow(), self.sink.platform, row)  # write-ahead
            await self.pacer.slot(target.channel_id)
            origin = str(payload.get("origin") or "web")
            row.message_id = await self.sink.post_comment(
                target, msg.thread_id, comment, origin, event_id=event.id
            )
        await chat_relay.save_comment_message(self.uow(), self.sink.platform, row)
