"""Rate limiter adapter: sliding-window counters, in-process or shared through Redis.

Pick the backend with :func:`create_limiter`; nothing connects before :meth:`RateLimiter.start`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hub.adapters.ratelimit.base import Hit, Rate, RateLimiter
from hub.adapters.ratelimit.memory import MemoryRateLimiter
from hub.adapters.ratelimit.redis import RedisRateLimiter

__all__ = ["Hit", "MemoryRateLimiter", "Rate", "RateLimiter", "RedisRateLimiter", "create_limiter"]


def create_limiter(url: str | None, *, prefix: str = "sb") -> RateLimiter:
    """``None``, ``""`` or ``memory://`` -> :class:`MemoryRateLimiter` (limits per process);
    ``redis://`` / ``rediss://`` -> :class:`RedisRateLimiter` (limits shared by every instance);
    ``redis+cluster://`` / ``rediss+cluster://`` -> the same over a Redis Cluster.

    :raises ValueError: unsupported URL scheme.
    """
    if not url:
        return MemoryRateLimiter()
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryRateLimiter()
    if scheme in ("redis", "rediss"):
        return RedisRateLimiter(url, prefix=prefix)
    if scheme in ("redis+cluster", "rediss+cluster"):
        return RedisRateLimiter(url, prefix=prefix, cluster=True)
    raise ValueError(
        f"unsupported rate limiter URL scheme {scheme!r}; use memory://, redis://, rediss:// or redis+cluster://"
    )
