"""Who hears about what: the routing rules over events, preferences and memberships, without a database.

Each test states the exact notifications (recipient, kind, title, message, ticket, event,
destinations) an event makes; `tests/integration` proves the same rules run in the writing
transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.adapters.db.models import Event, Notification
from hub.adapters.db.uow import UnitOfWork
from hub.domain import events as ev
from hub.services.notifications.routing import plan_notifications
from tests.support.memory_uow import DEFAULT_NOW

PID = 1
ALICE, BOB, CAROL, DAVE = 7, 8, 9, 10  # Alice acts in every event below
IMMEDIATE = ("immediate", "immediate", "immediate")
Prefs = dict[int, dict[str, Any] | None]


def ticket(**fields: Any) -> dict[str, Any]:
    return {
        "id": 41,
        "key": "OPS-3",
        "title": "Fix the pump",
        "assignee": None,
        "watchers": [ALICE],
        **fields,
    }


def event(domain_event: ev.DomainEvent, *, event_id: int = 100, project_id: int | None = PID) -> Event:
    """The outbox row of a typed event by Alice, as committed with id `event_id`."""
    row = UnitOfWork.row(domain_event, project_id=project_id, actor_id=ALICE)
    row.id = event_id
    return row


def assigned(view: dict[str, Any]) -> ev.TicketAssigned:
    return ev.TicketAssigned(ticket=view, changes={"assignee_id": [None, BOB]}, origin="api")


def status_changed(view: dict[str, Any]) -> ev.TicketStatusChanged:
    return ev.TicketStatusChanged(ticket=view, changes={"status": ["todo", "done"]}, origin="api")


def plan(
    *events: Event,
    members: tuple[int, ...] = (ALICE, BOB, CAROL, DAVE),
    prefs: Prefs | None = None,
    now: datetime = DEFAULT_NOW,
) -> list[tuple[Any, ...]]:
    stored: Prefs = dict.fromkeys((ALICE, BOB, CAROL, DAVE)) if prefs is None else prefs
    made = plan_notifications(list(events), stored, {(PID, uid) for uid in members}, now)
    return [summary(n) for n in made]


def summary(n: Notification) -> tuple[Any, ...]:
    destinations = (n.deliver_web, n.deliver_slack, n.deliver_discord)
    return (n.user_id, n.notification_type, n.title, n.message, n.ticket_id, n.event_id, destinations)


def test_an_assignment_notifies_the_assignee_only() -> None:
    label = "OPS-3 Fix the pump"
    assert plan(event(assigned(ticket(assignee={"id": BOB})))) == [
        (BOB, "ticket_assigned", f"Assigned to you: {label}", label, 41, 100, IMMEDIATE)
    ]


def test_assigning_oneself_or_mentioning_oneself_notifies_nobody() -> None:
    created = ev.TicketCreated(ticket=ticket(assignee={"id": ALICE}), origin="api", mentions=(ALICE,))
    assert plan(event(created)) == []


def test_a_new_ticket_notifies_its_assignee_and_the_people_its_description_mentions() -> None:
    description = "ask @carol " + "x" * 300
    view = ticket(assignee={"id": BOB}, description=description)
    [to_bob, to_carol] = plan(event(ev.TicketCreated(ticket=view, origin="api", mentions=(CAROL,))))
    assert to_bob[:2] == (BOB, "ticket_assigned")
    title = "You were mentioned in OPS-3 Fix the pump"
    assert to_carol == (CAROL, "mention", title, description[:200], 41, 100, IMMEDIATE)


def test_someone_assigned_and_mentioned_by_one_event_hears_once_as_the_assignee() -> None:
    view = ticket(assignee={"id": BOB}, description="@bob")
    made = plan(event(ev.TicketCreated(ticket=view, origin="api", mentions=(BOB,))))
    assert [row[:2] for row in made] == [(BOB, "ticket_assigned")]


def test_a_comment_notifies_watchers_and_mentions_instead_for_the_mentioned() -> None:
    comment = {"id": 5, "author": {"id": ALICE, "name": "Alice"}, "body": "@carol look " + "y" * 300}
    created = ev.CommentCreated(
        ticket_id=41,
        ticket=ticket(),
        comment=comment,
        origin="api",
        mentions=(CAROL,),
        watchers=(ALICE, BOB, CAROL),
        meta={},
    )
    excerpt = comment["body"][:200]
    assert plan(event(created)) == [
        (CAROL, "mention", "Alice mentioned you on OPS-3 Fix the pump", excerpt, 41, 100, IMMEDIATE),
        (BOB, "comment_added", "Alice commented on OPS-3 Fix the pump", excerpt, 41, 100, IMMEDIATE),
    ]


def test_a_status_change_notifies_the_watchers_but_the_actor() -> None:
    made = plan(event(status_changed(ticket(status="done", watchers=[ALICE, BOB, DAVE]))))
    row = ("OPS-3 Fix the pump: todo → done", "Status is now done", 41, 100, IMMEDIATE)
    assert made == [(BOB, "status_changed", *row), (DAVE, "status_changed", *row)]


def test_events_that_concern_nobody_make_nothing() -> None:
    for quiet in (
        ev.TicketUpdated(ticket=ticket(), changes={"title": ["a", "b"]}, origin="api", mentions=()),
        ev.TicketDeleted(ticket=ticket(assignee={"id": BOB}), origin="api"),
        ev.ProjectBroadcast(event="deploy", data={}),
        ev.MemberRemoved(member={"user_id": BOB, "role": "member"}),
    ):
        assert plan(event(quiet)) == [], quiet


def test_only_current_members_hear_about_a_project() -> None:
    """Bob was removed meanwhile (still a watcher in the ticket), Dave's account is gone."""
    changed = status_changed(ticket(status="done", watchers=[ALICE, BOB, CAROL, DAVE]))
    prefs: Prefs = dict.fromkeys((ALICE, BOB, CAROL))
    made = plan(event(changed), members=(ALICE, CAROL, DAVE), prefs=prefs)
    assert [row[0] for row in made] == [CAROL]


