"""Redis goes away and comes back: no event is lost or doubled for connected sockets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.bus.private_redis import PrivateRedis
from tests.integration.realtime.conftest import Live, start_live
from tests.support.live import ws_connect
from tests.support.services import require_binary


@pytest.fixture
async def live_private_redis(
    tmp_path: Path, pg_schema: tuple[str, str]
) -> AsyncIterator[tuple[Live, PrivateRedis]]:
    from tests.support.database import truncate_pg

    redis = PrivateRedis(require_binary("redis-server"), tmp_path)
    redis.start()
    url, schema = pg_schema
    await truncate_pg(url, schema)
    hub, manager = await start_live(
        (url, schema, {"REDIS_URL": redis.url, "REDIS_PREFIX": uuid.uuid4().hex[:8]})
    )
    try:
        yield hub, redis
    finally:
        await hub.api.aclose()
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
        redis.kill()


@pytest.mark.postgres
@pytest.mark.redis
async def test_events_written_during_a_redis_outage_arrive_once(
    live_private_redis: tuple[Live, PrivateRedis],
) -> None:
    live, redis = live_private_redis
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    async with ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=user.token) as ws:
        await live.api.ticket(user, pid, title="before")
        assert (await ws.recv())["data"]["title"] == "before"
        redis.kill()
        during = [await live.api.ticket(user, pid, title=f"during {n}") for n in range(3)]
        assert all(t["key"] for t in during)  # writes keep working without Redis
        got = [await ws.recv(within=6) for _ in range(3)]
        assert [m["data"]["title"] for m in got] == ["during 0", "during 1", "during 2"]
        redis.start()
        await live.api.ticket(user, pid, title="after")
        assert (await ws.recv(within=10))["data"]["title"] == "after"
        assert await ws.silent(1.5) == []
    ready = await live.api.get("/readyz")
    assert ready.status == 200
