"""Password hashing (argon2) with a bounded number of hashes at once.

An argon2 hash costs tens of milliseconds of CPU and 64 MiB of memory by design. Hashes run on a
dedicated pool of `PASSWORD_HASH_CONCURRENCY` threads (default: one per core), never on asyncio's
default executor, which DNS lookups and other `to_thread` work share. At most
`PASSWORD_HASH_QUEUE` more may wait for a thread; a hash asked for beyond that is refused at once
with `RateLimited` (429, `Retry-After: 1`) instead of queueing without bound, so a flood of sign-ins
costs the flooder, not every other request. Authenticated requests never hash.

The gate counts work until its thread finishes (or it is cancelled before starting), so clients that
disconnect mid-request cannot pile up hidden work behind it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from hub.domain.errors import RateLimited

T = TypeVar("T")
DEFAULT_QUEUE = 16


class HashGate:
    """Runs blocking hash functions on a bounded thread pool with a bounded wait line."""

    def __init__(self, concurrency: int | None = None, queue: int = DEFAULT_QUEUE) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self.in_flight = 0
        self.refused = 0
        self.configure(concurrency, queue)

    def configure(self, concurrency: int | None, queue: int) -> None:
        """(Re)size the pool; `concurrency` None means one thread per CPU core."""
        self.concurrency = concurrency or os.cpu_count() or 1
        self.queue = queue
        old, self._executor = self._executor, None
        if old is not None:
            old.shutdown(wait=False)

    @property
    def capacity(self) -> int:
        return self.concurrency + self.queue

    def _pool(self) -> ThreadPoolExecutor:
        # Built on first use: no threads exist until something is hashed.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="argon2")
        return self._executor

    def _release(self, _future: Future[T]) -> None:
        with self._lock:
            self.in_flight -= 1

    async def run(self, function: Callable[..., T], *args: object) -> T:
        with self._lock:
            if self.in_flight >= self.capacity:
                self.refused += 1
                raise RateLimited("too many sign-ins are being checked right now; try again", retry_after=1)
            self.in_flight += 1
            pool = self._pool()
        try:
            future = pool.submit(function, *args)
        except BaseException:
            with self._lock:
                self.in_flight -= 1
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)


#: The process's gate; `hub.app.create_app` sizes it from the settings.
gate = HashGate()


def configure(concurrency: int | None, queue: int) -> None:
    gate.configure(concurrency, queue)
