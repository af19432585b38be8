"""Ticket creation through the service on an in-memory unit of work: the exact event it writes, the
notifications that come of it, and that invalid input writes nothing. Refusals (outsider, viewer,
non-member assignee) still load the role through the session: tests/integration covers those."""

from __future__ import annotations

from typing import Any

import pytest

from hub.domain.enums import Role
from hub.domain.errors import ValidationFailed
from hub.domain.identity import Actor
from hub.services.tickets.tickets import create_ticket
from tests.support.memory_uow import MemoryOutbox

PID, ALICE, BOB, CAROL = 1, 7, 8, 9


def outbox(**options: Any) -> MemoryOutbox:
    box = MemoryOutbox(**options)
    box.project(PID, "OPS")
    box.user(ALICE, "Alice Smith")
    box.user(BOB, "Bob Jones")
    box.user(CAROL, "Carol King")
    box.member(PID, ALICE, BOB)
    box.member(PID, CAROL, role=Role.VIEWER)
    return box


ACTOR = Actor(id=ALICE, name="Alice Smith", email="alice@example.com")


async def test_create_writes_one_ticket_created_event_with_the_ticket_as_returned() -> None:
    box = outbox()
    view = await create_ticket(
        box.uow(),
        ACTOR,
        PID,
        title="  Pump leaks ",
        description="see @carol",
        assignee_id=BOB,
        labels=["ops", "backend", "ops"],
    )
    assert {k: v for k, v in view.items() if k not in ("created_at", "updated_at")} == {
        "id": 1,
        "key": "OPS-1",
        "number": 1,
        "project_id": PID,
        "title": "Pump leaks",
        "description": "see @carol",
        "status": "todo",
        "priority": "medium",
        "assignee": {"id": BOB, "name": "Bob Jones", "email": "bob@example.com"},
        "reporter": {"id": ALICE, "name": "Alice Smith", "email": "alice@example.com"},
        "labels": ["backend", "ops"],
        "watchers": [ALICE, BOB, CAROL],
        "version": 1,
    }
    assert view["created_at"] == view["updated_at"]
    [event] = box.events
    assert (event.id, event.type, event.project_id, event.actor_id) == (1, "ticket.created", PID, ALICE)
    assert event.payload == {"ticket": view, "origin": "api", "mentions": [CAROL]}
    assert [(n.user_id, n.notification_type, n.event_id) for n in box.notifications] == [
        (BOB, "ticket_assigned", 1),
        (CAROL, "mention", 1),
    ]
    assert box.published == [([event], box.notifications)]


async def test_numbers_count_up_per_project() -> None:
    box = outbox()
    keys = [(await create_ticket(box.uow(), ACTOR, PID, title=f"T{n}"))["key"] for n in range(3)]
    assert keys == ["OPS-1", "OPS-2", "OPS-3"]
    assert [e.payload["ticket"]["key"] for e in box.events] == keys


async def test_a_ticket_nobody_hears_about_is_written_with_its_event_in_one_statement_where_possible() -> (
    None
):
    """On a repository that writes events itself (PostgreSQL), an event that notifies nobody is
    written by the insert and only published by the unit of work; it is the same event."""
    box = outbox(alone=True)
    view = await create_ticket(box.uow(), ACTOR, PID, title="Quiet", assignee_id=ALICE, origin="slack")
    [event] = box.events
    assert event.payload == {"ticket": view, "origin": "slack", "mentions": []}
    assert box.notifications == []
    assert box.published == [([event], [])]
    # One that notifies someone goes through the unit of work's commit, with its notification.
    await create_ticket(box.uow(), ACTOR, PID, title="Loud", assignee_id=BOB)
    assert [(e.id, e.payload["ticket"]["title"]) for e in box.events] == [(1, "Quiet"), (2, "Loud")]
    assert [n.user_id for n in box.published[1][1]] == [BOB]


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": "  "}, {"title"}),
        ({"title": "x" * 201, "status": "later", "priority": "someday"}, {"title", "status", "priority"}),
        ({"title": "ok", "labels": ["a", ""]}, {"labels"}),
        ({"title": "ok", "labels": [f"l{n}" for n in range(21)]}, {"labels"}),
    ],
)
async def test_invalid_input_is_refused_naming_each_field_and_writes_nothing(
    fields: dict[str, Any], bad: set[str]
) -> None:
    box = outbox()
    with pytest.raises(ValidationFailed) as refused:
        await create_ticket(box.uow(), ACTOR, PID, **fields)
    assert set(refused.value.fields) == bad
    assert (box.tickets, box.events, box.published) == ([], [], [])
