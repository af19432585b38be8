"""Which browser origins may open a socket: behind a reverse proxy on a non-default port, and when not.

The client here plays both the browser and the proxy: it connects from 127.0.0.1 (the socket peer the
hub sees) and writes the headers a proxy would. Whether those headers count depends on TRUSTED_PROXIES.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from websockets.exceptions import InvalidStatus

from tests.integration.realtime.conftest import Live, start_live
from tests.support.live import ws_connect

BOARD = "http://board.example:8080"  # where users reach the board: a proxy on a non-default port
Hub = Callable[..., AbstractAsyncContextManager[Live]]


@pytest.fixture
def hub(stack: tuple[str, str | None, dict[str, str]]) -> Hub:
    @asynccontextmanager
    async def started(**settings: str) -> AsyncIterator[Live]:
        live, manager = await start_live(stack, **settings)
        try:
            yield live
        finally:
            await live.api.aclose()
            await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]

    return started


async def _status(live: Live, token: str, origin: str, **headers: str) -> int:
    """101 when the handshake is accepted (the socket then answers a ping), else the HTTP status."""
    try:
        async with ws_connect(
            live.address, "/ws/notifications/", token=token, origin=origin, additional_headers=headers
        ) as ws:
            await ws.send({"type": "ping"})
            assert await ws.recv() == {"type": "pong"}
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_a_trusted_proxys_forwarded_host_admits_its_pages(hub: Hub) -> None:
    async with hub(TRUSTED_PROXIES="127.0.0.1") as live:
        token = (await live.api.user()).token
        forwarded = {"X-Forwarded-Host": "board.example:8080", "X-Forwarded-Proto": "http"}
        assert await _status(live, token, BOARD, **forwarded) == 101
        # the port is part of the origin: the same host on another port is another site
        assert await _status(live, token, "http://board.example:9090", **forwarded) == 403
        # so is the scheme the proxy reports
        assert await _status(live, token, "https://board.example:8080", **forwarded) == 403
        # a proxy that appends rather than sets: the last value is the one the trusted peer wrote
        chained = {"X-Forwarded-Host": "evil.example, board.example:8080"}
        assert await _status(live, token, "http://evil.example", **chained) == 403
        assert await _status(live, token, BOARD, **chained) == 101
        assert await _status(live, token, "https://evil.example") == 403


async def test_forwarded_host_from_an_untrusted_peer_widens_nothing(hub: Hub) -> None:
    for trusted in ("", "10.0.0.0/8"):  # none, or not this peer
        async with hub(TRUSTED_PROXIES=trusted) as live:
            token = (await live.api.user()).token
            forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
            assert await _status(live, token, "https://evil.example", **forged) == 403
            assert await _status(live, token, BOARD, **{"X-Forwarded-Host": "board.example:8080"}) == 403
            # the Host the hub itself received still admits the page served from it
            assert await _status(live, token, f"http://{live.address}", **forged) == 101


async def test_public_url_is_always_an_allowed_origin(hub: Hub) -> None:
    async with hub(PUBLIC_URL=BOARD + "/") as live:
        token = (await live.api.user()).token
        assert await _status(live, token, BOARD) == 101
        assert await _status(live, token, "https://board.example:8080") == 403  # another scheme
        assert await _status(live, token, "http://board.example") == 403  # another port
        assert await _status(live, token, "null") == 403
