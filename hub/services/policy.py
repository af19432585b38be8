"""Who may do what: the one place project permissions are decided, as pure predicates.

Every rule is a function of plain values — the actor's role in the project (`Role | None`, None for
someone who may not see it), the `Actor`, and small facts about the target (a reporter's id, a
member's role, how many owners are left) — and touches no database: `hub/services/access.py` loads
those values, the services call a predicate and raise. The PostgreSQL one-statement ticket create
checks in SQL the values `create_ticket_access` gives it, so that rule is still decided here.

Roles rank viewer < member < admin < owner. Viewers read; members create and edit tickets and
comments; admins and owners manage members, the project and its webhooks. Site admins act as owners
everywhere (`acting_role`). Someone who is not a member gets `NotFound`, never `Forbidden`, so a
project's existence does not leak (`require`).

Access ends with membership: only current members receive a project's notifications
(`receives_notification`), a chat subscription relays only while its creator may still read the
project (`subscription_relays`), and adding a member by id is only for people the actor already
shares a project with (`can_add_by_id`; by exact email for anyone else).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from hub.domain.enums import EventType, Role
from hub.domain.errors import Forbidden, NotFound
from hub.domain.identity import Actor
from hub.domain.tickets import CreateAccess


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    MANAGE = "manage"


_MIN_ROLE = {Action.READ: Role.VIEWER, Action.WRITE: Role.MEMBER, Action.MANAGE: Role.ADMIN}


def allows(role: Role, action: Action) -> bool:
    return role.rank >= _MIN_ROLE[action].rank


def can(role: Role | None, action: Action) -> bool:
    """Whether someone with `role` (None: not a member) may do `action` in the project."""
    return role is not None and allows(role, action)


def roles_allowing(action: Action) -> tuple[str, ...]:
    """The roles that allow `action`, for statements that check the role themselves (a site admin
    without a membership counts as owner there too)."""
    return tuple(role.value for role in Role if allows(role, action))


def require(role: Role | None, action: Action, *, missing: str = "project not found") -> Role:
    """`role` if it allows `action`; NotFound (`missing`) for outsiders, Forbidden otherwise."""
    if role is None:
        raise NotFound(missing)
    if not allows(role, action):
        raise Forbidden(f"your role ({role}) does not allow this; it needs {_MIN_ROLE[action]} or above")
    return role


def acting_role(membership_role: str | None, is_site_admin: bool | None) -> Role | None:
    """The role someone acts with, from their membership's role (None: no membership) and their
    site-admin flag: a site admin without a membership acts as owner."""
    if membership_role is not None:
        return Role(membership_role)
    return Role.OWNER if is_site_admin else None


# --- tickets and comments -------------------------------------------------------------------------

#: Who may be a ticket's assignee: any member of its project, viewers included.
_ASSIGNABLE = frozenset(Role)


def can_be_assigned(assignee_role: Role | None) -> bool:
    """Whether someone with `assignee_role` in the project (None: not a member) may be assigned a
    ticket there."""
    return assignee_role is not None and assignee_role in _ASSIGNABLE


def create_ticket_access(actor: Actor) -> CreateAccess:
    """The create-ticket rule as values, for a statement that checks it in SQL: the membership roles
    that may create, whether `actor` may without a membership, and the roles an assignee may have."""
    return CreateAccess(
        roles=roles_allowing(Action.WRITE),
        without_membership=can(acting_role(None, actor.is_admin), Action.WRITE),
        assignable=tuple(role.value for role in Role if role in _ASSIGNABLE),
    )


def can_delete_ticket(role: Role | None, actor: Actor, reporter_id: int) -> bool:
    """Admins delete any ticket; members only the ones they reported."""
    return can(role, Action.MANAGE) or (can(role, Action.WRITE) and reporter_id == actor.id)


def can_edit_comment(role: Role | None, actor: Actor, author_id: int) -> bool:
    """Only the author edits a comment, and only while still allowed to write in the project."""
    return author_id == actor.id and can(role, Action.WRITE)


def can_delete_comment(role: Role | None, actor: Actor, author_id: int) -> bool:
    """The author (while allowed to write) or a project admin deletes a comment."""
    return can(role, Action.MANAGE) or can_edit_comment(role, actor, author_id)


# --- members --------------------------------------------------------------------------------------


def can_grant(role: Role | None, new_role: Role) -> bool:
    """Admins give any role but owner; only an owner makes someone an owner."""
    return can(role, Action.MANAGE) and (new_role is not Role.OWNER or role is Role.OWNER)


def can_change_member(role: Role | None, member_role: Role, new_role: Role) -> bool:
    """Changing a member's role: a grant the actor may make, and only an owner changes an owner's."""
    return can_grant(role, new_role) and (member_role is not Role.OWNER or role is Role.OWNER)


def needed_to_remove(actor: Actor, user_id: int) -> Action:
    """Everyone may leave a project (they only need to see it); removing someone else is managing."""
    return Action.READ if user_id == actor.id else Action.MANAGE


def can_remove_member(role: Role | None, actor: Actor, user_id: int, member_role: Role) -> bool:
    """Admins remove anyone below owner, owners anyone, and everyone themselves (but an owner leaving
    is still an owner removing an owner)."""
    owner_ok = member_role is not Role.OWNER or role is Role.OWNER
    return can(role, needed_to_remove(actor, user_id)) and owner_ok


def keeps_an_owner(member_role: Role, new_role: Role | None, owners: int) -> bool:
    """Whether a project still has an owner after a member with `member_role` becomes `new_role`
    (None: removed), given it has `owners` owners now."""
    return member_role is not Role.OWNER or new_role is Role.OWNER or owners > 1


def can_add_by_id(actor: Actor, user_id: int, *, shares_a_project: bool) -> bool:
    """Adding a member by `user_id` is for people the actor already works with: users who share a
    project with them (or anyone, for a site admin). Others are added by their exact email. So an
    admin of their own project cannot walk the user directory id by id; callers answer "no such user"
    either way, so whether the id exists does not leak."""
    return actor.is_admin or user_id == actor.id or shares_a_project


# --- invite links ---------------------------------------------------------------------------------


def can_manage_invites(role: Role | None) -> bool:
    """Making, listing and revoking a project's invite links is managing members: admins and owners."""
    return can(role, Action.MANAGE)


