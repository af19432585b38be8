"""The direct frame path under Hypercorn: shared frames written straight into each connection, still
valid when the client negotiated permessage-deflate, in order, and a peer that stops reading is cut
off without holding up the others."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from dataclasses import replace

from hub.realtime import codes
from hub.realtime.asgi import FrameSocket
from tests.integration.realtime.conftest import Live
from tests.support.live import ws_connect


async def test_caught_up_sockets_get_frames_written_directly_in_order(live: Live) -> None:
    owner = await live.api.user("Alice Archer")
    pid = (await live.api.project(owner))["id"]
    async with ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=owner.token) as ws:
        # The websockets client offers permessage-deflate and Hypercorn accepts it: our uncompressed
        # frames must still be understood.
        assert "permessage-deflate" in (ws.ws.response.headers.get("Sec-WebSocket-Extensions") or "")
        [conn] = [c for c in live.realtime.fanout.connections() if c.actor.id == owner.id]
        await asyncio.sleep(0.05)
        assert isinstance(conn.live, FrameSocket)
        created = [await live.api.ticket(owner, pid, title=f"T{n}") for n in range(20)]
        got = [await ws.recv_type("ticket_update") for _ in created]
        assert [m["data"]["key"] for m in got] == [t["key"] for t in created]
        assert [m["event_id"] for m in got] == sorted(m["event_id"] for m in got)
        await ws.send({"type": "ping"})  # Hypercorn's and our frames interleave on one stream
        assert await ws.recv_type("pong") == {"type": "pong"}


async def test_events_that_arrive_together_reach_a_socket_in_one_write(live: Live) -> None:
    owner = await live.api.user("Alice Archer")
    pid = (await live.api.project(owner))["id"]
    live.realtime.fanout.coalesce = 2.0  # wide, so that three creates surely fall into one window
    async with ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=owner.token) as ws:
        [conn] = [c for c in live.realtime.fanout.connections() if c.actor.id == owner.id]
        await asyncio.sleep(0.05)
        assert isinstance(conn.live, FrameSocket)
        writer = conn.live._writer
        writes: list[bytes] = []
        original = writer.write

        def counting_write(data: bytes) -> None:
            if b"ticket_update" in data:
                writes.append(bytes(data))
            original(data)

        writer.write = counting_write  # type: ignore[method-assign]
        first = await live.api.ticket(owner, pid, title="First")
        assert (await ws.recv_type("ticket_update"))["data"]["key"] == first["key"]
        rest = await asyncio.gather(*(live.api.ticket(owner, pid, title=f"T{n}") for n in range(3)))
        got = [(await ws.recv_type("ticket_update"))["data"]["key"] for _ in rest]
        assert got == sorted((t["key"] for t in rest), key=lambda key: int(key.split("-")[1]))
        assert len(writes) == 2, [w.count(b"ticket_update") for w in writes]
        assert writes[1].count(b'"type":"ticket_update"') == 3


def _stuck_client(address: str, path: str, token: str) -> socket.socket:
    """A raw WebSocket client with a tiny receive buffer that completes the handshake, then never reads."""
    host, port = address.split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path}?token={token} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_peer_that_stops_reading_is_cut_off_and_the_others_get_everything(live: Live) -> None:
    owner = await live.api.user("Alice Archer")
    pid = (await live.api.project(owner))["id"]
    path = f"/ws/projects/{pid}/tickets/"
    stuck = await asyncio.to_thread(_stuck_client, live.address, path, owner.token)
    try:
        [conn] = list(live.realtime.fanout.connections())
        await asyncio.sleep(0.05)
        assert isinstance(conn.socket, FrameSocket)
        # A slow network path: the kernel may hold only a little for this peer (without this, Linux
        # buffers up to 4 MiB per socket before our 1 MiB backlog limit is even reached).
        raw = conn.socket._transport.get_extra_info("socket")
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        conn.limits = replace(conn.limits, close_grace=0.5)  # WS_CLOSE_GRACE_SECONDS
        async with ws_connect(live.address, path, token=owner.token) as reader:
            description = "x" * 10_000
            for n in range(130):  # 1.3 MB to each socket: past the 1 MiB backlog limit
                key = (await live.api.ticket(owner, pid, title=f"T{n}", description=description))["key"]
                got = await reader.recv_type("ticket_update")
                assert got["data"]["key"] == key
            assert live.realtime.stats.get("slow_consumer_closes") == 1
            assert conn.close_code == codes.SLOW_CONSUMER
            for _ in range(50):  # the close frame is not read within the grace: the connection is dropped
                if conn.socket._transport.is_closing() and conn not in live.realtime.fanout.connections():
                    break
                await asyncio.sleep(0.05)
            assert conn.socket._transport.is_closing()
            assert list(live.realtime.fanout.connections()) != [conn]
            assert len(list(live.realtime.fanout.connections())) == 1  # the reader is still there
    finally:
        stuck.close()