def test_a_custom_notification_goes_to_its_user_with_or_without_a_project() -> None:
    custom = ev.NotificationCustom(
        user_id=DAVE, notification_type="deploy", title="Shipped", message="v2 is out", ticket_id=None
    )
    # Unknown kinds follow the "custom" preferences; about no project, no membership is needed.
    assert plan(event(custom, project_id=None), members=()) == [
        (DAVE, "deploy", "Shipped", "v2 is out", None, 100, IMMEDIATE)
    ]
    assert plan(event(custom), members=(ALICE,)) == []


def test_preferences_choose_each_destination_and_all_off_stores_nothing() -> None:
    prefs: Prefs = {
        BOB: {"types": {"status_changed": {"web": "off", "slack": "off", "discord": "off"}}},
        CAROL: {"types": {"status_changed": {"slack": "digest", "discord": "off"}}},
    }
    made = plan(event(status_changed(ticket(status="done", watchers=[BOB, CAROL]))), prefs=prefs)
    assert [(row[0], row[-1]) for row in made] == [(CAROL, ("immediate", "digest", "off"))]


def test_quiet_hours_turn_immediate_chat_messages_into_digests_but_not_the_web() -> None:
    quiet = {"quiet_hours": {"enabled": True, "start": "22:00", "end": "08:00", "timezone": "Europe/Berlin"}}
    to_bob = event(assigned(ticket(assignee={"id": BOB})))
    night = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    day = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # 08:30 in Berlin
    assert plan(to_bob, prefs={BOB: quiet}, now=night)[0][-1] == ("immediate", "digest", "digest")
    assert plan(to_bob, prefs={BOB: quiet}, now=day)[0][-1] == IMMEDIATE


def test_each_user_hears_once_per_event_but_once_for_each_event() -> None:
    view = ticket(assignee={"id": BOB})
    first, second = event(assigned(view), event_id=100), event(assigned(view), event_id=101)
    assert [(row[0], row[5]) for row in plan(first, second)] == [(BOB, 100), (BOB, 101)]
