"""One open WebSocket: who it is, what it has seen, and a bounded send queue with its writer.

The fan-out calls `push()` synchronously for every socket of a project, so pushing must be O(1) and
never await. On a `FrameSocket` (hub.realtime.asgi) that is caught up, the shared frame is written at
once and the connection's write buffer is the queue; otherwise the shared, already-serialised
message goes on a deque and wakes this socket's writer task. A socket whose backlog passes its limits
(256 queued messages, or 1 MiB queued or unsent) is closed with 4008 at once (its client resumes with
`last_event_id`): one client that stops reading can never hold up the others or grow memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from typing import Any, Protocol

from hub.domain.identity import Actor
from hub.realtime import codes
from hub.realtime.asgi import FrameSocket

log = logging.getLogger(__name__)
_ids = itertools.count(1)

MAX_QUEUE_MESSAGES = 256
MAX_QUEUE_BYTES = 1 << 20


class SocketLike(Protocol):
    async def send(self, data: str) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


class Connection:
    __slots__ = (
        "actor",
        "backlog",
        "backlog_bytes",
        "buffer",
        "close_code",
        "close_reason",
        "closing",
        "conn_id",
        "expires_at",
        "handler",
        "kind",
        "last_event_id",
        "last_seen",
        "live",
        "ping_sent_at",
        "project_id",
        "queue",
        "queued_bytes",
        "replaying",
        "socket",
        "stats",
        "wake",
        "writer",
    )

    def __init__(
        self,
        socket: SocketLike,
        actor: Actor,
        expires_at: float,
        kind: str,
        project_id: int | None,
        stats: dict[str, int],
    ) -> None:
        self.conn_id = f"c{next(_ids)}"
        self.socket = socket
        self.actor = actor
        self.expires_at = expires_at
        self.kind = kind
        self.project_id = project_id
        self.stats = stats
        self.queue: deque[str] = deque()
        self.queued_bytes = 0
        # The unbounded head of the queue (a resume's replay): not counted as falling behind.
        self.backlog = 0
        self.backlog_bytes = 0
        self.wake = asyncio.Event()
        self.closing = False
        self.close_code = codes.NORMAL
        self.close_reason = ""
        self.last_event_id = 0
        self.replaying = False
        self.buffer: list[tuple[int, str]] = []
        self.last_seen = time.monotonic()
        self.ping_sent_at: float | None = None
        self.writer: asyncio.Task[None] | None = None
        self.handler: asyncio.Task[Any] | None = None
        #: The frame socket to write to directly, once the writer has emptied the queue after accept.
        self.live: FrameSocket | None = None

    def push(self, event_id: int, text: str) -> None:
        """Queue an event message unless this socket has already seen that event."""
        if self.closing:
            return
        if self.replaying:
            self.buffer.append((event_id, text))
            return
        if event_id <= self.last_event_id:
            return
        self.last_event_id = event_id
        self.send(text)

    def send(self, text: str, *, bounded: bool = True) -> None:
        """Queue a message that carries no event id (presence, pong, errors).

        `bounded=False` is for a resume's replay, which is itself bounded (at most `max_replay`
        events) and must not count as falling behind: the client asked for exactly that backlog.
        """
        if self.closing:
            return
        live = self.live
        if live is not None and bounded and not self.queue:
            if live.buffered() + len(text) > MAX_QUEUE_BYTES:
                self._fell_behind()
            else:
                live.write(text)
            return
        if not bounded:
            self.backlog += 1
            self.backlog_bytes += len(text)
        elif (
            len(self.queue) - self.backlog >= MAX_QUEUE_MESSAGES
            or self.queued_bytes - self.backlog_bytes + len(text) > MAX_QUEUE_BYTES
        ):
            self._fell_behind()
            return
        self.queue.append(text)
        self.queued_bytes += len(text)
        self.wake.set()

    def _fell_behind(self) -> None:
        self.stats["slow_consumer_closes"] = self.stats.get("slow_consumer_closes", 0) + 1
        self.close(codes.SLOW_CONSUMER, "fell behind; reconnect with last_event_id")

    def finish_replay(self) -> None:
        """Leave replay mode: deliver what arrived live meanwhile, minus what the replay covered."""
        self.replaying = False
        pending, self.buffer = self.buffer, []
        for event_id, text in pending:
            self.push(event_id, text)

    def close(self, code: int, reason: str = "") -> None:
        """Ask the writer to close the socket (after nothing: queued messages are dropped)."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self.close_reason = reason
        self.queue.clear()
        self.queued_bytes = self.backlog = self.backlog_bytes = 0
        self.wake.set()

    def start_writer(self, handler: asyncio.Task[Any] | None = None) -> None:
        """Start sending; `handler` (default: the current task) is cancelled when this side closes."""
        self.handler = handler or asyncio.current_task()
        self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while True:
                while self.queue and not self.closing:
                    text = self.queue.popleft()
                    self.queued_bytes -= len(text)
                    if self.backlog:
                        self.backlog -= 1
                        self.backlog_bytes -= len(text)
                    await self.socket.send(text)
                if self.closing:
                    break
                if isinstance(self.socket, FrameSocket) and not self.queue:
                    self.live = self.socket  # caught up: from now on, messages are written at once
                await self.wake.wait()
                self.wake.clear()
            self.live = None
            closed = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(self.close_code, self.close_reason), 1.0)
                closed = True
            if not closed and isinstance(self.socket, FrameSocket):
                self.socket.abort()  # the close frame could not even be written: the peer stopped reading
        except asyncio.CancelledError:
            raise  # the handler is tearing this connection down itself
        except Exception:  # the peer went away mid-send
            log.debug("socket writer stopped", exc_info=True)
        # Closed (or broken) from this side: end the handler, which is waiting on the peer's next frame.
        if self.handler is not None and not self.handler.done():
            self.handler.cancel()

    async def stop_writer(self) -> None:
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.writer
