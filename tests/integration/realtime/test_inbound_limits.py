"""What a client may send over a socket: the inbound rate limit (error, then close 4029), `viewing`
throttled with the last state winning, and ticket ids checked against the project."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from websockets.exceptions import ConnectionClosed

from hub.realtime import codes
from tests.integration.realtime.conftest import Live, stack, start_live  # noqa: F401  (the fixture)
from tests.support.live import ws_connect

Stack = tuple[str, str | None, dict[str, str]]


@pytest.fixture
async def tight(stack: Stack) -> AsyncIterator[Live]:  # noqa: F811
    """A hub whose sockets may send 5 messages per second, in bursts of 10."""
    live, manager = await start_live(stack, WS_INBOUND_RATE="5", WS_INBOUND_BURST="10")
    try:
        yield live
    finally:
        await live.api.aclose()
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]


async def test_a_flood_gets_one_error_then_4029(tight: Live) -> None:
    user = await tight.api.user()
    async with ws_connect(tight.address, "/ws/notifications/", token=user.token) as ws:
        for _ in range(200):
            await ws.send({"type": "ping"})
        got = []
        code = None
        try:
            while True:
                got.append(await ws.recv(within=5))
        except ConnectionClosed:  # the server closed the socket
            code = await ws.closed_with(within=5)
        pongs = [m for m in got if m["type"] == "pong"]
        errors = [m for m in got if m["type"] == "error"]
        assert 10 <= len(pongs) < 30  # the burst, plus what trickled back in meanwhile
        assert [e["code"] for e in errors] == ["rate_limited"]
        assert code == codes.RATE_LIMITED == 4029
    assert tight.realtime.stats["ws_rate_limited"] == 1


async def test_a_client_that_slows_down_stays_connected(tight: Live) -> None:
    user = await tight.api.user()
    async with ws_connect(tight.address, "/ws/notifications/", token=user.token) as ws:
        for _ in range(12):
            await ws.send({"type": "ping"})
        got = await ws.silent(0.5)
        assert [m["code"] for m in got if m["type"] == "error"] == ["rate_limited"]
        await ws.send({"type": "ping"})  # 0.5 s later: a token has come back
        assert await ws.recv() == {"type": "pong"}


async def test_viewing_is_throttled_and_the_last_state_wins(live: Live) -> None:
    alice, bob = await live.api.user(), await live.api.user()
    pid = (await live.api.project(alice))["id"]
    await live.api.add(alice, pid, bob, "member")
    first, second = (await live.api.ticket(alice, pid))["id"], (await live.api.ticket(alice, pid))["id"]
    live.realtime.presence.viewing_interval = 0.3
    path = f"/ws/projects/{pid}/presence/"
    async with (
        ws_connect(live.address, path, token=alice.token) as a,
        ws_connect(live.address, path, token=bob.token) as b,
    ):
        await b.recv_type("presence_state")
        for n in range(30):
            await b.send({"type": "viewing", "ticket_id": first if n % 2 == 0 else second})
        await b.send({"type": "viewing", "ticket_id": None})
        heard = [m for m in await a.silent(1.0) if m["type"] == "viewing" and m["user_id"] == bob.id]
        assert 1 <= len(heard) <= 3  # not 31 broadcasts
        assert heard[-1]["ticket_id"] is None  # the final state arrived after the quiet period
        await b.send({"type": "viewing", "ticket_id": second})
        assert (await a.recv_type("viewing"))["ticket_id"] == second


async def test_ticket_ids_must_belong_to_the_project(live: Live) -> None:
    alice, bob = await live.api.user(), await live.api.user()
    pid = (await live.api.project(alice))["id"]
    other = (await live.api.project(alice, "ELSE"))["id"]
    await live.api.add(alice, pid, bob, "member")
    foreign = (await live.api.ticket(alice, other))["id"]
    tickets = [(await live.api.ticket(alice, pid))["id"] for _ in range(5)]
    path = f"/ws/projects/{pid}/presence/"
    async with (
        ws_connect(live.address, path, token=alice.token) as a,
        ws_connect(live.address, path, token=bob.token) as b,
    ):
        await b.recv_type("presence_state")
        await b.send({"type": "viewing", "ticket_id": foreign})
        assert (await b.recv_type("error"))["code"] == "invalid_ticket"
        for ticket_id in (999_999, 2**63, -1):
            await b.send({"type": "typing", "ticket_id": ticket_id, "is_typing": True})
            assert (await b.recv_type("error"))["code"] == "invalid_ticket"
        assert [m for m in await a.silent(0.3) if m["type"] in ("viewing", "typing")] == []
        # Typing in many tickets at once keeps a bounded state per user.
        for ticket_id in tickets:
            await b.send({"type": "typing", "ticket_id": ticket_id, "is_typing": True})
        await b.send({"type": "ping"})
        await b.recv_type("pong")
        typing = [key for key in live.realtime.presence._typing if key[1] == bob.id]
        assert len(typing) == 3
    presence = live.realtime.presence
    for _ in range(100):  # the server notices the sockets closing a moment later
        if not [key for key in presence._typing if key[1] == bob.id] and not presence._viewing:
            break
        await asyncio.sleep(0.02)
    assert [key for key in presence._typing if key[1] == bob.id] == []
    assert presence._viewing == {}
