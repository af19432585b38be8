"""The per-socket send queue: bounded, closes slow consumers with 4008, drops duplicates."""

from __future__ import annotations

import asyncio

from hub.domain.identity import Actor
from hub.realtime import codes
from hub.realtime.connection import MAX_QUEUE_MESSAGES, Connection


class StuckSocket:
    """A peer that never reads: every send blocks until released."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.release = asyncio.Event()

    async def send(self, data: str) -> None:
        await self.release.wait()
        self.sent.append(data)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)


def _conn(socket: StuckSocket, stats: dict[str, int]) -> Connection:
    return Connection(socket, Actor(1, "A", "a@example.com"), 1e12, "tickets", 1, stats)


async def test_a_stuck_peer_is_closed_with_4008_and_counted() -> None:
    socket, stats = StuckSocket(), {}
    conn = _conn(socket, stats)
    conn.start_writer()
    await asyncio.sleep(0)
    for n in range(1, MAX_QUEUE_MESSAGES + 5):
        conn.push(n, f"message {n}")
    assert conn.closing
    assert conn.close_code == codes.SLOW_CONSUMER
    assert stats["slow_consumer_closes"] == 1
    assert len(conn.queue) == 0  # nothing more is held for it
    socket.release.set()
    await asyncio.wait_for(conn.writer, 2)  # type: ignore[arg-type]
    assert socket.closed is not None
    assert socket.closed[0] == codes.SLOW_CONSUMER


async def test_duplicates_and_replayed_events_are_not_sent_twice() -> None:
    socket, stats = StuckSocket(), {}
    socket.release.set()
    conn = _conn(socket, stats)
    conn.replaying = True
    conn.push(5, "live 5")  # arrives during the replay
    conn.push(6, "live 6")
    conn.last_event_id = 5  # the replay covered up to 5
    conn.finish_replay()
    conn.push(6, "dup 6")
    conn.push(7, "live 7")
    conn.start_writer()
    await asyncio.sleep(0.05)
    assert socket.sent == ["live 6", "live 7"]
    await conn.stop_writer()


async def test_a_replayed_backlog_does_not_count_against_the_live_limit() -> None:
    socket, stats = StuckSocket(), {}
    conn = _conn(socket, stats)
    for n in range(300):
        conn.send(f"replayed {n}", bounded=False)
    for n in range(1, MAX_QUEUE_MESSAGES + 1):
        conn.push(n, f"live {n}")
    assert not conn.closing  # 300 replayed + 256 live: the live part is exactly at its limit
    conn.push(MAX_QUEUE_MESSAGES + 1, "one too many")
    assert conn.close_code == codes.SLOW_CONSUMER
    assert stats["slow_consumer_closes"] == 1
