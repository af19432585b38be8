"""Comments: mentions, who may edit or delete."""

from __future__ import annotations

from tests.support.api import Api


async def test_comment_mentions_make_people_watchers(api: Api) -> None:
    owner, bob, cat = await api.user("Alice Archer"), await api.user("Bob Baker"), await api.user("Cat Cole")
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    await api.add(owner, pid, cat, "viewer")
    ticket = await api.ticket(owner, pid)
    reply = await api.post(
        f"/api/tickets/{ticket['key']}/comments", json={"body": "ping @cat.cole"}, token=bob.token
    )
    assert reply.status == 201
    assert reply.body["author"]["id"] == bob.id
    assert reply.body["edited"] is False
    watchers = (await api.get(f"/api/tickets/{ticket['id']}", token=owner.token)).body["watchers"]
    assert watchers == sorted([owner.id, bob.id, cat.id])
    listed = await api.get(f"/api/tickets/{ticket['id']}/comments", token=cat.token)
    assert [c["body"] for c in listed.body["items"]] == ["ping @cat.cole"]


async def test_only_the_author_edits_and_admins_may_delete(api: Api) -> None:
    owner, bob, cat = await api.user(), await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    await api.add(owner, pid, cat, "member")
    ticket = await api.ticket(owner, pid)
    comment = (
        await api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "v1"}, token=bob.token)
    ).body
    path = f"/api/comments/{comment['id']}"
    assert (await api.patch(path, json={"body": "hijack"}, token=owner.token)).status == 403
    assert (await api.patch(path, json={"body": "hijack"}, token=cat.token)).status == 403
    edited = await api.patch(path, json={"body": "v2"}, token=bob.token)
    assert edited.status == 200
    assert edited.body["body"] == "v2"
    assert edited.body["edited"] is True
    assert (await api.delete(path, token=cat.token)).status == 403
    assert (await api.delete(path, token=owner.token)).status == 204
    assert (await api.patch(path, json={"body": "v3"}, token=bob.token)).status == 404


async def test_viewers_cannot_comment_and_blank_bodies_fail(api: Api) -> None:
    owner, viewer = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, viewer, "viewer")
    ticket = await api.ticket(owner, pid)
    denied = await api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "hi"}, token=viewer.token)
    assert denied.status == 403
    blank = await api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "   "}, token=owner.token)
    assert blank.status == 422
    assert list(blank.error_fields()) == ["body"]
