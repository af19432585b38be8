"""Invite links (hub.services.projects.invites): who mints and sees them, what a link offers, joining
with it (also at sign-up, even with sign-up closed), and how links end. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from hub.adapters.db.invite_models import ProjectInvite
from hub.adapters.db.models import User as UserRow
from hub.adapters.db.types import utcnow
from hub.context import HubContext
from hub.services.projects.invites import invite_url
from tests.support.api import PASSWORD, Api, Reply, User


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _invite(api: Api, by: User, pid: int, **fields: object) -> dict[str, object]:
    fields.setdefault("role", "member")
    reply = await api.post(f"/api/projects/{pid}/invites", json=fields, token=by.token)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def _gone(reply: Reply, code: str, project_name: str) -> None:
    assert reply.status == 410, reply.body
    assert reply.body["error"]["code"] == code
    assert project_name in reply.body["error"]["message"]


async def test_owner_mints_a_link_and_a_newcomer_joins_with_it(api: Api, context: HubContext) -> None:
    owner, newcomer = await api.user("Olga Owner"), await api.user("Nina")
    project = await api.project(owner)
    pid = project["id"]
    before = utcnow()
    invite = await _invite(api, owner, pid, role="viewer", max_uses=2)
    token = str(invite["token"])
    assert invite["url"] == invite_url(context.settings.public_url, token)
    assert str(invite["url"]).endswith(f"/#/invite/{token}")
    assert (invite["role"], invite["max_uses"], invite["uses"], invite["state"]) == ("viewer", 2, 0, "active")
    assert (invite["created_by"], invite["created_by_name"]) == (owner.id, "Olga Owner")
    # Seven days by default.
    assert abs(_when(str(invite["expires_at"])) - (before + timedelta(days=7))) < timedelta(seconds=30)
    # Only the token's SHA-256 is stored.
    async with context.uow() as uow:
        stored = await uow.session.get(ProjectInvite, invite["id"])
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {stored.token_hash, str(stored.id)}

    preview = await api.get(f"/api/invites/{token}")  # no sign-in
    assert preview.status == 200
    assert preview.body == {
        "project": {"id": pid, "key": "OPS", "name": project["name"]},
        "role": "viewer",
        "inviter": {"name": "Olga Owner"},
        "expires_at": invite["expires_at"],
        "state": "active",
    }

    joined = await api.post(f"/api/invites/{token}/accept", token=newcomer.token)
    assert joined.status == 200, joined.body
    assert (joined.body["outcome"], joined.body["role"]) == ("joined", "viewer")
    assert (joined.body["project"]["id"], joined.body["project"]["role"]) == (pid, "viewer")
    members = await api.get(f"/api/projects/{pid}/members", token=newcomer.token)
    assert {m["user_id"]: m["role"] for m in members.body["items"]} == {
        owner.id: "owner",
        newcomer.id: "viewer",
    }
    # Through the add-member path: `member.added`, by the newcomer, with the project as they see it.
    feed = await api.get(f"/api/projects/{pid}/events", token=owner.token)
    added = [e for e in feed.body["items"] if e["type"] == "member.added"]
    assert [(e["actor_id"], e["payload"]["member"]["user_id"]) for e in added] == [(newcomer.id, newcomer.id)]
    assert added[0]["payload"]["project"]["role"] == "viewer"

    listed = await api.get(f"/api/projects/{pid}/invites", token=owner.token)
    assert [(i["id"], i["uses"], i["state"]) for i in listed.body["items"]] == [(invite["id"], 1, "active")]
    assert "token" not in listed.body["items"][0]
    assert "url" not in listed.body["items"][0]
    assert token not in str(listed.body)


async def test_who_may_mint_list_and_revoke(api: Api) -> None:
    owner, admin, member, viewer, stranger = [await api.user() for _ in range(5)]
    pid = (await api.project(owner))["id"]
    for user, role in ((admin, "admin"), (member, "member"), (viewer, "viewer")):
        await api.add(owner, pid, user, role)
    path = f"/api/projects/{pid}/invites"
    for user in (member, viewer):
        assert (await api.post(path, json={"role": "viewer"}, token=user.token)).status == 403
        assert (await api.get(path, token=user.token)).status == 403
    assert (await api.post(path, json={"role": "viewer"}, token=stranger.token)).status == 404
    assert (await api.get(path, token=stranger.token)).status == 404
    # An admin invites with any role but owner; an owner with any.
    refused = await api.post(path, json={"role": "owner"}, token=admin.token)
    assert refused.status == 403
    assert "owner" in refused.body["error"]["message"]
    by_admin = await _invite(api, admin, pid, role="admin")
    by_owner = await _invite(api, owner, pid, role="owner")
    # Revoking: admins and owners of its project; members 403, outsiders (and unknown ids) 404.
    assert (await api.delete(f"/api/invites/{by_owner['id']}", token=member.token)).status == 403
    assert (await api.delete(f"/api/invites/{by_owner['id']}", token=stranger.token)).status == 404
    assert (await api.delete("/api/invites/987654", token=owner.token)).status == 404
    assert (await api.delete(f"/api/invites/{by_owner['id']}", token=admin.token)).status == 204
    assert (
        await api.delete(f"/api/invites/{by_owner['id']}", token=admin.token)
    ).status == 204  # again: no-op
    listed = await api.get(path, token=admin.token)
    assert [(i["id"], i["state"]) for i in listed.body["items"]] == [
        (by_owner["id"], "revoked"),
        (by_admin["id"], "active"),
    ]
    assert listed.body["items"][0]["revoked_at"] is not None


async def test_invites_are_validated(api: Api) -> None:
    owner = await api.user()
    pid = (await api.project(owner))["id"]
    path = f"/api/projects/{pid}/invites"
    for body, field in (
        ({"role": "boss"}, "role"),
        ({"role": "member", "expires_in": 299}, "expires_in"),
        ({"role": "member", "expires_in": 30 * 86400 + 1}, "expires_in"),
        ({"role": "member", "max_uses": 0}, "max_uses"),
        ({"role": "member", "max_uses": 1001}, "max_uses"),
        ({}, "role"),
    ):
        reply = await api.post(path, json=body, token=owner.token)
        assert reply.status == 422, body
        assert field in reply.error_fields(), reply.body
    shortest = await _invite(api, owner, pid, expires_in=300, max_uses=1000)
    assert shortest["max_uses"] == 1000


async def test_unknown_and_ended_links(api: Api, context: HubContext) -> None:
    owner, first, second = await api.user(), await api.user(), await api.user()
    project = await api.project(owner)
    pid, name = project["id"], project["name"]
    unknown = await api.get("/api/invites/not-a-real-token")
    assert unknown.status == 404
    assert "not valid" in unknown.body["error"]["message"]
    assert (await api.post("/api/invites/not-a-real-token/accept", token=first.token)).status == 404
    assert (await api.get("/api/invites/" + "x" * 300)).status == 404
    assert (await api.get("/api/invites/12345")).status == 404  # a number is a token here, not an id

    once = await _invite(api, owner, pid, max_uses=1)
    assert (await api.post(f"/api/invites/{once['token']}/accept", token=first.token)).status == 200
    _gone(await api.get(f"/api/invites/{once['token']}"), "invite_used_up", name)
    _gone(await api.post(f"/api/invites/{once['token']}/accept", token=second.token), "invite_used_up", name)

    revoked = await _invite(api, owner, pid)
    assert (await api.delete(f"/api/invites/{revoked['id']}", token=owner.token)).status == 204
    _gone(await api.get(f"/api/invites/{revoked['token']}"), "invite_revoked", name)
    _gone(
        await api.post(f"/api/invites/{revoked['token']}/accept", token=second.token), "invite_revoked", name
    )

    expired = await _invite(api, owner, pid, expires_in=300)
    async with context.uow() as uow:
        await uow.session.execute(
            update(ProjectInvite)
            .where(ProjectInvite.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await uow.commit()
    _gone(await api.get(f"/api/invites/{expired['token']}"), "invite_expired", name)
    _gone(
        await api.post(f"/api/invites/{expired['token']}/accept", token=second.token), "invite_expired", name
    )
    members = await api.get(f"/api/projects/{pid}/members", token=owner.token)
    assert second.id not in {m["user_id"] for m in members.body["items"]}

    states = {
        i["id"]: i["state"]
        for i in (await api.get(f"/api/projects/{pid}/invites", token=owner.token)).body["items"]
    }
    assert states == {once["id"]: "used_up", revoked["id"]: "revoked", expired["id"]: "expired"}
    # Ended more than a week ago: no longer listed.
    async with context.uow() as uow:
        await uow.session.execute(
            update(ProjectInvite)
            .where(ProjectInvite.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(days=8), created_at=utcnow() - timedelta(days=9))
        )
        await uow.commit()
    listed = await api.get(f"/api/projects/{pid}/invites", token=owner.token)
    assert expired["id"] not in {i["id"] for i in listed.body["items"]}


async def test_members_keep_the_higher_role_and_only_changes_count(api: Api) -> None:
    owner, admin, viewer = await api.user(), await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, admin, "admin")
    await api.add(owner, pid, viewer, "viewer")
    invite = await _invite(api, owner, pid, role="member", max_uses=5)
    token = invite["token"]

    same = await api.post(f"/api/invites/{token}/accept", token=admin.token)
    assert same.status == 200
    assert (same.body["outcome"], same.body["role"], same.body["project"]["role"]) == (
        "unchanged",
        "admin",
        "admin",
    )
    raised = await api.post(f"/api/invites/{token}/accept", token=viewer.token)
    assert (raised.status, raised.body["outcome"], raised.body["role"]) == (200, "raised", "member")
    again = await api.post(f"/api/invites/{token}/accept", token=viewer.token)
    assert (again.body["outcome"], again.body["role"]) == ("unchanged", "member")

    members = await api.get(f"/api/projects/{pid}/members", token=owner.token)
    assert {m["user_id"]: m["role"] for m in members.body["items"]} == {
        owner.id: "owner",
        admin.id: "admin",
        viewer.id: "member",
    }
    listed = await api.get(f"/api/projects/{pid}/invites", token=owner.token)
    assert listed.body["items"][0]["uses"] == 1  # only the raise counted
    feed = await api.get(f"/api/projects/{pid}/events", token=owner.token)
    updated = [e for e in feed.body["items"] if e["type"] == "member.updated"]
    assert [(e["payload"]["member"]["user_id"], e["payload"]["member"]["role"]) for e in updated] == [
        (viewer.id, "member")
    ]


async def _user_count(context: HubContext) -> int:
    async with context.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(UserRow)) or 0)


async def test_sign_up_with_an_invite_even_when_sign_up_is_closed(api: Api, context: HubContext) -> None:
    owner = await api.user("Olga")
    project = await api.project(owner)
    pid = project["id"]
    invite = await _invite(api, owner, pid, role="member", max_uses=1)
    context.settings = context.settings.model_copy(update={"allow_signup": False})
    assert (await api.get("/healthz")).body["signup"] is False
    details = {"email": "new.person@example.com", "password": PASSWORD, "name": "New Person"}
    closed = await api.post("/api/auth/register", json=details)
    assert closed.status == 403

    count = await _user_count(context)
    unknown = await api.post("/api/auth/register", json={**details, "invite": "nope"})
    assert unknown.status == 404
    bad_details = await api.post(
        "/api/auth/register", json={**details, "password": "password", "invite": invite["token"]}
    )
    assert bad_details.status == 422
    assert await _user_count(context) == count
    assert (await api.get(f"/api/invites/{invite['token']}")).status == 200  # no use was counted

    made = await api.post("/api/auth/register", json={**details, "invite": invite["token"]})
    assert made.status == 201, made.body
    assert (made.body["email"], made.body["name"]) == ("new.person@example.com", "New Person")
    assert (made.body["project"]["id"], made.body["project"]["role"]) == (pid, "member")
    login = await api.post("/api/auth/login", json={"email": details["email"], "password": PASSWORD})
    assert login.status == 200
    mine = await api.get("/api/projects", token=login.body["access_token"])
    assert [(p["id"], p["role"]) for p in mine.body["items"]] == [(pid, "member")]
    feed = await api.get(f"/api/projects/{pid}/events", token=owner.token)
    assert [e["payload"]["member"]["user_id"] for e in feed.body["items"] if e["type"] == "member.added"] == [
        made.body["id"]
    ]

    # Used up now: the next sign-up with it makes no account.
    count = await _user_count(context)
    late = await api.post(
        "/api/auth/register", json={**details, "email": "late@example.com", "invite": invite["token"]}
    )
    _gone(late, "invite_used_up", project["name"])
    assert await _user_count(context) == count


async def test_healthz_says_whether_sign_up_is_open(api: Api) -> None:
    body = (await api.get("/healthz")).body
    assert body["status"] == "ok"
    assert body["signup"] is True


async def test_failed_accepts_are_rate_limited_like_sign_ins(api: Api, context: HubContext) -> None:
    from hub.adapters.ratelimit import Rate

    owner, user = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    good = await _invite(api, owner, pid)
    context.require_limits().login_address = Rate(3, 60)
    # Successes are refunded: any number of them.
    for _ in range(4):
        assert (await api.post(f"/api/invites/{good['token']}/accept", token=user.token)).status == 200
    for n in range(3):
        assert (await api.post(f"/api/invites/guess-{n}/accept", token=user.token)).status == 404
    limited = await api.post(f"/api/invites/{good['token']}/accept", token=user.token)
    assert limited.status == 429
    assert limited.body["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


async def test_a_link_ends_when_its_maker_can_no_longer_invite(api: Api) -> None:
    """A link grants its role on its maker's authority: demoting or removing the admin who made it
    ends it at once (410 invite_revoked, listed as revoked); links of makers still entitled work."""
    owner, admin, other_admin, newcomer = [await api.user() for _ in range(4)]
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, admin, "admin")
    await api.add(owner, pid, other_admin, "admin")
    demoted_link = await _invite(api, admin, pid, role="member")
    removed_link = await _invite(api, other_admin, pid, role="viewer")
    owners_link = await _invite(api, owner, pid, role="member")
    assert (await api.get(f"/api/invites/{demoted_link['token']}")).status == 200

    members = f"/api/projects/{pid}/members"
    assert (
        await api.patch(f"{members}/{admin.id}", json={"role": "member"}, token=owner.token)
    ).status == 200
    assert (await api.delete(f"{members}/{other_admin.id}", token=owner.token)).status == 204

    for link in (demoted_link, removed_link):
        _gone(await api.get(f"/api/invites/{link['token']}"), "invite_revoked", "")
        _gone(
            await api.post(f"/api/invites/{link['token']}/accept", token=newcomer.token), "invite_revoked", ""
        )
    listed = {
        i["id"]: i["state"]
        for i in (await api.get(f"/api/projects/{pid}/invites", token=owner.token)).body["items"]
    }
    assert listed[demoted_link["id"]] == "revoked"
    assert listed[removed_link["id"]] == "revoked"
    assert listed[owners_link["id"]] == "active"
    joined = await api.post(f"/api/invites/{owners_link['token']}/accept", token=newcomer.token)
    assert joined.status == 200, joined.body
    assert joined.body["outcome"] == "joined"
