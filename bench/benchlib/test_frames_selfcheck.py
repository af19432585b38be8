"""Self-check of the subscribers' frame parser and the writer's HTTP client (no hub needed).

    .venv/bin/python bench/benchlib/test_frames_selfcheck.py

Feeds `Subscriber` a real `101` handshake answer followed by server frames (7-, 16- and 64-bit
lengths, ping, a fragmented message with a ping between its fragments, binary, close), split into two
TCP reads at every offset and one byte per read, and checks the messages, their receive times, the
masked replies and the close code; then protocol errors, the client-initiated close, and the writer's
`Connection` on Content-Length, chunked, read-to-EOF and `Connection: close` responses split the same
way, and the writer end to end against local servers (keep-alive reuse, reconnects after
`Connection: close`, the error messages, the per-request timeout). Not a pytest module (the repo's
tests live in tests/, and nothing here is named `test_*`); it exits non-zero on the first failure.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from writer import Connection, HTTPProtocolError, main_async, parse_args

from benchlib import subscribers
from benchlib.subscribers import PoolStats, Subscriber, SubscriberPool, mask

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeTransport(asyncio.Transport):
    """Records writes; closing it reports the connection lost (on the next loop pass, like asyncio)."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.written: list[bytes] = []
        self.closing = False
        self.eof_written = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing, "write after close"
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True


class Clock:
    """Stands in for the `time` module in `subscribers`: each `monotonic()` is the next integer."""

    def __init__(self) -> None:
        self.reads = 0

    def monotonic(self) -> float:
        self.reads += 1
        return float(self.reads)


def server_frame(first: int, payload: bytes, *, width: int = 0) -> bytes:
    """An unmasked frame; `width` forces the 16- (2) or 64-bit (8) length form."""
    size = len(payload)
    if width == 8 or size >= 1 << 16:
        return bytes((first, 127)) + size.to_bytes(8, "big") + payload
    if width == 2 or size >= 126:
        return bytes((first, 126)) + size.to_bytes(2, "big") + payload
    return bytes((first, size)) + payload


def client_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(first byte, unmasked payload) of the client frames in `data`; every one must be masked."""
    frames = []
    pos = 0
    while pos < len(data):
        first, second = data[pos], data[pos + 1]
        assert second & 0x80, "client frame not masked"
        size = second & 0x7F
        pos += 2
        if size == 126:
            size = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif size == 127:
            size = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
        key = data[pos : pos + 4]
        pos += 4
        frames.append((first, mask(data[pos : pos + size], key)))
        pos += size
    return frames


class Recorder(SubscriberPool):
    """A pool that records what reaches `on_text` instead of counting it."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 9, capacity=10)
        self.texts: list[tuple[bytes, float]] = []
        self.binaries: list[bytes] = []

    def on_text(self, sub: Subscriber, data: Any, now: float) -> None:
        self.texts.append((bytes(data), now))

    def on_binary(self, sub: Subscriber, data: bytes) -> None:
        self.binaries.append(bytes(data))


def handshake(sub: Subscriber, transport: FakeTransport) -> bytes:
    """The server's `101` for the request `sub` wrote."""
    sub.connection_made(transport)
    request = b"".join(transport.written)
    transport.written.clear()
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    return (
        b"HTTP/1.1 101 \r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: switchboard\r\n\r\n"
    )


def new_subscriber() -> tuple[Subscriber, Recorder, FakeTransport]:
    pool = Recorder()
    sub = Subscriber(pool, "/ws", ["switchboard"])
    transport = FakeTransport(sub)
    return sub, pool, transport


async def feed(chunks: list[bytes]) -> tuple[Subscriber, Recorder, FakeTransport, Clock]:
    """A fresh subscriber given its handshake answer + `chunks` joined, split as `chunks` are,
    except that the handshake answer is prepended to the first chunk."""
    clock = Clock()
    subscribers.time = clock  # type: ignore[assignment]
    sub, pool, transport = new_subscriber()
    head = handshake(sub, transport)
    chunks = [head + chunks[0], *chunks[1:]]
    for chunk in chunks:
        if chunk and not transport.closing:
            sub.data_received(chunk)
    await asyncio.sleep(0)
    settle(sub)
    return sub, pool, transport, clock


def settle(sub: Subscriber) -> None:
    """Retrieve a failed `ready` (the pool's `connect` would have awaited it)."""
    if sub.ready.done() and not sub.ready.cancelled():
        sub.ready.exception()


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"FAIL: {what}")


