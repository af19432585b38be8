"""Pinned board summaries: one message per subscribed channel that asked for it, edited in place.

A round that touches a project marks its summary channels; `flush` re-renders each at most once per
`every` seconds (the last change is always shown: a throttled summary stays marked until it is due).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from bots.sink import RelaySink
from hub.adapters.db.uow import UnitOfWork
from hub.services.chat import relay as chat_relay
from hub.services.chat import summary as chat_summary
from hub.services.chat.relay import Target

log = logging.getLogger(__name__)


class SummaryKeeper:
    def __init__(
        self, uow: Callable[[], UnitOfWork], sink: RelaySink, *, every: float, clock: Callable[[], datetime]
    ) -> None:
        self._uow = uow
        self._sink = sink
        self._every = every
        self._clock = clock
        self._due: dict[int, Target] = {}
        self._last: dict[int, float] = {}
        self._ids: dict[int, str | None] = {}

    def touch(self, target: Target) -> None:
        self._due[target.subscription_id] = target

    async def flush(self) -> None:
        now = time.monotonic()
        for sub_id, target in list(self._due.items()):
            if now - self._last.get(sub_id, float("-inf")) < self._every:
                continue
            self._due.pop(sub_id)
            self._last[sub_id] = now
            try:
                await self._render(sub_id, target)
            except Exception:
                log.exception("summary for subscription %s failed", sub_id)

    async def _render(self, sub_id: int, target: Target) -> None:
        summary = await chat_summary.project_summary(
            self._uow(), target.project_id, self._clock(), subscription_id=sub_id
        )
        if summary is None:
            return
        known = self._ids.get(sub_id, target.summary_message_id)
        message_id = await self._sink.post_summary(target, summary, known)
        self._ids[sub_id] = message_id
        if message_id != known:
            await chat_relay.set_summary_message(self._uow(), sub_id, message_id)
