"""Tickets: numbering, lookup by key, filters, pagination, optimistic concurrency, labels, watchers."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from sqlalchemy import update

from hub.adapters.db.models import User as UserRow
from hub.context import HubContext
from tests.support.api import Api, User


@pytest.fixture
async def team(api: Api) -> tuple[User, User, dict[str, object]]:
    owner, member = await api.user("Alice Archer"), await api.user("Bob Baker")
    project = await api.project(owner, "OPS")
    await api.add(owner, int(project["id"]), member, "member")
    return owner, member, project


async def test_tickets_are_numbered_per_project_and_found_by_key(api: Api, team) -> None:
    owner, _member, project = team
    other = await api.project(owner, "WEB")
    first = await api.ticket(owner, project["id"], title="One")
    second = await api.ticket(owner, project["id"], title="Two")
    web = await api.ticket(owner, other["id"], title="Web one")
    assert (first["key"], second["key"], web["key"]) == ("OPS-1", "OPS-2", "WEB-1")
    assert first["status"] == "todo"
    assert first["priority"] == "medium"
    assert first["reporter"]["id"] == owner.id
    assert first["version"] == 1
    by_key = await api.get("/api/tickets/ops-2", token=owner.token)
    assert by_key.body["id"] == second["id"]
    by_id = await api.get(f"/api/tickets/{web['id']}", token=owner.token)
    assert by_id.body["key"] == "WEB-1"
    assert (await api.get("/api/tickets/OPS-99", token=owner.token)).status == 404
    assert (await api.get("/api/tickets/nonsense", token=owner.token)).status == 404


async def test_the_create_response_and_its_event_match_what_a_read_returns(
    api: Api, team, context: HubContext
) -> None:
    # The created ticket is rendered from the values written, not read back: it must still be
    # exactly what GET returns (assignee, labels in the database's order, mention-added watchers).
    # On PostgreSQL a create that notifies nobody writes its event in the same statement, which
    # fills the ticket's id, number, key and sorted labels into the stored payload: the stored event
    # and the one published must both be the same as the read.
    owner, member, project = team
    carol = await api.user("Carol Chen")
    await api.add(owner, int(project["id"]), carol, "viewer")
    published: list[dict[str, object]] = []
    bus = context.require_realtime().bus
    bus.add_listener("events", lambda _channel, data: published.append(orjson.loads(data)["event"]))
    unsorted = ["zeta", "Alpha", "beta", "alpha", "Beta"]
    cases = [
        ({}, []),
        ({}, ["solo"]),
        ({}, unsorted),  # nobody to notify: one statement writes the event too
        ({"assignee_id": owner.id}, unsorted),  # assigned to its author: nobody notified either
        ({"assignee_id": member.id, "description": f"cc @{carol.email}"}, unsorted),
    ]
    for fields, labels in cases:
        created = await api.ticket(
            owner, project["id"], title=f"Labels {len(labels)}", labels=labels, **fields
        )
        read = await api.get(f"/api/tickets/{created['id']}", token=owner.token)
        assert created == read.body
        expected_watchers = {owner.id, *([member.id, carol.id] if "description" in fields else [])}
        assert created["watchers"] == sorted(expected_watchers)
        if "assignee_id" in fields:
            user = owner if fields["assignee_id"] == owner.id else member
            assert created["assignee"] == {"id": user.id, "name": user.name, "email": user.email}
        events = await api.get(f"/api/projects/{project['id']}/events", token=owner.token)
        stored = events.body["items"][-1]
        assert stored["payload"]["ticket"] == read.body
        for _ in range(100):  # published after commit, delivered on the next loop turns
            if published and published[-1]["id"] == stored["id"]:
                break
            await asyncio.sleep(0.01)
        assert published[-1] == stored


async def test_create_validates_every_field(api: Api, team) -> None:
    owner, _member, project = team
    reply = await api.post(
        f"/api/projects/{project['id']}/tickets",
        json={"title": "", "status": "open", "priority": "meh", "labels": "x"},
        token=owner.token,
    )
    assert reply.status == 422
    assert set(reply.error_fields()) == {"title", "status", "priority", "labels"}
    stranger = await api.user()
    bad_assignee = await api.post(
        f"/api/projects/{project['id']}/tickets",
        json={"title": "T", "assignee_id": stranger.id},
        token=owner.token,
    )
    assert bad_assignee.status == 422
    assert bad_assignee.error_fields() == {"assignee_id": "not a member of this project"}


async def test_who_may_create_and_refusals_leave_no_trace(api: Api, team, context: HubContext) -> None:
    # On PostgreSQL the role, the assignee and the numbering are checked inside one statement: the
    # refusals must be the same as step by step, and a refused create must not consume a number.
    owner, member, project = team
    pid = int(project["id"])
    viewer, outsider, admin, admin_viewer = [await api.user() for _ in range(4)]
    await api.add(owner, pid, viewer, "viewer")
    await api.add(owner, pid, admin_viewer, "viewer")
    async with context.uow() as uow:
        await uow.session.execute(
            update(UserRow).where(UserRow.id.in_([admin.id, admin_viewer.id])).values(is_admin=True)
        )
        await uow.commit()
    path = f"/api/projects/{pid}/tickets"
    refused = [
        (viewer, {"title": "T"}, 403),
        (admin_viewer, {"title": "T"}, 403),  # a membership's role wins over the site role
        (outsider, {"title": "T"}, 404),
        (outsider, {"title": "T", "assignee_id": member.id}, 404),  # not found before the assignee
        (member, {"title": "T", "assignee_id": outsider.id}, 422),
    ]
    for user, body, status in refused:
        reply = await api.post(path, json=body, token=user.token)
        assert reply.status == status, (user.name, body, reply.body)
    missing = await api.post("/api/projects/9999/tickets", json={"title": "T"}, token=admin.token)
    assert missing.status == 404
    first = await api.ticket(member, pid, assignee_id=owner.id, labels=["b", "a"])
    by_admin = await api.ticket(admin, pid, title="By a site admin")
    assert (first["key"], by_admin["key"]) == ("OPS-1", "OPS-2")
    assert by_admin["watchers"] == [admin.id]
    listed = await api.get(path, token=owner.token)
    assert [t["key"] for t in listed.body["items"]] == ["OPS-2", "OPS-1"]
    events = await api.get(f"/api/projects/{pid}/events", token=owner.token)
    created = [e for e in events.body["items"] if e["type"] == "ticket.created"]
    assert [e["payload"]["ticket"]["key"] for e in created] == ["OPS-1", "OPS-2"]


async def test_filters_by_status_assignee_label_and_text(api: Api, team) -> None:
    owner, member, project = team
    pid = project["id"]
    await api.ticket(
        owner, pid, title="Pager storm", status="in_progress", assignee_id=member.id, labels=["oncall"]
    )
    await api.ticket(
        owner, pid, title="Disk full", description="the pager said so", labels=["infra", "oncall"]
    )
    await api.ticket(owner, pid, title="Quiet one", status="done", assignee_id=owner.id)

    async def titles(**query: object) -> list[str]:
        reply = await api.get(f"/api/projects/{pid}/tickets", query=query, token=member.token)
        assert reply.status == 200, reply.body
        return [t["title"] for t in reply.body["items"]]

    assert await titles() == ["Quiet one", "Disk full", "Pager storm"]
    assert await titles(status="in_progress") == ["Pager storm"]
    assert await titles(status="done,in_progress") == ["Quiet one", "Pager storm"]
    assert await titles(assignee="me") == ["Pager storm"]
    assert await titles(assignee=str(owner.id)) == ["Quiet one"]
    assert await titles(assignee="none") == ["Disk full"]
    assert await titles(label="oncall") == ["Disk full", "Pager storm"]
    assert await titles(q="PAGER") == ["Disk full", "Pager storm"]
    assert await titles(q="100%") == []
    bad = await api.get(
        f"/api/projects/{pid}/tickets", query={"status": "open", "assignee": "x"}, token=owner.token
    )
    assert bad.status == 422
    assert set(bad.error_fields()) == {"status", "assignee"}


async def test_cursor_pagination_walks_everything_once(api: Api, team) -> None:
    owner, _member, project = team
    for n in range(7):
        await api.ticket(owner, project["id"], title=f"T{n}")
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await api.get(f"/api/projects/{project['id']}/tickets", query=query, token=owner.token)
        seen += [t["title"] for t in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"T{n}" for n in reversed(range(7))]
    bad = await api.get(f"/api/projects/{project['id']}/tickets", query={"cursor": "!!"}, token=owner.token)
    assert bad.status == 422
    assert "cursor" in bad.error_fields()


async def test_patch_applies_changes_and_stale_versions_conflict(api: Api, team) -> None:
    owner, member, project = team
    ticket = await api.ticket(owner, project["id"], title="Fix it")
    path = f"/api/tickets/{ticket['key']}"
    changed = await api.patch(
        path, json={"status": "in_progress", "assignee_id": member.id, "version": 1}, token=member.token
    )
    assert changed.status == 200
    assert changed.body["status"] == "in_progress"
    assert changed.body["assignee"]["id"] == member.id
    assert changed.body["version"] == 2
    stale = await api.patch(path, json={"title": "Overwrite", "version": 1}, token=owner.token)
    assert stale.status == 409
    assert stale.body["error"]["code"] == "conflict"
    assert "version" in stale.error_fields()
    assert (await api.get(path, token=owner.token)).body["title"] == "Fix it"
    unassign = await api.patch(path, json={"assignee_id": None}, token=owner.token)
    assert unassign.body["assignee"] is None
    nothing = await api.patch(path, json={"title": "Fix it"}, token=owner.token)
    assert nothing.body["version"] == unassign.body["version"]
    bad = await api.patch(path, json={"status": "closed", "nope": 1}, token=owner.token)
    assert bad.status == 422
    assert set(bad.error_fields()) == {"status", "nope"}


async def test_labels_replace_and_deduplicate(api: Api, team) -> None:
    owner, _member, project = team
    ticket = await api.ticket(owner, project["id"], labels=["bug", "bug", " ui "])
    assert ticket["labels"] == ["bug", "ui"]
    reply = await api.patch(f"/api/tickets/{ticket['id']}", json={"labels": ["backend"]}, token=owner.token)
    assert reply.body["labels"] == ["backend"]


async def test_watchers_follow_automatically_and_on_request(api: Api, team) -> None:
    owner, member, project = team
    viewer = await api.user("Vera Viewer")
    await api.add(owner, project["id"], viewer, "viewer")
    ticket = await api.ticket(owner, project["id"], description="cc @bob.baker")
    assert ticket["watchers"] == sorted([owner.id, member.id])
    followed = await api.put(f"/api/tickets/{ticket['id']}/watchers/me", token=viewer.token)
    assert followed.status == 200
    assert viewer.id in followed.body["watchers"]
    unfollowed = await api.delete(f"/api/tickets/{ticket['id']}/watchers/me", token=member.token)
    assert member.id not in unfollowed.body["watchers"]
    assigned = await api.patch(
        f"/api/tickets/{ticket['id']}", json={"assignee_id": member.id}, token=owner.token
    )
    assert member.id in assigned.body["watchers"]


async def test_delete_is_for_reporters_and_admins(api: Api, team) -> None:
    owner, member, project = team
    mine = await api.ticket(member, project["id"])
    theirs = await api.ticket(owner, project["id"])
    assert (await api.delete(f"/api/tickets/{theirs['id']}", token=member.token)).status == 403
    assert (await api.delete(f"/api/tickets/{mine['id']}", token=member.token)).status == 204
    assert (await api.delete(f"/api/tickets/{theirs['id']}", token=owner.token)).status == 204
    assert (await api.get(f"/api/tickets/{theirs['id']}", token=owner.token)).status == 404
