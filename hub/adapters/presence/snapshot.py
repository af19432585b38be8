"""Folding per-connection records into the per-user presence list.

Both backends store connections and typing indicators the same way in spirit; this module holds the
one rule set that turns them into :class:`PresenceUser` rows, so the backends cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.adapters.presence.base import PresenceUser


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """A live connection. ``recency`` orders a user's connections (larger = more recently active);
    ``key`` breaks ties deterministically."""

    user_id: int
    name: str
    viewing: int | None
    recency: float
    key: str


@dataclass(frozen=True, slots=True)
class TypingRecord:
    """A typing indicator that is active until ``expires_at`` (in the store's clock)."""

    user_id: int
    ticket_id: int
    expires_at: float


def build_snapshot(
    connections: Iterable[ConnectionRecord], typing: Iterable[TypingRecord], now: float
) -> list[PresenceUser]:
    """Return one :class:`PresenceUser` per user with a connection, sorted by user id.

    * ``name`` comes from the user's most recent connection;
    * ``viewing`` from the most recent connection that views a ticket (a tab on the board does not hide
      the ticket open in another tab);
    * ``typing`` is the unexpired indicator with the latest expiry; indicators of users without a
      connection are ignored.
    """
    latest: dict[int, ConnectionRecord] = {}
    latest_viewing: dict[int, ConnectionRecord] = {}
    for record in connections:
        rank = (record.recency, record.key)
        current = latest.get(record.user_id)
        if current is None or rank > (current.recency, current.key):
            latest[record.user_id] = record
        if record.viewing is not None:
            current = latest_viewing.get(record.user_id)
            if current is None or rank > (current.recency, current.key):
                latest_viewing[record.user_id] = record

    typing_by_user: dict[int, TypingRecord] = {}
    for indicator in typing:
        if indicator.expires_at <= now:
            continue
        current_typing = typing_by_user.get(indicator.user_id)
        if current_typing is None or indicator.expires_at > current_typing.expires_at:
            typing_by_user[indicator.user_id] = indicator

    users = []
    for user_id in sorted(latest):
        viewing = latest_viewing.get(user_id)
        typing_now = typing_by_user.get(user_id)
        users.append(
            PresenceUser(
                user_id=user_id,
                name=latest[user_id].name,
                viewing=viewing.viewing if viewing is not None else None,
                typing=typing_now.ticket_id if typing_now is not None else None,
            )
        )
    return users
