"""Every Slack request is processed once, however often Slack delivers it.

Slack redelivers an Events API callback that was not acknowledged in time (headers
`X-Slack-Retry-Num`, `X-Slack-Retry-Reason`; the same `event_id`), up to three times over about five
minutes, over HTTP and over Socket Mode alike, and a retry may reach another hub process. A bolt
global middleware (it runs after the signature check and before any listener, for HTTP and Socket
Mode) claims each request's stable id in the database (`hub.services.chat.deliveries`); a request
whose id was already claimed is acknowledged with an empty 200 and nothing runs, so Slack stops
retrying.

The ids (`delivery_key`): `event_id` for events; `trigger_id` for slash commands, shortcuts, block
actions (with the action's `action_ts`) and view submissions. Both are unique per user action, so
two clicks are two deliveries and only a redelivery of one is dropped. Requests without such an id,
and `block_suggestion` (options are read-only and must always be answered), are not deduplicated.

The id is claimed before the work runs and marked done when the listener answered without a server
error. A redelivery of a request still being processed is dropped; one whose claim was left unfinished
for `deliveries.RECLAIM_AFTER` (the process died, or the work failed) takes it over, so Slack's own
retries redo a crashed or failed request instead of losing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bots.slack.bot import log, team_of
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.services.chat.deliveries import claim_delivery, finish_delivery, prune_deliveries

PLATFORM = "slack"
#: How often one process deletes expired records (`deliveries.DELIVERY_TTL`).
PRUNE_EVERY = timedelta(minutes=1)
#: Interactive payloads that are never deduplicated.
NOT_DEDUPLICATED = frozenset({"block_suggestion"})


def delivery_key(body: Mapping[str, Any]) -> str | None:
    """The stable id of a Slack request (see the module docstring), or None if it has none."""
    team = team_of(dict(body))
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        return f"{team}/event:{event_id}" if event_id else None
    kind = "command" if "command" in body else str(body.get("type") or "")
    trigger = body.get("trigger_id")
    if kind in NOT_DEDUPLICATED or not trigger:
        return None
    actions = body.get("actions")
    if kind == "block_actions" and isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return f"{team}/{kind}:{trigger}:{actions[0].get('action_ts', '')}"
    return f"{team}/{kind}:{trigger}"


def _header(headers: Mapping[str, Sequence[str]], name: str) -> str:
    values = headers.get(name) or [""]
    return values[0]


class SlackDedupe:
    """Claims each request's id; prunes expired claims at most every `PRUNE_EVERY` per process."""

    def __init__(self, uow: Callable[[], UnitOfWork], clock: Callable[[], datetime] = utcnow) -> None:
        self._uow = uow
        self._clock = clock
        self._pruned_at: datetime | None = None

    async def first(self, body: Mapping[str, Any], headers: Mapping[str, Sequence[str]]) -> bool:
        """Whether this delivery should be processed: the first of its request, or a redelivery of one
        whose processing died or failed (see the module docstring)."""
        key = delivery_key(body)
        if key is None:
            return True
        now = self._clock()
        await self._prune(now)
        if await claim_delivery(self._uow(), PLATFORM, key, now=now):
            return True
        log.info(
            "Slack redelivered %s (retry %s, %s): already processed, acknowledged only",
            key,
            _header(headers, "x-slack-retry-num") or "-",
            _header(headers, "x-slack-retry-reason") or "no reason given",
        )
        return False

    async def finished(self, body: Mapping[str, Any]) -> None:
        """The request of `body` was processed: its redeliveries are dropped from now on."""
        key = delivery_key(body)
        if key is not None:
            await finish_delivery(self._uow(), PLATFORM, key, now=self._clock())

    async def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            await prune_deliveries(self._uow(), now=now)
        except Exception:  # pruning is housekeeping: never let it refuse a request
            log.exception("pruning expired Slack delivery records failed")


def register(app: AsyncApp, dedupe: SlackDedupe) -> None:
    """Run `dedupe` before every listener of `app` (HTTP and Socket Mode requests)."""

    async def once(
        body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[Any]]
    ) -> BoltResponse | None:
        if not await dedupe.first(body, request.headers):
            return BoltResponse(status=200, body="")
        result: BoltResponse | None = await next()
        if result is None or result.status < 500:  # a failed request stays reclaimable by a retry
            await dedupe.finished(body)
        return result

    app.use(once)
