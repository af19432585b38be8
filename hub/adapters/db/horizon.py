"""How far a reader of the outbox may go: the safe horizon, below which no event can still appear.

Event (and notification) ids come from sequences, drawn when a row is inserted, not when its
transaction commits. Writers commit in parallel on PostgreSQL, so T1 may draw id 10, T2 draw 11 and
commit first: a reader paging `id > position` would see 11, move its position to 11 and never see 10.
Readers therefore never pass the *horizon* `H`: every id at or below `H` is final (its transaction
has committed or rolled back), so the rows at or below it that a reader sees are all that will ever
be there. Readers return the rows in `(position, H]` in id order and may move their position to `H`.

**The rule (PostgreSQL).** A writer takes its transaction id, then the outbox lock (an advisory
lock, *shared* among writers so they never wait for each other), and only then draws event ids: the
events' insert builds its rows from a CTE reading `pg_current_xact_id()` and one taking the lock
(`outbox.py`; the one-statement ticket create takes both after inserting the ticket; the
notifications of a unit of work are inserted after its events). It holds the lock to its end. An
*observation* is one autocommit statement that reads, from its snapshot S, `top` = the largest
visible id, then takes a transaction id of its own, `bound` (`pg_current_xact_id()`, assigned while
the statement runs, so after S was taken), and reads the lock table: `oldest` = the smallest
transaction id of a writer holding the outbox lock in this database (from the same read: a
transaction holds a lock on its own id), ignoring writers newer than `bound`. The horizon is the
largest `top_i` of an observation i whose `bound_i` is at or below `min(bound_k, oldest_k)` of the
same or a later observation k.

*Why.* Take any id d <= top_i, drawn by a transaction T. The sequence hands out increasing values,
so d was drawn no later than top_i, which committed before S_i was taken; T had its transaction id
before drawing d, so `xid(T) < bound_i`, and it held the outbox lock from before drawing d to its
end. Observation k runs after `bound_i` was assigned (k = i: after S_i). Had T still been running
when k read the lock table, k would have seen it holding the lock with `xid(T) < bound_i <=
bound_k` (so not left out as newer), making `oldest_k <= xid(T) < bound_i`. So T had committed or
rolled back before that read, and every statement that starts after observation k sees T's rows if
it committed: every id <= top_i is final.

Two shortcuts are wrong. Returning rows with `xid < pg_snapshot_xmin(snapshot)` in id order: T2 can
take its xid before T1 yet draw the larger id, so T2's row passes while T1's lower id is still open
(tests/integration/db/test_outbox_order.py pins this). And a snapshot's xmax is no bound: PostgreSQL
sets it from the latest *completed* transaction, so a running one may lie above it, unlisted. A
snapshot's xmin *with* the observation's own `bound` would be sound (an earlier version of this
module used it), but xmin counts every transaction of the server, so any open transaction anywhere
(a report, another database) would hold every reader back; the lock table names only the writers.

Sequences must hand out values in time order across sessions: `CACHE 1`, the default (migration
0001). A writer that stays open holds the horizon back: readers then wait (they never skip); the
live fan-out still delivers contiguous ids from the bus at once (docs/architecture.md).

`OUTBOX_ORDERING=lock` (the previous path, kept as a fallback and as the write benchmark's "before")
only changes the writers: they take the same lock *exclusively* from the events' insert to commit,
so ids commit in order. They too take their transaction id first, so readers keep the same rule
whatever the setting, and processes with different settings can run side by side (a rolling change of the
setting skips nothing). On SQLite (one writer at a time) the horizon is the largest visible id.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import text

from hub.adapters.db.engine import Database
from hub.adapters.db.outbox import OUTBOX_LOCK

Ordering = Literal["snapshot", "lock"]
ORDERINGS: tuple[str, ...] = get_args(Ordering)

#: Observations kept waiting for a later xmin to pass their bound (older ones are dropped first:
#: dropping only delays the horizon, never lets it pass an id that is not final).
MAX_PENDING = 256
#: `oldest` when no writer holds the outbox lock.
NOBODY = 2**62

#: The oldest transaction that holds the outbox lock (taken, shared, by every writer before it draws
#: event ids, see `outbox.py`) in this database, as a full (xid8) id. Its transaction id comes from
#: the same read of the lock table (a transaction holds the lock on its own id), 32 bits placed
#: relative to `bound`; ids newer than `bound` are left out (such a writer draws above every id
#: visible to the observation). The snapshot's xmin would do too, but it counts every transaction of
#: the server, so any open transaction anywhere (a report, another database) would hold readers back.
_OLDEST_WRITER = f"""
    WITH locks AS MATERIALIZED (
        SELECT locktype, database, classid, objid, objsubid, transactionid, virtualtransaction, granted
        FROM pg_locks
    )
    SELECT min(me.bound - d.age) FROM (
        SELECT (((me.bound % 4294967296) - CAST(CAST(x.transactionid AS text) AS bigint)) % 4294967296
                + 4294967296) % 4294967296 AS age
        FROM locks AS l JOIN locks AS x ON x.virtualtransaction = l.virtualtransaction
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {OUTBOX_LOCK >> 32}
          AND l.objid = {OUTBOX_LOCK & 0xFFFFFFFF} AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND x.locktype = 'transactionid' AND x.granted
    ) AS d
    WHERE d.age > 0 AND d.age < 2147483648
