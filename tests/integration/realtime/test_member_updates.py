"""Membership and project changes reach the tickets socket (`member_update`, `project_update`), live and
in a resume's replay; joining by an invite link reaches the sockets like any other join; and an invite's
`max_uses` holds when many accept at once on PostgreSQL. Real sockets, SQLite and PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.realtime.conftest import Live, start_live
from tests.support.live import Socket, ws_connect

KINDS = ("member_update", "project_update")


async def _membership_messages(ws: Socket, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(got) < count:
            message = await ws.recv(10)
            if message["type"] in KINDS:
                got.append(message)
    return got


def _summary(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (m["type"], m.get("action"), m["data"].get("user_id"), m["data"].get("role"), m["data"].get("name"))
        for m in messages
    ]


async def test_member_and_project_changes_live_and_on_resume(live: Live) -> None:
    owner, bob = await live.api.user("Owner"), await live.api.user("Bob")
    pid = (await live.api.project(owner))["id"]
    path = f"/ws/projects/{pid}/tickets/"
    async with ws_connect(live.address, path, token=owner.token) as ws:
        await live.api.add(owner, pid, bob, "viewer")
        patched = await live.api.patch(
            f"/api/projects/{pid}/members/{bob.id}", json={"role": "member"}, token=owner.token
        )
        assert patched.status == 200
        renamed = await live.api.patch(f"/api/projects/{pid}", json={"name": "Renamed"}, token=owner.token)
        assert renamed.status == 200
        removed = await live.api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)
        assert removed.status == 204
        messages = await _membership_messages(ws, 4)
    expected = [
        ("member_update", "added", bob.id, "viewer", None),
        ("member_update", "updated", bob.id, "member", None),
        ("project_update", None, None, None, "Renamed"),
        ("member_update", "removed", bob.id, "member", None),
    ]
    assert _summary(messages) == expected
    for message in messages:
        assert message["project_id"] == pid
    assert messages[0]["data"]["user"] == {"id": bob.id, "name": "Bob", "email": bob.email}
    # The project as every member sees it: the acting owner's role is not in it.
    assert "role" not in messages[2]["data"]
    assert (messages[2]["data"]["id"], messages[2]["data"]["key"]) == (pid, "OPS")
    ids = [m["event_id"] for m in messages]
    assert ids == sorted(ids)
    feed = await live.api.get(f"/api/projects/{pid}/events", token=owner.token)
    by_id = {e["id"]: e for e in feed.body["items"]}
    assert [by_id[i]["type"] for i in ids] == [
        "member.added",
        "member.updated",
        "project.updated",
        "member.removed",
    ]
    assert messages[0]["data"] == by_id[ids[0]]["payload"]["member"]

    # A resume from before them replays the same messages, in order.
    params = {"last_event_id": ids[0] - 1}
    async with ws_connect(live.address, path, token=owner.token, params=params) as ws:
        replayed = await _membership_messages(ws, 4)
    assert replayed == messages


async def test_joining_by_invite_reaches_the_sockets(live: Live) -> None:
    owner, newcomer = await live.api.user("Owner"), await live.api.user("Nina")
    pid = (await live.api.project(owner))["id"]
    invite = await live.api.post(f"/api/projects/{pid}/invites", json={"role": "member"}, token=owner.token)
    assert invite.status == 201
    async with (
        ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=owner.token) as board,
        ws_connect(live.address, "/ws/notifications/", token=newcomer.token) as mine,
    ):
        accepted = await live.api.post(f"/api/invites/{invite.body['token']}/accept", token=newcomer.token)
        assert accepted.status == 200, accepted.body
        added = await mine.recv_type("project_added", within=10)
        assert (added["project"]["id"], added["project"]["role"]) == (pid, "member")
        update = await board.recv_type("member_update", within=10)
        assert (update["action"], update["data"]["user_id"], update["data"]["role"]) == (
            "added",
            newcomer.id,
            "member",
        )
        assert update["event_id"] == added["event_id"]
    # The new member's own board socket is let in now.
    async with ws_connect(live.address, f"/ws/projects/{pid}/tickets/", token=newcomer.token) as theirs:
        assert theirs.ready is not None


@pytest.mark.parametrize(
    "stack", [pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis])], indirect=True
)
async def test_max_uses_holds_under_concurrent_accepts(stack) -> None:  # type: ignore[no-untyped-def]
    """Ten people accept a three-use invite at the same moment, through two hubs sharing PostgreSQL."""
    a, manager_a = await start_live(stack)
    b, manager_b = await start_live(stack)
    try:
        owner = await a.api.user()
        pid = (await a.api.project(owner))["id"]
        people = [await a.api.user() for _ in range(10)]
        made = await a.api.post(
            f"/api/projects/{pid}/invites", json={"role": "member", "max_uses": 3}, token=owner.token
        )
        token = made.body["token"]
        replies = await asyncio.gather(
            *(
                (a if n % 2 else b).api.post(f"/api/invites/{token}/accept", token=person.token)
                for n, person in enumerate(people)
            )
        )
        statuses = sorted(r.status for r in replies)
        assert statuses == [200] * 3 + [410] * 7, [r.body for r in replies]
        assert {r.body["error"]["code"] for r in replies if r.status == 410} == {"invite_used_up"}
        joined = {people[n].id for n, r in enumerate(replies) if r.status == 200}
        members = await a.api.get(f"/api/projects/{pid}/members", token=owner.token)
        assert {m["user_id"] for m in members.body["items"]} == joined | {owner.id}
        listed = await a.api.get(f"/api/projects/{pid}/invites", token=owner.token)
        assert (listed.body["items"][0]["uses"], listed.body["items"][0]["state"]) == (3, "used_up")
        feed = await a.api.get(f"/api/projects/{pid}/events", token=owner.token)
        assert {
            e["payload"]["member"]["user_id"] for e in feed.body["items"] if e["type"] == "member.added"
        } == joined
    finally:
        for hub, manager in ((a, manager_a), (b, manager_b)):
            await hub.api.aclose()
            await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
