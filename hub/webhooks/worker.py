"""`WebhookWorker`: turns the outbox into signed HTTP deliveries, durably and politely.

Each round: fan out new outbox events into delivery rows (`webhook_outbox.fan_out`), claim lanes of due
deliveries for the free slots (`webhook_claims.claim`), and start one task per lane. A lane sends its
endpoint's messages one at a time, in order, and hands each outcome to the `ResultWriter`; it stops at
the first failure (the rest goes back to the queue). Before each attempt the lane logs it
(`webhook_results.begin_attempt`, committed before the request leaves) and, when what is left of its
lease would not cover another attempt, renews the lease of its remaining messages in the same
transaction: an attempt never outlives its lease, and a lane may run longer than one lease. Then the
worker sleeps until woken (new events, a finished lane, `notify_new_events`) or until the next delivery
is due, at most `poll_interval`.

Concurrency: at most `max_in_flight` lanes (HTTP requests) at once per worker, and
`endpoint_concurrency` (default 1) per endpoint across all workers.

`stop()` is graceful: no new claims, in-flight attempts finish and are recorded, claimed deliveries
not yet started are released at once. A worker that is killed instead leaves leases that expire after
at most `lease_seconds` (default: the attempt timeout + `LEASE_MARGIN`, so 15 s for the 10 s default);
its deliveries are then sent by any worker, which wakes when the lease runs out. The attempt that was
in flight stays in the log as interrupted (its outcome is unknown: the receiver may have it).

`clock` drives scheduling (due times, leases, the five-day rule) so tests can move time; the
`webhook-timestamp` header always carries the real time, since receivers check it against theirs.
An optional `observer` (`hub.webhooks.observe`) hears each attempt's outcome and lag: the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from hub.adapters.db.engine import Database
from hub.adapters.db.models import Event, Notification
from hub.adapters.db.types import utcnow
from hub.adapters.webhooks.schedule import DEFAULT_SCHEDULE, parse_schedule
from hub.adapters.webhooks.sender import DEFAULT_TIMEOUT_SECONDS, AttemptResult, WebhookSender
from hub.adapters.webhooks.signing import build_headers
from hub.config import Settings
from hub.context import UowFactory, uow_factory
from hub.services import retention
from hub.services.webhooks import claims as webhook_claims
from hub.services.webhooks import outbox as webhook_outbox
from hub.services.webhooks import results as webhook_results
from hub.services.webhooks.claims import Claimed, Lane
from hub.services.webhooks.messages import is_webhook_event
from hub.services.webhooks.results import Outcome
from hub.webhooks.observe import DeliveryObserver, event_lag, outcome_of
from hub.webhooks.writer import ResultWriter

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0  # the default of RETENTION_INTERVAL_SECONDS
#: Default lease beyond the attempt timeout: time to log the attempt before and record it after.
LEASE_MARGIN = 5.0
MIN_SLEEP = 0.02
IDLE_CHECK = 2.0


def schedule_from(settings: Settings) -> tuple[float, ...]:
    if settings.webhook_retry_schedule:
        return parse_schedule(settings.webhook_retry_schedule)
    return DEFAULT_SCHEDULE


def lease_from(settings: Settings, timeout: float) -> float:
    """`WEBHOOK_LEASE_SECONDS`, or the attempt timeout plus `LEASE_MARGIN`."""
    return settings.webhook_lease_seconds or timeout + LEASE_MARGIN


class WebhookWorker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        sender: WebhookSender | None = None,
        clock: Callable[[], datetime] = utcnow,
        uow: UowFactory | None = None,
        name: str | None = None,
        schedule: Sequence[float] | None = None,
        timeout: float | None = None,
        max_in_flight: int = 32,
        lane_size: int = 100,
        endpoint_concurrency: int = 1,
        lease_seconds: float | None = None,
        poll_interval: float = 1.0,
        fanout_batch: int = webhook_outbox.BATCH,
        rng: random.Random | None = None,
        observer: DeliveryObserver | None = None,
    ) -> None:
        self.db = db
        self._observer = observer
        self.schedule = tuple(schedule) if schedule is not None else schedule_from(settings)
        self._own_sender = sender is None
        if timeout is None:
            timeout = settings.webhook_timeout or DEFAULT_TIMEOUT_SECONDS
        self.sender = sender or WebhookSender(timeout=timeout, allow_private=settings.webhook_allow_private)
        if lease_seconds is None:
            lease_seconds = lease_from(settings, self.sender.timeout)
        if lease_seconds <= self.sender.timeout:
            raise ValueError("lease_seconds must be longer than the sender's timeout")
        self._clock = clock
        # Disabling an endpoint emits events whose notifications the unit of work's hook creates;
        # `HubContext.uow` (what `serve` and `worker` pass) also publishes them live after commit.
        self._uow = uow or uow_factory(db)
        self.name = name or _default_name()
        self.max_in_flight = max_in_flight
        self.lane_size = lane_size
        self.endpoint_concurrency = endpoint_concurrency
        self.lease_seconds = lease_seconds
        #: An attempt starts only if the lease outlasts it by this much.
        self._lease_margin = min(5.0, (lease_seconds - self.sender.timeout) / 2)
        self.poll_interval = poll_interval
        self.fanout_batch = fanout_batch
        self._rng = rng
        self._claims = itertools.count(1)
        self._writer = ResultWriter(self._write)
        self._lanes: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._sleeping = False
        self._task: asyncio.Task[None] | None = None
        self._next_prune = 0.0
        self.retention = retention.RetentionPolicy.from_settings(settings)
        self.prune_every = settings.retention_interval_seconds
        self._new_events = True
        self._next_fan_out = 0.0
        #: Whether any endpoint is enabled, as last checked, and until when that answer is trusted.
        self._any_enabled = True
        self._checked_until = 0.0
        self.attempts = 0
        self.succeeded = 0

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Run the worker loop in the background until `stop()`."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"webhook-worker {self.name}")

    async def stop(self) -> None:
        """Finish in-flight attempts, release what was claimed but not started, close the sender."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self._drain_lanes()
        if self._own_sender:
            await self.sender.aclose()

    @property
    def asleep(self) -> bool:
        """Whether the loop waits between rounds and nothing has woken it since: every wake-up
        (`wake`, `notify_new_events`) before this became true has been handled by a finished round.
        For tests and tools that must know the worker has settled, instead of guessing with a sleep."""
        return self._sleeping and not self._wake.is_set()

    @property
    def running(self) -> bool:
        """Whether the worker loop runs: started, not stopped, not ended by an error."""
        return self._task is not None and not self._task.done()

    async def notify_new_events(
        self, events: Sequence[Event] = (), notifications: Sequence[Notification] = ()
    ) -> None:
        """Wake the worker after a commit; a `Publisher`, so it can be (part of) the hub's publisher."""
        if not events or any(is_webhook_event(event.type) for event in events):
            self._new_events = True
            self._wake.set()

    def wake(self) -> None:
        """Run a round now, e.g. after an endpoint was created or a delivery re-queued."""
        self._checked_until = 0.0
        self._wake.set()

    async def _idle(self) -> bool:
        """True while no endpoint is enabled: then a round would only cost database work (on every
        committed event). Checked at most every IDLE_CHECK seconds; `wake()` ends it at once, and an
        endpoint created elsewhere is seen within IDLE_CHECK (its `events_after` cut-off means the
        outbox position may lag meanwhile without skipping anything)."""
        now = time.monotonic()
        if now >= self._checked_until:
            self._any_enabled = await webhook_outbox.any_enabled(self._uow())
            self._checked_until = now + IDLE_CHECK
        return not self._any_enabled

    # --- one pass, for tests and tools ----------------------------------------------------------
    async def run_once(self) -> int:
        """Fan out every pending event, then send whatever is due now until nothing is; return attempts."""
        before = self.attempts
        await self.fan_out()
        contended = 0
        while True:
            claim = await self._claim(self.max_in_flight, self._clock())
            if not claim.lanes:
                if claim.contended and contended < 100:
                    contended += 1
                    await asyncio.sleep(MIN_SLEEP)
                    continue
                break
            await asyncio.gather(*(self._run_lane(lane) for lane in claim.lanes))
        await self._writer.wait_idle()
        return self.attempts - before

    async def fan_out(self) -> int:
        """Queue deliveries for all outbox events not yet seen; returns deliveries created."""
        created = 0
        while True:
            result = await webhook_outbox.fan_out(self._uow(), self._clock(), batch=self.fanout_batch)
            created += result.deliveries
            if result.events < self.fanout_batch:
                return created

    async def prune(self) -> int:
        """Webhook attempts and finished deliveries past WEBHOOK_ATTEMPTS_RETENTION_DAYS; rows removed."""
        keep = timedelta(days=self.retention.webhook_attempts_days)
        return await webhook_results.prune(self._uow(), self._clock(), keep=keep)

    async def apply_retention(self) -> dict[str, int]:
        """Every retention rule (hub.services.retention), webhooks included; rows removed per table."""
        return await retention.prune(self._uow, self.retention, self._clock())

    # --- the loop -------------------------------------------------------------------------------
    async def _run(self) -> None:
        log.info("webhook worker %s started", self.name)
        while not self._stopping:
            self._wake.clear()
            try:
                # Fan out when told of new events, and at every poll interval for those committed by
                # other processes; not after every lane.
                if await self._idle():
                    delay = self.poll_interval
                else:
                    if self._new_events or time.monotonic() >= self._next_fan_out:
                        self._new_events = False
                        self._next_fan_out = time.monotonic() + self.poll_interval
                        await self.fan_out()
                    delay = await self._dispatch()
                if time.monotonic() >= self._next_prune:
                    self._next_prune = time.monotonic() + self.prune_every
                    await self.apply_retention()
            except Exception:
                log.exception("webhook worker round failed; retrying in %.1f s", self.poll_interval)
                delay = self.poll_interval
            if delay > 0 and not self._stopping:
                self._sleeping = True
                try:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._wake.wait()
                finally:
                    self._sleeping = False
        log.info("webhook worker %s stopping", self.name)

    async def _dispatch(self) -> float:
        """Claim lanes for free slots; return how long the loop may sleep."""
        free = self.max_in_flight - len(self._lanes)
        if free <= 0:
            return self.poll_interval  # a finishing lane wakes the loop
        now = self._clock()
        claim = await self._claim(free, now)
        for lane in claim.lanes:
            task = asyncio.create_task(self._run_lane(lane), name=f"webhook-lane {lane.endpoint_id}")
            self._lanes.add(task)
            task.add_done_callback(self._lane_done)
        if claim.lanes:
            return 0.0  # there may be more due than one claim takes
        if claim.contended:
            return MIN_SLEEP  # another worker was claiming the same endpoints
        if claim.next_due is None:
            return self.poll_interval
        return min(self.poll_interval, max(MIN_SLEEP, (claim.next_due - now).total_seconds()))

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        self._lanes.discard(task)
        self._wake.set()

    async def _claim(self, slots: int, now: datetime) -> webhook_claims.Claim:
        return await webhook_claims.claim(
            self._uow(),
            now=now,
            owner=f"{self.name}:{next(self._claims)}",
            slots=slots,
            lane_size=self.lane_size,
            lease_seconds=self.lease_seconds,
            endpoint_concurrency=self.endpoint_concurrency,
        )

    async def _drain_lanes(self) -> None:
        if self._lanes:
            await asyncio.gather(*self._lanes, return_exceptions=True)
        await self._writer.wait_idle()

    # --- a lane ---------------------------------------------------------------------------------
    async def _run_lane(self, lane: Lane) -> None:
        """Send the lane's deliveries in order; stop at a failure, on stop(), or once the lease is lost."""
        written: list[asyncio.Future[bool]] = []
        queue = list(lane.deliveries)
        lease_until = lane.lease_until
        try:
            while queue and not self._stopping:
                delivery = queue.pop(0)
                attempted_at = self._clock()
                renew: list[int] = []
                remaining = (lease_until - attempted_at).total_seconds()
                if remaining < self.sender.timeout + self._lease_margin:
                    renew = [delivery.id, *(d.id for d in queue)]
                    lease_until = attempted_at + timedelta(seconds=self.lease_seconds)
                attempt_id = await webhook_results.begin_attempt(
                    self._uow(), delivery, attempted_at, renew=renew, lease_until=lease_until
                )
                if attempt_id is None:
                    log.warning("webhook delivery %s: lease lost before its attempt; not sent", delivery.id)
                    break
                result = await self._send(delivery)
                self.attempts += 1
                if self._observer is not None:
                    outcome = outcome_of(result, delivery.retry_step, self.schedule)
                    self._observer.attempted(outcome, event_lag(delivery.body))
                written.append(self._writer.submit(Outcome(delivery, attempted_at, result, attempt_id)))
                if not result.success:
                    break
                self.succeeded += 1
            written.extend(self._writer.submit(Outcome(delivery)) for delivery in queue)
            await asyncio.gather(*written)
        except Exception:
            log.exception("webhook lane for endpoint %s failed", lane.endpoint_id)

    async def _send(self, delivery: Claimed) -> AttemptResult:
        data = delivery.body.encode()
        try:
            headers = build_headers(delivery.secrets, delivery.msg_id, int(time.time()), data)
            return await self.sender.send(delivery.url, headers, data)
        except Exception as exc:  # the sender reports network trouble itself; this is a bug guard
            log.exception("sending webhook delivery %s failed unexpectedly", delivery.id)
            return AttemptResult(None, 0, f"internal error: {type(exc).__name__}", "", None, False, False)

    async def _write(self, outcomes: Sequence[Outcome]) -> None:
        await webhook_results.record(
            self._uow(),
            outcomes,
            now=self._clock(),
            schedule=self.schedule,
            rng=self._rng,
        )


def _default_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"
