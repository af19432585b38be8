"""Two hub processes behind one PostgreSQL and one Redis: ending a session on one closes its sockets
on both, whether it ended over REST on either hub or from the command line (which publishes nothing:
the hubs' outbox poll delivers it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.realtime import codes
from tests.integration.realtime.test_multi_instance import (  # noqa: F401  (fixtures)
    _address,
    apis,
    database_url,
    two_hubs,
)
from tests.support.api import PASSWORD, HttpApi
from tests.support.live import ws_connect
from tests.support.process import HubProcess, run_cli

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_logout_and_deactivation_close_sockets_on_every_instance(
    tmp_path: Path,
    two_hubs: tuple[HubProcess, HubProcess],  # noqa: F811
    apis: tuple[HttpApi, HttpApi],  # noqa: F811
) -> None:
    hub_a, hub_b = two_hubs
    api_a, api_b = apis
    alice, bob = await api_a.user("Alice Archer"), await api_a.user("Bob Baker")
    other = (await api_b.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})).body
    async with (
        ws_connect(_address(hub_a), "/ws/notifications/", token=alice.token) as on_a,
        ws_connect(_address(hub_b), "/ws/notifications/", token=alice.token) as on_b,
        ws_connect(_address(hub_b), "/ws/notifications/", token=other["access_token"]) as other_on_b,
        ws_connect(_address(hub_a), "/ws/notifications/", token=bob.token) as bob_on_a,
        ws_connect(_address(hub_b), "/ws/notifications/", token=bob.token) as bob_on_b,
    ):
        out = await api_a.post(
            "/api/auth/logout", json={"refresh_token": alice.refresh_token}, token=alice.token
        )
        assert out.status == 204
        assert (await api_b.get("/api/me", token=alice.token)).status == 401  # at once, on the other hub too
        assert await on_a.closed_with(5) == codes.UNAUTHENTICATED
        assert await on_b.closed_with(5) == codes.UNAUTHENTICATED
        await other_on_b.send({"type": "ping"})
        assert (await other_on_b.recv_type("pong"))["type"] == "pong"

        env = dict(hub_a.env)
        done = run_cli(tmp_path, "user", "deactivate", bob.email, env=env)
        assert done.returncode == 0, done.stderr
        assert (await api_a.get("/api/me", token=bob.token)).status == 401
        assert await bob_on_a.closed_with(5) == codes.UNAUTHENTICATED
        assert await bob_on_b.closed_with(5) == codes.UNAUTHENTICATED
        await other_on_b.send({"type": "ping"})
        assert (await other_on_b.recv_type("pong"))["type"] == "pong"
