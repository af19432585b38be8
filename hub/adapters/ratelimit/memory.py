"""In-process sliding-window limiter: the default, and the Redis limiter's fallback.

Each key keeps the times of its recorded hits (at most ``rate.limit`` of them). Keys live in an LRU
order; every hit drops a few idle keys from the cold end, and past ``max_keys`` the coldest key goes
regardless, so a flood of distinct keys (random emails, spoofed addresses) cannot grow memory.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from hub.adapters.ratelimit.base import Hit, Rate, RateLimiter

MAX_KEYS = 100_000
#: Idle keys examined (and dropped when expired) from the cold end on every hit.
SWEEP_PER_HIT = 2


class _Window:
    __slots__ = ("hits", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self.hits: deque[tuple[float, str]] = deque()

    def prune(self, now: float) -> None:
        while self.hits and self.hits[0][0] <= now - self.window:
            self.hits.popleft()


class MemoryRateLimiter(RateLimiter):
    """Limits within one process. ``clock`` is monotonic seconds (tests may pass their own)."""

    def __init__(self, *, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._keys: OrderedDict[str, _Window] = OrderedDict()
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._keys)

    async def hit(self, key: str, rate: Rate) -> Hit:
        return self.hit_now(key, rate)

    def hit_now(self, key: str, rate: Rate) -> Hit:
        """:meth:`hit` without awaiting (the Redis limiter falls back to it)."""
        now = self._clock()
        self._sweep(now)
        entry = self._keys.get(key)
        if entry is None:
            entry = self._keys[key] = _Window(rate.window)
            if len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
            entry.window = rate.window
            entry.prune(now)
        if len(entry.hits) >= rate.limit:
            return Hit(False, retry_after=max(entry.hits[0][0] + rate.window - now, 0.001))
        token = f"m{next(self._ids)}"
        entry.hits.append((now, token))
        return Hit(True, token=token)

    async def undo(self, key: str, hit: Hit) -> None:
        self.undo_now(key, hit)

    def undo_now(self, key: str, hit: Hit) -> None:
        entry = self._keys.get(key)
        if entry is None or hit.token is None:
            return
        for item in entry.hits:
            if item[1] == hit.token:
                entry.hits.remove(item)
                return

    def _sweep(self, now: float) -> None:
        for _ in range(SWEEP_PER_HIT):
            if not self._keys:
                return
            key, entry = next(iter(self._keys.items()))
            entry.prune(now)
            if entry.hits:
                return
            del self._keys[key]
