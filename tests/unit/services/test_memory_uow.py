"""The in-memory unit of work keeps the real one's promises: events only on commit, in id order, with
their notifications, published after the commit; an action that fails or returns early writes none."""

from __future__ import annotations

from typing import Any

import pytest

from hub.adapters.db.models import Event
from hub.domain import events as ev
from hub.domain.errors import Forbidden
from tests.support.memory_uow import DEFAULT_NOW, FakeUnitOfWork, MemoryOutbox, NeedsRepository

PID, ALICE, BOB = 1, 7, 8


def emit(uow: FakeUnitOfWork, event: ev.DomainEvent) -> Event:
    """Record an event by Alice in the project, the way services do."""
    return uow.emit(event, project_id=PID, actor_id=ALICE)


def ticket(title: str, **fields: Any) -> dict[str, Any]:
    return {"id": 41, "key": "OPS-3", "title": title, "assignee": None, "watchers": [ALICE], **fields}


def retitled(title: str) -> ev.TicketUpdated:
    return ev.TicketUpdated(ticket=ticket(title), changes={"title": ["a", title]}, origin="api", mentions=())


def assigned_to_bob(title: str) -> ev.TicketAssigned:
    view = ticket(title, assignee={"id": BOB}, watchers=[ALICE, BOB])
    return ev.TicketAssigned(ticket=view, changes={"assignee_id": [None, BOB]}, origin="api")


async def test_commit_writes_events_in_order_with_their_notifications_then_publishes_once() -> None:
    outbox = MemoryOutbox()
    outbox.member(PID, ALICE, BOB)
    async with outbox.uow() as uow:
        emit(uow, retitled("b"))
        emit(uow, assigned_to_bob("b"))
        assert outbox.events == outbox.published == []  # nothing before the commit
        committed = await uow.commit()
    assert [(e.id, e.type, e.created_at) for e in committed] == [
        (1, "ticket.updated", DEFAULT_NOW),
        (2, "ticket.assigned", DEFAULT_NOW),
    ]
    assert outbox.events == uow.committed == committed
    [(events, notifications)] = outbox.published
    assert events == committed
    assert [(n.id, n.user_id, n.notification_type, n.event_id) for n in notifications] == [
        (1, BOB, "ticket_assigned", 2)
    ]
    assert outbox.notifications == notifications


async def test_ids_keep_ascending_across_units_of_the_same_outbox() -> None:
    outbox = MemoryOutbox()
    for title in ("a", "b"):
        async with outbox.uow() as uow:
            emit(uow, retitled(title))
            await uow.commit()
    assert [(e.id, e.payload["ticket"]["title"]) for e in outbox.events] == [(1, "a"), (2, "b")]


async def test_a_failed_or_abandoned_action_writes_and_publishes_nothing() -> None:
    outbox = MemoryOutbox()
    outbox.member(PID, ALICE, BOB)

    async def refused_after_emitting() -> None:
        async with outbox.uow() as uow:
            emit(uow, assigned_to_bob("a"))
            raise Forbidden("refused")

    with pytest.raises(Forbidden):
        await refused_after_emitting()
    async with outbox.uow() as uow:
        emit(uow, assigned_to_bob("b"))  # and then returns without committing
    async with outbox.uow() as uow:
        emit(uow, assigned_to_bob("c"))
        await uow.rollback()
        await uow.commit()  # a commit after a rollback has nothing left to write
    assert (outbox.events, outbox.notifications, outbox.published) == ([], [], [])


async def test_commit_outside_the_block_is_refused() -> None:
    uow = MemoryOutbox().uow()
    with pytest.raises(RuntimeError, match="outside"):
        await uow.commit()


async def test_a_unit_without_notifications_writes_events_only() -> None:
    outbox = MemoryOutbox(notify=False)
    outbox.member(PID, ALICE, BOB)
    async with outbox.uow() as uow:
        emit(uow, assigned_to_bob("a"))
        await uow.commit()
    assert [e.id for e in outbox.events] == [1]
    assert outbox.notifications == []
    assert outbox.published[0][1] == []


async def test_only_events_that_notify_nobody_may_be_written_alone_as_in_the_hub() -> None:
    uow = MemoryOutbox().uow()
    quiet = uow.row(retitled("b"), project_id=PID, actor_id=ALICE)
    loud = uow.row(assigned_to_bob("a"), project_id=PID, actor_id=ALICE)
    assert (uow.can_write_alone(quiet), uow.can_write_alone(loud)) == (True, False)
    assert MemoryOutbox(notify=False).uow().can_write_alone(loud) is True


async def test_a_service_that_queries_the_database_is_told_it_needs_a_repository() -> None:
    async with MemoryOutbox().uow() as uow:
        with pytest.raises(NeedsRepository, match=r"uow\.session"):
            uow.session.get  # noqa: B018
        with pytest.raises(NeedsRepository, match=r"uow\.db"):
            uow.db.is_sqlite  # noqa: B018
