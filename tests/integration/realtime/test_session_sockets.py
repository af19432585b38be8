"""Ending a session closes its sockets with 4001 at once; the user's other sessions stay connected."""

from __future__ import annotations

from sqlalchemy import update

from hub.adapters.db.models import User
from hub.realtime import codes
from tests.integration.realtime.conftest import Live
from tests.support.api import PASSWORD
from tests.support.live import Socket, ws_connect


async def _still_open(sock: Socket) -> bool:
    await sock.send({"type": "ping"})
    return (await sock.recv_type("pong"))["type"] == "pong"


async def test_logout_closes_that_sessions_sockets_and_no_other(live: Live) -> None:
    api = live.api
    alice = await api.user("Alice Archer")
    pid = (await api.project(alice))["id"]
    other = (await api.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})).body
    async with (
        ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=alice.token) as tickets,
        ws_connect(live.address, "/ws/notifications/", token=alice.token) as notes,
        ws_connect(live.address, f"/ws/projects/{pid}/presence/", token=alice.token) as presence,
        ws_connect(live.address, "/ws/notifications/", token=other["access_token"]) as elsewhere,
    ):
        await presence.recv_type("presence_state")
        out = await api.post(
            "/api/auth/logout", json={"refresh_token": alice.refresh_token}, token=alice.token
        )
        assert out.status == 204
        assert await tickets.closed_with(5) == codes.UNAUTHENTICATED
        assert await notes.closed_with(5) == codes.UNAUTHENTICATED
        assert await presence.closed_with(5) == codes.UNAUTHENTICATED
        assert await _still_open(elsewhere)
        assert [m for m in await elsewhere.silent(0.3) if m.get("type") != "pong"] == []
    async with ws_connect(live.address, "/ws/notifications/", token=alice.token, expect_ready=False) as again:
        assert await again.closed_with(5) == codes.UNAUTHENTICATED


async def test_password_change_closes_the_other_sessions_sockets(live: Live) -> None:
    api = live.api
    alice = await api.user("Alice Archer")
    other = (await api.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})).body
    async with (
        ws_connect(live.address, "/ws/notifications/", token=alice.token) as mine,
        ws_connect(live.address, "/ws/notifications/", token=other["access_token"]) as theirs,
    ):
        changed = await api.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": "violet-lantern-harbour"},
            token=alice.token,
        )
        assert changed.status == 204
        assert await theirs.closed_with(5) == codes.UNAUTHENTICATED
        assert await _still_open(mine)


async def test_deactivation_closes_every_socket_of_the_user(live: Live) -> None:
    api = live.api
    admin, bob = await api.user("Ada Admin"), await api.user("Bob Baker")
    async with live.context.uow() as uow:
        await uow.session.execute(update(User).where(User.id == admin.id).values(is_admin=True))
        await uow.commit()
    pid = (await api.project(admin))["id"]
    await api.add(admin, pid, bob, "member")
    second = (await api.post("/api/auth/login", json={"email": bob.email, "password": PASSWORD})).body
    async with (
        ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=bob.token) as tickets,
        ws_connect(live.address, "/ws/notifications/", token=second["access_token"]) as notes,
        ws_connect(live.address, "/ws/notifications/", token=admin.token) as admins,
    ):
        reply = await api.post(f"/api/users/{bob.id}/deactivate", token=admin.token)
        assert reply.status == 200
        assert await tickets.closed_with(5) == codes.UNAUTHENTICATED
        assert await notes.closed_with(5) == codes.UNAUTHENTICATED
        assert await _still_open(admins)


async def test_reuse_of_a_refresh_token_closes_the_sessions_sockets(live: Live) -> None:
    api = live.api
    alice = await api.user("Alice Archer")
    async with ws_connect(live.address, "/ws/notifications/", token=alice.token) as sock:
        for status in (200, 200, 401):  # rotate, replay once (forgiven), replay again (theft)
            reply = await api.post("/api/auth/refresh", json={"refresh_token": alice.refresh_token})
            assert reply.status == status
        assert await sock.closed_with(5) == codes.UNAUTHENTICATED


async def test_a_socket_reauthenticated_with_another_session_follows_it(live: Live) -> None:
    api = live.api
    alice = await api.user("Alice Archer")
    other = (await api.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})).body
    async with ws_connect(live.address, "/ws/notifications/", token=alice.token) as sock:
        await sock.send({"type": "auth", "token": other["access_token"]})
        assert (await sock.recv_type("auth_ok"))["type"] == "auth_ok"
        await api.post("/api/auth/logout", json={"refresh_token": alice.refresh_token}, token=alice.token)
        assert await _still_open(sock)  # it belongs to the other session now
        await api.post("/api/auth/logout", json={}, token=other["access_token"])
        assert await sock.closed_with(5) == codes.UNAUTHENTICATED
