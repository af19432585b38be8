"""Running the webhook worker: on its own (`switchboard worker`) or inside `switchboard serve`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from hub.adapters.db.models import Event, Notification
from hub.config import Settings
from hub.context import HubContext, build_context
from hub.observability.health import heartbeat, heartbeat_path
from hub.webhooks.worker import WebhookWorker

if TYPE_CHECKING:
    from quart import Quart

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> None:
    """Run one webhook worker until SIGTERM or SIGINT, then stop it gracefully."""
    context = build_context(settings)
    db = context.db
    worker = WebhookWorker(db, settings, uow=context.uow)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await worker.start()
    print(f"Switchboard webhook worker {worker.name} is running", flush=True)
    path = heartbeat_path(settings.heartbeat_dir, "worker")
    try:
        async with heartbeat(path, alive=lambda: worker.running):  # for `switchboard healthcheck`
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await worker.stop()
        await db.dispose()
    print("webhook worker stopped", flush=True)


def attach_worker(app: Quart, context: HubContext, *, chain_publisher: bool = True) -> WebhookWorker:
    """Run a webhook worker for as long as `app` serves (started and stopped with it).

    With `chain_publisher`, the context's publisher also wakes the worker after every commit, so the
    first attempt follows the commit at once instead of at the next poll. Its attempts are counted on
    the app's `/metrics`; a worker run on its own (`run_worker`) serves no metrics.
    """
    metrics = context.metrics  # the app's `Metrics`, set by `create_app`
    observer = metrics.webhooks if metrics is not None else None
    worker = WebhookWorker(context.db, context.settings, uow=context.uow, observer=observer)
    context.webhook_worker = worker  # the API wakes it after a redeliver or replay
    if chain_publisher:
        previous = context.publisher

        async def publish(events: Sequence[Event], notifications: Sequence[Notification]) -> None:
            if previous is not None:
                await previous(events, notifications)
            await worker.notify_new_events(events, notifications)

        context.publisher = publish

    @app.while_serving
    async def _webhook_worker() -> AsyncGenerator[None, None]:
        await worker.start()
        yield
        await worker.stop()

    return worker
