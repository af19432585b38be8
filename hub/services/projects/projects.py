"""Projects and their members."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from hub.adapters.db.models import Membership, Project, Ticket, TicketWatcher, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import Role
from hub.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hub.domain.events import MemberAdded, MemberRemoved, MemberUpdated, ProjectCreated, ProjectUpdated
from hub.domain.identity import Actor
from hub.services import policy
from hub.services.access import authorize, may_add_by_id
from hub.services.accounts.auth import normalize_email
from hub.services.policy import Action
from hub.services.views import member_view, project_view

_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")


def _check_project_fields(key: str | None, name: str | None) -> None:
    errors: dict[str, str] = {}
    if key is not None and not _KEY.match(key):
        errors["key"] = "must be 2-10 characters: an uppercase letter, then uppercase letters or digits"
    if name is not None and not (1 <= len(name.strip()) <= 120):
        errors["name"] = "must be 1 to 120 characters"
    if errors:
        raise ValidationFailed("invalid project", fields=errors)


async def create_project(
    uow: UnitOfWork, actor: Actor, key: str, name: str, description: str = ""
) -> dict[str, Any]:
    """Create a project; the creator becomes its owner."""
    key = key.strip().upper()
    _check_project_fields(key, name)
    async with uow:
        if await uow.session.scalar(select(Project.id).where(Project.key == key)) is not None:
            raise Conflict(f"project key {key} is taken", fields={"key": "already in use"})
        project = Project(key=key, name=name.strip(), description=description)
        uow.session.add(project)
        await uow.session.flush()
        uow.session.add(Membership(project_id=project.id, user_id=actor.id, role=Role.OWNER))
        view = project_view(project, Role.OWNER)
        uow.emit(ProjectCreated(project=view), project_id=project.id, actor_id=actor.id)
        await uow.commit()
        return view


async def list_projects(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    async with uow:
        if actor.is_admin:
            rows = await uow.session.execute(
                select(Project, Membership.role)
                .outerjoin(
                    Membership, (Membership.project_id == Project.id) & (Membership.user_id == actor.id)
                )
                .order_by(Project.key)
            )
            return [project_view(project, policy.acting_role(role, actor.is_admin)) for project, role in rows]
        rows = await uow.session.execute(
            select(Project, Membership.role)
            .join(Membership, Membership.project_id == Project.id)
            .where(Membership.user_id == actor.id)
            .order_by(Project.key)
        )
        return [project_view(project, role) for project, role in rows]


async def get_project(uow: UnitOfWork, actor: Actor, project_id: int) -> dict[str, Any]:
    async with uow:
        role = await authorize(uow.session, project_id, actor, Action.READ)
        project = await uow.session.get(Project, project_id)
        assert project is not None
        return project_view(project, role)


async def find_project_by_key(uow: UnitOfWork, actor: Actor, key: str) -> dict[str, Any]:
    """Look a project up by its key, as chat commands name it; NotFound if not visible."""
    async with uow:
        project_id = await uow.session.scalar(select(Project.id).where(Project.key == key.strip().upper()))
        if project_id is None:
            raise NotFound(f"no project {key.upper()}")
        role = await authorize(uow.session, project_id, actor, Action.READ)
        project = await uow.session.get(Project, project_id)
        assert project is not None
        return project_view(project, role)


async def update_project(
    uow: UnitOfWork, actor: Actor, project_id: int, *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    _check_project_fields(None, name)
    async with uow:
        role = await authorize(uow.session, project_id, actor, Action.MANAGE)
        project = await uow.session.get(Project, project_id)
        assert project is not None
        if name is not None:
            project.name = name.strip()
        if description is not None:
            project.description = description
        project.updated_at = utcnow()
        view = project_view(project, role)
        uow.emit(ProjectUpdated(project=view), project_id=project_id, actor_id=actor.id)
        await uow.commit()
        return view


async def list_members(uow: UnitOfWork, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    async with uow:
        await authorize(uow.session, project_id, actor, Action.READ)
        rows = await uow.session.scalars(
            select(Membership)
            .options(joinedload(Membership.user))
            .where(Membership.project_id == project_id)
            .order_by(Membership.created_at, Membership.user_id)
        )
        return [member_view(m) for m in rows]


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationFailed(
            "invalid role", fields={"role": "must be one of owner, admin, member, viewer"}
        ) from None


def _check_grant(actor_role: Role, target_role: Role) -> None:
    if not policy.can_grant(actor_role, target_role):
        raise Forbidden("only an owner can make someone an owner")


async def _check_keeps_an_owner(
    uow: UnitOfWork, project_id: int, member_role: Role, new_role: Role | None, field: str
) -> None:
    """Conflict unless the project still has an owner afterwards (`policy.keeps_an_owner`); the
    owners are only counted when an owner's membership changes."""
    owners = await _owner_count(uow, project_id) if member_role is Role.OWNER else 0
    if not policy.keeps_an_owner(member_role, new_role, owners):
        message = "a project needs at least one owner" if new_role else "the last owner cannot be removed"
        raise Conflict(message, fields={field: "last owner"})


async def _owner_count(uow: UnitOfWork, project_id: int) -> int:
    count = await uow.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.project_id == project_id, Membership.role == Role.OWNER)
    )
    return int(count or 0)


