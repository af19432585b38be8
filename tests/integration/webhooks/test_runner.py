"""The two ways the worker runs: inside the app (`serve`) and as its own process (`switchboard worker`)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from hub.app import create_app
from hub.config import Settings
from hub.context import HubContext
from hub.webhooks.runner import attach_worker
from tests.conftest import SECRET
from tests.integration.webhooks.conftest import (
    admin_and_project,
    all_with_status,
    create_hook,
    eventually,
    verify,
    with_webhook_api,
)
from tests.integration.webhooks.receiver import Receiver
from tests.support.api import Api
from tests.support.waiting import wait_until


async def test_attached_worker_runs_while_the_app_serves(
    settings: Settings, context: HubContext, receiver: Receiver
) -> None:
    app = with_webhook_api(create_app(settings, context))
    worker = attach_worker(app, context)
    worker.poll_interval = 30  # only the publisher's wake-up can explain a prompt delivery
    assert context.webhook_worker is worker
    async with app.test_app():
        api = Api(app.test_client())
        owner, pid = await admin_and_project(api)
        hook = await create_hook(api, owner, pid, receiver.url())
        # Creating the endpoint woke the worker; once that round is over it sleeps for 30 s.
        await wait_until(lambda: worker.asleep, what="the worker to settle into its sleep")
        await api.ticket(owner, pid)
        [hit] = await receiver.wait_for(1, within=3)
        assert verify(hit, hook["secret"])["type"] == "ticket.created"
        await eventually(lambda: all_with_status(context, "succeeded"))
    # Stopped with the app.
    assert worker._task is None


async def test_run_worker_until_sigterm(
    api: Api, context: HubContext, receiver: Receiver, database: tuple[str, str | None]
) -> None:
    if database[1] is not None:
        pytest.skip("the child process cannot be pointed at the test's PostgreSQL schema")
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    await api.ticket(owner, pid)
    env = {
        **os.environ,
        "DATABASE_URL": database[0],
        "SECRET_KEY": SECRET,
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "PYTHONUNBUFFERED": "1",
    }
    code = (
        "import asyncio; from hub.config import load_settings; from hub.webhooks.runner import run_worker; "
    )
    code += "asyncio.run(run_worker(load_settings()))"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        [hit] = await receiver.wait_for(1, within=20)
        verify(hit, hook["secret"])
        await eventually(lambda: all_with_status(context, "succeeded"))
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, output.decode()
    assert b"webhook worker stopped" in output
