"""Ending sessions on open sockets: which sockets a `session.revoked` event closes, on every instance.

Logout, refresh-token reuse, a password change and deactivation commit a `session.revoked` outbox
event (project_id NULL, see `hub.services.accounts.auth`). Every hub process's fan-out sees every committed
event in order (live from the bus, or from its outbox poll when Redis is down) and closes the local
sockets it names with 4001 (`Fanout._end_sessions`). Its payload:

- `user_id`, and `session_id`: one session ended; its sockets close;
- or `session_id` null: every session of the user ended but `except_session_id` (the one that changed
  the password); sockets of other sessions close, and those opened with a session-less token issued
  up to `issued_before` (unix seconds; null: whatever their age).

A socket admitted while such an event was in flight (its database check ran before the commit, and
it registered after the fan-out delivered the event) is caught by `RecentRevocations`: the socket
notes the fan-out's position before its check, and once registered asks whether a later revocation
names it.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from hub.realtime.connection import Connection

#: How long delivered revocations are remembered for sockets still being admitted (seconds).
KEEP = 60.0

_REASONS = {
    "signed_out": "signed out",
    "signed_out_everywhere": "signed out everywhere",
    "refresh_token_reused": "session revoked: its refresh token was reused",
    "password_changed": "session ended: the password was changed",
    "account_deactivated": "account deactivated",
}


@dataclass(frozen=True, slots=True)
class Revocation:
    event_id: int
    user_id: int
    session_id: str | None
    except_session_id: str | None
    issued_before: int | None
    reason: str

    @classmethod
    def of(cls, event_id: int, payload: dict[str, Any]) -> Revocation:
        issued_before = payload.get("issued_before")
        return cls(
            event_id=event_id,
            user_id=int(payload["user_id"]),
            session_id=payload.get("session_id"),
            except_session_id=payload.get("except_session_id"),
            issued_before=None if issued_before is None else int(issued_before),
            reason=_REASONS.get(str(payload.get("reason")), "session ended"),
        )

    def ends(self, conn: Connection) -> bool:
        """Whether this revocation ends the session `conn` was authenticated with."""
        if conn.actor.id != self.user_id:
            return False
        if self.session_id is not None:
            return conn.session_id == self.session_id
        if conn.session_id is not None:
            return conn.session_id != self.except_session_id
        return self.issued_before is None or conn.issued_at <= self.issued_before


class RecentRevocations:
    """The revocations a fan-out delivered in the last `KEEP` seconds, oldest first."""

    def __init__(self, keep: float = KEEP) -> None:
        self.keep = keep
        self._items: deque[tuple[float, Revocation]] = deque()

    def add(self, revocation: Revocation) -> None:
        now = time.monotonic()
        self._items.append((now, revocation))
        while self._items and now - self._items[0][0] > self.keep:
            self._items.popleft()

    def ending(self, conn: Connection, after: int) -> Revocation | None:
        """A revocation of an event after `after` that ends `conn`'s session, or None."""
        for _, revocation in reversed(self._items):
            if revocation.event_id <= after:
                break
            if revocation.ends(conn):
                return revocation
        return None
