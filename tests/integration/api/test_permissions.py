"""Every endpoint, with every role, and with no token: who gets what.

Rows name the least role an action needs. Each (row, role) pair runs on fresh resources so one
allowed call cannot change the outcome of the next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.support.api import Api, User

ROLES = ("viewer", "member", "admin", "owner")
RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass
class World:
    api: Api
    owner: User
    pid: int
    target: User  # a plain member others act upon

    async def ticket(self) -> dict[str, Any]:
        return await self.api.ticket(self.owner, self.pid)

    async def comment(self) -> dict[str, Any]:
        ticket = await self.ticket()
        reply = await self.api.post(
            f"/api/tickets/{ticket['id']}/comments", json={"body": "x"}, token=self.owner.token
        )
        return dict(reply.body)


Request = tuple[str, str, dict[str, Any] | None]
Row = tuple[str, str, Callable[[World], Awaitable[Request]]]


async def _static(method: str, path: str, body: dict[str, Any] | None = None) -> Request:
    return method, path, body


async def _new_user(w: World) -> User:
    return await w.api.user()


ROWS: list[Row] = [
    ("read project", "viewer", lambda w: _static("GET", f"/api/projects/{w.pid}")),
    ("edit project", "admin", lambda w: _static("PATCH", f"/api/projects/{w.pid}", {"name": "N"})),
    ("list members", "viewer", lambda w: _static("GET", f"/api/projects/{w.pid}/members")),
    ("list tickets", "viewer", lambda w: _static("GET", f"/api/projects/{w.pid}/tickets")),
    ("read events", "viewer", lambda w: _static("GET", f"/api/projects/{w.pid}/events")),
    ("create ticket", "member", lambda w: _static("POST", f"/api/projects/{w.pid}/tickets", {"title": "T"})),
]


async def _add_member(w: World) -> Request:
    user = await _new_user(w)
    return "POST", f"/api/projects/{w.pid}/members", {"email": user.email, "role": "member"}


async def _change_member(w: World) -> Request:
    return "PATCH", f"/api/projects/{w.pid}/members/{w.target.id}", {"role": "viewer"}


async def _remove_member(w: World) -> Request:
    user = await _new_user(w)
    await w.api.add(w.owner, w.pid, user, "member")
    return "DELETE", f"/api/projects/{w.pid}/members/{user.id}", None


async def _read_ticket(w: World) -> Request:
    return "GET", f"/api/tickets/{(await w.ticket())['key']}", None


async def _patch_ticket(w: World) -> Request:
    return "PATCH", f"/api/tickets/{(await w.ticket())['id']}", {"status": "done"}


async def _delete_ticket(w: World) -> Request:
    return "DELETE", f"/api/tickets/{(await w.ticket())['id']}", None


async def _follow(w: World) -> Request:
    return "PUT", f"/api/tickets/{(await w.ticket())['id']}/watchers/me", None


async def _unfollow(w: World) -> Request:
    return "DELETE", f"/api/tickets/{(await w.ticket())['id']}/watchers/me", None


async def _list_comments(w: World) -> Request:
    return "GET", f"/api/tickets/{(await w.ticket())['id']}/comments", None


async def _add_comment(w: World) -> Request:
    return "POST", f"/api/tickets/{(await w.ticket())['id']}/comments", {"body": "hello"}


async def _delete_others_comment(w: World) -> Request:
    return "DELETE", f"/api/comments/{(await w.comment())['id']}", None


ROWS += [
    ("add member", "admin", _add_member),
    ("change member role", "admin", _change_member),
    ("remove member", "admin", _remove_member),
    ("read ticket", "viewer", _read_ticket),
    ("edit ticket", "member", _patch_ticket),
    ("delete someone's ticket", "admin", _delete_ticket),
    ("follow ticket", "viewer", _follow),
    ("unfollow ticket", "viewer", _unfollow),
    ("list comments", "viewer", _list_comments),
    ("comment", "member", _add_comment),
    ("delete someone's comment", "admin", _delete_others_comment),
]


async def test_every_project_endpoint_with_every_role(api: Api) -> None:
    owner, target = await api.user("Owner"), await api.user("Target")
    pid = int((await api.project(owner))["id"])
    await api.add(owner, pid, target, "member")
    world = World(api, owner, pid, target)
    actors: dict[str, User] = {"owner": owner}
    for role in ("viewer", "member", "admin"):
        actors[role] = await api.user(role.title())
        await api.add(owner, pid, actors[role], role)
    outsider = await api.user("Outsider")
    outcomes: list[str] = []
    for name, least, make in ROWS:
        for role in (None, "outsider", *ROLES):
            method, path, body = await make(world)
            token = None if role is None else (outsider if role == "outsider" else actors[role]).token
            reply = await api.call(method, path, json=body, token=token)
            if role is None:
                expected = 401
            elif role == "outsider":
                expected = 404
            else:
                expected = 403 if RANK[role] < RANK[least] else reply.status
                if RANK[role] >= RANK[least] and not 200 <= reply.status < 300:
                    expected = -1  # allowed roles must succeed
            if reply.status != expected:
                outcomes.append(f"{name} as {role}: {method} {path} → {reply.status} {reply.body}")
            if role is not None and reply.status >= 400:
                assert reply.body["error"]["code"], (name, role)
    assert outcomes == []


async def test_personal_endpoints_need_a_token(api: Api) -> None:
    for method, path in [
        ("GET", "/api/me"),
        ("GET", "/api/projects"),
        ("POST", "/api/projects"),
        ("GET", "/api/notifications"),
        ("POST", "/api/notifications/1/read"),
        ("POST", "/api/notifications/read-all"),
        ("POST", "/api/auth/logout"),
        ("PATCH", "/api/comments/1"),
        ("DELETE", "/api/comments/1"),
    ]:
        body = {} if method in ("POST", "PATCH") else None
        if path == "/api/comments/1" and method == "PATCH":
            body = {"body": "x"}
        if path == "/api/projects" and method == "POST":
            body = {"key": "ABC", "name": "n"}
        reply = await api.call(method, path, json=body)
        assert reply.status == 401, (method, path, reply.body)
        assert reply.body["error"]["code"] == "unauthenticated"