async def check_stream() -> int:
    ready = b'{"type":"ready","last_event_id":0}'
    medium = b'{"type":"ticket_update","pad":"' + b"x" * 700 + b'"}'
    forced = b'{"type":"forced-64-bit"}'
    part1, part2, part3 = b'{"type":"fr', b"agmented", b'"}'
    frames = [
        server_frame(0x81, ready),
        server_frame(0x81, medium),
        server_frame(0x81, forced, width=8),
        server_frame(0x89, b"ping-1"),
        server_frame(0x01, part1),  # TEXT without FIN
        server_frame(0x89, b""),  # a ping between fragments
        server_frame(0x00, part2),
        server_frame(0x80, part3),  # continuation with FIN
        server_frame(0x82, b"\x00\x01"),
        server_frame(0x88, (1001).to_bytes(2, "big") + b"going away"),
        server_frame(0x81, b'{"after":"close"}'),  # must be ignored
    ]
    stream = b"".join(frames)
    texts = [ready, medium, forced, part1 + part2 + part3]
    ends: list[int] = []  # offset in `stream` where each text message is complete
    offset = 0
    for frame in frames:
        offset += len(frame)
        ends.append(offset)
    text_ends = [ends[0], ends[1], ends[2], ends[7]]
    cases = 0
    splits: list[list[bytes]] = [[stream[:i], stream[i:]] for i in range(len(stream) + 1)]
    splits.append([stream[i : i + 1] for i in range(len(stream))])
    splits.append([stream[i : i + 7] for i in range(0, len(stream), 7)])
    for chunks in splits:
        sub, pool, transport, clock = await feed(chunks)
        check([t for t, _ in pool.texts] == texts, f"texts for split {[len(c) for c in chunks]}")
        # receive time: the read (1-based clock value) in which each message completed
        bounds = []
        total = 0
        for chunk in chunks:
            total += len(chunk)
            bounds.append(total)
        for (_, now), end in zip(pool.texts, text_ends, strict=True):
            read = next(i for i, b in enumerate(bounds) if b >= end) + 1
            check(now == float(read), f"receive time {now} != read {read}")
        check(clock.reads <= len(chunks), "more than one clock read per TCP read")
        check(pool.binaries == [b"\x00\x01"], "binary message")
        replies = client_frames(b"".join(transport.written))
        check(
            replies == [(0x8A, b"ping-1"), (0x8A, b""), (0x88, (1001).to_bytes(2, "big"))],
            f"replies {replies}",
        )
        check(sub.close_code == 1001, "close code")
        check(transport.closing and sub.closed.done() and sub.closed.result() == 1001, "closed")
        check(sub.subscribed is False, "ready never announced: not subscribed")
        check(not pool.stats.protocol_errors, f"protocol errors {pool.stats.protocol_errors}")
        cases += 1
    return cases


async def check_large() -> int:
    big = b'{"type":"big","pad":"' + b"y" * 70_000 + b'"}'
    stream = server_frame(0x81, big) + server_frame(0x81, b'{"n":2}')
    cuts = [*range(0, 24), *range(len(big) - 5, len(stream) + 1)]
    cases = 0
    for i in cuts:
        _sub, pool, _transport, _clock = await feed([stream[:i], stream[i:]])
        check([t for t, _ in pool.texts] == [big, b'{"n":2}'], f"64-bit frame split at {i}")
        cases += 1
    _sub, pool, _transport, _clock = await feed([stream[i : i + 1000] for i in range(0, len(stream), 1000)])
    check([t for t, _ in pool.texts] == [big, b'{"n":2}'], "64-bit frame in 1000-byte reads")
    return cases + 1


async def check_head_split() -> int:
    """The `101` head itself split at every offset (the end-of-head search spans reads), then three
    frames, the first in the same read as the end of the head."""
    stream = server_frame(0x81, b'{"a":1}') + server_frame(0x81, b'{"b":2}') + server_frame(0x89, b"p")
    cases = 0
    probe, _pool, probe_transport = new_subscriber()
    size = len(handshake(probe, probe_transport)) + len(stream)
    for i in range(size + 1):
        for j in (i, min(i + 2, size), min(i + 20, size)):
            subscribers.time = Clock()  # type: ignore[assignment]
            sub, pool, transport = new_subscriber()
            full = handshake(sub, transport) + stream
            for chunk in (full[:i], full[i:j], full[j:]):
                if chunk:
                    sub.data_received(chunk)
            check([t for t, _ in pool.texts] == [b'{"a":1}', b'{"b":2}'], f"head split at {i}, {j}")
            check(sub._open and client_frames(b"".join(transport.written)) == [(0x8A, b"p")], "pong")
            cases += 1
    return cases


