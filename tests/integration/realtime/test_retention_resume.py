"""A socket resuming from before what retention archived is told to resync; one resuming from inside
the kept window is replayed as always (hub.services.retention, docs/protocol.md "Resume")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from hub.adapters.db.models import Event, Notification
from hub.adapters.db.types import utcnow
from hub.services import retention
from hub.services.retention import RetentionPolicy
from tests.integration.realtime.conftest import Live
from tests.support.live import ws_connect


async def _age(live: Live, model: type[Event] | type[Notification], up_to: int, days: int) -> None:
    async with live.context.uow() as uow:
        await uow.session.execute(
            update(model).where(model.id <= up_to).values(created_at=utcnow() - timedelta(days=days))
        )
        await uow.commit()


async def test_resume_from_before_the_archive_gets_resync_inside_the_window_gets_replay(live: Live) -> None:
    user = await live.api.user()
    pid = (await live.api.project(user))["id"]
    other = (await live.api.project(user, key="OTHER"))["id"]
    tickets = [await live.api.ticket(user, pid, title=f"t{n}") for n in range(4)]
    await live.api.ticket(user, other, title="elsewhere")
    feed = await live.api.get(f"/api/projects/{pid}/events", query={"limit": 500}, token=user.token)
    ids = [e["id"] for e in feed.body["items"] if e["type"] == "ticket.created"]
    await _age(live, Event, ids[1], days=40)  # the first two tickets' events (and what came before)
    moved = await retention.prune(live.context.uow, RetentionPolicy(events_days=30), utcnow())
    assert moved["events"] >= 2

    path = f"/ws/projects/{pid}/tickets/"
    async with ws_connect(live.address, path, token=user.token, params={"last_event_id": ids[0]}) as ws:
        assert (await ws.recv())["type"] == "resync_required"  # ids[1] is gone from the outbox
        assert ws.ready is not None
        assert ws.ready["last_event_id"] >= ids[-1]  # live from the present
    async with ws_connect(live.address, path, token=user.token, params={"last_event_id": ids[1]}) as ws:
        replayed = [(await ws.recv_type("ticket_update"))["data"]["key"] for _ in range(2)]
        assert replayed == [t["key"] for t in tickets[2:]]
    # Another project's socket resuming from the same point lost nothing: it replays.
    other_path = f"/ws/projects/{other}/tickets/"
    async with ws_connect(live.address, other_path, token=user.token, params={"last_event_id": ids[0]}) as ws:
        assert (await ws.recv_type("ticket_update"))["data"]["title"] == "elsewhere"


async def test_notifications_resume_from_before_pruned_ones_gets_resync(live: Live) -> None:
    alice, bob = await live.api.user("Alice Archer"), await live.api.user("Bob Baker")
    pid = (await live.api.project(alice))["id"]
    await live.api.add(alice, pid, bob, "member")
    for n in range(2):
        await live.api.ticket(alice, pid, title=f"for bob {n}", assignee_id=bob.id)
    notes = (await live.api.get("/api/notifications", token=bob.token)).body["items"]
    first_event = min(n["event_id"] for n in notes if n.get("event_id"))
    await _age(live, Notification, min(n["id"] for n in notes), days=100)
    removed = await retention.prune(live.context.uow, RetentionPolicy(notifications_days=90), utcnow())
    assert removed["notifications"] == 1

    path = "/ws/notifications/"
    async with ws_connect(
        live.address, path, token=bob.token, params={"last_event_id": first_event - 1}
    ) as ws:
        assert (await ws.recv())["type"] == "resync_required"
    async with ws_connect(live.address, path, token=bob.token, params={"last_event_id": first_event}) as ws:
        assert (await ws.recv())["data"]["title"].endswith("for bob 1")
