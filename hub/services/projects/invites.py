"""Invite links: a project's admins mint a link; whoever holds it joins the project with its role.

A token is `secrets.token_urlsafe(24)` (192 random bits), shown once when the invite is made; only its
SHA-256 is stored, so the table alone lets nobody in. An invite is *active* until it expires
(`expires_in`, 5 minutes to 30 days, default 7 days), is revoked, or has let `max_uses` people in;
`invite_state` names which. Who may mint, list and revoke is `policy.can_manage_invites` and
`policy.can_invite_as` (an admin mints no owner invite). A link grants its role on its maker's
authority, so it works only while its maker could still mint it (`policy.invite_backed_by`): demoting,
removing or deactivating an admin ends their links at once, like revoking them (state `revoked`).

Joining goes through `projects.join_project`, like an admin adding someone, so `member.added` is
written and the new member's sockets hear `project_added`. Someone already a member keeps the higher
of their role and the invite's (`policy.role_after_invite`; raising it writes `member.updated`). A use
is counted when the invite adds someone or raises their role, by one conditional UPDATE
(`uses < max_uses`) that also locks the invite's row: concurrent accepts on PostgreSQL cannot let in
more than `max_uses` people.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from hub.adapters.db.invite_models import ProjectInvite
from hub.adapters.db.models import Project, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import Role
from hub.domain.errors import Forbidden, Gone, NotFound, ValidationFailed
from hub.domain.identity import Actor
from hub.services import policy
from hub.services.access import role_in
from hub.services.accounts.auth import create_user
from hub.services.projects.projects import change_role, find_membership, join_project, lock_project
from hub.services.views import iso, project_view

DEFAULT_EXPIRES_IN = 7 * 24 * 3600
MIN_EXPIRES_IN = 5 * 60
MAX_EXPIRES_IN = 30 * 24 * 3600
MAX_USES = 1000
#: Ended invites stay listed this long after they ended (then only the active ones are shown).
RECENTLY_ENDED = timedelta(days=7)
#: At most this many invites are listed (newest first).
LIST_LIMIT = 200
#: Longer than any token we make: such a "token" is not looked up at all.
_MAX_TOKEN_LENGTH = 100

_ENDED = {
    "expired": (
        "invite_expired",
        "This invite link to {name} has expired; ask whoever sent it for a new one.",
    ),
    "revoked": (
        "invite_revoked",
        "This invite link to {name} was withdrawn; ask whoever sent it for a new one.",
    ),
    "used_up": (
        "invite_used_up",
        "This invite link to {name} has been used as many times as it allows; ask for a new one.",
    ),
}
_UNBACKED = (
    "This invite link to {name} no longer works: the person who made it can no longer invite people"
    " with its role. Ask a project admin for a new one."
)
_UNKNOWN = "This invite link is not valid: check that you copied all of it, or ask for a new one."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_url(public_url: str, token: str) -> str:
    """The link to share. The token is in the fragment, which browsers never send to a server, so it
    stays out of proxy and access logs."""
    return f"{public_url.rstrip('/')}/#/invite/{token}"


def invite_state(invite: ProjectInvite, now: datetime, backed: bool = True) -> str:
    """`active`, or how it ended: `revoked` (also when its maker may no longer mint it: `backed`
    false), `expired` or `used_up`."""
    if invite.revoked_at is not None or not backed:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "used_up"
    return "active"


def _ended_at(invite: ProjectInvite, state: str) -> datetime | None:
    return {"revoked": invite.revoked_at, "expired": invite.expires_at, "used_up": invite.last_used_at}.get(
        state
    )


def invite_view(
    invite: ProjectInvite, creator_name: str | None, now: datetime, backed: bool = True
) -> dict[str, Any]:
    """An invite as its project's admins see it: never its token (that is shown once, on create)."""
    return {
        "id": invite.id,
        "project_id": invite.project_id,
        "role": invite.role,
        "expires_at": iso(invite.expires_at),
        "max_uses": invite.max_uses,
        "uses": invite.uses,
        "created_by": invite.created_by,
        "created_by_name": creator_name,
        "created_at": iso(invite.created_at),
        "revoked_at": iso(invite.revoked_at),
        "state": invite_state(invite, now, backed),
    }


def _check_new(role: str, expires_in: int | None, max_uses: int | None) -> tuple[Role, int]:
    errors: dict[str, str] = {}
    try:
        invite_role = Role(role)
    except ValueError:
        errors["role"] = "must be one of owner, admin, member, viewer"
    seconds = DEFAULT_EXPIRES_IN if expires_in is None else expires_in
    if not MIN_EXPIRES_IN <= seconds <= MAX_EXPIRES_IN:
        errors["expires_in"] = f"must be between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN} seconds (30 days)"
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        errors["max_uses"] = f"must be between 1 and {MAX_USES}, or left out for no limit"
    if errors:
        raise ValidationFailed("invalid invite", fields=errors)
    return invite_role, seconds


