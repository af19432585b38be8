"""Presence over real sockets: state on connect, joins, leaves, tabs counted once, viewing, typing."""

from __future__ import annotations

import asyncio

from tests.integration.realtime.conftest import Live
from tests.support.live import ws_connect
from tests.support.waiting import wait_until


async def test_presence_flow(live: Live) -> None:
    alice, bob = await live.api.user("Alice Archer"), await live.api.user("Bob Baker")
    pid = (await live.api.project(alice))["id"]
    await live.api.add(alice, pid, bob, "member")
    ticket = await live.api.ticket(alice, pid)
    path = f"/ws/projects/{pid}/presence/"
    async with ws_connect(live.address, path, token=alice.token) as a:
        state = await a.recv_type("presence_state")
        assert [u["user_id"] for u in state["users"]] == [alice.id]
        async with ws_connect(live.address, path, token=bob.token) as b1:
            state = await b1.recv_type("presence_state")
            assert sorted(u["user_id"] for u in state["users"]) == sorted([alice.id, bob.id])
            joined = await a.recv_type("user_joined")
            if joined["user"]["user_id"] == alice.id:  # alice's own join may come after her state
                joined = await a.recv_type("user_joined")
            assert joined["user"] == {"user_id": bob.id, "name": "Bob Baker", "viewing": None, "typing": None}
            async with ws_connect(live.address, path, token=bob.token) as b2:
                await b2.recv_type("presence_state")
                assert [m for m in await a.silent(0.3) if m["type"] == "user_joined"] == []  # tabs count once
                await b2.send({"type": "viewing", "ticket_id": ticket["id"]})
                viewing = await a.recv_type("viewing")
                assert viewing == {"type": "viewing", "user_id": bob.id, "ticket_id": ticket["id"]}
                await b2.send({"type": "typing", "ticket_id": ticket["id"], "is_typing": True})
                typing = await a.recv_type("typing")
                assert typing == {
                    "type": "typing",
                    "user_id": bob.id,
                    "ticket_id": ticket["id"],
                    "is_typing": True,
                }
                await b2.send({"type": "typing", "ticket_id": ticket["id"], "is_typing": False})
                assert (await a.recv_type("typing"))["is_typing"] is False
                await b2.send({"type": "typing", "ticket_id": "x", "is_typing": 1})
                assert (await b2.recv_type("error"))["code"] == "invalid_message"
            assert [m for m in await a.silent(0.3) if m["type"] == "user_left"] == []  # b1 still open
        left = await a.recv_type("user_left")
        assert left == {"type": "user_left", "user_id": bob.id}


async def test_typing_expires_without_refresh(live: Live) -> None:
    alice, bob = await live.api.user(), await live.api.user()
    pid = (await live.api.project(alice))["id"]
    await live.api.add(alice, pid, bob, "member")
    live.realtime.presence.typing_ttl = 1.0
    ticket = await live.api.ticket(alice, pid)  # typing names a ticket of the project
    path = f"/ws/projects/{pid}/presence/"
    async with (
        ws_connect(live.address, path, token=alice.token) as a,
        ws_connect(live.address, path, token=bob.token) as b,
    ):
        await b.recv_type("presence_state")
        await b.send({"type": "typing", "ticket_id": ticket["id"], "is_typing": True})
        assert (await a.recv_type("typing"))["is_typing"] is True
        started = asyncio.get_running_loop().time()
        stopped = await a.recv_type("typing", within=5)
        assert stopped["is_typing"] is False
        assert asyncio.get_running_loop().time() - started < 3.5


async def test_presence_changes_reach_the_bus_for_the_bots(live: Live) -> None:
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    heard: list[bytes] = []
    live.realtime.bus.add_listener(f"presence:{pid}", lambda _c, data: heard.append(data))
    await live.realtime.bus.wait_subscribed()
    async with ws_connect(live.address, f"/ws/projects/{pid}/presence/", token=user.token) as ws:
        await ws.recv_type("presence_state")
        await wait_until(lambda: any(b'"user_joined"' in m for m in heard), what="user_joined on the bus")
    await wait_until(lambda: any(b'"user_left"' in m for m in heard), what="user_left on the bus")


async def test_repeated_typing_is_throttled(live: Live) -> None:
    alice, bob = await live.api.user(), await live.api.user()
    pid = (await live.api.project(alice))["id"]
    await live.api.add(alice, pid, bob, "member")
    ticket = await live.api.ticket(alice, pid)
    path = f"/ws/projects/{pid}/presence/"
    async with (
        ws_connect(live.address, path, token=alice.token) as a,
        ws_connect(live.address, path, token=bob.token) as b,
    ):
        await b.recv_type("presence_state")
        for _ in range(5):
            await b.send({"type": "typing", "ticket_id": ticket["id"], "is_typing": True})
        assert (await a.recv_type("typing"))["is_typing"] is True
        extra = [m for m in await a.silent(0.5) if m["type"] == "typing"]
        assert extra == []
