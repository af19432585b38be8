"""Pre-built WebSocket frames, read back by wsproto's client, and the ASGI fallback for other servers."""

from __future__ import annotations

from typing import Any

import pytest
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import TextMessage

from hub.realtime.asgi import DirectSocket, frame_of, socket_for, text_frame


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

    socket = socket_for(send, Closer())
    assert isinstance(socket, DirectSocket)
    await socket.send("hello")
    assert sent == [{"type": "websocket.send", "bytes": None, "text": "hello"}]
