"""Metrics of the flood defences, read when Prometheus scrapes (nothing is counted twice)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from hub.adapters.ratelimit import RedisRateLimiter
from hub.services.accounts.hashing import HashGate
from hub.services.limits import Limits


class RateLimitCollector(Collector):
    """`switchboard_rate_limited_total{limit}`: refusals by limit (`login`, `login_address`, `register`,
    `refresh`, `member_add`, `password_hashing`, `websocket`); `switchboard_rate_limit_backend_errors_total`:
    Redis failures answered by the in-process fallback."""

    def __init__(self, limits: Limits, gate: HashGate, stats: dict[str, int]) -> None:
        self.limits = limits
        self.gate = gate
        self.stats = stats  # the real-time stats, which count `ws_rate_limited`

    def collect(self) -> Iterable[Any]:
        refused = CounterMetricFamily(
            "switchboard_rate_limited",
            "Requests and socket messages refused by a rate limit.",
            labels=["limit"],
        )
        for name, count in sorted(self.limits.refused.items()):
            refused.add_metric([name], float(count))
        refused.add_metric(["password_hashing"], float(self.gate.refused))
        refused.add_metric(["websocket"], float(self.stats.get("ws_rate_limited", 0)))
        yield refused
        errors = CounterMetricFamily(
            "switchboard_rate_limit_backend_errors", "Rate limiter calls that Redis failed (fallback used)."
        )
        limiter = self.limits.limiter
        errors.add_metric([], float(limiter.errors if isinstance(limiter, RedisRateLimiter) else 0))
        yield errors
