"""Access that must end: a removed (or departed) member stops hearing about the project on every path,
owners cannot leave a project ownerless even at the same instant, adding by id does not walk the user
directory, and concurrent first comments do not trip over the watcher row (issues #14 and #21)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from hub.adapters.db.chat_models import ChatIdentity, ChatSubscription
from hub.adapters.db.models import Membership, Notification, Project, TicketWatcher, User
from hub.adapters.db.types import utcnow
from hub.context import HubContext
from hub.domain.identity import Actor
from hub.services.chat import notify as chat_notify
from hub.services.chat import subscriptions as chat_subscriptions
from tests.support.api import Api
from tests.support.api import User as ApiUser

POSTGRES_ONLY = pytest.mark.parametrize(
    "database", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


async def _titles(api: Api, user: ApiUser) -> list[str]:
    reply = await api.get("/api/notifications", token=user.token)
    assert reply.status == 200, reply.body
    return [n["title"] for n in reply.body["items"]]


async def _comment(api: Api, user: ApiUser, ticket: dict[str, Any], body: str) -> None:
    reply = await api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": body}, token=user.token)
    assert reply.status == 201, reply.body


async def _watchers(context: HubContext, ticket_id: int) -> list[int]:
    async with context.uow() as uow:
        rows = await uow.session.scalars(
            select(TicketWatcher.user_id)
            .where(TicketWatcher.ticket_id == ticket_id)
            .order_by(TicketWatcher.user_id)
        )
        return list(rows)


async def _actor(context: HubContext, user: ApiUser) -> Actor:
    async with context.uow() as uow:
        row = await uow.session.get(User, user.id)
        assert row is not None
        return Actor.of(row)


# --- a removed member hears nothing more ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["removed", "leaves"])
async def test_removed_or_departed_member_stops_watching_and_hears_nothing(
    api: Api, context: HubContext, how: str
) -> None:
    owner, bob = await api.user("Owner"), await api.user("Bob")
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    ticket = await api.ticket(owner, pid, title="Secret plans")
    await _comment(api, bob, ticket, "I'll follow this")  # bob now watches the ticket
    await _comment(api, owner, ticket, "first secret")
    assert any("commented" in t for t in await _titles(api, bob))
    before = await _titles(api, bob)

    if how == "removed":
        gone = await api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)
    else:
        gone = await api.delete(f"/api/projects/{pid}/members/me", token=bob.token)
    assert gone.status == 204, gone.body

    assert bob.id not in await _watchers(context, ticket["id"])  # pruned with the removal
    await _comment(api, owner, ticket, "second secret")
    changed = await api.patch(f"/api/tickets/{ticket['id']}", json={"status": "done"}, token=owner.token)
    assert changed.status == 200
    assert bob.id not in changed.body["watchers"]
    assert await _titles(api, bob) == before  # history stays; nothing new arrives
    assert (await api.get(f"/api/projects/{pid}", token=bob.token)).status == 404


async def test_last_owner_cannot_leave_and_outsiders_get_404(api: Api) -> None:
    owner, stranger = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    stays = await api.delete(f"/api/projects/{pid}/members/me", token=owner.token)
    assert stays.status == 409
    assert (await api.delete(f"/api/projects/{pid}/members/me", token=stranger.token)).status == 404


async def test_routing_checks_current_membership(api: Api, context: HubContext) -> None:
    """A watcher row left behind (a comment that raced the removal) or a site admin who follows a
    ticket without being a member: neither gets project notifications."""
    owner, bob, admin = await api.user("Owner"), await api.user("Bob"), await api.user("Site Admin")
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    ticket = await api.ticket(owner, pid, title="Raced")
    async with context.uow() as uow:
        (await uow.session.get(User, admin.id)).is_admin = True  # type: ignore[union-attr]
        await uow.commit()
    followed = await api.put(f"/api/tickets/{ticket['id']}/watchers/me", token=admin.token)
    assert followed.status == 200, followed.body
    assert (await api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)).status == 204
    async with context.uow() as uow:  # what a comment committing just after the removal left behind
        uow.session.add(TicketWatcher(ticket_id=ticket["id"], user_id=bob.id))
        await uow.commit()
    await _comment(api, owner, ticket, "leaked?")
    assert await _titles(api, bob) == []
    assert await _titles(api, admin) == []


async def test_pending_chat_dms_and_digests_are_dropped_after_removal(api: Api, context: HubContext) -> None:
    """Routed to chat before the removal, not yet sent: not sent after it."""
    owner, bob = await api.user("Owner"), await api.user("Bob")
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    digest = {"types": {"comment_added": {"slack": "digest"}}}
    assert (await api.put("/api/me/preferences", json=digest, token=bob.token)).status == 200
    async with context.uow() as uow:
        uow.session.add(ChatIdentity(platform="slack", team_id="T1", external_id="UBOB", user_id=bob.id,
                                     linked_via="code"))  # fmt: skip
        await uow.commit()
    start = utcnow() - timedelta(seconds=1)
    ticket = await api.ticket(owner, pid, title="Secret plans", assignee_id=bob.id)  # immediate DM
    await _comment(api, owner, ticket, "secret for the digest")  # digest entry
    pending = await chat_notify.pending_direct_messages(
        context.uow(), platform="slack", consumer="test-dm-before", since=start
    )
    # Before the removal the assignment would go (the comment waits for the digest).
    assert [m is not None for _id, m in pending[1]] == [True, False]
    digests = await chat_notify.due_digests(context.uow(), platform="slack", now=utcnow(), hour=0)
    assert [(d.user_id, [n["message"] for n in d.notifications]) for d in digests] == [
        (bob.id, ["secret for the digest"])
    ]

    assert (await api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)).status == 204
    _position, after = await chat_notify.pending_direct_messages(
        context.uow(), platform="slack", consumer="test-dm-after", since=start
    )
    assert [m for _id, m in after] == [None, None]  # listed (the position moves past) but not sent
    digests = await chat_notify.due_digests(context.uow(), platform="slack", now=utcnow(), hour=0)
    assert [(d.user_id, d.notifications) for d in digests] == [(bob.id, [])]


async def test_deleting_a_project_would_leave_nothing_to_deliver(api: Api, context: HubContext) -> None:
    """There is no project DELETE yet; the cascade such a deletion relies on leaves no membership,
    watcher, notification (so no pending DM or digest entry) or chat subscription behind."""
    owner, bob = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    ticket = await api.ticket(owner, pid, assignee_id=bob.id)
    await _comment(api, bob, ticket, "watching")
    await chat_subscriptions.subscribe(
        context.uow(), await _actor(context, bob), platform="slack", team_id="T1", channel_id="C1",
        project_key="OPS",
    )  # fmt: skip
    async with context.uow() as uow:
        await uow.session.execute(delete(Project).where(Project.id == pid))
        await uow.commit()
    async with context.uow() as uow:
        for model, column in ((Membership, Membership.project_id), (Notification, Notification.project_id),
                              (ChatSubscription, ChatSubscription.project_id)):  # fmt: skip
            assert await uow.session.scalar(select(func.count()).select_from(model).where(column == pid)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(TicketWatcher)) == 0
    assert await _titles(api, bob) == []


# --- owners cannot both leave --------------------------------------------------------------------------


async def _owner_count(context: HubContext, pid: int) -> int:
    async with context.uow() as uow:
        return int(
            await uow.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.project_id == pid, Membership.role == "owner")
            )
            or 0
        )


@POSTGRES_ONLY
@pytest.mark.parametrize("move", ["demote", "remove"])
async def test_two_owners_cannot_both_leave_at_once(api: Api, context: HubContext, move: str) -> None:
    a, b = await api.user("Ann"), await api.user("Ben")
    for round_ in range(10):
        pid = (await api.project(a, f"OW{round_}"))["id"]
        await api.add(a, pid, b, "owner")

        async def act(actor: ApiUser, target: ApiUser, pid: int = pid) -> int:
            path = f"/api/projects/{pid}/members/{target.id}"
            if move == "demote":
                return (await api.patch(path, json={"role": "admin"}, token=actor.token)).status
            return (await api.delete(path, token=actor.token)).status

        statuses = await asyncio.gather(act(a, b), act(b, a))
        # The loser finds itself no longer an owner (403), the other the last owner (409), or itself
        # removed already (404).
        assert sorted(statuses) in ([200, 403], [200, 409], [204, 403], [204, 404], [204, 409]), statuses
        assert await _owner_count(context, pid) == 1, f"round {round_}: {statuses}"


# --- adding by user_id does not walk the directory -----------------------------------------------------


async def test_adding_by_id_is_for_people_you_work_with(api: Api, context: HubContext) -> None:
    admin, colleague, stranger = (
        await api.user("Admin"),
        await api.user("Colleague"),
        await api.user("Stranger"),
    )
    pid = (await api.project(admin))["id"]
    members = f"/api/projects/{pid}/members"
    unknown = await api.post(members, json={"user_id": 999_999, "role": "member"}, token=admin.token)
    walked = await api.post(members, json={"user_id": stranger.id, "role": "member"}, token=admin.token)
    assert unknown.status == walked.status == 422
    assert walked.body == unknown.body  # an existing account looks exactly like a missing one
    assert stranger.email not in str(walked.body)
    # By exact email: anyone.
    by_email = await api.post(members, json={"email": stranger.email, "role": "member"}, token=admin.token)
    assert by_email.status == 201
    # By id: someone sharing a project with the actor.
    other = (await api.project(admin, "OTH"))["id"]
    await api.add(admin, other, colleague, "viewer")
    by_id = await api.post(members, json={"user_id": colleague.id, "role": "viewer"}, token=admin.token)
    assert by_id.status == 201, by_id.body
    # A site admin may add anyone by id.
    site, loner = await api.user("Site"), await api.user("Loner")
    async with context.uow() as uow:
        (await uow.session.get(User, site.id)).is_admin = True  # type: ignore[union-attr]
        await uow.commit()
    by_site = await api.post(members, json={"user_id": loner.id, "role": "member"}, token=site.token)
    assert by_site.status == 201, by_site.body


# --- chat subscriptions and webhooks outlive their creator's access -------------------------------------


async def test_chat_subscriptions_show_state_and_admins_delete_them(api: Api, context: HubContext) -> None:
    owner, bob, member = await api.user("Owner"), await api.user("Bob"), await api.user("Member")
    stranger = await api.user("Stranger")
    project = await api.project(owner)
    pid = project["id"]
    await api.add(owner, pid, bob, "admin")
    await api.add(owner, pid, member, "member")
    other = await api.project(stranger, "OTH")
    made = await chat_subscriptions.subscribe(
        context.uow(), await _actor(context, bob), platform="slack", team_id="T1", channel_id="C1",
        project_key="OPS", event_types=["created", "status"],
    )  # fmt: skip
    theirs = await chat_subscriptions.subscribe(
        context.uow(), await _actor(context, stranger), platform="slack", team_id="T1", channel_id="C9",
        project_key="OTH",
    )  # fmt: skip
    url = f"/api/projects/{pid}/chat-subscriptions"

    async def listed(user: ApiUser = owner) -> list[dict[str, Any]]:
        reply = await api.get(url, token=user.token)
        assert reply.status == 200, reply.body
        return list(reply.body["items"])

    (item,) = await listed()
    assert {k: item[k] for k in ("id", "platform", "channel", "events", "created_by", "state")} == {
        "id": made["id"], "platform": "slack", "channel": "C1", "events": ["created", "status_changed"],
        "created_by": bob.id, "state": "active",
    }  # fmt: skip
    assert (await listed(member))[0]["state"] == "active"  # members still see the list
    assert (await api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)).status == 204
    assert (await listed())[0]["state"] == "paused"
    await api.add(owner, pid, bob, "member")
    assert (await listed())[0]["state"] == "active"  # resumes with the membership
    assert (await api.delete(f"/api/projects/{pid}/members/{bob.id}", token=owner.token)).status == 204
    await chat_subscriptions.subscribe(
        context.uow(), await _actor(context, owner), platform="slack", team_id="T1", channel_id="C1",
        project_key="OPS",
    )  # fmt: skip
    assert [(i["created_by"], i["state"]) for i in await listed()] == [(owner.id, "active")]  # taken over

    assert (await api.delete(f"{url}/{made['id']}", token=member.token)).status == 403
    assert (await api.delete(f"{url}/{made['id']}", token=stranger.token)).status == 404
    assert (await api.delete(f"{url}/{theirs['id']}", token=owner.token)).status == 404  # another project's
    assert (await api.delete(f"{url}/{made['id']}", token=owner.token)).status == 204
    assert await listed() == []
    assert (await api.delete(f"{url}/{made['id']}", token=owner.token)).status == 404
    assert len((await api.get(f"/api/projects/{other['id']}/chat-subscriptions", token=stranger.token))
               .body["items"]) == 1  # fmt: skip


async def test_webhooks_of_a_removed_admin_stay_and_name_their_creator(api: Api) -> None:
    owner, admin = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, admin, "admin")
    made = await api.post(
        f"/api/projects/{pid}/webhooks", json={"url": "https://93.184.215.14/hook"}, token=admin.token
    )
    assert made.status == 201, made.body
    assert made.body["created_by"] == admin.id
    assert (await api.delete(f"/api/projects/{pid}/members/{admin.id}", token=owner.token)).status == 204
    listed = await api.get(f"/api/projects/{pid}/webhooks", token=owner.token)
    assert [(w["id"], w["created_by"]) for w in listed.body["items"]] == [(made.body["id"], admin.id)]
    one = await api.get(f"/api/webhooks/{made.body['id']}", token=owner.token)
    assert one.body["created_by"] == admin.id


# --- issue #21: concurrent first comments ----------------------------------------------------------------


@POSTGRES_ONLY
async def test_concurrent_first_comments_by_one_user_all_succeed(api: Api, context: HubContext) -> None:
    owner, bob = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, bob, "member")
    for round_ in range(3):
        ticket = await api.ticket(owner, pid, title=f"Hot {round_}")
        url = f"/api/tickets/{ticket['id']}/comments"
        replies = await asyncio.gather(
            *(api.post(url, json={"body": f"me too {i}"}, token=bob.token) for i in range(6))
        )
        assert [r.status for r in replies] == [201] * 6, [r.body for r in replies if r.status != 201]
        assert await _watchers(context, ticket["id"]) == sorted([owner.id, bob.id])
        follows = await asyncio.gather(
            *(api.put(f"/api/tickets/{ticket['id']}/watchers/me", token=owner.token) for _ in range(3)),
            *(api.delete(f"/api/tickets/{ticket['id']}/watchers/me", token=bob.token) for _ in range(3)),
        )
        assert [r.status for r in follows] == [200] * 6, [r.body for r in follows if r.status != 200]
        assert await _watchers(context, ticket["id"]) == [owner.id]
