"""Thousands of WebSocket subscribers in one asyncio process, cheap enough not to be the bottleneck.

Each subscriber is an `asyncio.Protocol` driving the `websockets` library's sans-I/O
`ClientProtocol` (handshake, framing, close handshake and control frames are the library's): no task
and no future per message, just `data_received` → parse frames → record. The receive time is taken
once per TCP read, before any parsing, so client-side work does not inflate the latency of the
messages in that read.

Every `ticket_update` whose title is a benchmark title (`bench <seq> <t_send>`) is counted per
subscriber and per sequence number, which gives loss and duplicates exactly, and its latency is
recorded. A server `{"type":"ping"}` is answered with `{"type":"pong"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from benchlib.titles import parse_title

PONG = b'{"type":"pong"}'


class SubscriberError(Exception):
    """A socket closed (or was refused) before it announced `ready`."""


class Subscriber(asyncio.Protocol):
    """One client socket; its counters live in `counts` (one byte per sequence number)."""

    def __init__(self, pool: SubscriberPool, path: str, subprotocols: Sequence[str]) -> None:
        self.pool = pool
        self.protocol = ClientProtocol(
            parse_uri(f"ws://{pool.host}:{pool.port}{path}"),
            subprotocols=[Subprotocol(p) for p in subprotocols],
            max_size=1 << 20,
        )
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[int] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.counts = bytearray(pool.capacity)
        self.last_event_id = 0

    # -- asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self.pool.on_text(self, event.data, now)
                elif event.opcode is Opcode.CLOSE:
                    self._fail_ready()
            elif isinstance(event, Response) and protocol.handshake_exc is not None:
                self._fail_ready()
        self._flush()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_ready()
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    # -- helpers ------------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """Announced `ready` and still open."""
        ready = self.ready
        return ready.done() and not ready.cancelled() and ready.exception() is None and not self.closed.done()

    @property
    def subscribed(self) -> bool:
        """Announced `ready` (it may have closed since: then what it missed counts as lost)."""
        ready = self.ready
        return ready.done() and not ready.cancelled() and ready.exception() is None

    @property
    def close_code(self) -> int | None:
        received = self.protocol.close_rcvd
        return received.code if received is not None else None

    def _fail_ready(self) -> None:
        if not self.ready.done():
            reason = self.protocol.handshake_exc or f"closed with {self.close_code}"
            self.ready.set_exception(SubscriberError(str(reason)))

    def _flush(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        for chunk in self.protocol.data_to_send():
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()

    def send_text(self, text: bytes) -> None:
        with contextlib.suppress(Exception):  # the socket may be closing; a lost pong is harmless
            self.protocol.send_text(text)
            self._flush()

    async def close(self, within: float = 2.0) -> None:
        """Close handshake with code 1000; abort the TCP connection if the server is slow to finish."""
        if self.transport is None:
            return
        with contextlib.suppress(Exception):
            self.protocol.send_close(1000)
            self._flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), within)
        self.transport.abort()


@dataclass
class PoolStats:
    """What the subscribers saw, summed over all of them."""

    messages: int = 0
    bytes: int = 0
    bench_messages: int = 0
    bench_bytes: int = 0
    foreign: int = 0
    out_of_order: int = 0
    other_types: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    first_receive: float | None = None
    last_receive: float | None = None


class SubscriberPool:
    """Connects and tracks many `Subscriber`s to one server.

    `capacity` bounds the sequence numbers counted (one byte per number per subscriber).
    """

    def __init__(self, host: str, port: int, *, capacity: int) -> None:
        self.host = host
        self.port = port
        self.capacity = capacity
        self.subscribers: list[Subscriber] = []
        self.stats = PoolStats()
        self.connect_errors: Counter[str] = Counter()
        self.on_progress: Callable[[], None] | None = None

    def on_text(self, sub: Subscriber, data: bytes | bytearray | memoryview, now: float) -> None:
        stats = self.stats
        stats.messages += 1
        stats.bytes += len(data)
        message = orjson.loads(data)
        kind = message.get("type")
        if kind == "ticket_update":
            event_id = int(message.get("event_id") or 0)
            if event_id <= sub.last_event_id:
                stats.out_of_order += 1
            sub.last_event_id = event_id
            parsed = parse_title(str(message["data"].get("title", "")))
            if parsed is None or parsed[0] >= self.capacity:
                stats.foreign += 1
                return
            seq, t_send = parsed
            count = sub.counts[seq]
            sub.counts[seq] = min(count + 1, 255)
            stats.bench_messages += 1
            stats.bench_bytes += len(data)
            stats.latencies.append(now - t_send)
            if stats.first_receive is None:
                stats.first_receive = now
            stats.last_receive = now
        elif kind == "ready":
            if not sub.ready.done():
                sub.ready.set_result(int(message.get("last_event_id") or 0))
        elif kind == "ping":
            sub.send_text(PONG)
        else:
            stats.other_types[str(kind)] += 1

    async def connect(
        self,
        count: int,
        path: str,
        auth: Callable[[int], Sequence[str]],
        *,
        concurrency: int = 500,
        each_within: float = 60.0,
    ) -> float:
        """Open `count` sockets (`auth(i)` gives socket i's subprotocols), at most `concurrency`
        handshakes at a time; wait until each announced `ready`. Returns the seconds it took.

        Sockets that fail are counted in `connect_errors` (by reason) rather than raised, so a run
        reports how many were refused instead of dying on the first one.
        """
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> None:
            async with gate:
                try:
                    _transport, sub = await loop.create_connection(
                        lambda: Subscriber(self, path, auth(index)), self.host, self.port
                    )
                    self.subscribers.append(sub)
                    await asyncio.wait_for(sub.ready, each_within)
                except (OSError, SubscriberError, TimeoutError) as exc:
                    self.connect_errors[f"{type(exc).__name__}: {exc}"[:120]] += 1

        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(count))), each_within * 2)
        return time.monotonic() - started

    @property
    def ready_count(self) -> int:
        return sum(1 for s in self.subscribers if s.ok)

    def delivered(self, seqs: Sequence[int]) -> tuple[int, int, int]:
        """(delivered, lost, duplicates) over the ready subscribers for the sequence numbers given."""
        delivered = lost = duplicates = 0
        for sub in self.subscribers:
            if not sub.subscribed:
                continue
            counts = sub.counts
            for seq in seqs:
                count = counts[seq]
                if count:
                    delivered += 1
                    duplicates += count - 1
                else:
                    lost += 1
        return delivered, lost, duplicates

    def close_codes(self) -> Counter[str]:
        return Counter(str(s.close_code) for s in self.subscribers if s.closed.done())

    async def wait_for(self, expected: int, *, idle: float = 3.0, limit: float = 60.0) -> None:
        """Return when `expected` benchmark messages arrived, nothing new came for `idle` seconds, or
        `limit` seconds passed — whichever is first."""
        deadline = time.monotonic() + limit
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_seen = self.stats.bench_messages
            if now_seen >= expected:
                return
            if now_seen != seen:
                seen, since = now_seen, time.monotonic()
            elif time.monotonic() - since > idle:
                return
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for start in range(0, len(self.subscribers), 500):
            await asyncio.gather(*(s.close() for s in self.subscribers[start : start + 500]))
        self.subscribers.clear()
