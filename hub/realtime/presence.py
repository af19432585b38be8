"""Presence sockets: joins, leaves, viewing and typing, shared through the store and the bus.

State lives in the presence store (memory, or Redis shared by all instances); changes travel on the
bus channel `presence:{project}` so every instance — and the chat bots — hear them. A user is online
while any of their sockets is open (tabs count once). Typing expires ~5 s after the last refresh: the
instance that heard it announces the end. Users of a crashed instance are reaped by whoever polls
`expired_users` first and announced as left.
"""

from __future__ import annotations

import asyncio
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
#: A user's `viewing` changes are forwarded at most this often; the last one always follows.
VIEWING_REFRESH = TYPING_REFRESH
#: Tickets one user may show as typing in at once per project; a new one ends the oldest.
MAX_TYPING_PER_USER = 3
_UNSENT = object()


class _Viewing:
    """Throttle state of one user's `viewing` in one project."""

    __slots__ = ("latest", "sent", "sent_at", "timer")

    def __init__(self) -> None:
        self.latest: int | None = None
        self.sent: object = _UNSENT
        self.sent_at = float("-inf")
        self.timer: asyncio.Task[None] | None = None


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
        self.viewing_interval = VIEWING_REFRESH
        self._viewing: dict[tuple[int, int], _Viewing] = {}  # (project, user) → throttle state

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
            view = self._viewing.get((project_id, conn.actor.id))
            if view is not None:
                view.sent = _UNSENT  # this socket's viewing is gone: the user's next one is news again
            if await self.store.leave(project_id, conn.conn_id):
                self._forget_viewing((project_id, conn.actor.id))
                await self._publish(project_id, {"type": "user_left", "user_id": conn.actor.id})
        except PresenceUnavailable:
            log.warning("presence store unavailable while %s left project %s", conn.actor.id, project_id)
        if not self.sockets.get(project_id) and project_id in self._listening:
            self._listening.discard(project_id)
            self.bus.remove_listener(channel(project_id), self._on_bus)

    async def viewing(self, conn: Connection, ticket_id: int | None) -> None:
        """Record what the socket views; tell the others at most once per `viewing_interval` per user,
        and always their latest state: changes within the interval are sent together when it ends."""
        project_id = int(conn.project_id or 0)
        await self.store.set_viewing(project_id, conn.conn_id, ticket_id)
        key = (project_id, conn.actor.id)
        view = self._viewing.get(key)
        if view is None:
            view = self._viewing[key] = _Viewing()
        view.latest = ticket_id
        if view.timer is not None:
            return  # a trailing update is due; it carries the latest state
        if view.sent == ticket_id:
            return  # the others already show this
        wait = view.sent_at + self.viewing_interval - time.monotonic()
        if wait <= 0:
            await self._send_viewing(key, view)
        else:
            view.timer = asyncio.get_running_loop().create_task(self._trailing_viewing(key, view, wait))

    async def _trailing_viewing(self, key: tuple[int, int], view: _Viewing, wait: float) -> None:
        await asyncio.sleep(wait)
        view.timer = None
        if self._viewing.get(key) is view and view.sent != view.latest:
            try:
                await self._send_viewing(key, view)
            except Exception:
                log.exception("trailing viewing update failed")

    async def _send_viewing(self, key: tuple[int, int], view: _Viewing) -> None:
        project_id, user_id = key
        view.sent, view.sent_at = view.latest, time.monotonic()
        await self._publish(project_id, {"type": "viewing", "user_id": user_id, "ticket_id": view.latest})

    def _forget_viewing(self, key: tuple[int, int]) -> None:
        view = self._viewing.pop(key, None)
        if view is not None and view.timer is not None:
            view.timer.cancel()

    async def typing(self, conn: Connection, ticket_id: int, is_typing: bool) -> None:
        project_id = int(conn.project_id or 0)
        key = (project_id, conn.actor.id, ticket_id)
        now = time.monotonic()
        if not is_typing:
            if key in self._typing:
                await self._stop_typing(key)
            return
        if key not in self._typing:
            mine = [k for k in self._typing if k[0] == project_id and k[1] == conn.actor.id]
            if len(mine) >= MAX_TYPING_PER_USER:  # bounded per user, whatever ticket ids arrive
                await self._stop_typing(min(mine, key=self._typing.__getitem__))
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