def can_invite_as(role: Role | None, invite_role: Role) -> bool:
    """An invite link grants its role to whoever uses it, so minting one is granting that role
    (`can_grant`): admins invite with any role but owner; only an owner mints an owner invite."""
    return can_grant(role, invite_role)


def invite_backed_by(maker_role: Role | None, invite_role: Role) -> bool:
    """An invite link grants its role on its maker's authority: it works only while its maker could
    still mint it (demoted, removed or deactivated makers' links stop working at once)."""
    return can_manage_invites(maker_role) and can_invite_as(maker_role, invite_role)


def role_after_invite(member_role: Role | None, invite_role: Role) -> Role:
    """The role someone has after accepting an invite: the invite's role for a newcomer; an existing
    member keeps the higher of their role and the invite's (an invite never demotes anyone)."""
    if member_role is None or invite_role.rank > member_role.rank:
        return invite_role
    return member_role


#: Who may see each kind of event in the project's activity (REST feed, sockets, resumes). Types not
#: listed here are for admins and owners only: a new kind of event is private until someone decides.
_EVENT_AUDIENCE: dict[str, Action] = {
    **{
        kind: Action.READ
        for kind in (
            EventType.TICKET_CREATED,
            EventType.TICKET_UPDATED,
            EventType.TICKET_ASSIGNED,
            EventType.TICKET_STATUS_CHANGED,
            EventType.TICKET_DELETED,
            EventType.TICKET_WATCHERS_CHANGED,
            EventType.COMMENT_CREATED,
            EventType.COMMENT_UPDATED,
            EventType.COMMENT_DELETED,
            EventType.PROJECT_CREATED,
            EventType.PROJECT_UPDATED,
            EventType.MEMBER_ADDED,
            EventType.MEMBER_UPDATED,
            EventType.MEMBER_REMOVED,
            EventType.PROJECT_BROADCAST,
        )
    },
}
#: Events addressed to one user (their payload names them): only that user sees them.
_PERSONAL_EVENTS: frozenset[str] = frozenset({EventType.NOTIFICATION_CUSTOM})


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


def receives_notification(project_id: int | None, user_id: int, members: set[tuple[int, int]]) -> bool:
    """Whether a user may get (or still be sent) a notification about `project_id`.

    Only current members hear about a project: a removed member gets nothing new, not even what was
    routed to them before their removal but not yet sent to chat. Site admins are no exception (they
    may *read* every project, but are not part of its audience unless they are members). A
    notification about no project (`hub.notify` without a project) goes to its user."""
    return project_id is None or (project_id, user_id) in members


#: What a chat subscription's creator must still be allowed to do for it to relay.
SUBSCRIPTION_NEEDS = Action.READ


def subscription_relays(creator_role: Role | None) -> bool:
    """A chat subscription relays with the access of the user who made it (`created_by`): while their
    current role in the project allows reading it. Once they are removed (or their account is gone)
    it is *paused* — kept, shown as paused, relaying nothing — and resumes if they are added back."""
    return creator_role is not None and allows(creator_role, SUBSCRIPTION_NEEDS)