def _require_manager(role: Role | None, missing: str) -> Role:
    """`role` if it may manage invites; NotFound (`missing`) for outsiders, Forbidden for the rest."""
    if role is None:
        raise NotFound(missing)
    if not policy.can_manage_invites(role):
        raise Forbidden(f"your role ({role}) does not allow managing invites; it needs admin or above")
    return role


async def _maker_role(uow: UnitOfWork, project_id: int, maker_id: int | None) -> Role | None:
    """The role an invite's maker has in its project now; None when they have none, or their
    account is gone or deactivated."""
    maker = await uow.session.get(User, maker_id) if maker_id is not None else None
    if maker is None or maker.deactivated_at is not None:
        return None
    return await role_in(uow.session, project_id, Actor.of(maker))


async def _backed(uow: UnitOfWork, invite: ProjectInvite) -> bool:
    """Whether the invite's maker could still mint it now (an active account with a role that may
    invite with the invite's role)."""
    role = await _maker_role(uow, invite.project_id, invite.created_by)
    return policy.invite_backed_by(role, Role(invite.role))


async def _manager_role(uow: UnitOfWork, project_id: int, actor: Actor) -> Role:
    return _require_manager(await role_in(uow.session, project_id, actor), "project not found")


async def create_invite(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    *,
    role: str,
    expires_in: int | None = None,
    max_uses: int | None = None,
    public_url: str,
) -> dict[str, Any]:
    """Mint an invite link (admins and owners; only owners mint owner invites). The answer is the only
    time its token and url are shown."""
    invite_role, seconds = _check_new(role, expires_in, max_uses)
    async with uow:
        actor_role = await _manager_role(uow, project_id, actor)
        if not policy.can_invite_as(actor_role, invite_role):
            raise Forbidden("only an owner can invite someone as an owner")
        token = secrets.token_urlsafe(24)
        now = utcnow()
        invite = ProjectInvite(
            project_id=project_id,
            token_hash=_digest(token),
            role=invite_role,
            expires_at=now + timedelta(seconds=seconds),
            max_uses=max_uses,
            uses=0,
            created_by=actor.id,
            created_at=now,
        )
        uow.session.add(invite)
        await uow.session.flush()
        view = invite_view(invite, actor.name, now)
        await uow.commit()
    return {**view, "token": token, "url": invite_url(public_url, token)}


