"""The three sockets over real WebSockets: auth, close codes, messages, ping, errors, origins."""

from __future__ import annotations

import asyncio
import contextlib
import time

import jwt
import pytest
from websockets.exceptions import InvalidStatus

from hub.adapters.db.models import User
from tests.conftest import SECRET
from tests.integration.realtime.conftest import Live
from tests.support.live import ws_connect
from tests.support.waiting import wait_until


async def test_missing_bad_and_expired_tokens_close_4001(live: Live) -> None:
    user = await live.api.user()
    project = await live.api.project(user)
    path = f"/ws/projects/{project['id']}/tickets/"
    async with ws_connect(live.address, path, expect_ready=False) as ws:
        assert await ws.closed_with() == 4001
    async with ws_connect(live.address, path, token="garbage", via="query", expect_ready=False) as ws:
        assert await ws.closed_with() == 4001
    expired = jwt.encode({"sub": str(user.id), "typ": "access", "exp": int(time.time()) - 5}, SECRET, "HS256")
    async with ws_connect(live.address, "/ws/notifications/", token=expired, expect_ready=False) as ws:
        assert await ws.closed_with() == 4001


async def test_outsiders_and_unknown_projects_close_4003(live: Live) -> None:
    owner, stranger = await live.api.user(), await live.api.user()
    project = await live.api.project(owner)
    for kind in ("tickets", "presence"):
        path = f"/ws/projects/{project['id']}/{kind}/"
        async with ws_connect(live.address, path, token=stranger.token, expect_ready=False) as ws:
            assert await ws.closed_with() == 4003
        path = f"/ws/projects/999999/{kind}/"
        async with ws_connect(live.address, path, token=owner.token, expect_ready=False) as ws:
            assert await ws.closed_with() == 4003


async def test_site_admins_may_watch_any_project_and_deleted_users_close_4001(live: Live) -> None:
    owner, admin, gone = await live.api.user(), await live.api.user(), await live.api.user()
    project = await live.api.project(owner)
    await live.api.add(owner, project["id"], gone, "member")
    async with live.context.uow() as uow:
        (await uow.session.get(User, admin.id)).is_admin = True  # type: ignore[union-attr]
        await uow.session.delete(await uow.session.get(User, gone.id))
        await uow.commit()
    path = f"/ws/projects/{project['id']}/tickets/"
    async with ws_connect(live.address, path, token=admin.token) as ws:
        assert ws.ready is not None  # not a member, but a site admin: admitted as owner
    async with ws_connect(
        live.address, "/ws/projects/999999/tickets/", token=admin.token, expect_ready=False
    ) as ws:
        assert await ws.closed_with() == 4003  # admins too: an unknown project is refused
    async with ws_connect(live.address, path, token=gone.token, expect_ready=False) as ws:
        assert await ws.closed_with() == 4001  # a valid token of a deleted user


async def test_token_in_subprotocol_or_query_and_ticket_messages(live: Live) -> None:
    owner, bob = await live.api.user("Alice Archer"), await live.api.user("Bob Baker")
    project = await live.api.project(owner)
    pid = project["id"]
    await live.api.add(owner, pid, bob, "member")
    async with (
        ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=bob.token) as by_header,
        ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=bob.token, via="query") as by_query,
    ):
        assert by_header.ws.subprotocol == "switchboard"
        await by_header.send({"type": "ping"})
        assert await by_header.recv() == {"type": "pong"}
        ticket = await live.api.ticket(owner, pid, title="Live one")
        for ws in (by_header, by_query):
            message = await ws.recv()
            assert message["type"] == "ticket_update"
            assert message["action"] == "created"
            assert message["project_id"] == pid
            assert message["data"]["key"] == ticket["key"]
            assert isinstance(message["event_id"], int)
        await live.api.patch(f"/api/tickets/{ticket['id']}", json={"status": "done"}, token=owner.token)
        moved = await by_header.recv()
        assert (moved["action"], moved["data"]["status"]) == ("status_changed", "done")
        assert moved["event_id"] > message["event_id"]
        await live.api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "hi"}, token=bob.token)
        commented = await by_header.recv()
        assert commented["action"] == "commented"
        assert commented["data"]["ticket_id"] == ticket["id"]
        assert commented["data"]["comment"]["body"] == "hi"


