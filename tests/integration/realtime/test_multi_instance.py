"""Two hub processes behind one PostgreSQL and one Redis serve one project together."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.api import HttpApi
from tests.support.database import exec_autocommit
from tests.support.live import ws_connect
from tests.support.process import HubProcess, cli_env, run_cli
from tests.support.services import require_postgres, require_redis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def database_url() -> Iterator[str]:
    base = require_postgres()
    name = f"sbmulti_{uuid.uuid4().hex[:8]}"
    asyncio.run(exec_autocommit(base, f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(exec_autocommit(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def two_hubs(tmp_path: Path, database_url: str) -> Iterator[tuple[HubProcess, HubProcess]]:
    env = cli_env(
        tmp_path, DATABASE_URL=database_url, REDIS_URL=require_redis(), REDIS_PREFIX=uuid.uuid4().hex[:8]
    )
    migrated = run_cli(tmp_path, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    a, b = HubProcess(tmp_path, env), HubProcess(tmp_path, env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.fixture
async def apis(two_hubs: tuple[HubProcess, HubProcess]) -> AsyncIterator[tuple[HttpApi, HttpApi]]:
    a, b = HttpApi(two_hubs[0].url), HttpApi(two_hubs[1].url)
    yield a, b
    await a.aclose()
    await b.aclose()


def _address(hub: HubProcess) -> str:
    return f"127.0.0.1:{hub.port}"


async def test_two_instances_share_tickets_notifications_and_presence(
    two_hubs: tuple[HubProcess, HubProcess], apis: tuple[HttpApi, HttpApi]
) -> None:
    hub_a, hub_b = two_hubs
    api_a, _api_b = apis
    alice, bob = await api_a.user("Alice Archer"), await api_a.user("Bob Baker")
    pid = (await api_a.project(alice))["id"]
    await api_a.add(alice, pid, bob, "member")
    async with (
        ws_connect(_address(hub_b), f"/ws/projects/{pid}/tickets/", token=bob.token) as tickets_on_b,
        ws_connect(_address(hub_b), "/ws/notifications/", token=bob.token) as notes_on_b,
        ws_connect(_address(hub_b), f"/ws/projects/{pid}/presence/", token=bob.token) as presence_on_b,
    ):
        await presence_on_b.recv_type("presence_state")
        ticket = await api_a.ticket(alice, pid, title="Made on A", assignee_id=bob.id)
        seen = await tickets_on_b.recv()
        assert (seen["action"], seen["data"]["id"]) == ("created", ticket["id"])
        note = await notes_on_b.recv()
        assert note["data"]["notification_type"] == "ticket_assigned"
        async with ws_connect(_address(hub_a), f"/ws/projects/{pid}/presence/", token=alice.token) as on_a:
            state = await on_a.recv_type("presence_state")
            assert sorted(u["user_id"] for u in state["users"]) == sorted([alice.id, bob.id])
            await presence_on_b.send({"type": "viewing", "ticket_id": ticket["id"]})
            viewing = await on_a.recv_type("viewing")
            assert viewing["user_id"] == bob.id
        assert await tickets_on_b.silent(0.5) == []
