"""How the channel relay treats a failing channel: backoff, pausing, and the note it leaves.

Each subscription is a lane (`hub.services.chat.cursors`). When a delivery to it fails:

- **rate limited** (`RateLimitedError`, the platform's 429 with Retry-After): the lane waits exactly
  that long; not counted as a failure (the channel did nothing wrong);
- **permanent** (`PermanentSendError`: missing access, unknown channel, Discord 50024 "cannot execute
  action on this channel type", Slack `channel_not_found`/`is_archived`/…): the subscription is
  paused at once;
- **anything else** (network, 5xx, an unknown error): one more consecutive failure; the lane is
  tried again after `retry_seconds * 2**(failures-1)` (capped at `retry_max_seconds`), and paused
  once `max_failures` attempts in a row have failed.

A paused subscription stays paused until someone subscribes the channel again (`/ticket subscribe`);
its creator gets a direct message saying why (`RelaySink.send_pause_note`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bots.sink import PermanentSendError, RateLimitedError, RelaySink
from hub.adapters.db.uow import UnitOfWork
from hub.services.chat import cursors
from hub.services.chat.accounts import chat_accounts_of
from hub.services.chat.cursors import Lane

log = logging.getLogger("bots.relay")


@dataclass(frozen=True)
class ChannelRetry:
    """`CHAT_CHANNEL_MAX_FAILURES`, `CHAT_CHANNEL_RETRY_SECONDS`, `CHAT_CHANNEL_RETRY_MAX_SECONDS`."""

    max_failures: int = 8
    retry_seconds: float = 5.0
    retry_max_seconds: float = 900.0

    @classmethod
    def from_settings(cls, settings: Any) -> ChannelRetry:
        return cls(
            max_failures=settings.chat_channel_max_failures,
            retry_seconds=settings.chat_channel_retry_seconds,
            retry_max_seconds=settings.chat_channel_retry_max_seconds,
        )

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th consecutive failure (1, 2, …)."""
        return float(min(self.retry_max_seconds, self.retry_seconds * 2 ** max(0, failures - 1)))


def describe(error: BaseException) -> str:
    """A short, human-readable account of a delivery error (stored as `last_error`/`state_reason`)."""
    text = str(error) or type(error).__name__
    if isinstance(error, PermanentSendError | RateLimitedError):
        return text
    return f"{type(error).__name__}: {text}"


class LaneFailures:
    """What the relay does when a lane's delivery fails (the module docstring's rules)."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        sink: RelaySink,
        retry: ChannelRetry,
        consumer: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.uow = uow
        self.sink = sink
        self.retry = retry
        self.consumer = consumer
        self._clock = clock

    async def failed(self, lane: Lane, error: Exception) -> None:
        """Record a lane's failure: wait out a rate limit, pause on a permanent refusal, else back off
        (and pause after too many failures in a row)."""
        now = self._clock()
        reason = describe(error)
        where = f"{self.consumer}: {lane.team_id}/{lane.channel_id} ({lane.project_key})"
        if isinstance(error, RateLimitedError):
            retry_at = now + timedelta(seconds=error.retry_after)
            await cursors.delay(
                self.uow(), lane.subscription_id, retry_at=retry_at, error=reason, failed=False
            )
            log.info("%s waits %.1f s: %s", where, error.retry_after, reason)
            return
        if isinstance(error, PermanentSendError):
            await self.pause(lane, reason)
            return
        retry_at = now + timedelta(seconds=self.retry.backoff(lane.failures + 1))
        failures = await cursors.delay(
            self.uow(), lane.subscription_id, retry_at=retry_at, error=reason, failed=True
        )
        log.warning("%s failed (%d in a row): %s", where, failures, reason)
        if failures >= self.retry.max_failures:
            await self.pause(lane, f"{failures} failed attempts in a row; the last: {reason}")

    async def pause(self, lane: Lane, reason: str) -> None:
        if not await cursors.pause(self.uow(), lane.subscription_id, reason, self._clock()):
            return
        log.warning("%s: paused %s/%s (%s): %s", self.consumer, lane.team_id, lane.channel_id,
                    lane.project_key, reason)  # fmt: skip
        await self._tell(lane, reason)

    async def _tell(self, lane: Lane, reason: str) -> None:
        """A direct message to the subscription's creator (their account in that workspace)."""
        if lane.created_by is None:
            return
        accounts = await chat_accounts_of(self.uow(), self.sink.platform, {lane.created_by})
        found = accounts.get(lane.created_by, [])
        account = next((a for a in found if a.team_id == lane.team_id), None)
        if account is None and self.sink.platform == "discord":
            account = next(iter(found), None)  # Discord user ids are global
        if account is None:
            log.info("%s: nobody to tell about pausing %s", self.consumer, lane.channel_id)
            return
        try:
            await self.sink.send_pause_note(account, lane.channel_id, lane.project_key, reason)
        except Exception as error:  # the note is a courtesy: the pause stands either way
            log.warning("%s: could not tell %s about the pause: %s", self.consumer, account, error)
