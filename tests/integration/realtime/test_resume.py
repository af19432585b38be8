"""Resume with last_event_id: the gap is replayed from the outbox, then live, with no gap and no
duplicate; publishes lost between commit and publish are recovered from the outbox, once."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from hub.domain.events import TicketWatchersChanged
from tests.integration.realtime.conftest import Live
from tests.support.live import ws_connect


async def _ids_until(ws, last: int, within: float = 8.0) -> list[int]:  # type: ignore[no-untyped-def]
    ids: list[int] = []
    async with asyncio.timeout(within):
        while not ids or ids[-1] < last:
            message = await ws.recv(within)
            if message["type"] == "ticket_update":
                ids.append(message["event_id"])
    return ids


async def _event_ids(live: Live, token: str, pid: int) -> list[int]:
    reply = await live.api.get(f"/api/projects/{pid}/events", query={"limit": 500}, token=token)
    return [e["id"] for e in reply.body["items"] if e["type"].startswith(("ticket.", "comment."))]


async def test_resume_replays_the_gap_then_goes_live(live: Live) -> None:
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    path = f"/ws/projects/{pid}/tickets/"
    async with ws_connect(live.address, path, token=user.token) as ws:
        await live.api.ticket(user, pid, title="seen")
        seen = (await ws.recv())["event_id"]
    for n in range(3):
        await live.api.ticket(user, pid, title=f"missed {n}")
    async with ws_connect(live.address, path, token=user.token, params={"last_event_id": seen}) as ws:
        replayed = [await ws.recv() for _ in range(3)]
        assert [m["data"]["title"] for m in replayed] == ["missed 0", "missed 1", "missed 2"]
        await live.api.ticket(user, pid, title="live")
        assert (await ws.recv())["data"]["title"] == "live"
        assert await ws.silent(0.3) == []


async def test_a_resume_is_answered_while_a_long_write_holds_the_database(live: Live) -> None:
    # Admission and replay only read: on SQLite they must not queue for the write lock behind a long
    # write (another process, or a stream of writers), which holds it for up to the 30 s busy timeout.
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    path = f"/ws/projects/{pid}/tickets/"
    created = [await live.api.ticket(user, pid, title=f"t{n}") for n in range(3)]
    first = (await _event_ids(live, user.token, pid))[0]
    async with live.context.db.session() as writer:
        await writer.execute(text("UPDATE projects SET name = name"))  # holds the write lock (SQLite)
        async with asyncio.timeout(5):
            params = {"last_event_id": first}
            async with ws_connect(live.address, path, token=user.token, params=params) as ws:
                replayed = [await ws.recv_type("ticket_update") for _ in range(2)]
        await writer.rollback()
    assert [m["data"]["key"] for m in replayed] == [t["key"] for t in created[1:]]


async def test_resume_while_events_keep_coming_has_no_gap_and_no_duplicate(live: Live) -> None:
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    path = f"/ws/projects/{pid}/tickets/"
    for n in range(5):
        await live.api.ticket(user, pid, title=f"before {n}")
    first = (await _event_ids(live, user.token, pid))[0]

    async def writer() -> None:
        for n in range(15):
            await live.api.ticket(user, pid, title=f"during {n}")

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    async with ws_connect(live.address, path, token=user.token, params={"last_event_id": first}) as ws:
        await task
        expected = [i for i in await _event_ids(live, user.token, pid) if i > first]
        got = await _ids_until(ws, expected[-1])
        assert got == expected
        assert await ws.silent(0.3) == []


async def test_too_old_a_position_asks_for_a_resync(live: Live) -> None:
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    live.realtime.max_replay = 3
    for n in range(5):
        await live.api.ticket(user, pid, title=f"T{n}")
    async with ws_connect(
        live.address, f"/ws/projects/{pid}/tickets/", token=user.token, params={"last_event_id": 0}
    ) as ws:
        assert await ws.recv() == {"type": "resync_required"}
        await live.api.ticket(user, pid, title="after resync")
        assert (await ws.recv())["data"]["title"] == "after resync"


async def test_a_publish_lost_after_commit_still_arrives_once(live: Live) -> None:
    """Simulates a crash between commit and publish: the commit lands, the publish never happens."""
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    async with ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=user.token) as ws:
        publisher = live.context.publisher
        live.context.publisher = None
        try:
            lost = await live.api.ticket(user, pid, title="never published")
        finally:
            live.context.publisher = publisher
        message = await ws.recv(within=5)
        assert message["data"]["id"] == lost["id"]
        after = await live.api.ticket(user, pid, title="published")
        follow = await ws.recv()
        assert follow["data"]["id"] == after["id"]
        assert follow["event_id"] > message["event_id"]
        assert await ws.silent(1.2) == []
    assert live.realtime.stats.get("events_recovered", 0) >= 1


async def test_notification_socket_resumes_too(live: Live) -> None:
    owner, bob = await live.api.user(), await live.api.user()
    pid = (await live.api.project(owner))["id"]
    await live.api.add(owner, pid, bob, "member")
    async with ws_connect(live.address, "/ws/notifications/", token=bob.token) as ws:
        await live.api.ticket(owner, pid, title="one", assignee_id=bob.id)
        first = await ws.recv()
        assert first["type"] == "notification"
    await live.api.ticket(owner, pid, title="two", assignee_id=bob.id)
    async with ws_connect(
        live.address, "/ws/notifications/", token=bob.token, params={"last_event_id": first["event_id"]}
    ) as ws:
        missed = await ws.recv()
        assert missed["data"]["title"].endswith("two")
        assert await ws.silent(0.3) == []


async def test_a_long_gap_is_replayed_whole_not_treated_as_falling_behind(live: Live) -> None:
    """More missed events than a socket's live queue holds (256) still replay in full."""
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    async with live.context.uow() as uow:  # 300 events, written the way every change writes them
        for n in range(300):
            following = TicketWatchersChanged.following({"n": n}, user.id, True, origin="api")
            uow.emit(following, project_id=pid, actor_id=user.id)
        await uow.commit()
    async with ws_connect(
        live.address, f"/ws/projects/{pid}/tickets/", token=user.token, params={"last_event_id": 0}
    ) as ws:
        got = [m for m in ws.pending if m["type"] == "ticket_update"]
        assert len(got) == 300
        assert [m["data"]["n"] for m in got] == list(range(300))
        assert ws.ready is not None
