"""First come, first served for SQLite writers inside one process.

SQLite lets one transaction write at a time; every unit of work takes that lock at BEGIN (see
`engine._configure_sqlite`). Waiting for it is left to SQLite's busy handler, which polls with growing
sleeps (up to 100 ms), so a writer that has waited long can lose to one that just arrived: with 16
concurrent writers some requests waited seconds while the lock was free most of the time. The gate
queues a process's units of work on an `asyncio.Lock` (FIFO) before they reach SQLite, so they take
the database lock in arrival order and without polling. Other processes (the CLI, a separate worker)
still meet the busy handler.

It can never deadlock: a unit of work opened inside another one in the same task passes straight
through (the outer one already holds the gate), and a wait longer than `timeout` gives up the gate and
falls back to SQLite's own waiting, as before.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


class WriteGate:
    def __init__(self, timeout: float = 30.0) -> None:
        self._timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._owner: asyncio.Task[object] | None = None

    async def enter(self) -> bool:
        """Wait for the gate; True if this caller now holds it (and must `leave()`)."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            return False  # nested in the holder's own task
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._owner = asyncio.Lock(), loop, None
        try:
            async with asyncio.timeout(self._timeout):
                await self._lock.acquire()
        except TimeoutError:
            log.warning("waited %.0f s for the SQLite write gate; going ahead without it", self._timeout)
            return False
        self._owner = task
        return True

    def leave(self) -> None:
        self._owner = None
        if self._lock is not None and self._lock.locked():
            self._lock.release()
