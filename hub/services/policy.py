"""Who may do what: the one place project permissions are decided.

Roles rank viewer < member < admin < owner. Viewers read; members create and edit tickets and
comments; admins and owners manage members, the project and its webhooks. Site admins act as owners
everywhere. Someone who is not a member gets `NotFound`, never `Forbidden`, so a project's existence
does not leak.

Access ends with membership: only current members receive a project's notifications
(`receives_notification`), a chat subscription relays only while its creator may still read the
project (`subscription_relays`), and adding a member by id is only for people the actor already
shares a project with (`may_add_by_id`; by exact email for anyone else).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Membership, Project
from hub.domain.enums import Role
from hub.domain.errors import Forbidden, NotFound
from hub.domain.identity import Actor


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    MANAGE = "manage"


_MIN_ROLE = {Action.READ: Role.VIEWER, Action.WRITE: Role.MEMBER, Action.MANAGE: Role.ADMIN}


async def role_in(session: AsyncSession, project_id: int, user: Actor) -> Role | None:
    """The user's role in the project, or None when they may not see it (or it does not exist)."""
    role = await session.scalar(
        select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == user.id)
    )
    if role is not None:
        return Role(role)
    if user.is_admin and await session.get(Project, project_id) is not None:
        return Role.OWNER
    return None


def allows(role: Role, action: Action) -> bool:
    return role.rank >= _MIN_ROLE[action].rank


def roles_allowing(action: Action) -> tuple[str, ...]:
    """The roles that allow `action`, for statements that check the role themselves (a site admin
    without a membership counts as owner there too)."""
    return tuple(role.value for role in Role if allows(role, action))


async def authorize(session: AsyncSession, project_id: int, user: Actor, action: Action) -> Role:
    """Return the user's role if it allows `action`; NotFound for outsiders, Forbidden otherwise."""
    role = await role_in(session, project_id, user)
    if role is None:
        raise NotFound("project not found")
    if not allows(role, action):
        raise Forbidden(f"your role ({role}) does not allow this; it needs {_MIN_ROLE[action]} or above")
    return role


#: Who may see each kind of event in the project's activity (REST feed, sockets, resumes). Types not
#: listed here are for admins and owners only: a new kind of event is private until someone decides.
_EVENT_AUDIENCE: dict[str, Action] = {
    **{
        kind: Action.READ
        for kind in (
            "ticket.created",
            "ticket.updated",
            "ticket.assigned",
            "ticket.status_changed",
            "ticket.deleted",
            "ticket.watchers_changed",
            "comment.created",
            "comment.updated",
            "comment.deleted",
            "project.created",
            "project.updated",
            "member.added",
            "member.updated",
            "member.removed",
            "project.broadcast",
        )
    },
}
#: Events addressed to one user (their payload names them): only that user sees them.
_PERSONAL_EVENTS = frozenset({"notification.custom"})


def can_see_event(role: Role, actor_id: int, event_type: str, payload: Mapping[str, Any]) -> bool:
    """Whether someone with `role` in the event's project may see this event in its activity.

    Ticket, comment, project and member events: every member. `webhook.*` (endpoint names, failure
    reasons) and any type not listed: admins and owners. A personal event (`notification.custom`): only
    the user it is addressed to, whatever their role."""
    if event_type in _PERSONAL_EVENTS:
        try:
            return int(payload.get("user_id") or 0) == actor_id
        except (TypeError, ValueError):
            return False
    return allows(role, _EVENT_AUDIENCE.get(event_type, Action.MANAGE))


# --- access that ends with membership -------------------------------------------------------------


async def memberships_among(
    session: AsyncSession, project_ids: Iterable[int], user_ids: Iterable[int]
) -> set[tuple[int, int]]:
    """The (project_id, user_id) pairs among these projects and users that are memberships now: one
    query for a whole batch (routing, chat DMs and digests ask it on their hot paths)."""
    projects, users = set(project_ids), set(user_ids)
    if not projects or not users:
        return set()
    rows = await session.execute(
        select(Membership.project_id, Membership.user_id).where(
            Membership.project_id.in_(projects), Membership.user_id.in_(users)
        )
    )
    return {(int(p), int(u)) for p, u in rows.all()}


def receives_notification(project_id: int | None, user_id: int, members: set[tuple[int, int]]) -> bool:
    """Whether a user may get (or still be sent) a notification about `project_id`.

    Only current members hear about a project: a removed member gets nothing new, not even what was
    routed to them before their removal but not yet sent to chat. Site admins are no exception (they
    may *read* every project, but are not part of its audience unless they are members). A
    notification about no project (`hub.notify` without a project) goes to its user."""
    return project_id is None or (project_id, user_id) in members


def acting_role(membership_role: str | None, is_site_admin: bool | None) -> Role | None:
    """`role_in`'s answer from values a query already fetched (the membership's role, the user's
    site-admin flag), for statements that check many users at once."""
    if membership_role is not None:
        return Role(membership_role)
    return Role.OWNER if is_site_admin else None


#: What a chat subscription's creator must still be allowed to do for it to relay.
SUBSCRIPTION_NEEDS = Action.READ


def subscription_relays(creator_role: Role | None) -> bool:
    """A chat subscription relays with the access of the user who made it (`created_by`): while their
    current role in the project allows reading it. Once they are removed (or their account is gone)
    it is *paused* — kept, shown as paused, relaying nothing — and resumes if they are added back."""
    return creator_role is not None and allows(creator_role, SUBSCRIPTION_NEEDS)


async def may_add_by_id(session: AsyncSession, actor: Actor, user_id: int) -> bool:
    """Adding a member by `user_id` is for people the actor already works with: users who share a
    project with them (or anyone, for a site admin). Others are added by their exact email. So an
    admin of their own project cannot walk the user directory id by id; callers answer "no such user"
    either way, so whether the id exists does not leak."""
    if actor.is_admin or user_id == actor.id:
        return True
    mine = select(Membership.project_id).where(Membership.user_id == actor.id)
    shared = await session.scalar(
        select(Membership.project_id)
        .where(Membership.user_id == user_id, Membership.project_id.in_(mine))
        .limit(1)
    )
    return shared is not None
