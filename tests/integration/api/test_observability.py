"""Request ids, redacted access logs, Prometheus metrics."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from hub.adapters.db.models import Event
from hub.context import HubContext
from hub.observability.logs import JsonFormatter, redact
from tests.support.api import Api


def test_tokens_are_redacted() -> None:
    assert redact("/ws/notifications/?token=eyJabc.def&x=1") == "/ws/notifications/?token=[redacted]&x=1"
    assert redact("Authorization: Bearer eyJabc.def") == "Authorization: Bearer [redacted]"
    assert redact("subprotocol bearer.eyJabc.def") == "subprotocol bearer.[redacted]"


async def test_request_id_is_returned_logged_and_written_on_events(
    api: Api, context: HubContext, caplog: pytest.LogCaptureFixture
) -> None:
    user = await api.user()
    with caplog.at_level(logging.INFO, logger="switchboard.access"):
        reply = await api.post(
            "/api/projects",
            json={"key": "RID", "name": "Traced"},
            token=user.token,
            headers={"X-Request-ID": "req-123"},
        )
        await api.get("/api/me", query={"token": "secret-value"}, token=user.token)
    assert reply.headers["X-Request-ID"] == "req-123"
    async with context.uow() as uow:
        event = await uow.session.scalar(select(Event).where(Event.type == "project.created"))
    assert event is not None
    assert event.request_id == "req-123"
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert any('"request_id": "req-123"' in line and '"status": 201' in line for line in lines)
    assert not any("secret-value" in line for line in lines)
    assert any("token=[redacted]" in line for line in lines)


async def test_metrics_endpoint(api: Api) -> None:
    user = await api.user()
    pid = (await api.project(user))["id"]
    await api.ticket(user, pid)
    text = (await api.get("/metrics")).body.decode()
    route = "/api/projects/<int:project_id>/tickets"
    assert f'switchboard_http_requests_total{{method="POST",route="{route}",status="201"}} 1.0' in text
    assert "switchboard_events_published_total" in text
    assert 'switchboard_open_sockets{endpoint="tickets"} 0.0' in text
    assert "switchboard_fanout_latency_seconds_bucket" in text
    # Webhook outcomes exist at zero before any attempt (tests/integration/webhooks/test_metrics.py).
    for outcome in ("succeeded", "retrying", "failed", "dead"):
        assert f'switchboard_webhook_attempts_total{{outcome="{outcome}"}} 0.0' in text
    assert "# TYPE switchboard_chat_relay_lag_seconds histogram" in text


async def test_readyz_fails_while_the_database_is_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hub.app import create_app
    from tests.conftest import make_settings

    settings = make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    app = create_app(settings)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        body = await ready.get_json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"].startswith("error")
