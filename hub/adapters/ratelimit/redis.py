"""Sliding-window limiter in Redis, so limits hold across every hub instance.

Each key is a sorted set of hit ids scored by Redis's own clock (``TIME``, so instances with skewed
clocks agree); one Lua script prunes, counts and records atomically. Keys expire with their window.
Keys are stored as ``"{prefix}:rl:{key}"``.

**A Redis outage must not become 500s, nor switch the limits off.** On any Redis error (or timeout,
0.5 s) the call is answered by an in-process :class:`MemoryRateLimiter` instead, and Redis is not
asked again for ``retry_interval`` seconds: limits keep holding per instance (an attacker spread over
N instances gets at most N times the budget) while Redis is down. Each failure is counted in
``errors`` (exported as ``switchboard_rate_limit_backend_errors_total``) and logged at most once per
``retry_interval``.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hub.adapters.ratelimit.base import Hit, Rate, RateLimiter
from hub.adapters.ratelimit.memory import MemoryRateLimiter

log = logging.getLogger(__name__)

_HIT = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
"""


class RedisRateLimiter(RateLimiter):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "sb",
        timeout: float = 0.5,
        retry_interval: float = 5.0,
        fallback: MemoryRateLimiter | None = None,
        cluster: bool = False,
    ) -> None:
        self._url = url
        self._cluster = cluster
        self._prefix = f"{prefix}:rl:"
        self._timeout = timeout
        self.retry_interval = retry_interval
        self.fallback = fallback or MemoryRateLimiter()
        self.errors = 0
        self._redis: Redis | RedisCluster | None = None
        self._script: Any = None
        self._down_until = 0.0
        self._logged_at = float("-inf")

    async def start(self) -> None:
        if self._redis is None:
            options: dict[str, Any] = {
                "socket_timeout": self._timeout,
                "socket_connect_timeout": self._timeout,
                "socket_keepalive": True,
                "retry": Retry(NoBackoff(), 1),
            }
            if self._cluster:
                # One key per script call, so any slot will do; a down master only affects its keys.
                scheme, sep, rest = self._url.partition("://")
                url = f"{scheme.lower().removesuffix('+cluster')}{sep}{rest}"
                self._redis = RedisCluster.from_url(url, require_full_coverage=False, **options)
            else:
                self._redis = Redis.from_url(self._url, health_check_interval=30, **options)
            # redis-py types AsyncScript for the standalone client only; on a cluster: KEYS[1]'s node.
            self._script = cast("Redis", self._redis).register_script(_HIT)

    async def stop(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()

    def _usable(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        self.errors += 1
        now = time.monotonic()
        self._down_until = now + self.retry_interval
        if now - self._logged_at >= self.retry_interval:
            self._logged_at = now
            log.warning(
                "rate limiter: Redis unavailable (%s); limiting per instance for the next %.0f s",
                str(error) or type(error).__name__,
                self.retry_interval,
            )

    async def hit(self, key: str, rate: Rate) -> Hit:
        if not self._usable():
            return self.fallback.hit_now(key, rate)
        member = uuid.uuid4().hex
        try:
            allowed, wait_ms = await self._script(
                keys=[self._prefix + key], args=[rate.limit, max(1, int(rate.window * 1000)), member]
            )
        except (RedisError, OSError) as error:
            self._failed(error)
            return self.fallback.hit_now(key, rate)
        if int(allowed):
            return Hit(True, token=f"r{member}")
        return Hit(False, retry_after=max(int(wait_ms), 1) / 1000)

    async def undo(self, key: str, hit: Hit) -> None:
        if hit.token is None:
            return
        if hit.token.startswith("m"):
            self.fallback.undo_now(key, hit)
            return
        if self._redis is None:
            return
        try:
            await self._redis.zrem(self._prefix + key, hit.token[1:])
        except (RedisError, OSError) as error:
            self._failed(error)
