"""Retry schedule for webhook deliveries, modelled on Svix's.

The first attempt is sent immediately. After the n-th failed attempt the worker waits ``schedule[n - 1]``
seconds (with +/-20% jitter so that an endpoint coming back from an outage is not hit by a synchronized
thundering herd), and gives up once the schedule is exhausted. The default is::

    attempt  1: immediately
    attempt  2: 5 seconds later
    attempt  3: 5 minutes later
    attempt  4: 30 minutes later
    attempt  5: 2 hours later
    attempt  6: 5 hours later
    attempts 7-12: every 10 hours

that is 12 attempts spread over about 2.8 days (243,305 s before jitter), long enough to survive a
weekend-long outage of a customer's receiver. It can be overridden with the ``WEBHOOK_RETRY_SCHEDULE``
setting, a comma-separated list of seconds parsed by :func:`parse_schedule`.

A receiver's ``Retry-After`` header (parsed by :func:`retry_after_seconds`) may ask for a different wait;
it is capped at one day so a receiver cannot park a message indefinitely.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DEFAULT_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000)
"""Seconds to wait after the 1st, 2nd, ... failed attempt; see the module docstring."""

JITTER = 0.2
"""Relative jitter applied to each scheduled delay: the wait is uniform in [0.8, 1.2] x delay."""

RETRY_AFTER_CAP_SECONDS = 86400.0
"""Longest wait a receiver's ``Retry-After`` may ask for (one day)."""

_rng = random.Random()
_DELTA_SECONDS = re.compile(r"\d+")


def parse_schedule(text: str) -> tuple[float, ...]:
    """Parse a ``WEBHOOK_RETRY_SCHEDULE`` value such as ``"5, 300, 1800"`` into delays in seconds.

    Raises ``ValueError`` naming the offending item when an item is empty, not a number, not finite or not
    positive, so a typo in configuration fails at startup with a useful message.
    """
    if not text.strip():
        raise ValueError("WEBHOOK_RETRY_SCHEDULE must list at least one delay in seconds")
    delays: list[float] = []
    for position, raw in enumerate(text.split(","), start=1):
        item = raw.strip()
        try:
            delay = float(item)
        except ValueError:
            delay = math.nan
        if not math.isfinite(delay) or delay <= 0:
            raise ValueError(
                f"WEBHOOK_RETRY_SCHEDULE item {position} ({item!r}) is not a positive number of seconds"
            )
        delays.append(delay)
    return tuple(delays)


def next_delay(
    schedule: Sequence[float], attempt_number: int, rng: random.Random | None = None
) -> float | None:
    """Return the jittered wait before the next attempt after ``attempt_number`` failed attempts.

    ``attempt_number`` is 1-based (1 = the first attempt just failed). Returns None when the schedule is
    exhausted and the message should be marked as failed. ``rng`` makes the jitter reproducible in tests.
    """
    if attempt_number < 1:
        raise ValueError(f"attempt_number is 1-based, got {attempt_number}")
    if attempt_number > len(schedule):
        return None
    base = float(schedule[attempt_number - 1])
    return base * (rng or _rng).uniform(1 - JITTER, 1 + JITTER)


def retry_after_seconds(header_value: str | None, now: datetime) -> float | None:
    """Parse a ``Retry-After`` header (delay-seconds or HTTP-date) into seconds to wait, capped at a day.

    Returns None when the header is absent or unparseable (the normal schedule then applies) and 0.0 for a
    date in the past. ``now`` should be timezone-aware; a naive value is taken as UTC.
    """
    if header_value is None:
        return None
    value = header_value.strip()
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:  # pragma: no cover - older Pythons returned None instead of raising
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        seconds = max(0.0, (when - now).total_seconds())
    return min(seconds, RETRY_AFTER_CAP_SECONDS)
