"""How far a reader of the outbox may go: the safe horizon, below which no event can still appear.

Event (and notification) ids come from sequences, drawn when a row is inserted, not when its
transaction commits. Writers commit in parallel on PostgreSQL, so T1 may draw id 10, T2 draw 11 and
commit first: a reader paging `id > position` would see 11, move its position to 11 and never see 10.
Readers therefore never pass the *horizon* `H`: every id at or below `H` is final (its transaction
has committed or rolled back), so the rows at or below it that a reader sees are all that will ever
be there. Readers return the rows in `(position, H]` in id order and may move their position to `H`.

**The rule (PostgreSQL).** A writer takes the outbox lock (an advisory lock, *shared* among writers
so they never wait for each other) before it draws event ids: the events' insert builds its rows
from a CTE taking the lock (`outbox.py`; the one-statement ticket create takes it after inserting the
ticket; the notifications of a unit of work are inserted after its events). It holds the lock to its
end (a transaction-level lock, released after its commit became visible). An *observation* is one
autocommitted, read-only statement: from its snapshot S it reads `top` = the largest visible id,
then, executing after S was taken, reads the lock table: `W` = the writers holding the outbox lock in
this database (by virtual transaction id). Observation i's `top_i` becomes final once none of `W_i`
holds the lock in the lock table as read by observation i itself (W_i empty) or by a later one; the
horizon is the largest such `top_i`.

*Why.* Take any id d <= top_i, drawn by a transaction T. The sequence hands out increasing values,
so d was drawn no later than top_i, which committed before S_i was taken; T took the lock before
drawing d, so before S_i, and held it to its end. If T had ended before the lock table was read by
observation i, its rows are visible to every later statement. Otherwise T held the lock at that read,
so T is in W_i; a later observation k that finds no member of W_i holding the lock read the table
after T released it, which T does only after its commit is visible (virtual transaction ids are not
reused while T runs, nor soon after; a reused one would only make the horizon wait longer). Either
way every statement that starts after that read sees T's rows if T committed: every id <= top_i is
final. A writer that takes the lock after S_i draws ids above top_i and never holds observation i
back.

The observation assigns no transaction id (an earlier version took one, `pg_current_xact_id()`, as
an upper bound for the writers to wait for: that cost a commit record and a transaction id per poll
per reader; bench/README.md). The writers still record their transaction id in `events.xid`; readers
no longer need it.

Two shortcuts are wrong. Returning rows with `xid < pg_snapshot_xmin(snapshot)` in id order: T2 can
take its xid before T1 yet draw the larger id, so T2's row passes while T1's lower id is still open
(tests/integration/db/test_outbox_order.py pins this). And a snapshot's xmax is no bound: PostgreSQL
sets it from the latest *completed* transaction, so a running one may lie above it, unlisted. The
snapshot's xmin counts every transaction of the server, so any open transaction anywhere (a report,
another database) would hold every reader back; the lock table names only the writers.

Sequences must hand out values in time order across sessions: `CACHE 1`, the default (migration
0001). A writer that stays open holds the horizon back: readers then wait (they never skip); the
live fan-out still delivers contiguous ids from the bus at once (docs/architecture.md).

`OUTBOX_ORDERING=lock` (the previous path, kept as a fallback and as the write benchmark's "before")
only changes the writers: they take the same lock *exclusively* from the events' insert to commit,
so ids commit in order. They too hold it from before drawing to their end, so readers keep the same rule
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
from hub.adapters.db.outbox import outbox_lock_key

Ordering = Literal["snapshot", "lock"]
ORDERINGS: tuple[str, ...] = get_args(Ordering)

#: Observations kept waiting for their writers to end (older ones are dropped first: dropping only
#: delays the horizon, never lets it pass an id that is not final).
MAX_PENDING = 256

#: The writers holding the outbox lock (taken, shared, by every writer before it draws event ids, see
#: `outbox.py`) in this database, by virtual transaction id: unique while the transaction runs and
#: not reused soon after (PostgreSQL keeps each backend slot's local counter across backends), and it
#: needs no join. A lock being waited for is left out: its transaction has drawn nothing yet. The key
#: (`:classid`, `:objid`: its high and low 32 bits) is this database's and schema's (`outbox_lock_key`).
_WRITERS = """
    ARRAY(
        SELECT l.virtualtransaction FROM pg_locks AS l
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = CAST(:classid AS oid)
          AND l.objid = CAST(:objid AS oid) AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    )
"""
#: One autocommitted, read-only statement: its snapshot's largest ids, then (executed after the
#: snapshot was taken) the writers holding the outbox lock. It assigns no transaction id, so it
#: writes no commit record and waits for no WAL flush.
_OBSERVE = text(
    f"""
    SELECT (SELECT coalesce(max(id), 0) FROM events) AS events,
           (SELECT coalesce(max(id), 0) FROM notifications) AS notifications,
           {_WRITERS} AS writers
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
        #: (writers, tops) of observations some of whose writers may still run, oldest first.
        self._pending: list[tuple[frozenset[str], Safe]] = []

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
        key = outbox_lock_key(db.schema)
        row = await db.read_first(_OBSERVE, {"classid": key >> 32, "objid": key & 0xFFFFFFFF})
        if row is None:  # pragma: no cover - a SELECT without FROM returns one row
            return Safe()
        tops = Safe(int(row.events), int(row.notifications))
        self.passed(frozenset(row.writers or ()), tops)
        return tops

    def passed(self, writers: frozenset[str], tops: Safe) -> Safe:
        """Take one observation: `tops` seen from its snapshot, `writers` holding the outbox lock
        after it. An observation's tops are final once none of its writers holds the lock any more
        (this one's, or a later one's, read of the lock table). Returns the horizon."""
        self._pending.append((writers, tops))
        kept: list[tuple[frozenset[str], Safe]] = []
        for waiting, seen in self._pending:
            if waiting.isdisjoint(writers):
                self.safe = self.safe | seen
            elif not self.safe.covers(seen):
                kept.append((waiting, seen))
        self._pending = kept[-MAX_PENDING:]
        return self.safe


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
