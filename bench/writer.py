"""The benchmarks' writer: creates tickets through the hub's REST API (or POSTs the same message to the
baseline's /publish), stamping each title with its sequence number and send time.

Run by fanout.py and writes.py as a separate process (on the load generator's core) so that its
requests go out on time while the subscriber process is busy receiving; usable on its own too:

    .venv/bin/python bench/writer.py --url http://127.0.0.1:8000 --target hub --project 1 \
        --token "$(switchboard token owner@example.com)" --mode max --events 200

Modes: `max` sends one request after the other (one in flight) as fast as the server answers;
`rate` sends at a fixed rate (open loop: a slow answer does not delay the next request); `load` runs
`--concurrency` workers back to back for `--duration` seconds. Prints one JSON object:
`{"requests": [[seq, t_send, t_done, status], ...], "cpu_seconds": ..., "errors": {...}}`.

The HTTP client is a minimal HTTP/1.1 keep-alive client on a plain `asyncio.BufferedProtocol`
(`Connection` below), not httpx: the writer shares its core with the subscribers, and httpx (its
pool, request/response models, header objects, h11 events, anyio) cost 0.9-1.5 ms of CPU per request
here; at 400 requests/s that alone would be 35-60 % of the core. Now a request is one pre-rendered head
plus the body in one `write()`, and the response is parsed in `buffer_updated` (status line, headers
up to the blank line, then the body by `Content-Length`, `Transfer-Encoding: chunked`, or up to EOF;
interim 1xx answers are skipped), read into one buffer shared by all connections (no 256 KiB
allocation per read), with no task per request. Each in-flight request has a connection of its own
(`max`: one, `rate`: up to 64, `load`: one per worker), taken from an idle list and put back after
the response; a response with `Connection: close` (or HTTP/1.0 without keep-alive, or a body read to
EOF) retires its connection, and so does a server closing an idle one: the next request opens a new
one. `--timeout` bounds connecting and, separately, the wait for the response (as httpx's connect and
read timeouts did); a request that times out aborts its connection. `t_send` is taken once the
request has its connection, just before it is written. Errors are counted as before:
`HTTP <status>: <first 100 characters of the body>` for status >= 300, and
`<ExceptionType>: <message>` with status 0 for refused or broken connections, timeouts and malformed
responses. Measured CPU per request (process CPU minus its start-up, 0.12 s with httpx, 0.05 s now):
16 workers against a local server that answers at once, 1.45 ms with httpx, 16 µs now; in
`writes.py --targets sqlite --duration 3`, 0.88-1.2 ms with httpx, 57-118 µs now.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.titles import DESCRIPTION, baseline_message, title

MAX_IN_FLIGHT = 64
#: Refuse response heads (status line + headers) longer than this.
MAX_HEAD = 64 * 1024
#: Refuse response bodies longer than this (the hub's answers are ~1 KiB).
MAX_BODY = 16 * 1024 * 1024


class HTTPProtocolError(Exception):
    """The server sent something that is not a well-formed HTTP/1.1 response."""


class ServerDisconnected(HTTPProtocolError):
    """The connection closed before a complete response arrived."""


# Response parsing phases.
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _TRAILER, _UNTIL_EOF, _IDLE = range(7)


#: Every connection's socket is read into this one buffer (see `Connection.get_buffer`).
READ_BUFFER = memoryview(bytearray(64 * 1024))


class Connection(asyncio.BufferedProtocol):
    """One keep-alive HTTP/1.1 connection carrying one request at a time."""

    __slots__ = (
        "body_parts",
        "buffer",
        "keep_alive",
        "phase",
        "remaining",
        "status",
        "timer",
        "transport",
        "usable",
        "waiter",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.usable = True
        self.phase = _IDLE
        self.status = 0
        self.keep_alive = True
        self.remaining = 0
        self.body_parts: list[bytes] = []

    # -- asyncio.BufferedProtocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(READ_BUFFER[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        if self.phase == _IDLE:  # nothing was asked: a server that talks out of turn is not reusable
            self._retire()
            return
        self.buffer += data
        try:
            self._parse()
        except HTTPProtocolError as exc:
            self._fail(exc)
        except ValueError as exc:  # int() of a bad status, length or chunk size
            self._fail(HTTPProtocolError(f"malformed response: {exc}"))

    def eof_received(self) -> bool | None:
        self.usable = False
        if self.phase == _UNTIL_EOF:
            self._finish_at_eof()
        return None  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        if self.phase == _UNTIL_EOF:
            self._finish_at_eof()
        elif self.phase != _IDLE:
            error = ServerDisconnected("Server disconnected without sending a response.")
            if exc is not None:
                error = ServerDisconnected(f"Server disconnected: {exc}")
            self._fail(error)

    # -- requests -----------------------------------------------------------------------------------
    def request(self, data: bytes, timeout: float) -> asyncio.Future[tuple[int, bytes]]:
        """Write a whole request; the future gives (status, body)."""
        transport = self.transport
        assert transport is not None
        assert self.phase == _IDLE
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        self.waiter = waiter
        self.phase = _HEAD
        self.buffer.clear()
        self.body_parts = []
        self.timer = loop.call_later(timeout, self._timed_out, timeout)
        transport.write(data)
        return waiter

    def close(self) -> None:
        self.usable = False
        if self.transport is not None:
            self.transport.close()

    def _timed_out(self, timeout: float) -> None:
        self.timer = None
        self._fail(TimeoutError(f"no response within {timeout:g} s"))

    def _retire(self, *, abort: bool = True) -> None:
        self.usable = False
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()

    def _fail(self, exc: Exception) -> None:
        self.phase = _IDLE
        self._stop_timer()
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self._retire()

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _finish_at_eof(self) -> None:
        """The end of a body delimited by the connection's end."""
        body = bytes(self.buffer)
        self.buffer.clear()
        self.keep_alive = False
        self._finish(body)

    def _finish(self, body: bytes) -> None:
        self.phase = _IDLE
        self._stop_timer()
        if self.buffer:  # bytes beyond the response: the stream is out of step
            self._retire()
        elif not self.keep_alive:
            self._retire(abort=False)
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result((self.status, body))

    # -- response parsing ---------------------------------------------------------------------------
    def _parse(self) -> None:
        buffer = self.buffer
        while True:
            phase = self.phase
            if phase == _HEAD:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise HTTPProtocolError("response head too long")
                    return
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                self._head(head)
            elif phase == _LENGTH:
                remaining = self.remaining
                if len(buffer) < remaining:
                    return
                body = bytes(buffer[:remaining])
                del buffer[:remaining]
                self._finish(body)
                return
            elif phase == _CHUNK_SIZE:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise HTTPProtocolError("chunk size line too long")
                    return
                line = bytes(buffer[:end]).split(b";", 1)[0].strip()
                del buffer[: end + 2]
                size = int(line, 16)
                if size < 0 or sum(map(len, self.body_parts)) + size > MAX_BODY:
                    raise HTTPProtocolError(f"bad chunk size {line!r}")
                if size == 0:
                    self.phase = _TRAILER
                else:
                    self.remaining = size
                    self.phase = _CHUNK_DATA
            elif phase == _CHUNK_DATA:
                remaining = self.remaining
                if len(buffer) < remaining + 2:
                    return
                if buffer[remaining : remaining + 2] != b"\r\n":
                    raise HTTPProtocolError("chunk not followed by CRLF")
                self.body_parts.append(bytes(buffer[:remaining]))
                del buffer[: remaining + 2]
                self.phase = _CHUNK_SIZE
            elif phase == _TRAILER:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise HTTPProtocolError("trailer too long")
                    return
                del buffer[: end + 2]
                if end == 0:  # the blank line that ends the trailer section
                    self._finish(b"".join(self.body_parts))
                    return
            elif phase == _UNTIL_EOF:
                if len(buffer) > MAX_BODY:
                    raise HTTPProtocolError("response body too long")
                return
            else:
                return

    def _head(self, head: bytes) -> None:
        """Status line and headers; sets the phase that reads the body."""
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3:
            raise HTTPProtocolError(f"bad status line {lines[0][:60]!r}")
        status = int(parts[1])
        if 100 <= status < 200 and status != 101:  # interim response (100 Continue, 103): skip it
            return
        length: int | None = None
        chunked = False
        connection = b""
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                raise HTTPProtocolError(f"bad header line {line[:60]!r}")
            name = name.strip().lower()
            if name == b"content-length":
                new = int(value)
                if new < 0 or (length is not None and new != length):
                    raise HTTPProtocolError(f"bad Content-Length {value.strip()!r}")
                length = new
            elif name == b"transfer-encoding":
                chunked = value.strip().lower().rsplit(b",", 1)[-1].strip() == b"chunked"
                if not chunked:
                    raise HTTPProtocolError(f"unsupported Transfer-Encoding {value.strip()!r}")
            elif name == b"connection":
                connection += b"," + value.lower()
        tokens = {t.strip() for t in connection.split(b",")}
        if parts[0] == b"HTTP/1.0":
            self.keep_alive = b"keep-alive" in tokens
        else:
            self.keep_alive = b"close" not in tokens
        self.status = status
        if status == 101:
            raise HTTPProtocolError("unexpected 101 Switching Protocols")
        if status in (204, 304):
            self._finish(b"")
        elif chunked:
            self.phase = _CHUNK_SIZE
        elif length is not None:
            if length > MAX_BODY:
                raise HTTPProtocolError(f"response body too long ({length} bytes)")
            self.remaining = length
            self.phase = _LENGTH
        else:  # neither: the body runs to the end of the connection
            self.phase = _UNTIL_EOF


