"""Fixtures for webhook integration tests: the hub with the webhook API, a real receiver, workers.

Settings allow private destinations (the receiver is on 127.0.0.1) and use a tiny retry schedule so
retries take fractions of a second. Every received signature is checked with the `standardwebhooks`
reference library, never with our own signing code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from quart import Quart
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from hub.adapters.db.engine import Database
from hub.adapters.db.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hub.api import webhooks as webhooks_api
from hub.app import create_app
from hub.config import Settings
from hub.context import HubContext
from hub.webhooks.worker import WebhookWorker
from tests.conftest import make_settings
from tests.integration.webhooks.receiver import Hit, Receiver
from tests.support.api import Api, User

SCHEDULE = "0.05,0.1"


@pytest.fixture
def settings(database: tuple[str, str | None]) -> Settings:
    return make_settings(database[0], WEBHOOK_ALLOW_PRIVATE="true", WEBHOOK_RETRY_SCHEDULE=SCHEDULE)


def with_webhook_api(app: Quart) -> Quart:
    """Register the webhook blueprint unless hub.app already does (remove once it is wired there)."""
    if webhooks_api.bp.name not in app.blueprints:
        app.register_blueprint(webhooks_api.bp)
    return app


@pytest.fixture
async def app(settings: Settings, context: HubContext) -> AsyncIterator[Quart]:
    application = with_webhook_api(create_app(settings, context))
    async with application.test_app():
        yield application


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.close()


class Clock:
    """A controllable clock for the worker's scheduling decisions."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


WorkerFactory = Callable[..., WebhookWorker]


@pytest.fixture
async def make_worker(
    context: HubContext, settings: Settings, database: tuple[str, str | None]
) -> AsyncIterator[WorkerFactory]:
    """Build workers (`own_db=True`: with a connection pool of their own); all stopped at teardown."""
    made: list[WebhookWorker] = []
    databases: list[Database] = []

    def factory(*, own_db: bool = False, **options: Any) -> WebhookWorker:
        db = context.db
        if own_db:
            db = Database(settings.database_url, schema=database[1])
            databases.append(db)
        options.setdefault("poll_interval", 0.05)
        worker = WebhookWorker(db, settings, **options)
        made.append(worker)
        return worker

    yield factory
    for worker in made:
        await worker.stop()
    for db in databases:
        await db.dispose()


def verify(hit: Hit, *secrets: str) -> dict[str, Any]:
    """Check the request's signature with each secret (standardwebhooks); return the parsed body."""
    assert secrets
    payload: dict[str, Any] = {}
    for secret in secrets:
        payload = Webhook(secret).verify(hit.body, hit.headers)
    return payload


async def admin_and_project(api: Api, key: str = "OPS") -> tuple[User, int]:
    owner = await api.user("Olive Owner")
    project = await api.project(owner, key)
    return owner, int(project["id"])


async def create_hook(api: Api, user: User, project_id: int, url: str, **fields: Any) -> dict[str, Any]:
    reply = await api.post(
        f"/api/projects/{project_id}/webhooks", json={"url": url, **fields}, token=user.token
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def deliveries(context: HubContext, endpoint_id: int | None = None) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    async with context.uow() as uow:
        return list(await uow.session.scalars(query))


async def attempts(context: HubContext, delivery_id: int) -> list[WebhookAttempt]:
    async with context.uow() as uow:
        return list(
            await uow.session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.id)
            )
        )


async def endpoint(context: HubContext, endpoint_id: int) -> WebhookEndpoint:
    async with context.uow() as uow:
        found = await uow.session.get(WebhookEndpoint, endpoint_id)
        assert found is not None
        return found


T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 10.0) -> T:
    """Poll `probe` until it returns something truthy; fail after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            found = await probe()
            if found:
                return found
            await asyncio.sleep(0.02)


async def all_with_status(context: HubContext, status: str) -> list[WebhookDelivery] | None:
    """All deliveries, once there are some and every one has `status`."""
    rows = await deliveries(context)
    return rows if rows and all(d.status == status for d in rows) else None


async def tried(context: HubContext, count: int) -> list[WebhookDelivery] | None:
    """All deliveries, once the first one has at least `count` attempts."""
    rows = await deliveries(context)
    return rows if rows and len(await attempts(context, rows[0].id)) >= count else None
