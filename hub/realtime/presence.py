"""Presence sockets: joins, leaves, viewing and typing, shared through the store and the bus.

State lives in the presence store (memory, or Redis shared by all instances); changes travel on the
bus channel `presence:{project}` so every instance — and the chat bots — hear them. A user is online
while any of their sockets is open (tabs count once). Typing expires ~5 s after the last refresh: the
instance that heard it announces the end. Users of a crashed instance are reaped by whoever polls
`expired_users` first and announced as left.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from hub.adapters.bus import BusUnavailable, EventBus
from hub.adapters.presence import PresenceStore, PresenceUnavailable
from hub.realtime import messages
from hub.realtime.connection import Connection

log = logging.getLogger(__name__)

TYPING_TTL = 5.0
TYPING_REFRESH = 2.0  #: repeated "still typing" from one user is forwarded at most this often


def channel(project_id: int) -> str:
    return f"presence:{project_id}"


class PresenceHub:
    def __init__(self, store: PresenceStore, bus: EventBus, sockets: dict[int, set[Connection]]) -> None:
        self.store = store
        self.bus = bus
        self.sockets = sockets  # the fan-out's presence index: project → local presence sockets
        self.typing_ttl = TYPING_TTL
        self._listening: set[int] = set()
        self._typing: dict[tuple[int, int, int], float] = {}  # (project, user, ticket) → expiry
        self._forwarded: dict[tuple[int, int, int], float] = {}

    def _on_bus(self, chan: str, data: bytes) -> None:
        project_id = int(chan.rsplit(":", 1)[1])
        text = data.decode()
        for conn in list(self.sockets.get(project_id, ())):
            conn.send(text)

    async def _publish(self, project_id: int, message: dict[str, object]) -> None:
        try:
            await self.bus.publish(channel(project_id), messages.dumps(message).encode())
        except BusUnavailable:
            log.warning("presence change in project %s not published (bus unavailable)", project_id)

    async def join(self, conn: Connection) -> None:
        project_id = int(conn.project_id or 0)
        if project_id not in self._listening:
            self._listening.add(project_id)
            self.bus.add_listener(channel(project_id), self._on_bus)
            await self.bus.wait_subscribed()
        newly_online = await self.store.join(project_id, conn.conn_id, conn.actor.id, conn.actor.name)
        users = await self.store.snapshot(project_id)
        conn.send(messages.dumps({"type": "presence_state", "users": [asdict(u) for u in users]}))
        if newly_online:
            user = {"user_id": conn.actor.id, "name": conn.actor.name, "viewing": None, "typing": None}
            await self._publish(project_id, {"type": "user_joined", "user": user})

    async def leave(self, conn: Connection) -> None:
        project_id = int(conn.project_id or 0)
        try:
            for key in [k for k in self._typing if k[0] == project_id and k[1] == conn.actor.id]:
                await self._stop_typing(key)
            if await self.store.leave(project_id, conn.conn_id):
                await self._publish(project_id, {"type": "user_left", "user_id": conn.actor.id})
        except PresenceUnavailable:
            log.warning("presence store unavailable while %s left project %s", conn.actor.id, project_id)
        if not self.sockets.get(project_id) and project_id in self._listening:
            self._listening.discard(project_id)
            self.bus.remove_listener(channel(project_id), self._on_bus)

    async def viewing(self, conn: Connection, ticket_id: int | None) -> None:
        project_id = int(conn.project_id or 0)
        await self.store.set_viewing(project_id, conn.conn_id, ticket_id)
        await self._publish(project_id, {"type": "viewing", "user_id": conn.actor.id, "ticket_id": ticket_id})

    async def typing(self, conn: Connection, ticket_id: int, is_typing: bool) -> None:
        project_id = int(conn.project_id or 0)
        key = (project_id, conn.actor.id, ticket_id)
        now = time.monotonic()
        if not is_typing:
            if key in self._typing:
                await self._stop_typing(key)
            return
        self._typing[key] = now + self.typing_ttl
        if now - self._forwarded.get(key, 0.0) < TYPING_REFRESH:
            return  # throttled: the others already show this user typing
        self._forwarded[key] = now
        await self.store.set_typing(project_id, conn.actor.id, ticket_id, True)
        message = {"type": "typing", "user_id": conn.actor.id, "ticket_id": ticket_id, "is_typing": True}
        await self._publish(project_id, message)

    async def _stop_typing(self, key: tuple[int, int, int]) -> None:
        project_id, user_id, ticket_id = key
        self._typing.pop(key, None)
        self._forwarded.pop(key, None)
        await self.store.set_typing(project_id, user_id, ticket_id, False)
        message = {"type": "typing", "user_id": user_id, "ticket_id": ticket_id, "is_typing": False}
        await self._publish(project_id, message)

    async def sweep(self) -> None:
        """Expire typing that was not refreshed."""
        now = time.monotonic()
        for key in [k for k, expiry in self._typing.items() if expiry <= now]:
            await self._stop_typing(key)

    async def reap(self) -> None:
        """Announce users whose only connections were on an instance that died."""
        for project_id in list(self._listening):
            for user_id in await self.store.expired_users(project_id):
                await self._publish(project_id, {"type": "user_left", "user_id": user_id})
