"""A minimal real HTTP/1.1 receiver on 127.0.0.1 for exercising the webhook sender end to end.

Hand-written on ``asyncio.start_server`` so tests depend on no extra server package and can misbehave on
purpose (slow answers, huge bodies, redirects). Every response closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field

HUGE_BODY_SIZE = 4 * 1024 * 1024
SLOW_SECONDS = 5.0
TRICKLE_BYTES = 50
TRICKLE_INTERVAL = 0.1


def huge_body() -> bytes:
    """Return the deterministic body served on ``/huge`` (a repeating alphabet, so prefixes are checkable)."""
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
    return (alphabet * (HUGE_BODY_SIZE // len(alphabet) + 1))[:HUGE_BODY_SIZE]


@dataclass
class RecordedRequest:
    """One request as the receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Serves canned responses by path and records every connection and request it gets."""

    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def url(self, path: str, host: str | None = None) -> str:
        """Return the URL of ``path`` on this receiver, optionally spelled with another host name."""
        return f"http://{host or self.host}:{self.port}{path}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and cancel in-flight handlers (e.g. the slow one)."""
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _version = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(RecordedRequest(method, path, headers, body))
            await self._respond(path, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(self, path: str, writer: asyncio.StreamWriter) -> None:
        extra: dict[str, str] = {}
        body = b""
        if path == "/ok":
            status, body = "200 OK", b"ok"
        elif path == "/fail":
            status, body = "500 Internal Server Error", b"boom"
        elif path == "/redirect":
            status, extra = "301 Moved Permanently", {"Location": self.url("/ok")}
        elif path == "/gone":
            status, body = "410 Gone", b"endpoint deleted"
        elif path == "/throttle":
            status, extra = "429 Too Many Requests", {"Retry-After": "7"}
        elif path == "/slow":
            await asyncio.sleep(SLOW_SECONDS)
            status, body = "200 OK", b"late"
        elif path == "/trickle":
            # Headers at once, then one body byte every TRICKLE_INTERVAL: no single read ever waits long,
            # so only a total deadline for the attempt can stop it.
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {TRICKLE_BYTES}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode("latin-1"))
            for _ in range(TRICKLE_BYTES):
                await writer.drain()
                await asyncio.sleep(TRICKLE_INTERVAL)
                writer.write(b".")
            await writer.drain()
            return
        elif path == "/huge":
            status, body = "200 OK", huge_body()
        else:
            status = "404 Not Found"
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in extra.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        chunk = 64 * 1024
        for offset in range(0, len(body), chunk):
            writer.write(body[offset : offset + chunk])
            await writer.drain()
        await writer.drain()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
