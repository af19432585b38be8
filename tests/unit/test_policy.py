"""The policy's rules as pure predicates: every role against every rule, no database.

The tables below are the permissions as the product defines them (docs/architecture.md: viewer <
member < admin < owner; outsiders see nothing; site admins act as owners). A rule that changes here
changes for REST, sockets, chat and the PostgreSQL one-statement create alike."""

from __future__ import annotations

import pytest

from hub.domain.enums import Role
from hub.domain.errors import Forbidden, NotFound
from hub.domain.identity import Actor
from hub.services import policy
from hub.services.policy import Action

ME = Actor(id=1, name="Me", email="me@example.com")
ROOT = Actor(id=9, name="Root", email="root@example.com", is_admin=True)
OTHER = 2
OWNER, ADMIN, MEMBER, VIEWER = Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER
ROLES: list[Role | None] = [OWNER, ADMIN, MEMBER, VIEWER, None]


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        (Action.READ, {OWNER, ADMIN, MEMBER, VIEWER}),
        (Action.WRITE, {OWNER, ADMIN, MEMBER}),
        (Action.MANAGE, {OWNER, ADMIN}),
    ],
)
def test_each_action_needs_its_role(action: Action, allowed: set[Role]) -> None:
    assert {role for role in ROLES if policy.can(role, action)} == allowed
    assert set(policy.roles_allowing(action)) == {role.value for role in allowed}


def test_require_hides_the_project_from_outsiders_and_refuses_low_roles() -> None:
    assert policy.require(MEMBER, Action.WRITE) is MEMBER
    with pytest.raises(NotFound, match="no ticket OPS-1"):
        policy.require(None, Action.READ, missing="no ticket OPS-1")
    with pytest.raises(Forbidden, match=r"your role \(viewer\) does not allow this; it needs member"):
        policy.require(VIEWER, Action.WRITE)


def test_a_site_admin_without_a_membership_acts_as_owner() -> None:
    assert policy.acting_role(None, is_site_admin=True) is OWNER
    assert policy.acting_role(None, is_site_admin=False) is None
    assert policy.acting_role("viewer", is_site_admin=True) is VIEWER  # a membership says more


def test_the_create_rule_as_values_for_the_one_statement_insert() -> None:
    mine = policy.create_ticket_access(ME)
    assert set(mine.roles) == {"owner", "admin", "member"}
    assert mine.without_membership is False
    assert policy.create_ticket_access(ROOT).without_membership is True
    assert set(mine.assignable) == {"owner", "admin", "member", "viewer"}


@pytest.mark.parametrize("role", ROLES)
def test_any_member_may_be_assigned(role: Role | None) -> None:
    assert policy.can_be_assigned(role) is (role is not None)


@pytest.mark.parametrize(
    ("role", "reporter", "allowed"),
    [
        (OWNER, OTHER, True),
        (ADMIN, OTHER, True),
        (MEMBER, OTHER, False),
        (MEMBER, ME.id, True),
        (VIEWER, ME.id, False),  # reported it, but may no longer write
        (None, ME.id, False),
    ],
)
def test_who_deletes_a_ticket(role: Role | None, reporter: int, allowed: bool) -> None:
    assert policy.can_delete_ticket(role, ME, reporter) is allowed


@pytest.mark.parametrize(
    ("role", "author", "edit", "delete"),
    [
        (OWNER, OTHER, False, True),
        (ADMIN, OTHER, False, True),
        (MEMBER, OTHER, False, False),
        (MEMBER, ME.id, True, True),
        (ADMIN, ME.id, True, True),
        (VIEWER, ME.id, False, False),
        (None, ME.id, False, False),
    ],
)
def test_who_edits_and_deletes_a_comment(role: Role | None, author: int, edit: bool, delete: bool) -> None:
    assert policy.can_edit_comment(role, ME, author) is edit
    assert policy.can_delete_comment(role, ME, author) is delete


@pytest.mark.parametrize(
    ("role", "member_role", "new_role", "allowed"),
    [
        (ADMIN, MEMBER, ADMIN, True),
        (ADMIN, MEMBER, OWNER, False),  # only an owner makes owners
        (ADMIN, OWNER, ADMIN, False),  # only an owner changes an owner
        (OWNER, OWNER, ADMIN, True),
        (OWNER, VIEWER, OWNER, True),
        (MEMBER, VIEWER, MEMBER, False),
        (None, VIEWER, MEMBER, False),
    ],
)
def test_who_changes_a_members_role(
    role: Role | None, member_role: Role, new_role: Role, allowed: bool
) -> None:
    assert policy.can_change_member(role, member_role, new_role) is allowed


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (OWNER, {OWNER, ADMIN, MEMBER, VIEWER}),
        (ADMIN, {ADMIN, MEMBER, VIEWER}),
        (MEMBER, set()),
        (None, set()),
    ],
)
def test_who_grants_which_role(role: Role | None, granted: set[Role]) -> None:
    assert {new for new in Role if policy.can_grant(role, new)} == granted


@pytest.mark.parametrize(
    ("role", "user_id", "member_role", "allowed"),
    [
        (VIEWER, ME.id, VIEWER, True),  # everyone may leave
        (OWNER, ME.id, OWNER, True),  # an owner too (if another owner stays: keeps_an_owner)
        (MEMBER, OTHER, VIEWER, False),
        (ADMIN, OTHER, MEMBER, True),
        (ADMIN, OTHER, OWNER, False),
        (OWNER, OTHER, OWNER, True),
        (None, ME.id, VIEWER, False),
    ],
)
def test_who_removes_a_member(role: Role | None, user_id: int, member_role: Role, allowed: bool) -> None:
    assert policy.can_remove_member(role, ME, user_id, member_role) is allowed


@pytest.mark.parametrize(
    ("member_role", "new_role", "owners", "kept"),
    [
        (OWNER, ADMIN, 1, False),
        (OWNER, None, 1, False),
        (OWNER, ADMIN, 2, True),
        (OWNER, OWNER, 1, True),
        (ADMIN, None, 0, True),
    ],
)
def test_a_project_keeps_an_owner(member_role: Role, new_role: Role | None, owners: int, kept: bool) -> None:
    assert policy.keeps_an_owner(member_role, new_role, owners) is kept


def test_adding_by_id_is_for_people_one_already_works_with() -> None:
    assert policy.can_add_by_id(ME, OTHER, shares_a_project=True)
    assert not policy.can_add_by_id(ME, OTHER, shares_a_project=False)
    assert policy.can_add_by_id(ME, ME.id, shares_a_project=False)
    assert policy.can_add_by_id(ROOT, OTHER, shares_a_project=False)
