"""Thousands of WebSocket subscribers in one asyncio process, cheap enough not to be the bottleneck.

Each subscriber is a plain `asyncio.BufferedProtocol`: no task and no future per message, just
`buffer_updated` → parse frames → record. The opening handshake (and anything the server sends before
the socket is open, e.g. a refusal) goes through the `websockets` library's sans-I/O `ClientProtocol`,
which builds the upgrade request and validates the `101` answer (accept key, subprotocol). It is fed
the bytes only up to the blank line that ends the response head; once it reports the socket OPEN,
the subscriber switches to the small frame parser below for everything after that, including frames
that arrived in the same TCP read as the `101`.

The parser handles exactly what a server may send (RFC 6455, unmasked frames): a FIN+TEXT frame with
a 7-, 16- or 64-bit length (every message the hub sends) goes straight to `SubscriberPool.on_text`;
fragmented messages (TEXT or BINARY without FIN, then continuation frames) are reassembled; a PING is
answered with a masked PONG carrying the same payload; a CLOSE records its code (`close_code`; 1005
when it carries none), is answered with a masked close frame echoing the code, and the transport is
closed. A frame split across TCP reads waits in a per-socket buffer for the rest; all the frames in
one read are parsed. Anything malformed (a masked or reserved-bit frame, an unknown opcode, a stray
continuation, a control frame over 125 bytes, a message over 1 MiB) is counted in
`PoolStats.protocol_errors` and fails the socket with the close code websockets would send (1002 or
1009), so it shows in the results and whatever the socket misses counts as lost. Frames the client
sends (the `{"type":"pong"}` reply, pongs, close) are masked with a fresh random key.
`bench/benchlib/test_frames_selfcheck.py` feeds the parser byte streams split at every offset.

Why: at 400 requests/s and 100 subscribers the pool receives 40,000 messages/s on the core it shares
with the writer. Measured on that core against a local server that writes ~710-byte text frames to
100 sockets at 40,000 messages/s: `websockets` parsing frames under a plain `asyncio.Protocol` cost
17-18 µs of CPU per message when each TCP read carried one message (9-11 µs with four per read).
About half of that was not `websockets` but the kernel: a plain `Protocol` makes asyncio `recv()` into
a fresh 256 KiB bytes object per read, which glibc serves with mmap/mremap/munmap (three extra system
calls and page faults per read); reading into one pre-allocated buffer shared by all sockets
(`BufferedProtocol`, `SubscriberPool.read_buffer`) brought it to 9.7 µs (6.0-6.2 µs), and this parser
instead of `websockets`' generator-based reader (a `Frame` object, UTF-8 check and event queue per
message) to 7.2-7.5 µs (4.3-4.4 µs). In `writes.py --targets sqlite --duration 3` (1.1-1.5 messages
per read) the subscriber process went from 6.6-12.5 to 5.3-8.2 µs per received message (its CPU in the
measured window over the messages received, fixed costs included; runs differ by up to 1.5x).

The receive time is taken once per TCP read, before any parsing, so client-side work does not inflate
the latency of the messages in that read. Every `ticket_update` whose title is a benchmark title
(`bench <seq> <t_send>`) is counted per subscriber and per sequence number, which gives loss and
duplicates exactly, and its latency is recorded. A server `{"type":"ping"}` is answered with
`{"type":"pong"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from benchlib.titles import parse_title

PONG = b'{"type":"pong"}'
#: Largest message accepted (what `max_size` was for websockets); larger fails the socket with 1009.
MAX_MESSAGE = 1 << 20

# Opcodes (RFC 6455 section 5.2).
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
#: First byte of an unfragmented text frame: FIN, no reserved bits, TEXT.
FIN_TEXT = 0x80 | OP_TEXT
PROTOCOL_ERROR, MESSAGE_TOO_BIG, NO_STATUS_RCVD = 1002, 1009, 1005
#: Bytes per TCP read (asyncio's own `max_size` for `recv`).
READ_BUFFER = 256 * 1024


class SubscriberError(Exception):
    """A socket closed (or was refused) before it announced `ready`."""


def mask(payload: bytes, key: bytes) -> bytes:
    """`payload` XOR the 4-byte `key` repeated (RFC 6455 section 5.3)."""
    size = len(payload)
    if not size:
        return b""
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A complete, masked client frame with FIN set."""
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    key = os.urandom(4)
    return header + key + mask(payload, key)


