"""The rate limiter contract shared by every backend.

A limit is a :class:`Rate`: at most ``limit`` hits of one key (``login:acct:alice@example.com``,
``register:addr:203.0.113.9``) in any ``window`` seconds -- a sliding window, so there is no boundary
at which a client gets twice its budget. :meth:`RateLimiter.hit` records a hit only when it is allowed
(refused attempts do not extend the wait), and :meth:`RateLimiter.undo` takes a recorded hit back: a
login counts as a failure while its password is being checked and is refunded when it succeeds, so
concurrent guesses cannot all slip past a check-then-record race.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` hits in any ``window`` seconds."""

    limit: int
    window: float


@dataclass(frozen=True)
class Hit:
    """The answer to one :meth:`RateLimiter.hit`.

    ``retry_after`` is the number of seconds until a hit would be allowed again (0 when allowed);
    ``token`` names the recorded hit for :meth:`RateLimiter.undo` (None when nothing was recorded).
    """

    allowed: bool
    retry_after: float = 0.0
    token: str | None = None


class RateLimiter(ABC):
    """Sliding-window counters by key. Every backend keeps its memory bounded: a key's entries expire
    after its window, and idle keys are dropped."""

    async def start(self) -> None:
        """Connect (a no-op for in-process backends). Never fails: an unreachable backend is handled
        per call (see the backend's docstring)."""
        return None

    async def stop(self) -> None:
        """Release connections. Safe to call twice."""
        return None

    @abstractmethod
    async def hit(self, key: str, rate: Rate) -> Hit:
        """Record one hit of ``key`` if fewer than ``rate.limit`` were recorded in the last
        ``rate.window`` seconds; otherwise record nothing and say how long to wait."""

    @abstractmethod
    async def undo(self, key: str, hit: Hit) -> None:
        """Take back a hit recorded by :meth:`hit` (a no-op for a refused hit or one already gone)."""
