"""Socket frames written without the per-message work of Quart, and, under Hypercorn's HTTP/1.1,
without Hypercorn's either.

Quart's `websocket.send()` yields to the loop, re-checks the handshake and fires a blinker signal for
every message: 10 to 15 % of the server's CPU per delivered message in `bench/fanout.py`, so the
sockets are served on ASGI directly (hub.realtime.endpoints). Going through the ASGI `send` still
costs, per socket and message, a wsproto frame build (and a per-socket permessage-deflate compression
when the browser negotiated it, which every browser does), three awaited calls and a `drain()`. But a
server-to-client frame is the same bytes for every socket (no masking), so `FrameSocket` writes one
shared, pre-built text frame straight into the connection's `asyncio.StreamWriter`. RFC 7692 lets a
sender leave any message uncompressed (RSV1 clear) even when permessage-deflate was negotiated, and an
uncompressed message does not touch the compression context, so Hypercorn's own frames (pongs, the
close frame) stay valid. Writes are synchronous, so they keep their order with each other and with
Hypercorn's frames. The frames and the per-socket gathering of one delivery pass live in a
`WriteBatch`, which the fan-out owns (one per fan-out, no module state) and hands to every socket.

`writer_of` finds the StreamWriter by following Hypercorn 0.17/0.18's bound methods (WSStream ->
H11Protocol -> TCPServer); anything else (HTTP/2, another server, a changed Hypercorn) gets None and
the socket uses `DirectSocket`, the ASGI `send`. `tests/integration/realtime/test_frames.py` checks
that the fast path is the one taken under the pinned Hypercorn; `tests/unit/test_hypercorn_seams.py`
names the internal that changed when a Hypercorn release moves one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection
from wsproto.utilities import LocalProtocolError

try:  # Hypercorn's internals, needed only for the fast path (`writer_of`)
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.ws_stream import WSStream

    _HYPERCORN = True
except ImportError:  # pragma: no cover - a Hypercorn that moved them: every socket uses DirectSocket
    _HYPERCORN = False

Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class Closable(Protocol):
    async def close(self, code: int, reason: str = "") -> None: ...


class DirectSocket:
    """A `SocketLike` (hub.realtime.connection) sending through the ASGI callable."""

    __slots__ = ("_send", "_socket")

    def __init__(self, send: Send, socket: Closable) -> None:
        self._send = send
        self._socket = socket

    async def send(self, data: str) -> None:
        await self._send({"type": "websocket.send", "bytes": None, "text": data})

    async def close(self, code: int, reason: str = "") -> None:
        await self._socket.close(code, reason)


def text_frame(payload: bytes) -> bytes:
    """One unmasked, final, uncompressed text frame (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


class WriteBatch:
    """The write state a fan-out shares with its frame sockets: the frame of the message being handed
    out, and the sockets written to during the current `writes()` block (in first-write order)."""

    __slots__ = ("_last_frame", "_last_text", "active", "sockets")

    def __init__(self) -> None:
        self.active = False
        self.sockets: list[FrameSocket] = []
        self._last_text: str | None = None
        self._last_frame = b""

    def frame_of(self, text: str) -> bytes:
        """The frame for `text`, built once while the fan-out hands the same message to every socket."""
        if text is not self._last_text:
            self._last_frame = text_frame(text.encode())
            self._last_text = text
        return self._last_frame

    @contextlib.contextmanager
    def writes(self) -> Iterator[None]:
        """Within the block, frames for one socket are gathered and sent as one write at its end.

        The fan-out delivers every event that is ready in one synchronous pass; a burst (concurrent
        writers, or a catch-up of hundreds of events after a bus outage) then costs one `send` system
        call per socket instead of one per socket and event. The block must not await: other tasks'
        frames (pongs, presence, Hypercorn's close frame) would overtake the gathered ones. Nested
        blocks belong to the outermost one."""
        if self.active:
            yield
            return
        self.active = True
        try:
            yield
        finally:
            self.active = False
            sockets, self.sockets = self.sockets, []
            for socket in sockets:
                socket.flush()


class FrameSocket:
    """A `SocketLike` writing pre-built frames into the connection's StreamWriter; closing via ASGI.
    Frames come from, and are gathered in, the fan-out's `batch`."""

    __slots__ = ("_batch", "_pending", "_pending_bytes", "_socket", "_stream", "_transport", "_writer")

    def __init__(
        self, writer: asyncio.StreamWriter, stream: WSStream, socket: Closable, batch: WriteBatch
    ) -> None:
        self._batch = batch
        self._writer = writer
        self._transport = writer.transport
        self._stream = stream  # its wsproto connection (made at accept) says whether a close was sent
        self._socket = socket
        self._pending: list[bytes] | None = None
        self._pending_bytes = 0

    def _open(self) -> bool:
        return self._stream.connection.state is ConnectionState.OPEN and not self._transport.is_closing()

    def write(self, text: str) -> bool:
        """Write `text` now, or at the end of the batch's current `writes()` block (only after
        accept); False if the connection is closing (either side)."""
        if not self._open():
            return False
        batch = self._batch
        frame = batch.frame_of(text)
        if not batch.active:
            self._writer.write(frame)
        elif self._pending is None:
            self._pending = [frame]
            self._pending_bytes = len(frame)
            batch.sockets.append(self)
        else:
            self._pending.append(frame)
            self._pending_bytes += len(frame)
        return True

    def flush(self) -> None:
        """Send the frames gathered in a batch as one write (dropped if the socket began closing)."""
        pending, self._pending, self._pending_bytes = self._pending, None, 0
        if pending and self._open():
            self._writer.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def buffered(self) -> int:
        """Bytes written (or gathered in a batch) but not yet taken by the kernel: this socket's backlog."""
        return self._transport.get_write_buffer_size() + self._pending_bytes

    def unsent(self) -> int:
        """Bytes handed to the transport that the kernel has not taken: nonzero while the peer lags."""
        return self._transport.get_write_buffer_size()

    def limit_kernel_buffer(self, size: int) -> None:
        """Set SO_SNDBUF, so the kernel holds at most about twice `size` for a peer that stops reading
        (by default Linux grows it to megabytes, and the backlog would only show here much later)."""
        raw = self._transport.get_extra_info("socket")
        if raw is not None:
            with contextlib.suppress(OSError):
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)

    def write_close(self, code: int, reason: str = "") -> bool:
        """Put a close frame in the stream now, behind every frame written so far (frames gathered in
        the current batch are dropped); False if the connection is already closing. The ASGI close
        that must follow (`close`) then sends no second close frame."""
        if not self._open():
            return False
        try:
            data = self._stream.connection.send(CloseConnection(code=code, reason=reason))
        except LocalProtocolError:
            return False
        self._writer.write(data)
        return True

    async def drained(self, within: float) -> bool:
        """Wait (at most `within` seconds) until the kernel has taken every byte written."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._transport.get_write_buffer_size() and not self._transport.is_closing():
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def send(self, data: str) -> None:
        if self.write(data):
            await self._writer.drain()

    async def close(self, code: int, reason: str = "") -> None:
        await self._socket.close(code, reason)

    def abort(self) -> None:
        """Drop the connection without flushing: for a peer that stopped reading."""
        self._transport.abort()


def writer_of(send: Any) -> tuple[asyncio.StreamWriter, WSStream] | None:
    """The StreamWriter and Hypercorn stream under a Hypercorn HTTP/1.1 WebSocket's ASGI `send`."""
    if not _HYPERCORN:
        return None
    stream = getattr(send, "__self__", None)
    if not isinstance(stream, WSStream):
        return None
    protocol = getattr(stream.send, "__self__", None)
    if not isinstance(protocol, H11Protocol):
        return None
    server = getattr(protocol.send, "__self__", None)
    writer = getattr(server, "writer", None) if isinstance(server, TCPServer) else None
    return (writer, stream) if isinstance(writer, asyncio.StreamWriter) else None


def socket_for(send: Send, socket: Closable, batch: WriteBatch) -> FrameSocket | DirectSocket:
    """The cheapest way to write to this socket that the server allows (`batch`: the fan-out's)."""
    found = writer_of(send)
    return FrameSocket(*found, socket, batch) if found is not None else DirectSocket(send, socket)
