"""In-process presence for a single hub instance (development, tests, small deployments)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.adapters.presence.base import PresenceStore, PresenceUser
from hub.adapters.presence.snapshot import ConnectionRecord, TypingRecord, build_snapshot


@dataclass(slots=True)
class _Connection:
    user_id: int
    name: str
    viewing: int | None
    recency: int


class MemoryPresence(PresenceStore):
    """Presence kept in dictionaries of this process.

    There are no other instances, so nothing can expire behind its back: :meth:`expired_users` is
    always empty and :meth:`heartbeat` only prunes expired typing indicators to bound memory.

    :param typing_ttl: seconds a typing indicator lives after its last refresh.
    :param clock: time source for typing expiry (injectable so tests need not sleep).
    :param heartbeat_interval: seconds between automatic :meth:`heartbeat` calls.
    """

    def __init__(
        self,
        *,
        typing_ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        heartbeat_interval: float = 10.0,
    ) -> None:
        self._typing_ttl = typing_ttl
        self._clock = clock
        self._heartbeat_interval = heartbeat_interval
        self._connections: dict[int, dict[str, _Connection]] = {}
        self._user_connections: dict[int, dict[int, set[str]]] = {}
        self._typing: dict[int, dict[tuple[int, int], float]] = {}
        # "Most recently active" is decided by a counter, not the clock: exact even when two calls
        # happen within the clock's resolution (or with a frozen test clock).
        self._sequence = itertools.count()
        self._heartbeat_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the periodic typing-indicator pruning."""
        if self._heartbeat_task is None:
            self._heartbeat_task = asyncio.create_task(
                self._heartbeat_forever(self._heartbeat_interval), name="memory-presence-heartbeat"
            )

    async def stop(self) -> None:
        """Stop the pruning task. The data stays (there is nobody to hand it to)."""
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def join(self, project_id: int, conn_id: str, user_id: int, name: str) -> bool:
        """Add the connection; True if the user had no other connection in the project."""
        previous = self._connections.get(project_id, {}).get(conn_id)
        self._remove(project_id, conn_id)
        self._connections.setdefault(project_id, {})[conn_id] = _Connection(
            user_id=user_id, name=name, viewing=None, recency=next(self._sequence)
        )
        user_conns = self._user_connections.setdefault(project_id, {}).setdefault(user_id, set())
        user_conns.add(conn_id)
        rejoined = previous is not None and previous.user_id == user_id
        return len(user_conns) == 1 and not rejoined

    async def leave(self, project_id: int, conn_id: str) -> bool:
        """Remove the connection; True if it was the user's last one in the project."""
        return self._remove(project_id, conn_id)

    async def set_viewing(self, project_id: int, conn_id: str, ticket_id: int | None) -> None:
        """Record the viewed ticket and mark the connection most recently active."""
        connection = self._connections.get(project_id, {}).get(conn_id)
        if connection is not None:
            connection.viewing = ticket_id
            connection.recency = next(self._sequence)

    async def set_typing(self, project_id: int, user_id: int, ticket_id: int, is_typing: bool) -> None:
        """Refresh (``typing_ttl`` from now) or clear the indicator."""
        indicators = self._typing.setdefault(project_id, {})
        if is_typing:
            indicators[(user_id, ticket_id)] = self._clock() + self._typing_ttl
        else:
            indicators.pop((user_id, ticket_id), None)
            if not indicators:
                del self._typing[project_id]

    async def snapshot(self, project_id: int) -> list[PresenceUser]:
        """The project's online users; see :func:`build_snapshot` for the rules."""
        connections = [
            ConnectionRecord(c.user_id, c.name, c.viewing, c.recency, conn_id)
            for conn_id, c in self._connections.get(project_id, {}).items()
        ]
        typing = [
            TypingRecord(user_id, ticket_id, expires_at)
            for (user_id, ticket_id), expires_at in self._typing.get(project_id, {}).items()
        ]
        return build_snapshot(connections, typing, self._clock())

    async def heartbeat(self) -> None:
        """Drop expired typing indicators."""
        now = self._clock()
        for project_id in list(self._typing):
            indicators = self._typing[project_id]
            for key in [k for k, expires_at in indicators.items() if expires_at <= now]:
                del indicators[key]
            if not indicators:
                del self._typing[project_id]

    async def expired_users(self, project_id: int) -> list[int]:
        """Always empty: a single process has no other instance that could die."""
        return []

    def _remove(self, project_id: int, conn_id: str) -> bool:
        """Forget a connection; True if its user has no connection left in the project."""
        project_conns = self._connections.get(project_id)
        connection = project_conns.pop(conn_id, None) if project_conns is not None else None
        if connection is None:
            return False
        if not project_conns:
            del self._connections[project_id]
        users = self._user_connections[project_id]
        user_conns = users[connection.user_id]
        user_conns.discard(conn_id)
        if user_conns:
            return False
        del users[connection.user_id]
        if not users:
            del self._user_connections[project_id]
        return True
