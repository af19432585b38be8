"""The per-process fan-out: committed events from the bus (or the outbox) to local sockets, in order.

Every hub process listens on one bus channel, `events`, which carries every committed event with the
notifications it created. Event ids are global; the fan-out keeps one cursor, `last_id`, and delivers
strictly in id order:

- the next id → delivered at once (every id up to it is then handled: no table read needed);
- an id at or below the cursor → a duplicate, dropped;
- an id beyond the next → held briefly (publishes of concurrent requests overtake each other, and on
  PostgreSQL writers commit in parallel, so a lower id may still be in a running transaction); if
  the missing ids do not arrive within `GAP_GRACE` seconds they are read from the events table, but
  only up to the safe horizon (`hub.adapters.db.horizon`): the cursor never passes an id whose
  transaction may still commit. Past the horizon the gap is looked at again every `GAP_GRACE`.

A poll every second (and a catch-up after a bus outage) reads whatever was committed but never
published — a crash between commit and publish, or Redis down — up to the horizon, so nothing is
lost and, thanks to the cursor, nothing is delivered twice. Each event is serialised once for all
sockets. Delivery passes are at least `COALESCE` apart: when events come faster than that, the ones
that arrived meanwhile go out together, one write per socket (at most 5 ms of added latency, none
while events are sparse).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select

from hub.adapters.bus import EventBus
from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import horizon
from hub.adapters.db.models import Event, Notification
from hub.domain.enums import EventType
from hub.realtime import codes, messages
from hub.realtime.asgi import WriteBatch
from hub.realtime.connection import Connection
from hub.realtime.sessions import RecentRevocations, Revocation
from hub.services.views import event_view, notification_view

log = logging.getLogger(__name__)

CHANNEL = "events"
GAP_GRACE = 0.25
POLL_INTERVAL = 1.0
FETCH_BATCH = 500
#: Delivery passes are at least this far apart (seconds): the most a burst waits to share writes.
COALESCE = 0.005


def envelope(event: dict[str, Any], notifications: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"event": event, "notifications": list(notifications)}


def notification_entry(row: Notification) -> dict[str, Any]:
    return {"user_id": row.user_id, "web": row.deliver_web, "data": notification_view(row)}


class Fanout:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        stats: dict[str, int],
        observe_latency: Callable[[float], None] | None = None,
        coalesce: float = COALESCE,
    ) -> None:
        self.db = db
        self.coalesce = coalesce
        self._last_pass = 0.0
        self.observe_latency = observe_latency
        self.bus = bus
        self.stats = stats
        self.last_id = 0
        #: Shared with this fan-out's frame sockets (`socket_for`): one frame per message, and one
        #: write per socket for every event a delivery pass hands out.
        self.batch = WriteBatch()
        self.projects: dict[int, set[Connection]] = {}
        self.users: dict[int, set[Connection]] = {}
        self.presence: dict[int, set[Connection]] = {}
        #: Every registered socket of each user (any kind): what `sockets_of` counts and sessions end.
        self._per_user: dict[int, set[Connection]] = {}
        self.revocations = RecentRevocations()
        self._heap: list[tuple[int, dict[str, Any]]] = []
        self._wake = asyncio.Event()
        self._gap_since: float | None = None
        self._poll_due = False
        self._positioned = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ----------------------------------------------------------------------------------
    @property
    def position(self) -> int | None:
        """The cursor: every event at or below it has been delivered (None until positioned)."""
        return self.last_id if self._positioned else None

    async def _position(self) -> None:
        """Start at the head of the outbox: the safe horizon once it covers every visible event."""
        safe = await horizon(self.db).settle(self.db)
        if safe is not None:
            self.last_id = max(self.last_id, safe.events)
            self._positioned = True

    async def start(self) -> None:
        try:
            await self._position()
        except Exception:
            # Start anyway (so /healthz and /readyz answer); position at the first successful poll.
            log.exception("database unavailable at start; the fan-out will position itself later")
            self._positioned = False
        self.bus.add_listener(CHANNEL, self._on_bus)
        self.bus.on_reconnect(self._on_reconnect)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run()), loop.create_task(self._poll())]

    async def stop(self) -> None:
        self.bus.remove_listener(CHANNEL, self._on_bus)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def close_all(self, code: int, reason: str) -> None:
        for group in (self.projects, self.users, self.presence):
            for conns in group.values():
                for conn in list(conns):
                    conn.close(code, reason)

    # -- registry -----------------------------------------------------------------------------------
    def register(self, conn: Connection) -> None:
        conns = self._index(conn).setdefault(self._key(conn), set())
        if conn not in conns:
            conns.add(conn)
            self._per_user.setdefault(conn.actor.id, set()).add(conn)

    def unregister(self, conn: Connection) -> None:
        index = self._index(conn)
        conns = index.get(self._key(conn))
        if conns is None or conn not in conns:
            return
        conns.discard(conn)
        if not conns:
            del index[self._key(conn)]
        mine = self._per_user[conn.actor.id]
        mine.discard(conn)
        if not mine:
            del self._per_user[conn.actor.id]

    def sockets_of(self, user_id: int) -> int:
        return len(self._per_user.get(user_id, ()))

    def _end_sessions(self, event_id: int, payload: dict[str, Any]) -> None:
        """A `session.revoked` event: close this instance's sockets of the ended session(s) with 4001
        (hub.realtime.sessions), and remember it for sockets still being admitted."""
        revocation = Revocation.of(event_id, payload)
        self.revocations.add(revocation)
        for conn in list(self._per_user.get(revocation.user_id, ())):
            if revocation.ends(conn):
                conn.close(codes.UNAUTHENTICATED, revocation.reason)

    def ended_since(self, conn: Connection, position: int) -> str | None:
        """Why `conn`'s session was ended by an event delivered after `position` (the cursor before
        its token was checked), or None."""
        revocation = self.revocations.ending(conn, position)
        return None if revocation is None else revocation.reason

    def connections(self) -> Iterable[Connection]:
        for group in (self.projects, self.users, self.presence):
            for conns in group.values():
                yield from conns

    def _index(self, conn: Connection) -> dict[int, set[Connection]]:
        return {"tickets": self.projects, "notifications": self.users, "presence": self.presence}[conn.kind]

    @staticmethod
    def _key(conn: Connection) -> int:
        return conn.actor.id if conn.kind == "notifications" else int(conn.project_id or 0)

    # -- intake -------------------------------------------------------------------------------------
    def _on_bus(self, _channel: str, data: bytes) -> None:
        item = orjson.loads(data)
        heapq.heappush(self._heap, (int(item["event"]["id"]), item))
        self._wake.set()

    async def _on_reconnect(self) -> None:
        self._poll_due = True
        self._wake.set()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            self._poll_due = True
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            # Under load, events that arrive within `coalesce` of the last pass wait for the next one
            # together: each socket then gets one write for all of them instead of one per event.
            wait = self._last_pass + self.coalesce - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._wake.clear()
            self._last_pass = time.monotonic()
            try:
                await self._drain()
            except Exception:
                # The database may be briefly unreachable; the next poll tries again.
                log.exception("fan-out catch-up failed")

    def _deliver_ready(self) -> None:
        """Deliver every held event that is next in line, in one batch of socket writes."""
        heap = self._heap
        with self.batch.writes():
            while heap:
                event_id = heap[0][0]
                if event_id <= self.last_id:
                    heapq.heappop(heap)
                elif event_id == self.last_id + 1:
                    self._gap_since = None
                    self._deliver(heapq.heappop(heap)[1])
                else:
                    return

    async def _drain(self) -> None:
        heap = self._heap
        while True:
            self._deliver_ready()
            if not heap:
                break
            event_id = heap[0][0]
            now = time.monotonic()
            if self._gap_since is None:
                self._gap_since = now
            if now - self._gap_since < GAP_GRACE:
                asyncio.get_running_loop().call_later(GAP_GRACE, self._wake.set)
                return
            self.stats["gap_fetches"] = self.stats.get("gap_fetches", 0) + 1
            safe = (await horizon(self.db).advance(self.db, fresh=True)).events
            await self._catch_up(until=min(event_id - 1, safe))
            if self.last_id < event_id - 1:
                # A transaction that may still commit a missing id is running: look again later.
                self.stats["gap_waits"] = self.stats.get("gap_waits", 0) + 1
                self._gap_since = time.monotonic()
                asyncio.get_running_loop().call_later(GAP_GRACE, self._wake.set)
                return
            self._gap_since = None
        if self._poll_due:
            self._poll_due = False
            if not self._positioned:
                await self._position()
                if not self._positioned:
                    return
            safe = (await horizon(self.db).advance(self.db, fresh=True)).events
            if safe > self.last_id:
                self.stats["poll_catch_ups"] = self.stats.get("poll_catch_ups", 0) + 1
                await self._catch_up(until=safe)

    async def _catch_up(self, until: int) -> None:
        """Deliver committed events after the cursor up to `until` (at or below the safe horizon:
        every id there is final) straight from the outbox, and move the cursor to `until`."""
        while self.last_id < until:
            query = (
                select(Event)
                .where(Event.id > self.last_id, Event.id <= until)
                .order_by(Event.id)
                .limit(FETCH_BATCH)
            )
            async with self.db.read_session() as session:
                events = list(await session.scalars(query))
                by_event: dict[int, list[dict[str, Any]]] = {}
                if events:
                    rows = await session.scalars(
                        select(Notification).where(Notification.event_id.in_([e.id for e in events]))
                    )
                    for row in rows:
                        by_event.setdefault(int(row.event_id or 0), []).append(notification_entry(row))
            with self.batch.writes():
                for event in events:
                    self.stats["events_recovered"] = self.stats.get("events_recovered", 0) + 1
                    self._deliver(envelope(event_view(event), by_event.get(event.id, [])))
            if len(events) < FETCH_BATCH:
                self.last_id = max(self.last_id, until)

    # -- delivery -----------------------------------------------------------------------------------
    def _deliver(self, item: dict[str, Any]) -> None:
        event = item["event"]
        event_id = int(event["id"])
        self.last_id = event_id
        self.stats["events_delivered"] = self.stats.get("events_delivered", 0) + 1
        if self.observe_latency is not None and event.get("created_at"):
            committed = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00"))
            self.observe_latency(max(0.0, time.time() - committed.timestamp()))
        if event["type"] == EventType.SESSION_REVOKED:
            self._end_sessions(event_id, event["payload"])
        project_id = event["project_id"]
        conns = self.projects.get(project_id) if project_id is not None else None
        if conns:
            text = messages.for_tickets(event)
            if text is not None:
                for conn in list(conns):
                    conn.push(event_id, text)
                self.stats["messages_sent"] = self.stats.get("messages_sent", 0) + len(conns)
        for entry in item["notifications"]:
            if entry["web"] != "immediate":
                continue
            targets = self.users.get(entry["user_id"])
            if targets:
                text = messages.notification(entry["data"])
                for conn in list(targets):
                    conn.push(event_id, text)
        if event["type"] == EventType.MEMBER_REMOVED:
            self._evict(int(project_id), int(event["payload"]["member"]["user_id"]), event_id)
        elif event["type"] == EventType.MEMBER_ADDED:
            self._welcome(event, int(event["payload"]["member"]["user_id"]), event_id)

    def _evict(self, project_id: int, user_id: int, event_id: int) -> None:
        """A removed member stops receiving the project's events at once (every instance hears the
        event on the bus): their tickets and presence sockets on it close with 4003, and their
        notifications sockets are told `project_removed`."""
        for group in (self.projects, self.presence):
            for conn in list(group.get(project_id, ())):
                if conn.actor.id == user_id:
                    conn.close(codes.FORBIDDEN, "you are no longer a member of this project")
        targets = self.users.get(user_id)
        if targets:
            text = messages.dumps({"type": "project_removed", "event_id": event_id, "project_id": project_id})
            for conn in list(targets):
                conn.push(event_id, text)

    def _welcome(self, event: dict[str, Any], user_id: int, event_id: int) -> None:
        """A new member's notifications sockets are told `project_added` (with the project as they
        see it, when the event carries it)."""
        targets = self.users.get(user_id)
        if targets:
            project = event["payload"].get("project") or {"id": event["project_id"]}
            text = messages.dumps({"type": "project_added", "event_id": event_id, "project": project})
            for conn in list(targets):
                conn.push(event_id, text)
