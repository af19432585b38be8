"""A user's notifications sockets hear about their own memberships (`project_added`, `project_removed`),
and a removal cuts the removed member's sockets off on every instance (issue #14)."""

from __future__ import annotations

import pytest

from tests.integration.realtime.conftest import Live, start_live
from tests.support.live import ws_connect


async def test_notifications_socket_hears_own_membership_changes(live: Live) -> None:
    owner, bob, carol = await live.api.user(), await live.api.user(), await live.api.user()
    project = await live.api.project(owner)
    pid = project["id"]
    async with (
        ws_connect(live.address, "/ws/notifications/", token=bob.token) as mine,
        ws_connect(live.address, "/ws/notifications/", token=carol.token) as theirs,
    ):
        await live.api.add(owner, pid, bob, "member")
        added = await mine.recv_type("project_added")
        assert added["project"]["id"] == pid
        assert (added["project"]["key"], added["project"]["role"]) == ("OPS", "member")
        assert (
            await live.api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)
        ).status == 204
        removed = await mine.recv_type("project_removed")
        assert removed["project_id"] == pid
        assert removed["event_id"] > added["event_id"]
        assert [m for m in await theirs.silent(0.3) if m["type"].startswith("project_")] == []


@pytest.mark.parametrize(
    "stack", [pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis])], indirect=True
)
async def test_removal_cuts_off_sockets_on_another_instance(stack) -> None:  # type: ignore[no-untyped-def]
    """Two hubs sharing PostgreSQL and Redis: bob's sockets are on B, the removal is made through A."""
    a, manager_a = await start_live(stack)
    b, manager_b = await start_live(stack)
    try:
        owner, bob = await a.api.user(), await a.api.user()
        pid = (await a.api.project(owner))["id"]
        await a.api.add(owner, pid, bob, "member")
        async with (
            ws_connect(b.address, f"/ws/projects/{pid}/tickets/", token=bob.token) as tickets,
            ws_connect(b.address, f"/ws/projects/{pid}/presence/", token=bob.token) as presence,
            ws_connect(b.address, "/ws/notifications/", token=bob.token) as notes,
        ):
            await presence.recv_type("presence_state")
            removed = await a.api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)
            assert removed.status == 204
            assert (await notes.recv_type("project_removed"))["project_id"] == pid
            assert await tickets.closed_with() == 4003
            assert await presence.closed_with() == 4003
    finally:
        for hub, manager in ((a, manager_a), (b, manager_b)):
            await hub.api.aclose()
            await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
