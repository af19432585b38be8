"""A ticket's timeline (`GET /api/tickets/{ref}/events`) and a project's labels
(`GET /api/projects/{id}/labels`). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from hub.adapters.db.models import Event
from hub.adapters.db.types import utcnow
from hub.context import HubContext
from hub.services import retention
from hub.services.retention import RetentionPolicy
from tests.support.api import Api


async def test_the_timeline_shows_the_tickets_history_newest_first(api: Api, context: HubContext) -> None:
    owner, bob, viewer, stranger = (
        await api.user("Olga"),
        await api.user("Bob"),
        await api.user("Vic"),
        await api.user(),
    )
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    await api.add(owner, pid, viewer, "viewer")
    ticket = await api.ticket(owner, pid, title="Printer on fire")
    other = await api.ticket(owner, pid, title="Elsewhere")
    tid = ticket["id"]
    await api.patch(f"/api/tickets/{tid}", json={"title": "Printer still on fire"}, token=owner.token)
    await api.patch(f"/api/tickets/{tid}", json={"assignee_id": bob.id}, token=owner.token)
    await api.patch(f"/api/tickets/{other['id']}", json={"status": "done"}, token=owner.token)
    long_body = "Smoke  everywhere.\n" + "x" * 400
    comment = await api.post(f"/api/tickets/{tid}/comments", json={"body": long_body}, token=bob.token)
    assert comment.status == 201
    await api.patch(f"/api/tickets/{tid}", json={"status": "in_progress"}, token=bob.token)

    reply = await api.get(f"/api/tickets/{ticket['key']}/events", token=viewer.token)
    assert reply.status == 200, reply.body
    items = reply.body["items"]
    assert [i["type"] for i in items] == [
        "ticket.status_changed",
        "comment.created",
        "ticket.assigned",
        "ticket.updated",
        "ticket.created",
    ]
    assert reply.body["next_before"] is None
    ids = [i["id"] for i in items]
    assert ids == sorted(ids, reverse=True)
    status, created_comment, assigned, updated, created = items
    assert status["actor"] == {"id": bob.id, "name": "Bob"}
    assert status["changes"] == {"status": ["todo", "in_progress"]}
    assert status["origin"] == "api"
    assert assigned["changes"] == {"assignee_id": [None, bob.id]}
    assert updated["changes"] == {"title": ["Printer on fire", "Printer still on fire"]}
    assert created["actor"] == {"id": owner.id, "name": "Olga"}
    assert "changes" not in created
    assert "comment" not in created
    assert created_comment["comment"]["id"] == comment.body["id"]
    excerpt = created_comment["comment"]["excerpt"]
    assert excerpt.startswith("Smoke everywhere. xxx")
    assert excerpt.endswith("…")
    assert len(excerpt) == 200
    # Also by numeric id; paging back with `before`.
    first = await api.get(f"/api/tickets/{tid}/events", query={"limit": 2}, token=owner.token)
    assert [i["id"] for i in first.body["items"]] == ids[:2]
    assert first.body["next_before"] == ids[1]
    rest = await api.get(
        f"/api/tickets/{tid}/events", query={"limit": 3, "before": ids[1]}, token=owner.token
    )
    assert [i["id"] for i in rest.body["items"]] == ids[2:]
    # Edited and deleted comments are there too.
    await api.patch(f"/api/comments/{comment.body['id']}", json={"body": "Only smoke"}, token=bob.token)
    await api.delete(f"/api/comments/{comment.body['id']}", token=bob.token)
    latest = await api.get(f"/api/tickets/{tid}/events", query={"limit": 2}, token=owner.token)
    assert [(i["type"], i["comment"]["excerpt"]) for i in latest.body["items"]] == [
        ("comment.deleted", "Only smoke"),
        ("comment.updated", "Only smoke"),
    ]
    # Outsiders: as if there were no such ticket.
    assert (await api.get(f"/api/tickets/{tid}/events", token=stranger.token)).status == 404
    assert (await api.get("/api/tickets/OPS-999/events", token=owner.token)).status == 404
    bad = await api.get(f"/api/tickets/{tid}/events", query={"limit": 0}, token=owner.token)
    assert bad.status == 422

    # Archived events (retention) are read with the rest.
    async with context.uow() as uow:
        await uow.session.execute(
            update(Event).where(Event.id <= ids[2]).values(created_at=utcnow() - timedelta(days=40))
        )
        await uow.commit()
    moved = await retention.prune(context.uow, RetentionPolicy(events_days=30), utcnow())
    assert moved["events"] >= 3
    after = await api.get(f"/api/tickets/{tid}/events", query={"limit": 50}, token=owner.token)
    assert [i["id"] for i in after.body["items"]][-5:] == ids


async def test_labels_most_used_first_for_members_only(api: Api) -> None:
    owner, viewer, stranger = await api.user(), await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    other = (await api.project(owner, "OTH"))["id"]
    await api.add(owner, pid, viewer, "viewer")
    assert (await api.get(f"/api/projects/{pid}/labels", token=owner.token)).body == {"items": []}
    await api.ticket(owner, pid, labels=["bug", "ui"])
    await api.ticket(owner, pid, labels=["bug", "backend"])
    await api.ticket(owner, pid, labels=["bug", "ui", "urgent"])
    await api.ticket(owner, other, labels=["backend", "elsewhere"])
    reply = await api.get(f"/api/projects/{pid}/labels", token=viewer.token)
    assert reply.status == 200
    assert reply.body["items"] == [
        {"name": "bug", "count": 3},
        {"name": "ui", "count": 2},
        {"name": "backend", "count": 1},
        {"name": "urgent", "count": 1},
    ]
    assert (await api.get(f"/api/projects/{pid}/labels", token=stranger.token)).status == 404
    assert (await api.get("/api/projects/424242/labels", token=owner.token)).status == 404


async def test_the_timeline_is_read_by_ticket_not_by_scanning_the_project(
    api: Api, context: HubContext
) -> None:
    """The plan of the timeline's query uses the `ticket_id` index of both tables (PostgreSQL is told
    not to scan sequentially, as it would on tables this small)."""
    from sqlalchemy import text

    from hub.services.tickets.timeline import page_queries

    plans: list[str] = []
    async with context.uow() as uow:
        session = uow.session
        if not context.db.is_sqlite:
            await session.execute(text("SET LOCAL enable_seqscan = off"))
        for query in page_queries(project_id=1, ticket_id=1, before=100, limit=50):
            compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN QUERY PLAN " if context.db.is_sqlite else "EXPLAIN "
            plan = "\n".join(str(row[-1]) for row in await session.execute(text(explain + str(compiled))))
            plans.append(plan)
    assert "ix_events_ticket_id_id" in plans[0], plans[0]
    assert "ix_events_archive_ticket_id_id" in plans[1], plans[1]
