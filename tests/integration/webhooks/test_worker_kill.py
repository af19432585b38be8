"""A worker process killed (SIGKILL) while its receiver holds the request: a surviving worker process
sends the message again once the lease runs out, and the log shows both attempts."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from hub.context import HubContext
from hub.services.webhooks.results import INTERRUPTED
from tests.conftest import SECRET
from tests.integration.webhooks.conftest import (
    SCHEDULE,
    admin_and_project,
    all_with_status,
    attempts,
    create_hook,
    deliveries,
    eventually,
    verify,
)
from tests.integration.webhooks.receiver import Receiver, Reply
from tests.support.api import Api
from tests.support.process import REPO

TIMEOUT = 1.5  # WEBHOOK_TIMEOUT
LEASE = 2.5  # WEBHOOK_LEASE_SECONDS: the longest a killed worker's message may wait


async def start_worker(database: tuple[str, str | None]) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "WEBHOOK_"))}
    env.update(
        DATABASE_URL=database[0],
        TEST_DB_SCHEMA=database[1] or "",
        SECRET_KEY=SECRET,
        SWITCHBOARD_ENV="test",
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_SCHEDULE=SCHEDULE,
        WEBHOOK_TIMEOUT=str(TIMEOUT),
        WEBHOOK_LEASE_SECONDS=str(LEASE),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
        PYTHONUNBUFFERED="1",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.webhook_worker", env=env, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert b"ready" in line, line
    return proc


async def test_a_surviving_worker_takes_over_from_a_killed_one_within_the_lease(
    api: Api, context: HubContext, receiver: Receiver, database: tuple[str, str | None]
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    held = asyncio.Event()
    receiver.script("/hook", Reply(hold=held))  # the first request gets its 200 only after the kill
    workers = [await start_worker(database) for _ in range(2)]
    try:
        await api.ticket(owner, pid)
        [first] = await receiver.wait_for(1, within=20)
        [sending] = await deliveries(context)
        assert sending.locked_by is not None
        victim = next(w for w in workers if f":{w.pid}:" in sending.locked_by)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        held.set()
        # The lease was written at the claim, before the request: the survivor sends it once it ends.
        _first_again, second = await receiver.wait_for(2, within=LEASE + 3)
        assert second.msg_id == first.msg_id
        verify(second, hook["secret"])
        [done] = await eventually(lambda: all_with_status(context, "succeeded"))
        assert done.attempt_count == 2
        logged = await attempts(context, done.id)
        assert [(a.status_code, a.error) for a in logged] == [(None, INTERRUPTED), (200, None)]
    finally:
        held.set()
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
                await asyncio.wait_for(worker.wait(), 20)
