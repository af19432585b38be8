"""Who may do what: the one place project permissions are decided.

Roles rank viewer < member < admin < owner. Viewers read; members create and edit tickets and
comments; admins and owners manage members, the project and its webhooks. Site admins act as owners
everywhere. Someone who is not a member gets `NotFound`, never `Forbidden`, so a project's existence
does not leak.
"""

from __future__ import annotations

from enum import StrEnum

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