async def check_errors() -> None:
    cases = {
        "masked frame from the server": bytes((0x81, 0x82)) + b"abcd" + b"xy",
        "continuation frame outside a message": server_frame(0x80, b"x"),
        "new message inside a fragmented one": server_frame(0x01, b"a") + server_frame(0x81, b"b"),
        "reserved bits set": server_frame(0xC1, b"x"),
        "fragmented or long control frame": server_frame(0x89, b"p" * 126),
        "message over 1 MiB": bytes((0x81, 127)) + (2 << 20).to_bytes(8, "big"),
        "unknown opcode 3": server_frame(0x83, b""),
    }
    for reason, stream in cases.items():
        sub, pool, transport, _clock = await feed([stream + server_frame(0x81, b'{"late":1}')])
        check(pool.stats.protocol_errors == {reason: 1}, f"{reason}: {pool.stats.protocol_errors}")
        code = 1009 if "1 MiB" in reason else 1002
        check(client_frames(b"".join(transport.written)) == [(0x88, code.to_bytes(2, "big"))], reason)
        check(transport.closing and sub.closed.done() and sub.close_code is None, f"{reason}: closed")
        check(pool.texts == [], f"{reason}: nothing after the error")


async def check_client_close() -> None:
    sub, pool, transport, _clock = await feed([server_frame(0x81, b'{"type":"ready"}')])
    check(sub.ok is False, "Recorder does not resolve ready")
    sub.ready.set_result(0)
    check(sub.ok, "ok once ready")
    sub.send_text(b'{"type":"pong"}')
    closing = asyncio.create_task(sub.close(within=1.0))
    await asyncio.sleep(0)
    sub.data_received(server_frame(0x88, (1000).to_bytes(2, "big")))
    await closing
    replies = client_frames(b"".join(transport.written))
    check(replies == [(0x81, b'{"type":"pong"}'), (0x88, (1000).to_bytes(2, "big"))], f"close {replies}")
    check(sub.close_code == 1000 and sub.closed.result() == 1000 and sub.subscribed, "close 1000")
    check(pool.close_codes() == {} and not sub.ok, "close_codes counts the pool's own subscribers")
    # the server never answers: close() gives up after `within` and aborts
    sub, pool, transport, _clock = await feed([b""])
    await sub.close(within=0.05)
    await asyncio.sleep(0)
    settle(sub)
    check(transport.closing, "aborted after the timeout")


