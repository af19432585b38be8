"""The channel relay: a durable consumer of the `events` outbox that keeps chat channels in step.

**Lanes.** Every active subscription (a channel and a project) is a lane with its own durable cursor
and failure record (`hub.services.chat.cursors`). A round (`dispatch`) picks the lanes that are
ready — not busy, not waiting out a retry (`retry_at`), past their channel's pacing window — reads
the events after the furthest-behind of them in one batch (`chat_relay.load_batch`), and hands each
lane the events after its own cursor, grouped per ticket. Each lane runs as its own task: a channel
that is rate limited, slow or failing never holds back another, and within a channel everything is
done in event order. A lane that succeeds moves its cursor past the batch; one that fails keeps it
and is retried or paused (`bots/lanes.py`). The relay's `consumer_positions` row is its frontier:
the newest event read, where new subscriptions start.

Per channel and ticket there is one root message (re-rendered with `update_ticket` on every change)
and a thread with one short reply per round of changes plus the hub's comments. Within a channel,
posts are paced (`ChannelPacer`).

**Coalescing.** A channel gets new events only once the pacing window of its last post has passed;
everything that happened meanwhile lands in one round, so several changes to a ticket become one
update and one reply.

**Exactly once across restarts and failures.** Before each post that is not idempotent (a root, a
change reply, a comment reply) the relay commits a write-ahead marker; after the platform answers it
records the message id and clears the marker. On the next attempt (a restart, or a retry after an
error such as a dropped connection):

- events at or below a channel's `last_event_id` for the ticket are already shown → skipped;
- a comment already mapped to a message → skipped;
- a marker left behind (no answer recorded) → the sink looks for the message that carries the event
  id in its metadata (`find_posted`); found → recorded, not posted again; absent → posted.

Platform clients never re-send a post by themselves (`bots/slack/clients.py`): the marker and
`find_posted` are the only retry, so a post the platform took but never answered is not doubled.
Only one process relays at a time (`chat_leader.leadership`: a PostgreSQL advisory lock).

**Observing.** An optional `RelayObserver` (the hub's metrics) hears, once per event relayed to some
channel, how long ago it was created (`kind` "relay"); the notifier tells it the same for DMs
(`kind` "dm").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from bots.lanes import ChannelRetry, LaneFailures
from bots.pacing import ChannelPacer
from bots.posting import Group, TicketThreads
from bots.sink import RejectedMessageError, RelaySink
from bots.summaries import SummaryKeeper
from hub.adapters.db.engine import Database
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.context import uow_factory
from hub.domain.events import COMMENT_EVENTS
from hub.services.chat import cursors
from hub.services.chat import leader as chat_leader
from hub.services.chat import relay as chat_relay
from hub.services.chat.cursors import Lane
from hub.services.chat.relay import RelayBatch, RelayEvent, Target

log = logging.getLogger(__name__)
#: Event ids remembered as observed (so an event relayed to several channels counts once).
_OBSERVED_KEPT = 10_000


class RelayObserver(Protocol):
    """Told how far behind the chat consumers run; `hub.observability.consumers.ChatMetrics` is one."""

    def relayed(self, platform: str, kind: str, lag_seconds: float) -> None:
        """An event (`kind` "relay") or notification (`kind` "dm") created `lag_seconds` ago is out."""


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
        retry: ChannelRetry | None = None,
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
        self.threads = TicketThreads(self.uow, sink, self.pacer)
        self.summaries = SummaryKeeper(self.uow, sink, every=summary_every, clock=clock)
        self.failures = LaneFailures(self.uow, sink, retry or ChannelRetry(), self.consumer, clock)
        self.rounds = 0
        self.started_at = clock()
        #: The lanes at work now, by subscription id (a busy lane is not handed new events).
        self._busy: dict[int, asyncio.Task[None]] = {}
        #: When a lane not ready at the last round becomes ready (the loop wakes then).
        self._due: float | None = None
        self._observed: set[int] = set()
        self._summaries: asyncio.Task[None] | None = None

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
        await self._drain(cancel=True)

    def wake(self, *_args: object) -> None:
        """Called on every committed event (a bus listener); cheap, never blocks."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            async with chat_leader.leadership(self.db, self.consumer) as leader:
                try:
                    while leader and not self._stopping:
                        await self._tick()
                finally:
                    await self._drain(cancel=True)  # no lane runs without the leader's lock
            if not self._stopping:  # another process relays; check again later
                await self._sleep(self.poll_interval * 5)

    async def _tick(self) -> None:
        self._wake.clear()
        try:
            handled = await self.dispatch()
        except Exception:
            log.exception("%s round failed; retrying", self.consumer)
            handled = 0
        if not handled:
            due = self.poll_interval if self._due is None else min(self.poll_interval, self._due)
            await self._sleep(max(due, 0.01))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _drain(self, *, cancel: bool = False) -> None:
        """Wait for the lanes at work (`cancel`: stop them; their markers make the next run safe)."""
        tasks = list(self._busy.values())
        if self._summaries is not None:
            tasks.append(self._summaries)
        if cancel:
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- one round ------------------------------------------------------------------------------
    async def run_once(self) -> int:
        """One round, waiting for the lanes it started; returns how many events were read."""
        handled = await self.dispatch()
        await self._drain()
        return handled

    async def dispatch(self) -> int:
        """Hand the next events to every ready lane (each runs as its own task); returns how many
        events were read (0: nothing new for the ready lanes)."""
        now = self._clock()
        frontier = await cursors.frontier(self.uow(), self.consumer, self.started_at, now)
        if frontier is None:  # another transaction holds the row this instant: try again next round
            return 0
        lanes = await cursors.load_lanes(self.uow(), self.sink.platform)
        self._due = None
        ready = [lane for lane in lanes if self._ready(lane, now)]
        handled = 0
        if ready:
            after = min(self._cursor(lane, frontier) for lane in ready)
            batch = await chat_relay.load_batch(
                self.uow(), platform=self.sink.platform, after=after, limit=self.batch
            )
            if batch.events:
                handled = len(batch.events)
                end = batch.events[-1].id
                await self._hand_out(ready, batch, frontier, end)
                if end > frontier:
                    await cursors.move_frontier(self.uow(), self.consumer, end, now)
                self.rounds += 1
        self._flush_summaries()
        return handled

    def _flush_summaries(self) -> None:
        """Board summaries are edited in a task of their own: a summary waiting out a rate limit
        never holds up handing events to the lanes."""
        if self._summaries is None or self._summaries.done():
            self._summaries = asyncio.create_task(self.summaries.flush(), name=f"{self.consumer}-summaries")

    def _ready(self, lane: Lane, now: datetime) -> bool:
        """Not at work, not waiting for a retry, past its channel's pacing window; otherwise note
        when it will be (`_due`), so the loop wakes in time."""
        if lane.subscription_id in self._busy:
            return False
        wait = self.pacer.quiet_for(lane.channel_id)
        if lane.retry_at is not None and lane.retry_at > now:
            wait = max(wait, (lane.retry_at - now).total_seconds())
        if wait > 0:
            self._due = wait if self._due is None else min(self._due, wait)
            return False
        return True

    @staticmethod
    def _cursor(lane: Lane, frontier: int) -> int:
        return lane.position if lane.position is not None else frontier

    async def _hand_out(self, ready: list[Lane], batch: RelayBatch, frontier: int, end: int) -> None:
        targets = {t.subscription_id: t for found in batch.targets.values() for t in found}
        quiet: dict[int, int] = {}
        starting: dict[int, int] = {}
        working: list[tuple[Lane, dict[int, Group], int]] = []
        for lane in ready:
            after = self._cursor(lane, frontier)
            target = targets.get(lane.subscription_id)
            groups = self._plan(target, batch, after) if target is not None else {}
            reached = max(after, end)
            if not groups:
                if lane.position != reached or lane.failures:
                    quiet[lane.subscription_id] = reached
                continue
            if lane.position is None:
                starting[lane.subscription_id] = after
            working.append((lane, groups, reached))
        await cursors.start(self.uow(), starting)
        await cursors.advance(self.uow(), quiet, self._clock())
        for lane, groups, reached in working:
            task = asyncio.create_task(self._lane(lane, groups, batch, reached), name=f"{self.consumer}-lane")
            self._busy[lane.subscription_id] = task

    def _plan(self, target: Target, batch: RelayBatch, after: int) -> dict[int, Group]:
        """The lane's events after its cursor that its filters let through, per ticket in order."""
        groups: dict[int, Group] = {}
        for event in batch.events:
            if event.id <= after:
                continue
            ticket_id, labels = self._ticket_of(event, batch)
            if ticket_id is None or not target.wants(event.type, labels):
                continue
            groups.setdefault(ticket_id, Group(target, ticket_id)).events.append(event)
        if groups and target.summary:
            self.summaries.touch(target)
        return groups

    async def _lane(self, lane: Lane, groups: dict[int, Group], batch: RelayBatch, reached: int) -> None:
        """One channel's work: deliver, then move its cursor or record the failure."""
        try:
            await self._deliver(lane, groups, batch, reached)
        except asyncio.CancelledError:
            raise
        except Exception:  # our own bookkeeping failed (the database): the lane is simply tried again
            log.exception("%s: lane %s/%s failed", self.consumer, lane.team_id, lane.channel_id)
        finally:
            self._busy.pop(lane.subscription_id, None)
            self._wake.set()

    async def _deliver(self, lane: Lane, groups: dict[int, Group], batch: RelayBatch, reached: int) -> None:
        try:
            await self._channel(groups, batch)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self.failures.failed(lane, error)
            return
        await cursors.advance(self.uow(), {lane.subscription_id: reached}, self._clock())
        if self.observer is not None:
            self._observe(groups)

    def _observe(self, groups: dict[int, Group]) -> None:
        """Each event relayed to at least one channel, once; wall-clock lag (not the injected clock)."""
        assert self.observer is not None
        now = utcnow()
        if len(self._observed) > _OBSERVED_KEPT:
            self._observed.clear()
        for group in groups.values():
            for event in group.events:
                if event.id not in self._observed:
                    self._observed.add(event.id)
                    self.observer.relayed(
                        self.sink.platform, "relay", (now - event.created_at).total_seconds()
                    )

    @staticmethod
    def _ticket_of(event: RelayEvent, batch: RelayBatch) -> tuple[int | None, list[str] | None]:
        if event.type in COMMENT_EVENTS:
            ticket_id = int(event.payload["ticket_id"])
            now = batch.tickets_now.get(ticket_id)
            return ticket_id, (now or {}).get("labels")
        ticket = event.payload.get("ticket") or {}
        return ticket.get("id"), ticket.get("labels")

    async def _channel(self, groups: dict[int, Group], batch: RelayBatch) -> None:
        for group in groups.values():
            try:
                await self.threads.group(group, batch)
            except RejectedMessageError as error:  # our rendering, not the channel: skip this one
                log.warning("%s: %s/%s refused a message: %s", self.consumer, group.target.team_id,
                            group.target.channel_id, error)  # fmt: skip