"""
_OBSERVE = text(
    f"""
    WITH me AS MATERIALIZED (
        SELECT (SELECT coalesce(max(id), 0) FROM events) AS events,
               (SELECT coalesce(max(id), 0) FROM notifications) AS notifications,
               CAST(CAST(pg_current_xact_id() AS text) AS bigint) AS bound
    )
    SELECT me.events, me.notifications, me.bound, ({_OLDEST_WRITER}) AS oldest
    FROM me
    """
)
_TOPS = text(
    """
    SELECT (SELECT coalesce(max(id), 0) FROM events) AS events,
           (SELECT coalesce(max(id), 0) FROM notifications) AS notifications
    """
)


@dataclass(frozen=True)
class Safe:
    """Ids at or below these are final: readers may return rows up to them and move past them."""

    events: int = 0
    notifications: int = 0

    def __or__(self, other: Safe) -> Safe:
        return Safe(max(self.events, other.events), max(self.notifications, other.notifications))

    def covers(self, other: Safe) -> bool:
        return self.events >= other.events and self.notifications >= other.notifications


class Horizon:
    """The safe horizon of one database, advanced by observations (see the module docstring)."""

    def __init__(self, ordering: Ordering) -> None:
        self.ordering: Ordering = ordering
        self.safe = Safe()
        #: (bound, tops) of observations whose bound no xmin has passed yet, oldest first.
        self._pending: list[tuple[int, Safe]] = []

    async def advance(self, db: Database, *, fresh: bool = False) -> Safe:
        """Observe once and return the horizon. With `fresh`, observe a second time when the first
        saw rows beyond the horizon (under light load that second look usually covers them)."""
        if db.is_sqlite:
            row = await db.read_first(_TOPS)
            tops = Safe() if row is None else Safe(int(row.events), int(row.notifications))
            self.safe = self.safe | tops
            return self.safe
        tops = await self._observe(db)
        if fresh and not self.safe.covers(tops):
            await self._observe(db)
        return self.safe

    async def settle(self, db: Database, *, attempts: int = 40, pause: float = 0.05) -> Safe | None:
        """The horizon once it covers every row visible now (for a reader positioning itself at the
        head of the table), or None if a transaction held it back through `attempts` looks."""
        if db.is_sqlite:
            return await self.advance(db)
        tops = await self._observe(db)
        for _ in range(attempts):
            if self.safe.covers(tops):
                return self.safe
            await asyncio.sleep(pause)
            await self._observe(db)
        return self.safe if self.safe.covers(tops) else None

    async def _observe(self, db: Database) -> Safe:
        row = await db.read_first(_OBSERVE)
        if row is None:  # pragma: no cover - a SELECT without FROM returns one row
            return Safe()
        tops = Safe(int(row.events), int(row.notifications))
        self._pending.append((int(row.bound), tops))
        self._pending.sort(key=lambda item: item[0])
        # Writers newer than this observation's own id were left out: it passes only older bounds.
        oldest = min(int(row.bound), NOBODY if row.oldest is None else int(row.oldest))
        passed = 0
        for bound, seen in self._pending:
            if bound > oldest:
                break
            self.safe = self.safe | seen
            passed += 1
        del self._pending[:passed]
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING]
        return tops


_HORIZONS: weakref.WeakKeyDictionary[Database, Horizon] = weakref.WeakKeyDictionary()


def set_ordering(db: Database, ordering: Ordering) -> None:
    """How `db`'s writers order their events (the `OUTBOX_ORDERING` setting); snapshot by default.
    Readers follow the same rule either way."""
    _HORIZONS[db] = Horizon(ordering)


def horizon(db: Database) -> Horizon:
    """The one horizon of `db` in this process, shared by all its readers."""
    found = _HORIZONS.get(db)
    if found is None:
        found = _HORIZONS[db] = Horizon("snapshot")
    return found


def ordering(db: Database) -> Ordering:
    return "lock" if db.is_sqlite else horizon(db).ordering


async def safe_horizon(db: Database, *, fresh: bool = True) -> Safe:
    """Observe and return `db`'s safe horizon (see the module docstring)."""
    return await horizon(db).advance(db, fresh=fresh)
