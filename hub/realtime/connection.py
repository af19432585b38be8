"""One open WebSocket: who it is, what it has seen, and a bounded send queue with its writer.

The fan-out calls `push()` synchronously for every socket of a project, so pushing must be O(1) and
never await. On a `FrameSocket` (hub.realtime.asgi) that is caught up, the shared frame is written at
once and the connection's write buffer is the queue; otherwise the shared, already-serialised
message goes on a deque and wakes this socket's writer task. A socket whose backlog passes its limits
(`SendLimits`: 256 queued messages, or 1 MiB queued or unsent; on the direct path also 256 messages
written, or 10 s, without the kernel taking everything) is closed with 4008 at once (its client resumes
with `last_event_id`): one client that stops reading can never hold up the others or grow memory.
The kernel's send buffer of a direct socket is kept small (`SendLimits.kernel_buffer`), so the backlog
is seen here, not absorbed by the kernel.

The 4008 close frame is written behind the backlog, so a client that reads again gets its events and
then the close code; a peer that has not read up to it after `close_grace` seconds is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from hub.config import Settings
from hub.domain.identity import Actor
from hub.realtime import codes
from hub.realtime.asgi import FrameSocket

log = logging.getLogger(__name__)
_ids = itertools.count(1)

MAX_QUEUE_MESSAGES = 256
MAX_QUEUE_BYTES = 1 << 20


@dataclass(frozen=True)
class SendLimits:
    """How far a socket may fall behind before it is closed with 4008 (settings `WS_SEND_*`)."""

    #: Messages queued, or written while the kernel had not taken all the previous ones.
    messages: int = MAX_QUEUE_MESSAGES
    #: Bytes queued or not yet taken by the kernel.
    bytes: int = MAX_QUEUE_BYTES
    #: Seconds the kernel may go on refusing this socket's bytes while events keep coming.
    stall_seconds: float = 10.0
    #: Seconds the close frame may wait behind the backlog before the connection is dropped.
    close_grace: float = 5.0
    #: SO_SNDBUF of a direct socket (0: the kernel's own, which grows to megabytes).
    kernel_buffer: int = 131_072


DEFAULT_LIMITS = SendLimits()


def send_limits(settings: Settings) -> SendLimits:
    return SendLimits(
        messages=settings.ws_send_queue_messages,
        bytes=settings.ws_send_queue_bytes,
        stall_seconds=settings.ws_send_stall_seconds,
        close_grace=settings.ws_close_grace_seconds,
        kernel_buffer=settings.ws_send_buffer_bytes,
    )


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
        "issued_at",
        "kind",
        "last_event_id",
        "last_seen",
        "limits",
        "live",
        "ping_sent_at",
        "project_id",
        "queue",
        "queued_bytes",
        "replaying",
        "session_id",
        "socket",
        "stalled_since",
        "stats",
        "unflushed",
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
        *,
        session_id: str | None = None,
        issued_at: int = 0,
        limits: SendLimits = DEFAULT_LIMITS,
    ) -> None:
        self.conn_id = f"c{next(_ids)}"
        self.socket = socket
        self.actor = actor
        self.expires_at = expires_at
        #: The login session of the token the socket was admitted (or last re-authenticated) with, and
        #: when that token was issued: a `session.revoked` event closes it (hub.realtime.sessions).
        self.session_id = session_id
        self.issued_at = issued_at
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
        self.limits = limits
        #: Since when, and for how many messages, the kernel has not taken all this socket's bytes.
        self.stalled_since: float | None = None
        self.unflushed = 0
        if isinstance(socket, FrameSocket) and limits.kernel_buffer:
            socket.limit_kernel_buffer(limits.kernel_buffer)

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
            if live.unsent():
                if self._behind(live, len(text)):
                    return
            elif self.stalled_since is not None:
                self.stalled_since = None
                self.unflushed = 0
            live.write(text)
            return
        if not bounded:
            self.backlog += 1
            self.backlog_bytes += len(text)
        elif (
            len(self.queue) - self.backlog >= self.limits.messages
            or self.queued_bytes - self.backlog_bytes + len(text) > self.limits.bytes
        ):
            self._fell_behind(self.queued_bytes, len(self.queue))
            return
        self.queue.append(text)
        self.queued_bytes += len(text)
        self.wake.set()

    def _behind(self, live: FrameSocket, size: int) -> bool:
        """Count a message written while the kernel still refuses earlier bytes; close (True) past a limit."""
        now = time.monotonic()
        if self.stalled_since is None:
            self.stalled_since = now
        self.unflushed += 1
        limits = self.limits
        buffered = live.buffered()
        if (
            buffered + size > limits.bytes
            or self.unflushed > limits.messages
            or now - self.stalled_since > limits.stall_seconds
        ):
            self._fell_behind(buffered, self.unflushed)
            return True
        return False

    def _fell_behind(self, backlog_bytes: int, backlog_messages: int) -> None:
        self.stats["slow_consumer_closes"] = self.stats.get("slow_consumer_closes", 0) + 1
        stalled = 0.0 if self.stalled_since is None else time.monotonic() - self.stalled_since
        log.warning(
            "closing slow consumer %s of user %s with 4008: %d bytes and %d messages behind, "
            "not drained for %.1f s",
            self.conn_id,
            self.actor.id,
            backlog_bytes,
            backlog_messages,
            stalled,
        )
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
                await self._send_queued()
                if self.closing:
                    break
                if isinstance(self.socket, FrameSocket) and not self.queue:
                    self.live = self.socket  # caught up: from now on, messages are written at once
                await self.wake.wait()
                self.wake.clear()
            self.live = None
            await self._send_close()
        except asyncio.CancelledError:
            raise  # the handler is tearing this connection down itself
        except Exception:  # the peer went away mid-send
            log.debug("socket writer stopped", exc_info=True)
        # Closed (or broken) from this side: end the handler, which is waiting on the peer's next frame.
        if self.handler is not None and not self.handler.done():
            self.handler.cancel()

    async def _send_queued(self) -> None:
        """Send the queued messages, oldest first, until the queue is empty or the socket is closing."""
        while self.queue and not self.closing:
            text = self.queue.popleft()
            self.queued_bytes -= len(text)
            if self.backlog:
                self.backlog -= 1
                self.backlog_bytes -= len(text)
            await self.socket.send(text)

    async def _send_close(self) -> None:
        """Close the socket with the recorded code; drop it when the peer does not read the close."""
        socket = self.socket
        if (
            isinstance(socket, FrameSocket)
            and socket.write_close(self.close_code, self.close_reason)
            and not await socket.drained(self.limits.close_grace)
        ):
            # The close frame is in the stream behind the backlog, but the peer has not read it.
            log.info(
                "dropping %s: its close frame was not read within %.1f s",
                self.conn_id,
                self.limits.close_grace,
            )
            socket.abort()
        closed = False
        with contextlib.suppress(Exception):
            await asyncio.wait_for(socket.close(self.close_code, self.close_reason), 1.0)
            closed = True
        if not closed and isinstance(socket, FrameSocket):
            socket.abort()  # the close frame could not even be written: the peer stopped reading

    async def stop_writer(self) -> None:
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.writer
