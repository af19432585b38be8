"""The real-time half of the hub: bus, presence, fan-out and the housekeeping they need."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from hub.adapters.bus import EventBus, create_bus
from hub.adapters.db.engine import Database
from hub.adapters.db.models import Event, Notification
from hub.adapters.presence import PresenceStore, create_presence
from hub.realtime import codes, messages
from hub.realtime.connection import DEFAULT_LIMITS, Connection
from hub.realtime.fanout import Fanout
from hub.realtime.presence import PresenceHub
from hub.realtime.publisher import EventPublisher
from hub.services import retention
from hub.services.views import event_view, notification_view

log = logging.getLogger(__name__)

MAX_REPLAY = 10_000
PING_EVERY = 25.0
PONG_WITHIN = 20.0
MAX_SOCKETS_PER_USER = 32


def instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}".replace(":", "-")


class Realtime:
    def __init__(
        self,
        db: Database,
        redis_url: str | None,
        *,
        prefix: str = "sb",
        observe_latency: Callable[[float], None] | None = None,
    ) -> None:
        self.stats: dict[str, int] = {}
        #: How far a socket may fall behind (hub.app sets it from the settings).
        self.send_limits = DEFAULT_LIMITS
        self.db = db
        self.max_replay = MAX_REPLAY
        self.bus: EventBus = create_bus(redis_url, prefix=prefix)
        self.store: PresenceStore = create_presence(redis_url, instance_id=instance_id(), prefix=prefix)
        self.fanout = Fanout(db, self.bus, self.stats, observe_latency)
        self.presence = PresenceHub(self.store, self.bus, self.fanout.presence)
        self.publisher = EventPublisher(self.bus, self.stats)
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.bus.start()
        await self.store.start()
        await self.fanout.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        self.fanout.close_all(codes.SERVICE_RESTART, "server restarting")
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.fanout.stop()
        await self.store.stop()
        await self.bus.stop()

    async def ping_backend(self) -> None:
        """Readiness: raises while the bus backend (Redis) is unreachable."""
        if not self.bus.healthy:
            raise ConnectionError("event bus is not connected")

    # -- replay -------------------------------------------------------------------------------------
    async def replay_project(self, conn: Connection, after: int) -> None:
        """Send the project's events after `after`, then go live with no gap and no duplicate."""
        conn.replaying = True
        self.fanout.register(conn)
        # The fan-out delivers everything after its cursor to the socket from now on; the replay
        # covers what it delivered before. Ids above the cursor may still be committing out of order.
        until = self.fanout.position
        try:
            query = select(Event).where(Event.project_id == conn.project_id, Event.id > after)
            if until is not None:
                query = query.where(Event.id <= until)
            async with self.db.read_session() as session:
                # Events after `after` moved to the archive by retention cannot be replayed: resync.
                gap = await retention.resume_gap(session, int(conn.project_id or 0), after)
                rows = list(await session.scalars(query.order_by(Event.id).limit(self.max_replay + 1)))
            if gap or len(rows) > self.max_replay:
                conn.send(messages.RESYNC)
                conn.last_event_id = max(rows[-1].id if rows else after, self.fanout.last_id)
                return
            conn.last_event_id = after
            for event in rows:
                text = messages.for_tickets(event_view(event))
                if text is not None:
                    conn.send(text, bounded=False)
                conn.last_event_id = event.id
            self.stats["events_replayed"] = self.stats.get("events_replayed", 0) + len(rows)
        finally:
            conn.finish_replay()

    async def replay_notifications(self, conn: Connection, after: int) -> None:
        conn.replaying = True
        self.fanout.register(conn)
        until = self.fanout.position  # as for `replay_project`
        try:
            query = select(Notification).where(
                Notification.user_id == conn.actor.id,
                Notification.event_id > after,
                Notification.deliver_web == "immediate",
            )
            if until is not None:
                query = query.where(Notification.event_id <= until)
            async with self.db.read_session() as session:
                gap = await retention.notifications_gap(session, after)  # removed by retention: resync
                rows = list(
                    await session.scalars(query.order_by(Notification.event_id).limit(self.max_replay + 1))
                )
            if gap or len(rows) > self.max_replay:
                conn.send(messages.RESYNC)
                conn.last_event_id = self.fanout.last_id
                return
            conn.last_event_id = after
            for row in rows:
                conn.send(messages.notification(notification_view(row)), bounded=False)
                conn.last_event_id = int(row.event_id or after)
        finally:
            conn.finish_replay()

    # -- housekeeping -------------------------------------------------------------------------------
    async def _sweep_forever(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(1.0)
            ticks += 1
            try:
                self.sweep(time.time(), time.monotonic())
                await self.presence.sweep()
                if ticks % 10 == 0:
                    await self.presence.reap()
            except Exception:
                log.exception("real-time housekeeping failed")

    def sweep(self, wall: float, mono: float) -> None:
        """Close sockets whose token expired or whose peer stopped answering; ping quiet ones."""
        for conn in list(self.fanout.connections()):
            if conn.expires_at <= wall:
                conn.close(codes.UNAUTHENTICATED, "token expired")
            elif conn.ping_sent_at is not None:
                if mono - conn.ping_sent_at > PONG_WITHIN:
                    self.stats["ping_timeouts"] = self.stats.get("ping_timeouts", 0) + 1
                    conn.close(codes.PING_TIMEOUT, "no pong")
            elif mono - conn.last_seen > PING_EVERY:
                conn.ping_sent_at = mono
                conn.send(messages.PING)

    def open_sockets(self) -> dict[str, float]:
        counts = {"tickets": 0.0, "notifications": 0.0, "presence": 0.0}
        for conn in self.fanout.connections():
            counts[conn.kind] += 1
        return counts

    def describe(self) -> dict[str, Any]:
        return {
            "sockets": sum(1 for _ in self.fanout.connections()),
            "last_event_id": self.fanout.last_id,
            **self.stats,
        }
