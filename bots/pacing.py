"""Pacing posts per chat channel: Slack allows about one message per second per channel.

`ChannelPacer.slot(channel)` returns when the channel may take another message; callers for the same
channel queue behind each other, other channels are not held up. Edits (`chat.update`) are not paced
per channel: Slack limits those per workspace; a 429 there makes that channel's lane wait
(`bots/lanes.py`). `quiet_for(channel)` tells the relay when a channel's window has passed: it hands
a channel new events only then, so whatever happened meanwhile is coalesced into one round.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class ChannelPacer:
    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.last_post = float("-inf")

    async def slot(self, channel: str) -> None:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self._next.get(channel, 0.0) - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            now = self._clock()
            self._next[channel] = now + self.interval
            self.last_post = now

    def quiet_for(self, channel: str | None = None) -> float:
        """Seconds until the pacing window of the channel's (None: any channel's) most recent post has
        passed (0 if it has)."""
        if channel is None:
            return max(0.0, self.last_post + self.interval - self._clock())
        return max(0.0, self._next.get(channel, float("-inf")) - self._clock())
