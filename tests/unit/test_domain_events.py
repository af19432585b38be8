"""The typed events serialize to exactly the payloads the hub has always stored, and parse back.

The expected payloads are written out literally, as the services built them before events were typed:
the events table, the activity feed, socket messages, webhook bodies and chat relays all show them, so
a key, its position or a value changing here is a contract change. Each is compared as JSON text
(which fixes the key order) and parsed back to an equal event.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hub.domain.enums import EventType
from hub.domain.events import (
    COMMENT_EVENTS,
    EVENTS,
    TICKET_EVENTS,
    CommentCreated,
    CommentDeleted,
    CommentUpdated,
    DomainEvent,
    MemberAdded,
    MemberRemoved,
    MemberUpdated,
    NotificationCustom,
    ProjectBroadcast,
    ProjectCreated,
    ProjectUpdated,
    SessionRevoked,
    TicketAssigned,
    TicketCreated,
    TicketDeleted,
    TicketStatusChanged,
    TicketUpdated,
    TicketWatchersChanged,
    WebhookDisabled,
    parse_event,
    payload_of,
)

ALICE = {"id": 1, "name": "Alice Archer", "email": "alice@example.com"}
BOB = {"id": 2, "name": "Bob Baker", "email": "bob@example.com"}
TICKET = {
    "id": 7,
    "key": "OPS-3",
    "number": 3,
    "project_id": 4,
    "title": "Pager fires twice",
    "description": "@bob please look",
    "status": "in_progress",
    "priority": "high",
    "assignee": BOB,
    "reporter": ALICE,
    "labels": ["infra", "pager"],
    "watchers": [1, 2],
    "created_at": "2026-05-01T12:00:00.123456Z",
    "updated_at": "2026-05-01T12:30:00Z",
    "version": 2,
}
TICKET_REF = {"id": 7, "key": "OPS-3", "title": "Pager fires twice", "project_id": 4}
COMMENT = {
    "id": 11,
    "ticket_id": 7,
    "author": ALICE,
    "body": "On it, @bob",
    "origin": "slack",
    "edited": False,
    "created_at": "2026-05-01T12:40:00Z",
    "updated_at": "2026-05-01T12:40:00Z",
}
PROJECT = {
    "id": 4,
    "key": "OPS",
    "name": "Operations",
    "description": "",
    "created_at": "2026-04-01T09:00:00Z",
    "updated_at": "2026-04-01T09:00:00Z",
    "role": "owner",
}
MEMBER = {"user": BOB, "user_id": 2, "project_id": 4, "role": "member", "created_at": "2026-04-02T09:00:00Z"}

# (event, the payload the services wrote for it before events were typed)
CASES: list[tuple[DomainEvent, dict[str, Any]]] = [
    (
        TicketCreated(ticket=TICKET, origin="api", mentions=(2,)),
        {"ticket": TICKET, "origin": "api", "mentions": [2]},
    ),
    (
        TicketUpdated(
            ticket=TICKET, changes={"title": ["Pager", "Pager fires twice"]}, origin="web", mentions=()
        ),
        {
            "ticket": TICKET,
            "changes": {"title": ["Pager", "Pager fires twice"]},
            "origin": "web",
            "mentions": [],
        },
    ),
    (
        TicketAssigned(ticket=TICKET, changes={"assignee_id": [None, 2]}, origin="slack"),
        {"ticket": TICKET, "changes": {"assignee_id": [None, 2]}, "origin": "slack"},
    ),
    (
        TicketStatusChanged(ticket=TICKET, changes={"status": ["todo", "in_progress"]}, origin="discord"),
        {"ticket": TICKET, "changes": {"status": ["todo", "in_progress"]}, "origin": "discord"},
    ),
    (
        TicketDeleted(ticket=TICKET, origin="api"),
        {"ticket": TICKET, "origin": "api"},
    ),
    (
        TicketWatchersChanged.following(TICKET, 2, False, origin="api"),
        {"ticket": TICKET, "changes": {"watchers": [2, False]}, "origin": "api"},
    ),
    (
        CommentCreated(
            ticket_id=7,
            ticket=TICKET_REF,
            comment=COMMENT,
            origin="slack",
            mentions=(2,),
            watchers=(1, 2),
            meta={"channel": "C1", "ts": "1714564800.000100"},
        ),
        {
            "ticket_id": 7,
            "ticket": TICKET_REF,
            "comment": COMMENT,
            "origin": "slack",
            "mentions": [2],
            "watchers": [1, 2],
            "meta": {"channel": "C1", "ts": "1714564800.000100"},
        },
    ),
    (
        CommentUpdated(ticket_id=7, ticket=TICKET_REF, comment=COMMENT, origin="api"),
        {"ticket_id": 7, "ticket": TICKET_REF, "comment": COMMENT, "origin": "api"},
    ),
    (
        CommentDeleted(ticket_id=7, ticket=TICKET_REF, comment=COMMENT, origin="web"),
        {"ticket_id": 7, "ticket": TICKET_REF, "comment": COMMENT, "origin": "web"},
    ),
    (ProjectCreated(project=PROJECT), {"project": PROJECT}),
    (ProjectUpdated(project=PROJECT), {"project": PROJECT}),
    (
        MemberAdded(member=MEMBER, project={**PROJECT, "role": "member"}),
        {"member": MEMBER, "project": {**PROJECT, "role": "member"}},
    ),
    (MemberUpdated(member=MEMBER), {"member": MEMBER}),
    (MemberRemoved(member=MEMBER), {"member": MEMBER}),
    (
        ProjectBroadcast(event="deploy.finished", data={"version": "2.0", "ok": True}),
        {"event": "deploy.finished", "data": {"version": "2.0", "ok": True}},
    ),
    (
        NotificationCustom(
            2, "webhook_disabled", "Webhook disabled: webhook #3 (example.com)", "Fix it", None
        ),
        {
            "user_id": 2,
            "notification_type": "webhook_disabled",
            "title": "Webhook disabled: webhook #3 (example.com)",
            "message": "Fix it",
            "ticket_id": None,
        },
    ),
    (
        SessionRevoked(1, "3f1c0c9e", "signed_out"),
        {"user_id": 1, "session_id": "3f1c0c9e", "reason": "signed_out"},
    ),
    (
        SessionRevoked.everywhere(
            1, reason="password_changed", except_session_id="3f1c0c9e", issued_before=1714564800
        ),
        {
            "user_id": 1,
            "session_id": None,
            "except_session_id": "3f1c0c9e",
            "issued_before": 1714564800,
            "reason": "password_changed",
        },
    ),
    (
        SessionRevoked.everywhere(
            1, reason="account_deactivated", except_session_id=None, issued_before=None
        ),
        {
            "user_id": 1,
            "session_id": None,
            "except_session_id": None,
            "issued_before": None,
            "reason": "account_deactivated",
        },
    ),
    (
        WebhookDisabled(webhook_id=3, reason="the receiver answered 410 Gone"),
        {"webhook_id": 3, "reason": "the receiver answered 410 Gone"},
    ),
]


@pytest.mark.parametrize(
    ("event", "expected"), CASES, ids=[f"{e.type}-{i}" for i, (e, _) in enumerate(CASES)]
)
def test_the_payload_is_exactly_what_the_hub_always_wrote(
    event: DomainEvent, expected: dict[str, Any]
) -> None:
    payload = payload_of(event)
    assert payload == expected
    assert orjson.dumps(payload) == orjson.dumps(expected)  # the same keys in the same order
    assert event.to_payload() == payload


@pytest.mark.parametrize(
    ("event", "expected"), CASES, ids=[f"{e.type}-{i}" for i, (e, _) in enumerate(CASES)]
)
def test_a_stored_payload_parses_back_to_the_same_event(event: DomainEvent, expected: dict[str, Any]) -> None:
    stored = orjson.loads(orjson.dumps(expected))  # as read back from the events table
    parsed = parse_event(str(event.type), stored)
    assert parsed == event
    assert type(parsed) is type(event)
    assert parsed is not None
    assert orjson.dumps(payload_of(parsed)) == orjson.dumps(expected)


def test_every_type_the_hub_writes_has_a_class_and_a_case() -> None:
    written = set(EventType) - {EventType.WEBHOOK_TEST}  # only ever a webhook message, never stored
    assert set(EVENTS) == written
    assert {event.type for event, _ in CASES} == written
    assert all(EVENTS[kind].type == kind for kind in EVENTS)


def test_ticket_and_comment_groups() -> None:
    assert {str(kind) for kind in TICKET_EVENTS} == {
        "ticket.created",
        "ticket.updated",
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.deleted",
        "ticket.watchers_changed",
    }
    assert {str(kind) for kind in COMMENT_EVENTS} == {"comment.created", "comment.updated", "comment.deleted"}


def test_unknown_types_parse_to_none_and_incomplete_payloads_fail_loudly() -> None:
    assert parse_event("something.new", {"x": 1}) is None
    with pytest.raises(KeyError, match="origin"):
        parse_event("ticket.deleted", {"ticket": TICKET})
    with pytest.raises(KeyError, match="user_id"):
        parse_event("notification.custom", {"notification_type": "custom", "title": "t", "message": ""})


def test_missing_id_lists_and_objects_read_as_empty_as_consumers_always_read_them() -> None:
    parsed = parse_event("ticket.status_changed", {"ticket": TICKET, "origin": "api"})
    assert parsed == TicketStatusChanged(ticket=TICKET, changes={}, origin="api")
    parsed = parse_event(
        "comment.created", {"ticket_id": 7, "ticket": TICKET_REF, "comment": COMMENT, "origin": "api"}
    )
    assert parsed == CommentCreated(7, TICKET_REF, COMMENT, "api", mentions=(), watchers=(), meta={})


def test_typed_reads_of_the_ticket() -> None:
    event = TicketStatusChanged(ticket=TICKET, changes={"status": ["todo", "in_progress"]}, origin="api")
    assert (event.ticket_id, event.assignee_id, event.watcher_ids) == (7, 2, (1, 2))
    assert event.old_and_new == ("todo", "in_progress")
    unassigned = TicketCreated(ticket={**TICKET, "assignee": None, "watchers": []}, origin="api", mentions=())
    assert (unassigned.assignee_id, unassigned.watcher_ids) == (None, ())
    assert MemberRemoved(member=MEMBER).user_id == 2


def test_events_are_values() -> None:
    event = WebhookDisabled(webhook_id=3, reason="gone")
    with pytest.raises(AttributeError):
        event.reason = "other"  # type: ignore[misc]
    assert event == WebhookDisabled(webhook_id=3, reason="gone")
    assert not hasattr(event, "__dict__")  # slots
