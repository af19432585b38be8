"""The Hypercorn internals `hub/realtime/asgi.py` reaches into, checked one by one.

The direct frame path (`writer_of`, `FrameSocket`) follows bound methods from a WebSocket's ASGI `send`
down to the connection's StreamWriter:

    send = WSStream.app_send → WSStream.send = H11Protocol.stream_send
         → H11Protocol.send = TCPServer.protocol_send → TCPServer.writer (asyncio.StreamWriter)

and it reads `WSStream.connection` (the wsproto connection made at accept) to know whether a close
went out, and writes its close frame through it. None of that is Hypercorn's public API. When a
release moves any of it, `writer_of` quietly returns None and every socket falls back to the ASGI
`send`: the suite stays green while the fan-out gets several times slower. These tests fail instead,
saying which step moved, so that asgi.py (and the pin in pyproject.toml) are revisited on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.metadata
import inspect
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import CloseConnection

from hub.realtime import asgi
from hub.realtime.asgi import FrameSocket, WriteBatch, writer_of

VERSION = importlib.metadata.version("hypercorn")
#: (module, class, what asgi.py needs of it)
INTERNALS = [
    ("hypercorn.protocol.ws_stream", "WSStream", "the stream whose bound `app_send` is the ASGI send"),
    ("hypercorn.protocol.h11", "H11Protocol", "the HTTP/1.1 protocol whose `stream_send` the stream holds"),
    ("hypercorn.asyncio.tcp_server", "TCPServer", "the connection whose `protocol_send` and `writer` we use"),
]
#: (module, class, constructor parameter stored as the attribute `writer_of` follows, bound method)
HOPS = [
    ("hypercorn.protocol.ws_stream", "WSStream", "send", "app_send"),
    ("hypercorn.protocol.h11", "H11Protocol", "send", "stream_send"),
    ("hypercorn.asyncio.tcp_server", "TCPServer", "writer", "protocol_send"),
]


def moved(what: str) -> str:
    return (
        f"Hypercorn {VERSION} changed an internal hub/realtime/asgi.py relies on: {what}. The direct frame "
        "path (writer_of/FrameSocket) would silently fall back to the ASGI send; update asgi.py for this "
        "Hypercorn or keep the upper bound on hypercorn in pyproject.toml."
    )


@pytest.mark.parametrize(("module", "name", "role"), INTERNALS)
def test_the_internal_classes_are_where_asgi_imports_them(module: str, name: str, role: str) -> None:
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        pytest.fail(moved(f"{module}.{name} ({role}) is gone"))
    assert inspect.isclass(found), moved(f"{module}.{name} is no longer a class")
    assert asgi._HYPERCORN, moved("asgi.py could not import its Hypercorn internals")


@pytest.mark.parametrize(("module", "name", "parameter", "method"), HOPS)
def test_each_hop_keeps_its_constructor_parameter_and_bound_method(
    module: str, name: str, parameter: str, method: str
) -> None:
    cls = getattr(importlib.import_module(module), name)
    parameters = inspect.signature(cls.__init__).parameters
    assert parameter in parameters, moved(f"{name}.__init__ takes no `{parameter}` any more")
    assert inspect.iscoroutinefunction(getattr(cls, method, None)), moved(
        f"{name}.{method} is no longer a coroutine method"
    )


def test_the_wsproto_connection_api_asgi_uses_is_there() -> None:
    """`FrameSocket` reads `connection.state` and writes `connection.send(CloseConnection(...))`."""
    connection = Connection(ConnectionType.SERVER)
    states = [connection.state]
    data = connection.send(CloseConnection(code=1000, reason="bye"))
    states.append(connection.state)
    assert data[:2] == b"\x88\x05", "wsproto's close frame changed shape"
    assert states == [ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING]


def chain_of(send: Any) -> tuple[asyncio.StreamWriter, Any]:
    """Follow the chain like `writer_of`, but fail naming the first step that does not hold."""
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.ws_stream import WSStream

    stream = getattr(send, "__self__", None)
    assert isinstance(stream, WSStream), moved(f"the ASGI send is no longer WSStream.app_send (got {send!r})")
    protocol = getattr(stream.send, "__self__", None)
    assert isinstance(protocol, H11Protocol), moved(
        f"WSStream.send is no longer H11Protocol.stream_send (got {stream.send!r})"
    )
    server = getattr(protocol.send, "__self__", None)
    assert isinstance(server, TCPServer), moved(
        f"H11Protocol.send is no longer TCPServer.protocol_send (got {protocol.send!r})"
    )
    writer = getattr(server, "writer", None)
    assert isinstance(writer, asyncio.StreamWriter), moved(
        f"TCPServer.writer is no longer the asyncio.StreamWriter (got {writer!r})"
    )
    connection = getattr(stream, "connection", None)
    assert isinstance(connection, Connection), moved(
        f"WSStream.connection is no longer the wsproto connection after accept (got {connection!r})"
    )
    assert connection.state is ConnectionState.OPEN, moved("WSStream.connection is not OPEN after accept")
    return writer, stream


class AsgiClose:
    """The ASGI close that follows `FrameSocket.write_close`, as `AsgiSocket.close` does it."""

    def __init__(self, send: Any) -> None:
        self._send = send

    async def close(self, code: int, reason: str = "") -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


@contextlib.asynccontextmanager
async def hypercorn_serving(app: Any) -> AsyncIterator[int]:
    """`app` served by real Hypercorn (HTTP/1.1) on a free loopback port; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_live_websocket_exposes_the_chain_and_frames_written_into_it_are_read() -> None:
    problems: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert scope["type"] == "websocket"
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        try:
            writer, stream = chain_of(send)
            assert writer_of(send) == (writer, stream), moved("writer_of no longer finds the writer")
            frames = FrameSocket(writer, stream, AsgiClose(send), WriteBatch())
            assert frames.write('{"type":"direct"}')
            assert frames.write_close(1000, "done")
            await frames.close(1000, "done")  # the ASGI close sends no second close frame
        except BaseException as error:
            problems.append(error)
            await send({"type": "websocket.close", "code": 1011})

    async with hypercorn_serving(app) as port, connect(f"ws://127.0.0.1:{port}/") as client:
        # The client offers permessage-deflate, as browsers do: uncompressed frames must still be read.
        try:
            received = await asyncio.wait_for(client.recv(), 5)
        except Exception:
            received = None
        if problems:
            raise problems[0]
        assert received == '{"type":"direct"}', moved("a frame written into TCPServer.writer was not read")
        with pytest.raises(ConnectionClosedOK):
            await asyncio.wait_for(client.recv(), 5)
        assert client.close_code == 1000
        assert client.close_reason == "done"