async def list_invites(uow: UnitOfWork, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    """The project's active invites and those that ended in the last `RECENTLY_ENDED`, newest first
    (admins and owners). An invite made longer ago than the longest lifetime plus that has ended for
    longer, so only those younger are read."""
    now = utcnow()
    async with uow:
        await _manager_role(uow, project_id, actor)
        rows = await uow.session.execute(
            select(ProjectInvite, User.name)
            .outerjoin(User, User.id == ProjectInvite.created_by)
            .where(
                ProjectInvite.project_id == project_id,
                ProjectInvite.created_at > now - timedelta(seconds=MAX_EXPIRES_IN) - RECENTLY_ENDED,
            )
            .order_by(ProjectInvite.id.desc())
            .limit(LIST_LIMIT)
        )
        items = []
        makers: dict[int | None, Role | None] = {}  # a project has few invite makers: one look each
        for invite, name in rows.all():
            backed = True
            if invite_state(invite, now) == "active":
                if invite.created_by not in makers:
                    makers[invite.created_by] = await _maker_role(uow, project_id, invite.created_by)
                backed = policy.invite_backed_by(makers[invite.created_by], Role(invite.role))
            state = invite_state(invite, now, backed)
            ended = _ended_at(invite, state)
            if state == "active" or ended is None or ended > now - RECENTLY_ENDED:
                items.append(invite_view(invite, name, now, backed))
        return items


async def revoke_invite(uow: UnitOfWork, actor: Actor, invite_id: int) -> None:
    """Withdraw an invite (admins and owners of its project); revoking it again changes nothing. An
    invite of a project the actor may not see is "no such invite"."""
    async with uow:
        invite = await uow.session.get(ProjectInvite, invite_id)
        role = await role_in(uow.session, invite.project_id, actor) if invite is not None else None
        _require_manager(role, "no such invite")
        assert invite is not None
        if invite.revoked_at is None:
            invite.revoked_at = utcnow()
        await uow.commit()


async def _find(uow: UnitOfWork, token: str) -> tuple[ProjectInvite, Project]:
    found = None
    if 0 < len(token) <= _MAX_TOKEN_LENGTH:
        found = (
            await uow.session.execute(
                select(ProjectInvite, Project)
                .join(Project, Project.id == ProjectInvite.project_id)
                .where(ProjectInvite.token_hash == _digest(token))
            )
        ).first()
    if found is None:
        raise NotFound(_UNKNOWN)
    return found[0], found[1]


def _refuse_ended(invite: ProjectInvite, project: Project, now: datetime, backed: bool = True) -> None:
    """410 with `invite_expired`, `invite_revoked` or `invite_used_up` unless the invite is active."""
    state = invite_state(invite, now)
    if state != "active":
        code, message = _ENDED[state]
        raise Gone(message.format(name=project.name), code=code)
    if not backed:
        raise Gone(_UNBACKED.format(name=project.name), code="invite_revoked")


async def preview_invite(uow: UnitOfWork, token: str) -> dict[str, Any]:
    """What an invite link offers, for anyone holding it (no sign-in): the project, the role, who
    invited. 404 for a token that names no invite; 410 (`invite_expired` | `invite_revoked` |
    `invite_used_up`) for one that ended."""
    async with uow:
        invite, project = await _find(uow, token)
        _refuse_ended(invite, project, utcnow(), await _backed(uow, invite))
        inviter = await uow.session.get(User, invite.created_by) if invite.created_by else None
        return {
            "project": {"id": project.id, "key": project.key, "name": project.name},
            "role": invite.role,
            "inviter": {"name": inviter.name} if inviter is not None else None,
            "expires_at": iso(invite.expires_at),
            "state": "active",
        }


async def _count_use(uow: UnitOfWork, invite: ProjectInvite, project: Project) -> None:
    """Count one use if the invite is still active: one conditional UPDATE, which also holds the row
    until commit, so concurrent accepts re-check `uses < max_uses` one after the other."""
    now = utcnow()
    counted = await uow.session.execute(
        update(ProjectInvite)
        .where(
            ProjectInvite.id == invite.id,
            ProjectInvite.revoked_at.is_(None),
            ProjectInvite.expires_at > now,
            or_(ProjectInvite.max_uses.is_(None), ProjectInvite.uses < ProjectInvite.max_uses),
        )
        .values(uses=ProjectInvite.uses + 1, last_used_at=now)
        .returning(ProjectInvite.id)
        .execution_options(synchronize_session=False)
    )
    if counted.scalar() is None:
        await uow.session.refresh(invite)
        _refuse_ended(invite, project, now)
        raise Gone(_ENDED["used_up"][1].format(name=project.name), code="invite_used_up")


async def accept_invite(uow: UnitOfWork, actor: Actor, token: str) -> dict[str, Any]:
    """Join the invite's project with its role. Someone already a member keeps the higher of the two
    roles; `outcome` says what happened: `joined`, `raised` (a higher role) or `unchanged` (nothing
    changed and no use was counted). 404/410 as for `preview_invite`."""
    async with uow:
        invite, project = await _find(uow, token)
        _refuse_ended(invite, project, utcnow())
        # The project's membership lock (as for role changes and removals), then the invite's row.
        await lock_project(uow, project.id)
        _refuse_ended(
            invite, project, utcnow(), await _backed(uow, invite)
        )  # under the lock: role changes wait
        membership = await find_membership(uow, project.id, actor.id)
        current = Role(membership.role) if membership is not None else None
        new_role = policy.role_after_invite(current, Role(invite.role))
        if membership is not None and new_role is current:
            return {"project": project_view(project, current), "role": current, "outcome": "unchanged"}
        await _count_use(uow, invite, project)
        if membership is None:
            user = await uow.session.get(User, actor.id)
            if user is None:
                raise NotFound("no such user")
            await join_project(uow, project.id, user, new_role, actor_id=actor.id)
            outcome = "joined"
        else:
            change_role(uow, membership, new_role, actor_id=actor.id)
            outcome = "raised"
        await uow.commit()
        return {"project": project_view(project, new_role), "role": new_role, "outcome": outcome}


async def register_with_invite(
    uow: UnitOfWork, email: str, password: str, name: str, token: str
) -> tuple[User, dict[str, Any]]:
    """Create an account and join the invite's project with its role, in one transaction (sign-up
    need not be open): an invite that is unknown or ended (404/410), or account details that are
    refused, create no user and count no use."""
    async with uow:
        invite, project = await _find(uow, token)
        _refuse_ended(invite, project, utcnow())
        user = await create_user(uow, email, password, name)
        await lock_project(uow, project.id)
        _refuse_ended(invite, project, utcnow(), await _backed(uow, invite))
        await _count_use(uow, invite, project)
        role = Role(invite.role)
        await join_project(uow, project.id, user, role, actor_id=user.id)
        await uow.commit()
        return user, project_view(project, role)
