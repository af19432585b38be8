"""Pre-built WebSocket frames, read back by wsproto's client, and the ASGI fallback for other servers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import TextMessage

from hub.realtime.asgi import DirectSocket, FrameSocket, WriteBatch, socket_for, text_frame


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])  # 7-, 16- and 64-bit lengths
def test_a_text_frame_is_read_back_whole_by_a_real_client(size: int) -> None:
    text = "é" + "x" * max(size - 2, 0) if size >= 2 else "x" * size  # `size` bytes, one of them UTF-8
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(text_frame(text.encode()))
    events = list(client.events())
    assert len(events) == 1
    assert isinstance(events[0], TextMessage)
    assert (events[0].data, events[0].message_finished) == (text, True)


def test_one_frame_is_built_per_message_not_per_socket() -> None:
    frame_of = WriteBatch().frame_of
    message = '{"type":"ticket_update"}'
    assert frame_of(message) is frame_of(message)
    other = '{"type":"other"}'
    assert frame_of(other) == text_frame(other.encode())


class Closer:
    async def close(self, code: int, reason: str = "") -> None:
        raise AssertionError("not expected")


async def test_other_servers_get_the_asgi_send() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    socket = socket_for(send, Closer(), WriteBatch())
    assert isinstance(socket, DirectSocket)
    await socket.send("hello")
    assert sent == [{"type": "websocket.send", "bytes": None, "text": "hello"}]


class FakeTransport:
    def __init__(self) -> None:
        self.closing = False

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


class FakeWriter:
    """The two things a FrameSocket uses of an asyncio.StreamWriter, recording each write call."""

    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


def frame_socket(batch: WriteBatch) -> tuple[FrameSocket, FakeWriter, SimpleNamespace]:
    writer, state = FakeWriter(), SimpleNamespace(state=ConnectionState.OPEN)
    socket = FrameSocket(writer, SimpleNamespace(connection=state), Closer(), batch)  # type: ignore[arg-type]
    return socket, writer, state


def read_back(data: bytes) -> list[str]:
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(data)
    return [event.data for event in client.events() if isinstance(event, TextMessage)]


def test_frames_written_in_a_batch_reach_each_socket_as_one_write_in_order() -> None:
    batch = WriteBatch()  # the fan-out's
    (first, first_writer, _), (second, second_writer, _) = frame_socket(batch), frame_socket(batch)
    with batch.writes():
        for n in range(3):
            for socket in (first, second):
                assert socket.write(f'{{"n":{n}}}')
        with batch.writes():  # nested blocks belong to the outer one
            first.write('{"n":3}')
        assert first_writer.writes == []  # nothing sent until the block ends
        assert first.buffered() == sum(len(text_frame(f'{{"n":{n}}}'.encode())) for n in range(4))
    assert len(first_writer.writes) == 1
    assert len(second_writer.writes) == 1
    assert read_back(first_writer.writes[0]) == [f'{{"n":{n}}}' for n in range(4)]
    assert read_back(second_writer.writes[0]) == [f'{{"n":{n}}}' for n in range(3)]
    assert first.buffered() == 0
    first.write('{"n":4}')  # outside a batch: at once
    assert len(first_writer.writes) == 2


def test_a_socket_that_starts_closing_during_a_batch_gets_nothing_more() -> None:
    batch = WriteBatch()
    socket, writer, state = frame_socket(batch)
    with batch.writes():
        socket.write('{"n":0}')
        state.state = ConnectionState.LOCAL_CLOSING  # its close frame went out meanwhile
        assert not socket.write('{"n":1}')
    assert writer.writes == []
    other, other_writer, _ = frame_socket(batch)
    with batch.writes():
        other.write('{"n":0}')
        other_writer.transport.closing = True
    assert other_writer.writes == []
