"""Who may do what: the one place project permissions are decided.

Roles rank viewer < member < admin < owner. Viewers read; members create and edit tickets and
comments; admins and owners manage members, the project and its webhooks. Site admins act as owners
everywhere. Someone who is not a member gets `NotFound`, never `Forbidden`, so a project's existence
does not leak.
"""

from __future__ import annotations

from collections.abc import Mapping
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