class Subscriber(asyncio.BufferedProtocol):
    """One client socket; its counters live in `counts` (one byte per sequence number)."""

    __slots__ = (
        "_close_code",
        "_close_sent",
        "_fragment_opcode",
        "_fragments",
        "_head_tail",
        "_need",
        "_open",
        "_pending",
        "closed",
        "counts",
        "last_event_id",
        "pool",
        "protocol",
        "ready",
        "transport",
    )

    def __init__(self, pool: SubscriberPool, path: str, subprotocols: Sequence[str]) -> None:
        self.pool = pool
        self.protocol = ClientProtocol(
            parse_uri(f"ws://{pool.host}:{pool.port}{path}"),
            subprotocols=[Subprotocol(p) for p in subprotocols],
            max_size=MAX_MESSAGE,
        )
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[int] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.counts = bytearray(pool.capacity)
        self.last_event_id = 0
        #: True once the handshake succeeded: from then on frames are parsed here, not by `protocol`.
        self._open = False
        #: The last 3 bytes before the response head's end was found (the CRLFCRLF may span reads).
        self._head_tail: bytes | None = b""
        #: An incomplete frame carried over to the next read, and the bytes it needs to make progress.
        self._pending = bytearray()
        self._need = 0
        #: The parts of a fragmented message so far (None: not inside one) and its opcode.
        self._fragments: list[bytes] | None = None
        self._fragment_opcode = OP_TEXT
        self._close_code: int | None = None
        self._close_sent = False

    # -- asyncio.BufferedProtocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.pool.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self.pool.read_buffer[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        """One TCP read (`buffer_updated` calls it with what `recv_into` wrote)."""
        now = time.monotonic()
        if self._open:
            self._frames(data, now)
        else:
            self._handshake_data(data, now)

    def eof_received(self) -> bool | None:
        if not self._open:
            self.protocol.receive_eof()
            self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_ready()
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    # -- before the socket is open: the websockets protocol -----------------------------------------
    def _handshake_data(self, data: bytes, now: float) -> None:
        """Feed `protocol` up to the end of the response head; switch to our own parser if it
        accepted the handshake (the rest of `data` is frames), else keep feeding it everything."""
        protocol = self.protocol
        tail = self._head_tail
        rest = b""
        if tail is not None:  # still looking for the end of the response head
            joined = tail + data
            end = joined.find(b"\r\n\r\n")
            if end < 0:
                self._head_tail = joined[-3:]
            else:
                self._head_tail = None
                cut = end + 4 - len(tail)
                data, rest = data[:cut], data[cut:]
        protocol.receive_data(data)
        self._protocol_events(now)
        if protocol.state is State.OPEN and protocol.handshake_exc is None:
            self._open = True
            self._flush()
            if rest:
                self._frames(rest, now)
            return
        if rest:
            protocol.receive_data(rest)
            self._protocol_events(now)
        self._flush()

    def _protocol_events(self, now: float) -> None:
        protocol = self.protocol
        for event in protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self.pool.on_text(self, event.data, now)
                elif event.opcode is Opcode.CLOSE:
                    if protocol.close_rcvd is not None:
                        self._close_code = protocol.close_rcvd.code
                    self._fail_ready()
            elif isinstance(event, Response) and protocol.handshake_exc is not None:
                self._fail_ready()

    def _flush(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        for chunk in self.protocol.data_to_send():
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()

    # -- after: our frames --------------------------------------------------------------------------
    def _frames(self, data: bytes, now: float) -> None:
        """Parse every complete frame in what has arrived; keep an incomplete one for the next read."""
        pending = self._pending
        if pending:
            pending += data
            if len(pending) < self._need:
                return
            data = bytes(pending)
            pending.clear()
        size = len(data)
        pos = 0
        need = 0
        on_text = self.pool.on_text
        while True:
            left = size - pos
            if left < 2:
                need = 2
                break
            first = data[pos]
            length = data[pos + 1]
            if length < 126:
                start = pos + 2
            elif length == 126:
                if left < 4:
                    need = 4
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
            elif length == 127:
                if left < 10:
                    need = 10
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                start = pos + 10
            else:  # the MASK bit: a server must not mask
                self._fail(PROTOCOL_ERROR, "masked frame from the server")
                return
            if length > MAX_MESSAGE:
                self._fail(MESSAGE_TOO_BIG, "message over 1 MiB")
                return
            end = start + length
            if end > size:
                need = end - pos
                break
            if first == FIN_TEXT and self._fragments is None:
                on_text(self, data[start:end], now)
            elif not self._frame(first, data[start:end], now):
                return  # the socket is closing: ignore the rest
            pos = end
        if pos < size:
            pending += data[pos:] if pos else data
            self._need = need

    def _frame(self, first: int, payload: bytes, now: float) -> bool:
        """Any frame but an unfragmented text one. False when the socket is closing."""
        if first & 0x70:
            return self._fail(PROTOCOL_ERROR, "reserved bits set")
        fin = first & 0x80
        opcode = first & 0x0F
        if opcode >= OP_CLOSE:
            if not fin or len(payload) > 125:
                return self._fail(PROTOCOL_ERROR, "fragmented or long control frame")
            if opcode == OP_PING:
                self._send(OP_PONG, payload)
                return True
            if opcode == OP_PONG:
                return True
            if opcode == OP_CLOSE:
                return self._on_close(payload)
            return self._fail(PROTOCOL_ERROR, f"unknown opcode {opcode}")
        fragments = self._fragments
        if opcode == OP_CONTINUATION:
            if fragments is None:
                return self._fail(PROTOCOL_ERROR, "continuation frame outside a message")
            fragments.append(payload)
            if sum(map(len, fragments)) > MAX_MESSAGE:
                return self._fail(MESSAGE_TOO_BIG, "message over 1 MiB")
            if not fin:
                return True
            self._fragments = None
            opcode = self._fragment_opcode
            payload = b"".join(fragments)
        elif opcode in (OP_TEXT, OP_BINARY):
            if fragments is not None:
                return self._fail(PROTOCOL_ERROR, "new message inside a fragmented one")
            if not fin:
                self._fragments = [payload]
                self._fragment_opcode = opcode
                return True
        else:
            return self._fail(PROTOCOL_ERROR, f"unknown opcode {opcode}")
        if opcode == OP_TEXT:
            self.pool.on_text(self, payload, now)
        else:
            self.pool.on_binary(self, payload)
        return True

    def _on_close(self, payload: bytes) -> bool:
        if len(payload) == 1:
            return self._fail(PROTOCOL_ERROR, "close frame with a 1-byte payload")
        self._close_code = int.from_bytes(payload[:2], "big") if payload else NO_STATUS_RCVD
        self._fail_ready()
        if not self._close_sent:  # answer the server's close: echo its code (as websockets does)
            self._send(OP_CLOSE, payload[:2])
            self._close_sent = True
        if self.transport is not None:
            self.transport.close()
        return False

    def _fail(self, code: int, reason: str) -> bool:
        """A protocol error: count it, close with `code`, drop the connection. Returns False."""
        self.pool.stats.protocol_errors[reason] += 1
        if not self._close_sent:
            self._send(OP_CLOSE, code.to_bytes(2, "big"))
            self._close_sent = True
        if self.transport is not None:
            self.transport.close()
        return False

    def _send(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(client_frame(opcode, payload))

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
        """The code of the close frame the server sent (None: none arrived)."""
        return self._close_code

    def _fail_ready(self) -> None:
        if not self.ready.done():
            reason = self.protocol.handshake_exc or f"closed with {self.close_code}"
            self.ready.set_exception(SubscriberError(str(reason)))

    def send_text(self, text: bytes) -> None:
        if self._open:
            if not self._close_sent:  # after our close frame nothing else may follow
                self._send(OP_TEXT, text)
            return
        with contextlib.suppress(Exception):  # not open yet (or refused): a lost pong is harmless
            self.protocol.send_text(text)
            self._flush()

    async def close(self, within: float = 2.0) -> None:
        """Close handshake with code 1000; abort the TCP connection if the server is slow to finish."""
        if self.transport is None:
            return
        if self._open:
            if not self._close_sent:
                self._send(OP_CLOSE, (1000).to_bytes(2, "big"))
                self._close_sent = True
        else:
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
    #: Malformed frames from the server, by reason (each failed its socket, see the module docstring).
    protocol_errors: Counter[str] = field(default_factory=Counter)
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
        #: Every subscriber's socket is read into this one buffer (see `Subscriber.get_buffer`).
        self.read_buffer = memoryview(bytearray(READ_BUFFER))
        self.stats = PoolStats()
        self.connect_errors: Counter[str] = Counter()
        self.on_progress: Callable[[], None] | None = None

    def on_text(self, sub: Subscriber, data: bytes | bytearray | memoryview, now: float) -> None:
        """One text message `sub` received in the TCP read that arrived at `now`."""
        stats = self.stats
        size = len(data)
        stats.messages += 1
        stats.bytes += size
        message = orjson.loads(data)
        kind = message.get("type")
        if kind == "ticket_update":
            event_id = int(message.get("event_id") or 0)
            if event_id <= sub.last_event_id:
                stats.out_of_order += 1
            sub.last_event_id = event_id
            parsed = parse_title(str(message["data"].get("title", "")))
            if parsed is None or not 0 <= parsed[0] < self.capacity:
                stats.foreign += 1
                return
            seq, t_send = parsed
            counts = sub.counts
            count = counts[seq]
            if count < 255:
                counts[seq] = count + 1
            stats.bench_messages += 1
            stats.bench_bytes += size
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

    def on_binary(self, sub: Subscriber, data: bytes) -> None:
        """A binary message: neither server sends any; counted among the other types."""
        self.stats.other_types["(binary)"] += 1

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
