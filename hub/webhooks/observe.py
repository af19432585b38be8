"""What the webhook worker tells an observer (the hub's metrics) about each attempt.

The worker stays free of any metrics library: it calls `DeliveryObserver.attempted(outcome, lag)` once
per HTTP attempt, and `hub.observability` implements the protocol.

Outcomes are named after the state the attempt leaves the delivery in (`webhook_results.next_state`):

* `succeeded` - a 2xx answer;
* `retrying`  - it failed and the retry schedule has another step (the delivery stays `pending`);
* `failed`    - it failed and the schedule is exhausted: given up;
* `dead`      - 410 Gone with retries left: the endpoint is disabled and its queue dropped.

Lag is wall-clock time from the event's `created_at` (the body's `timestamp`, written in the event's
transaction) to the end of the attempt. A retry, a redeliver or a replay keeps its event's timestamp,
so its lag includes the wait: that is the point (how late did the receiver get it), but a replay of
old events shows up as a long lag too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from hub.adapters.webhooks.sender import AttemptResult

SUCCEEDED = "succeeded"
RETRYING = "retrying"
FAILED = "failed"
DEAD = "dead"
OUTCOMES = (SUCCEEDED, RETRYING, FAILED, DEAD)

_TIMESTAMP = '"timestamp":"'


class DeliveryObserver(Protocol):
    def attempted(self, outcome: str, lag_seconds: float | None) -> None:
        """One attempt ended with `outcome`; `lag_seconds` is None when the body has no timestamp."""


def outcome_of(result: AttemptResult, retry_step: int, schedule: Sequence[float]) -> str:
    """The outcome of an attempt of a delivery at `retry_step`, under the worker's retry schedule."""
    if result.success:
        return SUCCEEDED
    if retry_step + 1 > len(schedule):
        return FAILED
    return DEAD if result.gone else RETRYING


def event_lag(body: str, now: float | None = None) -> float | None:
    """Seconds from the message's `timestamp` to `now` (epoch seconds; default: the current time).

    The body is the message exactly as sent (`webhook_messages.message_body`), whose second key is
    the timestamp; finding it costs far less than parsing the JSON on every attempt.
    """
    start = body.find(_TIMESTAMP, 0, 200)
    if start < 0:
        return None
    start += len(_TIMESTAMP)
    end = body.find('"', start)
    try:
        created = datetime.fromisoformat(body[start:end])
    except ValueError:
        return None
    if created.tzinfo is None:
        return None
    return (time.time() if now is None else now) - created.timestamp()
