"""Projects and memberships: roles, owners, visibility."""

from __future__ import annotations

from tests.support.api import Api


async def test_create_list_and_read_a_project(api: Api) -> None:
    owner = await api.user("Olga")
    created = await api.post("/api/projects", json={"key": "ops", "name": "Operations"}, token=owner.token)
    assert created.status == 201
    assert created.body["key"] == "OPS"
    assert created.body["role"] == "owner"
    listed = await api.get("/api/projects", token=owner.token)
    assert [p["key"] for p in listed.body["items"]] == ["OPS"]
    one = await api.get(f"/api/projects/{created.body['id']}", token=owner.token)
    assert one.body["name"] == "Operations"


async def test_project_keys_are_validated_and_unique(api: Api) -> None:
    owner = await api.user()
    bad = await api.post("/api/projects", json={"key": "1X", "name": "N"}, token=owner.token)
    assert bad.status == 422
    assert "key" in bad.error_fields()
    await api.project(owner, "DUP")
    dup = await api.post("/api/projects", json={"key": "DUP", "name": "Again"}, token=owner.token)
    assert dup.status == 409
    assert dup.error_fields() == {"key": "already in use"}


async def test_outsiders_get_404_not_403(api: Api) -> None:
    owner, stranger = await api.user(), await api.user()
    project = await api.project(owner)
    for path in ("", "/members", "/tickets", "/events"):
        reply = await api.get(f"/api/projects/{project['id']}{path}", token=stranger.token)
        assert reply.status == 404, path
    assert (await api.get("/api/projects/9999", token=owner.token)).status == 404
    assert (await api.get("/api/projects", token=stranger.token)).body["items"] == []


async def test_members_by_id_or_email_and_role_changes(api: Api) -> None:
    owner, bob, cat = await api.user("Owner"), await api.user("Bob"), await api.user("Cat")
    project = await api.project(owner)
    pid = project["id"]
    # By id: someone the owner already works with (in another project of theirs).
    await api.add(owner, (await api.project(owner, "OTH"))["id"], bob, "viewer")
    by_id = await api.post(
        f"/api/projects/{pid}/members", json={"user_id": bob.id, "role": "admin"}, token=owner.token
    )
    assert by_id.status == 201
    assert by_id.body["role"] == "admin"
    by_email = await api.post(
        f"/api/projects/{pid}/members", json={"email": cat.email.upper(), "role": "viewer"}, token=bob.token
    )
    assert by_email.status == 201
    assert by_email.body["user"]["id"] == cat.id
    again = await api.post(f"/api/projects/{pid}/members", json={"user_id": cat.id}, token=owner.token)
    assert again.status == 409
    ghost = await api.post(
        f"/api/projects/{pid}/members", json={"email": "ghost@example.com"}, token=owner.token
    )
    assert ghost.status == 422
    assert ghost.error_fields() == {"email": "no user has this email"}
    bad_role = await api.post(
        f"/api/projects/{pid}/members", json={"user_id": cat.id, "role": "boss"}, token=owner.token
    )
    assert bad_role.status == 422
    assert "role" in bad_role.error_fields()
    promoted = await api.patch(
        f"/api/projects/{pid}/members/{cat.id}", json={"role": "member"}, token=bob.token
    )
    assert promoted.body["role"] == "member"
    members = await api.get(f"/api/projects/{pid}/members", token=cat.token)
    assert {m["user_id"]: m["role"] for m in members.body["items"]} == {
        owner.id: "owner",
        bob.id: "admin",
        cat.id: "member",
    }


async def test_admins_cannot_make_or_remove_owners(api: Api) -> None:
    owner, admin, member = await api.user(), await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, admin, "admin")
    await api.add(owner, pid, member, "member")
    grant = await api.patch(
        f"/api/projects/{pid}/members/{member.id}", json={"role": "owner"}, token=admin.token
    )
    assert grant.status == 403
    remove_owner = await api.delete(f"/api/projects/{pid}/members/{owner.id}", token=admin.token)
    assert remove_owner.status == 403
    by_member = await api.delete(f"/api/projects/{pid}/members/{admin.id}", token=member.token)
    assert by_member.status == 403


async def test_the_last_owner_stays(api: Api) -> None:
    owner, second = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    leave = await api.delete(f"/api/projects/{pid}/members/{owner.id}", token=owner.token)
    assert leave.status == 409
    demote = await api.patch(
        f"/api/projects/{pid}/members/{owner.id}", json={"role": "admin"}, token=owner.token
    )
    assert demote.status == 409
    await api.add(owner, pid, second, "owner")
    assert (await api.delete(f"/api/projects/{pid}/members/{owner.id}", token=second.token)).status == 204
    assert (await api.get(f"/api/projects/{pid}", token=owner.token)).status == 404


async def test_members_may_leave(api: Api) -> None:
    owner, member = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, member, "viewer")
    assert (await api.delete(f"/api/projects/{pid}/members/{member.id}", token=member.token)).status == 204
    assert (await api.get(f"/api/projects/{pid}", token=member.token)).status == 404


async def test_only_admins_edit_the_project(api: Api) -> None:
    owner, member = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, member, "member")
    assert (await api.patch(f"/api/projects/{pid}", json={"name": "X"}, token=member.token)).status == 403
    renamed = await api.patch(f"/api/projects/{pid}", json={"name": "Renamed"}, token=owner.token)
    assert renamed.status == 200
    assert renamed.body["name"] == "Renamed"
