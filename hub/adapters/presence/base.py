"""The presence store contract: who is online in a project, what they view, what they type in.

Presence is derived from *connections* (one per open browser tab), not from users: a user is online in
a project while at least one of their connections is joined to it, so several tabs count once and the
user only leaves when the last tab closes. The store answers the questions the hub must broadcast
about -- "did this join make the user newly online?", "did this leave make them offline?" -- atomically,
so that two tabs closing at the same moment on two hub instances still produce exactly one
``user_left``.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class PresenceUnavailable(Exception):
    """The presence backend cannot be reached (or the store is not started)."""


@dataclass(frozen=True, slots=True)
class PresenceUser:
    """One online user of a project, as shown in the presence list.

    :ivar viewing: ticket shown in the user's most recently active tab that shows a ticket, or None.
    :ivar typing: ticket the user is typing a comment in (refreshed within the typing TTL), or None.
    """

    user_id: int
    name: str
    viewing: int | None
    typing: int | None


class PresenceStore(ABC):
    """Per-project presence, shared by every hub instance using the same backend.

    Connection ids (``conn_id``) are chosen by the caller and must be unique within the hub instance.
    Methods that name a connection this instance does not know are no-ops (``leave`` returns False),
    because the socket layer may race a ``set_viewing`` against the socket closing.
    """

    @abstractmethod
    async def start(self) -> None:
        """Connect and start the periodic :meth:`heartbeat` (every ~10 s, or as configured)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop heart-beating and release connections. Idempotent."""

    @abstractmethod
    async def join(self, project_id: int, conn_id: str, user_id: int, name: str) -> bool:
        """Add a connection of ``user_id`` to the project.

        Joining again with an existing ``conn_id`` replaces that connection.

        :returns: True if the user was not online in the project before (broadcast ``user_joined``).
        """

    @abstractmethod
    async def leave(self, project_id: int, conn_id: str) -> bool:
        """Remove a connection.

        :returns: True if it was the user's last connection in the project (broadcast ``user_left``);
            False if the user is still online elsewhere or the connection is unknown.
        """

    @abstractmethod
    async def set_viewing(self, project_id: int, conn_id: str, ticket_id: int | None) -> None:
        """Record which ticket the connection shows (None: a list or board). Marks the connection as the
        user's most recently active one."""

    @abstractmethod
    async def set_typing(self, project_id: int, user_id: int, ticket_id: int, is_typing: bool) -> None:
        """Start (or refresh) or stop the user's typing indicator on ``ticket_id``.

        A started indicator expires ``typing_ttl`` (~5 s) after the last refresh, so a client that
        vanishes mid-sentence does not leave "typing..." behind forever.
        """

    @abstractmethod
    async def snapshot(self, project_id: int) -> list[PresenceUser]:
        """One entry per online user, sorted by user id. Read-only: never reaps (see
        :meth:`expired_users`), it just ignores connections of dead instances."""

    @abstractmethod
    async def heartbeat(self) -> None:
        """Prove this instance is alive and do periodic housekeeping. Run by the store itself between
        :meth:`start` and :meth:`stop`; public so it can be driven manually (tests, shutdown hooks)."""

    @abstractmethod
    async def expired_users(self, project_id: int) -> list[int]:
        """Reap connections of dead hub instances in the project; return the users now offline.

        A hub instance that crashes cannot announce ``user_left`` for its sockets. Every instance
        should therefore call this periodically (e.g. after each heartbeat) for the projects it has
        sockets in, and broadcast ``user_left`` for each returned user id on the project's channel.
        Reaping is atomic: each departed user is returned by exactly one call across all instances, so
        the announcement is not duplicated. Users who still have a live connection are not returned.
        """

    async def _heartbeat_forever(self, interval: float) -> None:
        """Call :meth:`heartbeat` every ``interval`` seconds until cancelled, surviving failures."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.heartbeat()
            except PresenceUnavailable as exc:
                logger.warning("presence heartbeat failed: %s", exc)
            except Exception:
                logger.exception("presence heartbeat failed unexpectedly")
