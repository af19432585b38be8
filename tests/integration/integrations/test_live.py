"""Over real HTTP on SQLite + in-process bus and on PostgreSQL + Redis: what an integration does reaches
the board's sockets and the outbound webhooks like any other change, attributed to the integration."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.adapters.db.engine import Database
from hub.adapters.db.webhook_models import WebhookDelivery
from hub.app import create_app
from hub.context import build_context
from hub.webhooks.worker import WebhookWorker
from tests.conftest import make_settings
from tests.integration.integrations.conftest import (
    alert,
    alertmanager_request,
    commit,
    github_request,
    notification,
    push,
)
from tests.integration.webhooks.conftest import verify
from tests.integration.webhooks.receiver import Receiver
from tests.support.api import HttpApi
from tests.support.database import fresh_sqlite, truncate_pg
from tests.support.live import served, ws_connect
from tests.support.services import require_redis
from tests.support.waiting import wait_until


@pytest.fixture(
    params=["sqlite-memory", pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis])]
)
async def stack(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None, dict[str, str]]]:
    if request.param == "sqlite-memory":
        yield fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path), None, {}
    else:
        redis_url = require_redis()
        url, schema = request.getfixturevalue("pg_schema")
        await truncate_pg(url, schema)
        yield url, schema, {"REDIS_URL": redis_url, "REDIS_PREFIX": f"sbt{uuid.uuid4().hex[:8]}"}


async def test_integration_changes_reach_sockets_and_outbound_webhooks(
    stack: tuple[str, str | None, dict[str, str]],
) -> None:
    url, schema, extra = stack
    settings = make_settings(url, WEBHOOK_ALLOW_PRIVATE="true", **extra)
    context = build_context(settings)
    if schema:
        await context.db.dispose()
        context.db = Database(url, schema=schema)
    app = create_app(settings, context)
    receiver = Receiver()
    await receiver.start()
    async with served(app, context) as address:
        api = HttpApi(f"http://{address}")
        worker = WebhookWorker(context.db, settings, poll_interval=0.05)
        try:
            owner = await api.user("Olive Owner")
            pid = (await api.project(owner, "OPS"))["id"]
            outbound = await api.post(
                f"/api/projects/{pid}/webhooks", json={"url": receiver.url()}, token=owner.token
            )
            assert outbound.status == 201, outbound.body
            github = (
                await api.post(
                    f"/api/projects/{pid}/integrations", json={"kind": "github"}, token=owner.token
                )
            ).body
            am = (
                await api.post(
                    f"/api/projects/{pid}/integrations", json={"kind": "alertmanager"}, token=owner.token
                )
            ).body
            async with ws_connect(address, f"/ws/projects/{pid}/tickets/", token=owner.token) as ws:
                firing = notification("firing", alert("InstanceDown"), summary="Database down")
                request = alertmanager_request(am["secret"], firing)
                reply = await api.post(f"/hooks/{am['id']}", data=request["data"], headers=request["headers"])
                assert reply.status == 200, reply.body
                created = await ws.recv_type("ticket_update")
                assert (created["action"], created["origin"]) == ("created", "alertmanager")
                assert created["data"]["reporter"]["name"] == "Alertmanager"
                assert created["data"]["priority"] == "urgent"
                key = created["data"]["key"]
                request = github_request(
                    github["secret"], "push", push("main", commit(f"Failover, fixes {key}"))
                )
                reply = await api.post(
                    f"/hooks/{github['id']}", data=request["data"], headers=request["headers"]
                )
                assert reply.status == 200, reply.body
                commented = await ws.recv_type("ticket_update")
                assert (commented["action"], commented["origin"]) == ("commented", "github")
                assert commented["data"]["comment"]["author"]["name"] == "GitHub"
                moved = await ws.recv_type("ticket_update")
                assert (moved["action"], moved["origin"], moved["data"]["status"]) == (
                    "status_changed",
                    "github",
                    "done",
                )

            async def sent() -> bool:
                await worker.run_once()
                return len(receiver.hits) >= 3

            await wait_until(sent, what="three webhook deliveries", within=15)
            bodies = [verify(hit, outbound.body["secret"]) for hit in receiver.hits]
            assert [b["type"] for b in bodies] == [
                "ticket.created",
                "comment.created",
                "ticket.status_changed",
            ]
            assert bodies[0]["actor_id"] == am["user_id"]
            assert bodies[0]["data"]["reporter"]["name"] == "Alertmanager"
            assert bodies[1]["actor_id"] == github["user_id"]
            assert bodies[1]["data"]["comment"]["origin"] == "github"
            assert bodies[2]["data"]["status"] == "done"
            async with context.uow() as uow:
                rows = list(await uow.session.scalars(select(WebhookDelivery)))
            assert {r.status for r in rows} == {"succeeded"}
        finally:
            await worker.stop()
            await api.aclose()
            await receiver.close()