class Client:
    """Idle keep-alive connections to one server, and a request on one of them at a time."""

    def __init__(self, url: str, timeout: float, *, token: str = "") -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.idle: list[Connection] = []
        headers = f"Host: {parts.netloc}\r\nContent-Type: application/json\r\n"
        if token:
            headers += f"Authorization: Bearer {token}\r\n"
        self.headers = headers

    def request_head(self, path: str) -> bytes:
        """`POST` line and fixed headers, up to (not including) the Content-Length value."""
        return f"POST {self.prefix}{path} HTTP/1.1\r\n{self.headers}Content-Length: ".encode()

    async def acquire(self) -> Connection:
        idle = self.idle
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection
        loop = asyncio.get_running_loop()
        try:
            _transport, connection = await asyncio.wait_for(
                loop.create_connection(Connection, self.host, self.port), self.timeout
            )
        except TimeoutError:
            raise TimeoutError(f"not connected within {self.timeout:g} s") from None
        return connection

    def release(self, connection: Connection) -> None:
        """Back to the idle list if it can carry another request (a cancelled one cannot)."""
        if connection.usable and connection.phase == _IDLE:
            self.idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


class Writer:
    """Sends numbered requests and records `[seq, t_send, t_done, status]` for each."""

    def __init__(self, client: Client, args: argparse.Namespace) -> None:
        self.client = client
        self.args = args
        self.records: list[list[float]] = []
        self.errors: Counter[str] = Counter()
        self.hub = args.target == "hub"
        path = f"/api/projects/{args.project}/tickets" if self.hub else "/publish"
        self.head = client.request_head(path)

    def body(self, seq: int, t_send: float) -> bytes:
        if self.hub:
            return orjson.dumps({"title": title(seq, t_send), "description": DESCRIPTION})
        return baseline_message(seq, t_send)

    async def send(self, seq: int) -> None:
        client = self.client
        t_send = time.monotonic()
        try:
            connection = await client.acquire()
            t_send = time.monotonic()
            body = self.body(seq, t_send)
            request = b"".join((self.head, str(len(body)).encode(), b"\r\n\r\n", body))
            try:
                status, content = await connection.request(request, client.timeout)
            finally:
                client.release(connection)
            if status >= 300:
                self.errors[f"HTTP {status}: {content.decode(errors='replace')[:100]}"] += 1
        except (OSError, TimeoutError, HTTPProtocolError) as exc:
            status = 0
            self.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
        self.records.append([seq, t_send, time.monotonic(), status])

    async def run_max(self) -> None:
        for seq in range(self.args.first, self.args.first + self.args.events):
            await self.send(seq)

    async def run_rate(self) -> None:
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        start = time.monotonic() + 0.05
        tasks: list[asyncio.Task[None]] = []

        async def gated(seq: int) -> None:
            async with gate:
                await self.send(seq)

        for index in range(self.args.events):
            delay = start + index / self.args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(gated(self.args.first + index)))
        await asyncio.gather(*tasks)

    async def run_load(self) -> None:
        counter = itertools.count(self.args.first)
        limit = self.args.first + self.args.events
        deadline = time.monotonic() + self.args.duration

        async def worker() -> None:
            while time.monotonic() < deadline:
                seq = next(counter)
                if seq >= limit:
                    return
                await self.send(seq)

        await asyncio.gather(*(worker() for _ in range(self.args.concurrency)))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    client = Client(args.url, args.timeout, token=args.token)
    try:
        writer = Writer(client, args)
        run = {"max": writer.run_max, "rate": writer.run_rate, "load": writer.run_load}[args.mode]
        started = time.monotonic()
        await asyncio.wait_for(run(), args.timeout_total)
        elapsed = time.monotonic() - started
    finally:
        client.close()
    cpu = time.process_time()
    return {"requests": writer.records, "elapsed": elapsed, "cpu_seconds": cpu, "errors": dict(writer.errors)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="server base URL (127.0.0.1 only)")
    parser.add_argument("--target", choices=("hub", "baseline"), default="hub")
    parser.add_argument("--project", type=int, default=1, help="hub project id")
    parser.add_argument("--token", default="", help="hub access token (a project member)")
    parser.add_argument("--mode", choices=("max", "rate", "load"), default="max")
    parser.add_argument("--events", type=int, default=200, help="requests to send (a cap in load mode)")
    parser.add_argument("--first", type=int, default=0, help="first sequence number")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second in rate mode")
    parser.add_argument("--concurrency", type=int, default=1, help="workers in load mode")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load mode")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument("--timeout-total", type=float, default=300.0, help="whole-run timeout, seconds")
    args = parser.parse_args(argv)
    if not args.url.startswith(("http://127.0.0.1:", "http://localhost:")):
        parser.error("--url must point at 127.0.0.1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(main_async(args))
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
