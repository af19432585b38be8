"""Direct messages for notifications: immediate ones as they come, digests once a day.

Two durable consumers over `notifications` (see `hub.services.chat.notify`):

- DMs: each notification routed `immediate` for the platform is sent to every linked account of its
  user, then the position moves past it (one transaction per notification: a crash in between can
  repeat at most that one DM — at-least-once, documented in docs/slack.md);
- digests: at `digest_hour` in each user's time zone, one DM per user a day listing the
  notifications routed `digest` since their previous digest — to one account only, the most
  recently linked one that can take messages, however many workspaces (guilds) the user linked. A
  digest the platform refuses (`RejectedMessageError`) is not marked sent: it is tried again every
  `digest_retry_seconds`, `digest_attempts` times in all, then given up for the day with an error
  in the log (its notifications stay for the next day's digest).

`clock` decides when digests are due, so tests move time instead of waiting a day. An optional
`RelayObserver` (the hub's metrics) hears how long after its notification each DM went out (`kind`
"dm"; digests are late by design and not observed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bots.relay import RelayObserver
from bots.sink import PermanentSendError, RejectedMessageError, RelaySink
from hub.adapters.db.engine import Database
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.context import uow_factory
from hub.services.chat import leader as chat_leader
from hub.services.chat import notify as chat_notify

log = logging.getLogger(__name__)
#: Digests are daily and due per user's time zone; whether any is due is asked once a minute, not on
#: every DM round (that question reads every linked user).
DIGEST_CHECK = 60.0


class Notifier:
    def __init__(
        self,
        db: Database,
        sink: RelaySink,
        *,
        digest_hour: int = 9,
        poll_interval: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
        observer: RelayObserver | None = None,
        digest_attempts: int = 5,
        digest_retry_seconds: float = 0.0,
    ) -> None:
        self.db = db
        self.sink = sink
        self.observer = observer
        self.platform = sink.platform
        self.consumer = f"{sink.platform}-dm"
        self.digest_hour = digest_hour
        #: Settings CHAT_DIGEST_ATTEMPTS and CHAT_DIGEST_RETRY_SECONDS (docs/operations.md); a retry
        #: interval of 0 tries again at the next check (`DIGEST_CHECK`).
        self.digest_attempts = digest_attempts
        self.digest_retry_seconds = digest_retry_seconds
        self.poll_interval = poll_interval
        self._clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.started_at = clock()
        # The notifier writes only its positions and digest marks, never events.
        self._make_uow = uow_factory(db, notify=False)

    def uow(self) -> UnitOfWork:
        return self._make_uow()

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=self.consumer)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    def wake(self, *_args: object) -> None:
        self._wake.set()

    async def _run(self) -> None:
        next_digest_check = 0.0
        while not self._stopping:
            async with chat_leader.leadership(self.db, self.consumer) as leader:
                while leader and not self._stopping:
                    self._wake.clear()
                    try:
                        await self.run_dms_once()
                        if time.monotonic() >= next_digest_check:
                            next_digest_check = time.monotonic() + DIGEST_CHECK
                            await self.run_digests_once()
                    except Exception:
                        log.exception("%s round failed; retrying", self.consumer)
                    await self._sleep(self.poll_interval)
            if not self._stopping:
                await self._sleep(self.poll_interval * 5)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def run_dms_once(self) -> int:
        """Send the DMs of notifications after the position; returns how many were sent."""
        sent = 0
        _position, items = await chat_notify.pending_direct_messages(
            self.uow(), platform=self.platform, consumer=self.consumer, since=self.started_at
        )
        for notification_id, message in items:
            before = sent
            for account in message.accounts if message else []:
                assert message is not None
                try:
                    await self.sink.send_dm(account, message.notification)
                    sent += 1
                except PermanentSendError as error:
                    log.warning("%s: cannot DM %s: %s", self.consumer, account.external_id, error)
            await chat_notify.advance(self.uow(), self.consumer, notification_id)
            if self.observer is not None and message is not None and sent > before:
                self._observe(message.notification)
        self.sent += sent
        return sent

    def _observe(self, notification: dict[str, Any]) -> None:
        """Wall-clock lag from the notification's creation (not the injected clock)."""
        assert self.observer is not None
        created = datetime.fromisoformat(str(notification["timestamp"]))
        self.observer.relayed(self.platform, "dm", (utcnow() - created).total_seconds())

    async def run_digests_once(self) -> int:
        """Send the digests due at the clock's now; returns how many were sent."""
        now = self._clock()
        sent = 0
        for digest in await chat_notify.due_digests(
            self.uow(), platform=self.platform, now=now, hour=self.digest_hour,
            retry_seconds=self.digest_retry_seconds,
        ):  # fmt: skip
            delivered, refused = await self._send_digest(digest)
            sent += delivered
            if refused:
                await self._refused(digest, now)
                continue
            await chat_notify.mark_digest_sent(
                self.uow(), platform=self.platform, user_id=digest.user_id, position=digest.position, now=now
            )
        return sent

    async def _refused(self, digest: chat_notify.Digest, now: datetime) -> None:
        """Not marked sent: tried again after the retry interval, until the attempts are spent."""
        attempts = digest.attempts + 1
        if attempts < self.digest_attempts:
            await chat_notify.record_digest_refusal(
                self.uow(), platform=self.platform, user_id=digest.user_id, attempts=attempts, now=now
            )
            return
        log.error(
            "%s: giving up today's digest for user %s after %d refused attempts; its %d notification(s) "
            "wait for the next digest",
            self.consumer, digest.user_id, attempts, len(digest.notifications),
        )  # fmt: skip
        await chat_notify.give_up_digest(self.uow(), platform=self.platform, digest=digest, now=now)

    async def _send_digest(self, digest: chat_notify.Digest) -> tuple[int, bool]:
        """(1 if an account got the digest else 0, whether the platform refused the message itself).
        One destination: the accounts in order (most recently linked first) until one takes it; an
        account that cannot take messages at all (gone, blocked the bot, workspace uninstalled) is
        skipped for the next. A refused digest must not count as sent, or that day's notifications
        are lost."""
        for account in digest.accounts if digest.notifications else []:
            try:
                await self.sink.send_digest(account, digest.notifications)
                return 1, False
            except RejectedMessageError as error:
                log.error("%s: digest for %s refused: %s", self.consumer, account.external_id, error)
                return 0, True
            except PermanentSendError as error:
                log.warning("%s: cannot send digest to %s: %s", self.consumer, account.external_id, error)
        return 0, False