async def add_member(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    *,
    role: str,
    user_id: int | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    new_role = _check_role(role)
    if user_id is None and not email:
        raise ValidationFailed("name the user", fields={"user_id": "give user_id or email"})
    async with uow:
        actor_role = await authorize(uow.session, project_id, actor, Action.MANAGE)
        _check_grant(actor_role, new_role)
        if user_id is not None:
            # By id only for people the actor already shares a project with (policy.can_add_by_id);
            # anyone else is "no such user", exactly as for an id nobody has.
            allowed = await may_add_by_id(uow.session, actor, user_id)
            user = await uow.session.get(User, user_id) if allowed else None
            field = "user_id"
        else:
            user = await uow.session.scalar(select(User).where(User.email == normalize_email(email or "")))
            field = "email"
        if user is None:
            raise ValidationFailed(
                "no such user", fields={field: "no user has this " + field.replace("_", " ")}
            )
        if await uow.session.get(Membership, (project_id, user.id)) is not None:
            raise Conflict("already a member", fields={field: "already a member of this project"})
        view = await join_project(uow, project_id, user, new_role, actor_id=actor.id)
        await uow.commit()
        return view


async def join_project(
    uow: UnitOfWork, project_id: int, user: User, role: Role, *, actor_id: int | None
) -> dict[str, Any]:
    """Make `user` (not yet a member) a member of `project_id` with `role`, in the caller's transaction
    (not committed), and emit `member.added`: the one way anyone joins a project (added by an admin,
    or by an invite link), so every join reaches the sockets the same way."""
    membership = Membership(project_id=project_id, user_id=user.id, role=role, created_at=utcnow())
    membership.user = user
    uow.session.add(membership)
    try:
        await uow.session.flush()
    except IntegrityError:  # added at the same moment by someone else
        raise Conflict("already a member", fields={"user_id": "already a member of this project"}) from None
    view = member_view(membership)
    project = await uow.session.get(Project, project_id)
    assert project is not None
    # `project`: the project as the new member sees it (their notifications socket's project_added).
    added = MemberAdded(member=view, project=project_view(project, role))
    uow.emit(added, project_id=project_id, actor_id=actor_id)
    return view


def change_role(
    uow: UnitOfWork, membership: Membership, role: Role, *, actor_id: int | None
) -> dict[str, Any]:
    """Give a member (loaded with its user) a new role in the caller's transaction and emit
    `member.updated`: the one way a role changes (by an admin, or by accepting a higher invite)."""
    membership.role = role
    view = member_view(membership)
    uow.emit(MemberUpdated(member=view), project_id=membership.project_id, actor_id=actor_id)
    return view


async def lock_project(uow: UnitOfWork, project_id: int) -> None:
    """Serialise the membership changes of one project ("a project always keeps an owner" must hold
    when two owners demote or remove each other at once). PostgreSQL: the project's row, locked before
    anything is read (`FOR NO KEY UPDATE`: ticket and membership inserts, which only take a key-share
    lock on it, are not held up). SQLite serialises writers anyway (`BEGIN IMMEDIATE`) and gets no
    FOR clause."""
    await uow.session.execute(
        select(Project.id).where(Project.id == project_id).with_for_update(key_share=True)
    )


async def find_membership(uow: UnitOfWork, project_id: int, user_id: int) -> Membership | None:
    """The membership (with its user loaded), or None."""
    return await uow.session.scalar(
        select(Membership)
        .options(joinedload(Membership.user))
        .where(Membership.project_id == project_id, Membership.user_id == user_id)
    )


async def _load_membership(uow: UnitOfWork, project_id: int, user_id: int) -> Membership:
    membership = await find_membership(uow, project_id, user_id)
    if membership is None:
        raise NotFound("no such member")
    return membership


async def update_member(
    uow: UnitOfWork, actor: Actor, project_id: int, user_id: int, role: str
) -> dict[str, Any]:
    new_role = _check_role(role)
    async with uow:
        await lock_project(uow, project_id)
        actor_role = await authorize(uow.session, project_id, actor, Action.MANAGE)
        membership = await _load_membership(uow, project_id, user_id)
        current = Role(membership.role)
        _check_grant(actor_role, new_role)
        if not policy.can_change_member(actor_role, current, new_role):
            raise Forbidden("only an owner can change an owner's role")
        await _check_keeps_an_owner(uow, project_id, current, new_role, "role")
        view = change_role(uow, membership, new_role, actor_id=actor.id)
        await uow.commit()
        return view


async def remove_member(uow: UnitOfWork, actor: Actor, project_id: int, user_id: int) -> None:
    """Admins remove anyone below owner; owners remove anyone; everyone may leave (but the last owner).

    Access ends in the same transaction: the user stops watching the project's tickets (no more
    comment or status notifications; routing also checks membership when it routes), and the
    `member.removed` event closes their sockets on the project and tells their notifications sockets
    (`project_removed`) on every instance."""
    async with uow:
        await lock_project(uow, project_id)
        actor_role = await authorize(uow.session, project_id, actor, policy.needed_to_remove(actor, user_id))
        membership = await _load_membership(uow, project_id, user_id)
        member_role = Role(membership.role)
        if not policy.can_remove_member(actor_role, actor, user_id, member_role):
            raise Forbidden("only an owner can remove an owner")
        await _check_keeps_an_owner(uow, project_id, member_role, None, "user_id")
        view = member_view(membership)
        await uow.session.delete(membership)
        await uow.session.execute(
            delete(TicketWatcher)
            .where(
                TicketWatcher.user_id == user_id,
                TicketWatcher.ticket_id.in_(select(Ticket.id).where(Ticket.project_id == project_id)),
            )
            .execution_options(synchronize_session=False)
        )
        uow.emit(MemberRemoved(member=view), project_id=project_id, actor_id=actor.id)
        await uow.commit()
