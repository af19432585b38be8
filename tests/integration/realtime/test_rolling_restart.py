"""A rolling restart of one of two hub instances loses no event for any client."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.integration.realtime.test_multi_instance import database_url, two_hubs  # noqa: F401
from tests.support.api import HttpApi
from tests.support.process import HubProcess
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def _follow(
    urls: list[str],
    token: str,
    pid: int,
    seen: list[int],
    closes: list[int],
    done: asyncio.Event,
    readies: list[str],
) -> None:
    """A client that, like the board, reconnects to the next instance with last_event_id on close;
    `readies` gets the instance of each `ready` (the socket is live there)."""
    last: int | None = None
    attempt = 0
    while not done.is_set():
        url = urls[attempt % len(urls)]
        attempt += 1
        query = f"?last_event_id={last}" if last is not None else ""
        try:
            async with connect(
                f"ws://{url}/ws/projects/{pid}/tickets/{query}",
                subprotocols=["switchboard", f"bearer.{token}"],
            ) as ws:  # type: ignore[list-item]
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "ready":
                        readies.append(url)
                        last = (
                            message["last_event_id"] if last is None else max(last, message["last_event_id"])
                        )
                    elif message["type"] == "ticket_update":
                        seen.append(message["event_id"])
                        last = message["event_id"]
        except ConnectionClosed as closed:
            closes.append(closed.rcvd.code if closed.rcvd else -1)
        except OSError:
            await asyncio.sleep(0.1)


async def _write(api: HttpApi, token_user: object, pid: int, titles: range, created: list[int]) -> None:
    for n in titles:
        ticket = await api.ticket(token_user, pid, title=f"T{n}")  # type: ignore[arg-type]
        created.append(ticket["id"])
        await asyncio.sleep(0.05)


async def test_rolling_restart_loses_nothing(two_hubs: tuple[HubProcess, HubProcess]) -> None:  # noqa: F811
    """Restart A, then B, while a client follows a project and a writer keeps creating tickets."""
    hub_a, hub_b = two_hubs
    api_b = HttpApi(hub_b.url)
    new_a: HubProcess | None = None
    api_new_a: HttpApi | None = None
    done = asyncio.Event()
    seen: list[int] = []
    closes: list[int] = []
    created: list[int] = []
    readies: list[str] = []
    try:
        user = await api_b.user()
        pid = (await api_b.project(user))["id"]
        urls = [f"127.0.0.1:{hub_a.port}", f"127.0.0.1:{hub_b.port}"]
        client = asyncio.create_task(_follow(urls, user.token, pid, seen, closes, done, readies))
        await wait_until(lambda: readies == [urls[0]], what="the client to be live on A", within=10)
        writing = asyncio.create_task(_write(api_b, user, pid, range(15), created))
        # A restarts while events flow to the client through it.
        await wait_until(lambda: len(seen) >= 3, what="the client to see events on A", within=10)
        await asyncio.to_thread(hub_a.stop)  # SIGTERM: sockets closed with 1012; the client moves to B
        await writing
        new_a = HubProcess(hub_a.workdir, hub_a.env, port=hub_a.port)
        await asyncio.to_thread(new_a.wait_ready)
        api_new_a = HttpApi(new_a.url)
        writing = asyncio.create_task(_write(api_new_a, user, pid, range(15, 30), created))
        # B restarts while events of the second batch flow to the client through it.
        await wait_until(lambda: len(seen) >= 18, what="the client to see events on B", within=20)
        await asyncio.to_thread(hub_b.stop)  # now B restarts; the client moves back to A
        await writing
        await wait_until(lambda: len(seen) >= len(created), what="every event", within=20)
        # Nothing more (no duplicate) may arrive: send a marker and wait for it. A socket gets its
        # replay (ids after last_event_id) and then live events, in event_id order (docs/protocol.md),
        # so a duplicate of an earlier event would arrive before the later marker.
        await _write(api_new_a, user, pid, range(30, 31), created)
        await wait_until(lambda: len(seen) >= len(created), what="the marker", within=20)
        done.set()
        client.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await client
        events = await api_new_a.get(f"/api/projects/{pid}/events", query={"limit": 500}, token=user.token)
        expected = [e["id"] for e in events.body["items"] if e["type"] == "ticket.created"]
        assert len(expected) == len(created) == 31  # 30, then the marker
        assert closes.count(1012) >= 2
        assert seen == expected  # every event, once, in order, across both restarts
    finally:
        done.set()
        await api_b.aclose()
        if api_new_a is not None:
            await api_new_a.aclose()
        if new_a is not None:
            new_a.stop()
