"""Group commit for delivery outcomes: lanes hand results in, one transaction writes many.

Each `submit` returns a future that resolves (to True when written, False when the write finally
failed) once the outcome's transaction has committed. A batch waits `linger` seconds for company,
and while one batch is being written the next one gathers, so the number of transactions adapts to
the load instead of growing with it. Lanes do not wait for their outcomes between sends, only at their
end, so the linger costs latency at the end of a lane, not throughput.

A write that keeps failing is given up after a few tries: the deliveries keep their leases, which
expire, and the messages are sent again (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from hub.services.webhooks.results import Outcome

log = logging.getLogger(__name__)

Write = Callable[[Sequence[Outcome]], Awaitable[object]]


class ResultWriter:
    def __init__(
        self,
        write: Write,
        *,
        max_batch: int = 1000,
        linger: float = 0.02,
        tries: int = 4,
        backoff: float = 0.2,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._linger = linger
        self._tries = tries
        self._backoff = backoff
        self._queue: list[tuple[Outcome, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, outcome: Outcome) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((outcome, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="webhook-result-writer")
        return future

    async def wait_idle(self) -> None:
        """Return once everything submitted so far is written (or given up)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._queue:
            if len(self._queue) < self._max_batch and self._linger:
                await asyncio.sleep(self._linger)  # let more outcomes join this transaction
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            written = await self._write_batch([outcome for outcome, _future in batch])
            for _outcome, future in batch:
                if not future.done():
                    future.set_result(written)

    async def _write_batch(self, outcomes: list[Outcome]) -> bool:
        for attempt in range(1, self._tries + 1):
            try:
                await self._write(outcomes)
                return True
            except Exception:
                log.exception(
                    "writing %d webhook outcomes failed (try %d of %d)", len(outcomes), attempt, self._tries
                )
                if attempt < self._tries:
                    await asyncio.sleep(self._backoff * attempt)
        return False
