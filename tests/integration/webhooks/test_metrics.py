"""`/metrics` counts the in-process worker's attempts by outcome, with their lag since the event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Quart

from hub.app import create_app
from hub.config import Settings
from hub.context import HubContext
from hub.webhooks.runner import attach_worker
from tests.integration.webhooks.conftest import (
    admin_and_project,
    all_with_status,
    create_hook,
    eventually,
    with_webhook_api,
)
from tests.integration.webhooks.receiver import Receiver, Reply
from tests.support.api import Api
from tests.support.metrics import sample

ATTEMPTS = "switchboard_webhook_attempts_total"
LAG = "switchboard_webhook_delivery_lag_seconds"


@pytest.fixture
async def app(settings: Settings, context: HubContext) -> AsyncIterator[Quart]:
    """The app as `switchboard serve` runs it: the webhook worker attached."""
    application = with_webhook_api(create_app(settings, context))
    attach_worker(application, context)
    async with application.test_app():
        yield application


async def metrics(api: Api) -> str:
    return str((await api.get("/metrics")).body.decode())


async def test_a_delivery_is_counted_with_its_lag(api: Api, context: HubContext, receiver: Receiver) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    before = await metrics(api)
    assert sample(before, ATTEMPTS, outcome="succeeded") == 0.0  # the series exist from the start
    assert sample(before, f"{LAG}_count", outcome="succeeded") == 0.0
    await api.ticket(owner, pid)
    await receiver.wait_for(1)
    await eventually(lambda: all_with_status(context, "succeeded"))

    text = await metrics(api)
    assert sample(text, ATTEMPTS, outcome="succeeded") == 1.0
    assert sample(text, ATTEMPTS, outcome="retrying") == 0.0
    assert sample(text, f"{LAG}_count", outcome="succeeded") == 1.0
    lag = sample(text, f"{LAG}_sum", outcome="succeeded")
    assert 0.0 < lag < 10.0
    assert sample(text, f"{LAG}_bucket", outcome="succeeded", le="10.0") == 1.0


async def test_failures_are_retrying_then_failed(api: Api, context: HubContext, receiver: Receiver) -> None:
    receiver.default("/hook", Reply(500, b"down"))
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    await api.ticket(owner, pid)
    await eventually(lambda: all_with_status(context, "failed"))  # the schedule has two retries

    text = await metrics(api)
    assert sample(text, ATTEMPTS, outcome="retrying") == 2.0
    assert sample(text, ATTEMPTS, outcome="failed") == 1.0
    assert sample(text, ATTEMPTS, outcome="succeeded") == 0.0
    assert sample(text, f"{LAG}_count", outcome="failed") == 1.0
    # The last attempt came after both retry waits: its lag includes them.
    assert sample(text, f"{LAG}_sum", outcome="failed") >= 0.1


async def test_gone_is_dead(api: Api, context: HubContext, receiver: Receiver) -> None:
    receiver.default("/hook", Reply(410, b""))
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    await api.ticket(owner, pid)
    await eventually(lambda: all_with_status(context, "dead"))

    text = await metrics(api)
    assert sample(text, ATTEMPTS, outcome="dead") == 1.0
    assert sample(text, f"{LAG}_count", outcome="dead") == 1.0
