"""`python -m tests.support.webhook_worker`: a real `WebhookWorker` process for kill tests.

Like `switchboard worker` (settings from the environment, stopped by SIGTERM), but its database can be
pinned to the test's PostgreSQL schema (`TEST_DB_SCHEMA`), which a DATABASE_URL cannot express.
"""

from __future__ import annotations

import asyncio
import os
import signal

from hub.adapters.db.engine import Database
from hub.config import load_settings
from hub.context import uow_factory
from hub.webhooks.worker import WebhookWorker


async def main() -> None:
    settings = load_settings()
    db = Database(settings.database_url, schema=os.environ.get("TEST_DB_SCHEMA") or None)
    worker = WebhookWorker(db, settings, uow=uow_factory(db))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await worker.start()
    print(f"worker {worker.name} ready", flush=True)
    await stop.wait()
    await worker.stop()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
