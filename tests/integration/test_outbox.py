"""The outbox: every change writes exactly its events, in its own transaction, in id order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.adapters.db.models import Event
from hub.context import HubContext
from tests.support.api import Api


async def _events(context: HubContext, after: int = 0) -> list[Event]:
    async with context.uow() as uow:
        return list(await uow.session.scalars(select(Event).where(Event.id > after).order_by(Event.id)))


async def _last_id(context: HubContext) -> int:
    events = await _events(context)
    return events[-1].id if events else 0


async def test_each_action_emits_its_events(api: Api, context: HubContext) -> None:
    owner, bob = await api.user("Alice Archer"), await api.user("Bob Baker")
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    mark = await _last_id(context)

    ticket = await api.ticket(owner, pid, title="Outage", description="@bob.baker look")
    await api.patch(f"/api/tickets/{ticket['id']}", json={"status": "in_progress"}, token=owner.token)
    await api.patch(f"/api/tickets/{ticket['id']}", json={"assignee_id": bob.id}, token=owner.token)
    await api.patch(
        f"/api/tickets/{ticket['id']}", json={"title": "Big outage", "status": "in_review"}, token=owner.token
    )
    comment = (
        await api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "on it"}, token=bob.token)
    ).body
    await api.patch(f"/api/comments/{comment['id']}", json={"body": "on it!"}, token=bob.token)
    await api.delete(f"/api/comments/{comment['id']}", token=bob.token)
    await api.delete(f"/api/tickets/{ticket['id']}", token=owner.token)

    events = await _events(context, mark)
    assert [e.type for e in events] == [
        "ticket.created",
        "ticket.status_changed",
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.updated",
        "comment.created",
        "comment.updated",
        "comment.deleted",
        "ticket.deleted",
    ]
    assert all(e.project_id == pid for e in events)
    assert [e.actor_id for e in events] == [owner.id] * 5 + [bob.id] * 3 + [owner.id]
    ids = [e.id for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    created: dict[str, Any] = events[0].payload
    assert created["ticket"]["key"] == "OPS-1"
    assert created["mentions"] == [bob.id]
    assert events[1].payload["changes"] == {"status": ["todo", "in_progress"]}
    assert events[2].payload["changes"] == {"assignee_id": [None, bob.id]}
    assert events[2].payload["ticket"]["assignee"]["id"] == bob.id
    # One PATCH with two kinds of change: both events carry the same, final ticket.
    assert events[3].payload["ticket"] == events[4].payload["ticket"]
    assert events[4].payload["changes"] == {"title": ["Outage", "Big outage"]}
    assert events[5].payload["comment"]["body"] == "on it"
    assert events[5].payload["ticket_id"] == ticket["id"]
    assert events[8].payload["ticket"]["id"] == ticket["id"]


async def test_failed_actions_write_no_event(api: Api, context: HubContext) -> None:
    owner, viewer = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, viewer, "viewer")
    ticket = await api.ticket(owner, pid)
    mark = await _last_id(context)
    assert (
        await api.patch(f"/api/tickets/{ticket['id']}", json={"status": "done"}, token=viewer.token)
    ).status == 403
    stale = await api.patch(
        f"/api/tickets/{ticket['id']}", json={"title": "x", "version": 99}, token=owner.token
    )
    assert stale.status == 409
    bad = await api.post(
        f"/api/projects/{pid}/tickets", json={"title": "t", "assignee_id": 999}, token=owner.token
    )
    assert bad.status == 422
    assert await _events(context, mark) == []
    # ...and the rejected ticket did not consume a number either.
    assert (await api.ticket(owner, pid))["number"] == 2


async def test_events_endpoint_pages_in_order(api: Api) -> None:
    owner, outsider = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    other = (await api.project(owner, "ZED"))["id"]
    for n in range(5):
        await api.ticket(owner, pid, title=f"T{n}")
    await api.ticket(owner, other, title="elsewhere")
    first = await api.get(f"/api/projects/{pid}/events", query={"after": 0, "limit": 4}, token=owner.token)
    assert first.status == 200
    assert [e["type"] for e in first.body["items"]] == ["project.created"] + ["ticket.created"] * 3
    rest = await api.get(
        f"/api/projects/{pid}/events", query={"after": first.body["next_after"]}, token=owner.token
    )
    titles = [e["payload"]["ticket"]["title"] for e in first.body["items"][1:] + rest.body["items"]]
    assert titles == ["T0", "T1", "T2", "T3", "T4"]
    assert (await api.get(f"/api/projects/{pid}/events", token=outsider.token)).status == 404
    bad = await api.get(f"/api/projects/{pid}/events", query={"after": -1, "limit": 0}, token=owner.token)
    assert bad.status == 422
    assert set(bad.error_fields()) == {"after", "limit"}
