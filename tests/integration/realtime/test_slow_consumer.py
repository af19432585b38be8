"""A client that truly stops reading (a raw socket with a tiny receive buffer) while events keep coming:
the hub closes it with 4008, the close frame is in the stream behind its backlog, so the client sees
the code once it reads again, and one line is logged. Both limits: bytes behind, and a stall of normal
sized events that never adds up to the byte limit."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
from collections.abc import AsyncIterator

import pytest

from hub.realtime import codes
from tests.integration.realtime.conftest import Live, start_live
from tests.integration.realtime.test_frames import _stuck_client

LIMITS = {
    "WS_SEND_BUFFER_BYTES": "4096",  # the kernel holds a few KiB for the client, not megabytes
    "WS_SEND_QUEUE_BYTES": "200000",  # above the transport's 64 KiB high-water mark
    "WS_SEND_STALL_SECONDS": "0.5",
    "WS_CLOSE_GRACE_SECONDS": "20",  # the client reads again well before
}


@pytest.fixture
async def slow_live(stack: tuple[str, str | None, dict[str, str]]) -> AsyncIterator[Live]:
    hub, manager = await start_live(stack, **LIMITS)
    try:
        yield hub
    finally:
        await hub.api.aclose()
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]


def read_until_close(sock: socket.socket) -> tuple[list[dict[str, object]], int | None]:
    """Read the server's frames (unmasked, uncompressed) to the close frame: (messages, close code);
    code None if the stream ended without one."""
    sock.settimeout(10)
    data = b""
    messages: list[dict[str, object]] = []
    while True:
        while True:  # parse what is there
            if len(data) < 2:
                break
            opcode, size, offset = data[0] & 0x0F, data[1] & 0x7F, 2
            if size == 126:
                if len(data) < 4:
                    break
                size, offset = struct.unpack("!H", data[2:4])[0], 4
            elif size == 127:
                if len(data) < 10:
                    break
                size, offset = struct.unpack("!Q", data[2:10])[0], 10
            if len(data) < offset + size:
                break
            payload, data = data[offset : offset + size], data[offset + size :]
            if opcode == 0x8:
                return messages, struct.unpack("!H", payload[:2])[0]
            if opcode == 0x1:
                messages.append(json.loads(payload))
        try:
            chunk = sock.recv(65536)
        except ConnectionError:
            return messages, None
        if not chunk:
            return messages, None
        data += chunk


async def stall_until_closed(live: Live, description: str, most: int) -> tuple[list[str], socket.socket]:
    owner = await live.api.user("Alice Archer")
    pid = (await live.api.project(owner))["id"]
    stuck = await asyncio.to_thread(_stuck_client, live.address, f"/ws/projects/{pid}/tickets/", owner.token)
    keys = []
    try:
        for n in range(most):
            if live.realtime.stats.get("slow_consumer_closes"):
                break
            keys.append((await live.api.ticket(owner, pid, title=f"T{n}", description=description))["key"])
            await asyncio.sleep(0.01)
        assert live.realtime.stats.get("slow_consumer_closes") == 1, f"not closed after {len(keys)} events"
    except BaseException:
        stuck.close()
        raise
    return keys, stuck


async def expect_4008(stuck: socket.socket, keys: list[str]) -> None:
    try:
        messages, code = await asyncio.to_thread(read_until_close, stuck)
    finally:
        stuck.close()
    assert code == codes.SLOW_CONSUMER
    got = [m["data"]["key"] for m in messages if m.get("type") == "ticket_update"]  # type: ignore[index]
    assert got == keys[: len(got)]  # what it did get came in order, without gaps


async def test_a_reader_too_far_behind_gets_4008_when_it_reads_again(
    slow_live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hub.realtime.connection"):
        keys, stuck = await stall_until_closed(slow_live, "x" * 10_000, most=60)
    await asyncio.sleep(1.2)  # a reader paused a little longer (the hub used to drop it after 1 s)
    await expect_4008(stuck, keys)
    [line] = [r.getMessage() for r in caplog.records if "slow consumer" in r.getMessage()]
    assert "4008" in line


async def test_a_stalled_reader_of_small_events_gets_4008_within_the_stall_limit(slow_live: Live) -> None:
    keys, stuck = await stall_until_closed(slow_live, "", most=300)
    await expect_4008(stuck, keys)
