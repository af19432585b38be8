"""A real HTTP/1.1 webhook receiver on 127.0.0.1 whose answers a test scripts, path by path.

Unlike tests/unit/webhooks/http_receiver.py it keeps connections alive (as real receivers do, and as
the worker's connection pool expects), and each path has a queue of scripted `Reply`s followed by a
default one. A reply can be delayed or held until the test releases it, to catch a worker mid-flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    #: Hold the answer until this event is set (or the receiver closes).
    hold: asyncio.Event | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    #: Requests being answered right now, and the most seen at once, by path and by webhook-id.
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: Counter[str] = field(default_factory=Counter)
    _scripts: dict[str, list[Reply]] = field(default_factory=dict)
    _defaults: dict[str, Reply] = field(default_factory=dict)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with these replies, in order."""
        self._scripts.setdefault(path, []).extend(replies)

    def default(self, path: str, reply: Reply) -> None:
        """Answer `path` with `reply` once its script is used up (otherwise 200 "ok")."""
        self._defaults[path] = reply

    def to(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def counts(self) -> Counter[str]:
        """Requests per webhook-id."""
        return Counter(hit.msg_id for hit in self.hits)

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def wait_for(self, count: int, path: str | None = None, within: float = 10.0) -> list[Hit]:
        """Wait until at least `count` requests (to `path`, if given) arrived; return them."""

        def enough() -> bool:
            return len(self.to(path) if path else self.hits) >= count

        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(enough)
        return self.to(path) if path else list(self.hits)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                _method, path, _version = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await self._serve(path, headers, body, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(
        self, path: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> None:
        keys = (f"path:{path}", f"id:{headers.get('webhook-id', '')}")
        for key in keys:
            self.in_flight[key] += 1
            self.max_in_flight[key] = max(self.max_in_flight[key], self.in_flight[key])
        try:
            async with self._arrived:
                self.hits.append(Hit(path, headers, body, time.monotonic()))
                self._arrived.notify_all()
            script = self._scripts.get(path)
            reply = script.pop(0) if script else self._defaults.get(path, Reply())
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.hold is not None:
                await reply.hold.wait()
        finally:
            for key in keys:
                self.in_flight[key] -= 1
        reason = _REASONS.get(reply.status, "Status")
        out = [f"HTTP/1.1 {reply.status} {reason}", f"Content-Length: {len(reply.body)}"]
        out += [f"{name}: {value}" for name, value in reply.headers]
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + reply.body)
        await writer.drain()