async def check_refused() -> None:
    clock = Clock()
    subscribers.time = clock  # type: ignore[assignment]
    sub, pool, transport = new_subscriber()
    sub.connection_made(transport)
    sub.data_received(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\n")
    sub.data_received(b"denied")
    check(sub.ready.done() and isinstance(sub.ready.exception(), subscribers.SubscriberError), "refused")
    check("403" in str(sub.ready.exception()), f"refusal reason {sub.ready.exception()}")
    check(not sub._open and pool.texts == [], "stays on websockets after a refusal")
    check(transport.eof_written, "websockets half-closed after the refusal")


async def http_exchange(chunks: list[bytes], *, eof: bool = False) -> tuple[Connection, Any]:
    connection = Connection()
    transport = FakeTransport(connection)
    connection.connection_made(transport)
    waiter = connection.request(b"POST / HTTP/1.1\r\n\r\n", 5.0)
    for chunk in chunks:
        if chunk and not transport.closing:
            connection.data_received(chunk)
    if eof and not transport.closing:
        connection.eof_received()
        transport.close()
    await asyncio.sleep(0)
    try:
        result: Any = waiter.result() if waiter.done() else None
    except (HTTPProtocolError, TimeoutError) as exc:
        result = exc
    return connection, result


async def check_http() -> int:
    body = b'{"id": 1, "title": "bench 1 2.5"}'
    cases: list[tuple[bytes, bool, bool, bytes, int]] = [  # response, eof, reusable, body, status
        (b"HTTP/1.1 201 \r\ncontent-length: %d\r\n\r\n" % len(body) + body, False, True, body, 201),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\n" + body[:5] + b"\r\n" + b"%x;ext=1\r\n" % (len(body) - 5) + body[5:] + b"\r\n0\r\n"
            b"Trailer: x\r\n\r\n",
            False,
            True,
            body,
            200,
        ),
        (
            b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 3\r\n\r\nnop",
            False,
            False,
            b"nop",
            404,
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", False, True, b"", 204),
        (b"HTTP/1.0 200 OK\r\n\r\n" + body, True, False, body, 200),
    ]
    count = 0
    for response, eof, reusable, expected, status in cases:
        for i in range(len(response) + 1):
            connection, result = await http_exchange([response[:i], response[i:]], eof=eof)
            check(result == (status, expected), f"http split {i} of {response[:30]!r}: {result}")
            check(connection.usable == reusable, f"http reuse {response[:30]!r}")
            count += 1
    connection, result = await http_exchange([b"HTTP/1.1 201 \r\nContent-Length: 10\r\n\r\nshort"], eof=True)
    check(isinstance(result, HTTPProtocolError) and not connection.usable, f"truncated body: {result}")
    connection, result = await http_exchange([b"garbage\r\n\r\n"])
    check(isinstance(result, HTTPProtocolError), f"bad status line: {result}")
    return count + 2


class VariedServer(asyncio.Protocol):
    """Answers POSTs in turn with: chunked 201, 201 + `Connection: close`, 422 with a long body."""

    answered = 0
    connections = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""
        VariedServer.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.startswith(b"Content-Length")
            )
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            turn = VariedServer.answered % 3
            VariedServer.answered += 1
            if turn == 0:
                self.transport.write(
                    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                )
            elif turn == 1:
                self.transport.write(
                    b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                )
                self.transport.close()
                return
            else:
                body = b'{"detail":"' + b"v" * 200 + b'"}'
                self.transport.write(
                    b"HTTP/1.1 422 Unprocessable\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                )


async def check_writer() -> None:
    """The writer end to end against a local server: reuse, reconnects, error messages, timeouts."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(VariedServer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    args = ["--url", url, "--token", "t", "--mode", "load", "--concurrency", "3", "--events", "30"]
    result = await main_async(parse_args([*args, "--duration", "5"]))
    statuses = sorted(row[3] for row in result["requests"])
    check(statuses == [201] * 20 + [422] * 10, f"writer statuses {statuses}")
    check(sorted(row[0] for row in result["requests"]) == list(range(30)), "writer sequence numbers")
    check(all(row[1] <= row[2] for row in result["requests"]), "t_send <= t_done")
    check(result["errors"] == {'HTTP 422: {"detail":"' + "v" * 89: 10}, f"writer errors {result['errors']}")
    check(
        3 < VariedServer.connections <= 13, f"reconnects after Connection: close ({VariedServer.connections})"
    )
    server.close()

    # a server that accepts and never answers: --timeout per request, status 0
    silent = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{silent.sockets[0].getsockname()[1]}"
    result = await main_async(
        parse_args(["--url", url, "--mode", "max", "--events", "2", "--timeout", "0.2"])
    )
    check([row[3] for row in result["requests"]] == [0, 0], "timeouts have status 0")
    check(result["errors"] == {"TimeoutError: no response within 0.2 s": 2}, f"timeouts {result['errors']}")
    silent.close()
    # nothing listening: the connection error, status 0
    result = await main_async(parse_args(["--url", url, "--mode", "max", "--events", "1", "--timeout", "1"]))
    check(result["requests"][0][3] == 0, "refused: status 0")
    check(next(iter(result["errors"])).startswith("ConnectionRefusedError: "), f"refused {result['errors']}")


async def main() -> None:
    stats = PoolStats()
    check(stats.protocol_errors == {}, "PoolStats.protocol_errors")
    stream_cases = await check_stream()
    large_cases = await check_large()
    head_cases = await check_head_split()
    await check_errors()
    await check_client_close()
    await check_refused()
    http_cases = await check_http()
    await check_writer()
    print(
        f"ok: {stream_cases} splits of the frame stream, {large_cases} of a 64-bit frame, "
        f"{head_cases} of the handshake answer, 7 protocol "
        f"errors, client close, refusal, {http_cases} HTTP response splits, the writer end to end"
    )


if __name__ == "__main__":
    asyncio.run(main())
