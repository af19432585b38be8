"""Invite rules (policy), invite states, the events' ticket ids and the membership socket messages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from hub.adapters.db.invite_models import ProjectInvite
from hub.adapters.db.types import utcnow
from hub.domain.enums import Role
from hub.domain.events import ticket_id_of
from hub.realtime import messages
from hub.services import policy
from hub.services.projects.invites import invite_state, invite_url

R = Role


@pytest.mark.parametrize(
    ("actor", "invite", "allowed"),
    [
        (R.OWNER, R.OWNER, True),
        (R.OWNER, R.VIEWER, True),
        (R.ADMIN, R.OWNER, False),
        (R.ADMIN, R.ADMIN, True),
        (R.ADMIN, R.MEMBER, True),
        (R.MEMBER, R.VIEWER, False),
        (R.VIEWER, R.VIEWER, False),
        (None, R.VIEWER, False),
    ],
)
def test_who_may_invite_as_what(actor: Role | None, invite: Role, allowed: bool) -> None:
    assert policy.can_invite_as(actor, invite) is allowed
    assert policy.can_manage_invites(actor) is (actor in (R.OWNER, R.ADMIN))


@pytest.mark.parametrize(
    ("member", "invite", "after"),
    [
        (None, R.MEMBER, R.MEMBER),
        (R.VIEWER, R.MEMBER, R.MEMBER),
        (R.ADMIN, R.MEMBER, R.ADMIN),
        (R.MEMBER, R.MEMBER, R.MEMBER),
        (R.OWNER, R.VIEWER, R.OWNER),
    ],
)
def test_an_invite_never_demotes(member: Role | None, invite: Role, after: Role) -> None:
    assert policy.role_after_invite(member, invite) is after


def test_invite_states() -> None:
    now = utcnow()
    invite = ProjectInvite(expires_at=now + timedelta(hours=1), uses=0, max_uses=2, revoked_at=None)
    assert invite_state(invite, now) == "active"
    invite.uses = 2
    assert invite_state(invite, now) == "used_up"
    invite.expires_at = now
    assert invite_state(invite, now) == "expired"
    invite.revoked_at = now
    assert invite_state(invite, now) == "revoked"
    unlimited = ProjectInvite(expires_at=now + timedelta(hours=1), uses=999, max_uses=None, revoked_at=None)
    assert invite_state(unlimited, now) == "active"
    assert invite_url("https://hub.example/", "tok") == "https://hub.example/#/invite/tok"


def test_events_name_their_ticket() -> None:
    assert ticket_id_of("ticket.created", {"ticket": {"id": 4}}) == 4
    assert ticket_id_of("comment.deleted", {"ticket_id": 5, "ticket": {"id": 5}}) == 5
    assert ticket_id_of("ticket.created", {"ticket": {"id": 0}}) is None  # a draft's placeholder
    assert ticket_id_of("member.added", {"member": {"user_id": 3}}) is None
    assert ticket_id_of("ticket.updated", {"ticket": {"id": True}}) is None


def test_membership_and_project_messages() -> None:
    member = {"user": {"id": 2, "name": "B", "email": "b@x"}, "user_id": 2, "project_id": 1, "role": "viewer"}
    for kind, action in (
        ("member.added", "added"),
        ("member.updated", "updated"),
        ("member.removed", "removed"),
    ):
        event = {"id": 9, "project_id": 1, "type": kind, "payload": {"member": member, "project": {"id": 1}}}
        text = messages.for_tickets(event)
        assert text is not None
        assert json.loads(text) == {
            "type": "member_update",
            "action": action,
            "event_id": 9,
            "project_id": 1,
            "data": member,
        }
    project = {"id": 1, "key": "OPS", "name": "Ops", "role": "owner"}
    text = messages.for_tickets(
        {"id": 10, "project_id": 1, "type": "project.updated", "payload": {"project": project}}
    )
    assert text is not None
    assert json.loads(text) == {
        "type": "project_update",
        "event_id": 10,
        "project_id": 1,
        "data": {"id": 1, "key": "OPS", "name": "Ops"},
    }
    assert messages.for_tickets({"id": 11, "project_id": 1, "type": "project.created", "payload": {}}) is None
