"""What the policy decides on, loaded: roles, memberships and shared projects from the database.

`policy.py` holds the rules as pure predicates over plain values; this module fetches those values
(one query each, batched where a hot path asks for many) and `authorize` joins the two for the
common case "load the actor's role in a project and refuse unless it allows the action".
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Membership, Project
from hub.domain.enums import Role
from hub.domain.identity import Actor
from hub.services import policy
from hub.services.policy import Action


async def role_in(session: AsyncSession, project_id: int, user: Actor) -> Role | None:
    """The user's role in the project, or None when they may not see it (or it does not exist)."""
    role = await session.scalar(
        select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == user.id)
    )
    if role is not None:
        return Role(role)
    if user.is_admin and await session.get(Project, project_id) is not None:
        return policy.acting_role(None, is_site_admin=True)
    return None


async def authorize(session: AsyncSession, project_id: int, user: Actor, action: Action) -> Role:
    """The user's role if it allows `action`; NotFound for outsiders, Forbidden otherwise
    (`policy.require`)."""
    return policy.require(await role_in(session, project_id, user), action)


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


async def shares_a_project(session: AsyncSession, user_id: int, other_id: int) -> bool:
    """Whether two users are members of at least one common project."""
    mine = select(Membership.project_id).where(Membership.user_id == user_id)
    shared = await session.scalar(
        select(Membership.project_id)
        .where(Membership.user_id == other_id, Membership.project_id.in_(mine))
        .limit(1)
    )
    return shared is not None


async def may_add_by_id(session: AsyncSession, actor: Actor, user_id: int) -> bool:
    """`policy.can_add_by_id`, with whether the two share a project loaded only when it matters."""
    if policy.can_add_by_id(actor, user_id, shares_a_project=False):
        return True
    return policy.can_add_by_id(
        actor, user_id, shares_a_project=await shares_a_project(session, actor.id, user_id)
    )