async def test_malformed_and_unknown_messages_get_errors_and_the_socket_stays(live: Live) -> None:
    user = await live.api.user()
    project = await live.api.project(user)
    async with ws_connect(live.address, f"/ws/projects/{project['id']}/tickets/", token=user.token) as ws:
        await ws.ws.send("{nope")
        assert (await ws.recv())["code"] == "invalid_json"
        await ws.send({"type": "dance"})
        error = await ws.recv()
        assert (error["type"], error["code"]) == ("error", "unknown_type")
        await ws.send({"type": "viewing", "ticket_id": 1})  # presence-only message on a ticket socket
        assert (await ws.recv())["code"] == "unknown_type"
        await ws.send({"type": "ping"})
        assert await ws.recv() == {"type": "pong"}


async def test_foreign_browser_origins_are_refused(live: Live) -> None:
    user = await live.api.user()
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(
            live.address, "/ws/notifications/", token=user.token, origin="https://evil.example"
        ):
            pass
    assert refused.value.response.status_code == 403
    async with ws_connect(
        live.address, "/ws/notifications/", token=user.token, origin=f"http://{live.address}"
    ) as ws:
        await ws.send({"type": "ping"})
        assert await ws.recv() == {"type": "pong"}


async def test_expiring_token_closes_4001_unless_renewed(live: Live) -> None:
    user = await live.api.user()
    short = jwt.encode({"sub": str(user.id), "typ": "access", "exp": int(time.time()) + 2}, SECRET, "HS256")
    async with (
        ws_connect(live.address, "/ws/notifications/", token=short) as lapsing,
        ws_connect(live.address, "/ws/notifications/", token=short) as renewed,
    ):
        await renewed.send({"type": "auth", "token": user.token})
        assert (await renewed.recv())["type"] == "auth_ok"
        assert await lapsing.closed_with(within=6) == 4001
        await renewed.send({"type": "ping"})
        assert await renewed.recv() == {"type": "pong"}
        other = await live.api.user()
        await renewed.send({"type": "auth", "token": other.token})
        assert (await renewed.recv())["code"] == "invalid_token"


async def test_removed_member_is_cut_off_at_once(live: Live) -> None:
    owner, bob = await live.api.user(), await live.api.user()
    project = await live.api.project(owner)
    pid = project["id"]
    await live.api.add(owner, pid, bob, "member")
    async with (
        ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=bob.token) as tickets,
        ws_connect(live.address, f"/ws/projects/{pid}/presence/", token=bob.token) as presence,
    ):
        await presence.recv_type("presence_state")
        removed = await live.api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)
        assert removed.status == 204
        assert await tickets.closed_with() == 4003
        assert await presence.closed_with() == 4003


async def test_shutdown_closes_sockets_with_1012(stack) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.realtime.conftest import start_live

    hub, manager = await start_live(stack)
    user = await hub.api.user()
    try:
        async with ws_connect(hub.address, "/ws/notifications/", token=user.token) as ws:
            await hub.api.aclose()
            exiting = asyncio.create_task(manager.__aexit__(None, None, None))  # type: ignore[attr-defined]
            assert await ws.closed_with() == 1012
            await exiting
    finally:
        if not exiting.done():
            await exiting


async def test_sockets_per_user_are_limited(live: Live) -> None:
    user = await live.api.user()
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(32):
            await stack.enter_async_context(ws_connect(live.address, "/ws/notifications/", token=user.token))
        assert live.realtime.fanout.sockets_of(user.id) == 32
        async with ws_connect(live.address, "/ws/notifications/", token=user.token, expect_ready=False) as ws:
            assert await ws.closed_with() == 4029
    await wait_until(lambda: live.realtime.fanout.sockets_of(user.id) == 0, what="the sockets to be released")
    async with ws_connect(live.address, "/ws/notifications/", token=user.token) as ws:
        assert ws.ready is not None
