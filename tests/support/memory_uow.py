"""An in-memory unit of work (Cosmic Python's `FakeUnitOfWork`): service rules and the exact events and
notifications an action produces, tested in milliseconds without a database.

`MemoryOutbox` plays the `events` table and the rows services and routing read (users with their
stored preferences, projects, memberships with roles, tickets); `MemoryOutbox.uow()` hands out
`FakeUnitOfWork`s over it, the way `HubContext.uow()` hands out real ones, and `uow.tickets` is a
`MemoryTicketRepository` (the `TicketRepository` interface with the guarantees its docstring lists).
A fake keeps the real unit's semantics where services and consumers rely on them:

- events are recorded with the real `emit()`/`event()` (inherited, so the fake follows any change to
  how events are built) and written only by `commit()`; leaving the block without committing (an
  exception, a refusal) drops them: nothing stored, nothing published;
- `commit()` gives the events ascending ids and one timestamp, makes their notifications with the
  same rules as the database hook (`routing.plan_notifications` over the outbox's preferences and
  memberships), and only then hands both to the publisher;
- `can_write_alone`/`written_alone` answer as a hub's unit does (its hook wants what `would_notify`
  says).

What it cannot fake is SQLAlchemy: a service that reaches for `uow.session` (or `uow.db`) fails with
`NeedsRepository`, which names the seam such a service needs before it can be tested here (today:
ticket creation runs here; its refusals, and the other services, still load through the session).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, NoReturn, cast

from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.engine import Database
from hub.adapters.db.models import Event, Notification
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import Role
from hub.domain.mentions import Mentionable
from hub.domain.tickets import AddedTicket, CreateAccess, NewTicket, Person
from hub.services.notifications.routing import plan_notifications, would_notify

#: The time a `MemoryOutbox` stamps on what it commits unless told otherwise (a Monday, 10:00 UTC).
DEFAULT_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class NeedsRepository(AssertionError):
    """The service under test queried the database directly: it needs a repository seam to run on a
    `FakeUnitOfWork`."""


async def _no_hook(_session: AsyncSession, _events: Sequence[Event]) -> Sequence[Notification]:
    raise AssertionError("a FakeUnitOfWork makes notifications in its own commit")


@dataclass
class MemoryOutbox:
    """The committed events and notifications of fake units of work, and the rows services read.

    `preferences` maps each existing user to their stored preferences (None: the defaults); a
    recipient missing from it is a deleted user. `roles` holds the memberships. `now` is the clock
    commits stamp (and quiet hours are judged by). `notify=False` is a unit without the notification
    hook; `alone=True` a repository that writes a ticket's event with the ticket (PostgreSQL's)."""

    preferences: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    people: dict[int, Person] = field(default_factory=dict)
    projects: dict[int, str] = field(default_factory=dict)
    roles: dict[tuple[int, int], Role] = field(default_factory=dict)
    now: datetime = DEFAULT_NOW
    notify: bool = True
    alone: bool = False
    tickets: list[tuple[NewTicket, AddedTicket]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    #: Every publisher call, in order: (events, notifications).
    published: list[tuple[list[Event], list[Notification]]] = field(default_factory=list)
    _event_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _notification_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    _ticket_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def user(self, user_id: int, name: str, preferences: dict[str, Any] | None = None) -> Person:
        """An existing user (email: their lower-cased first name at example.com)."""
        person = Person(id=user_id, name=name, email=f"{name.split()[0].lower()}@example.com")
        self.people[user_id] = person
        self.preferences[user_id] = preferences
        return person

    def project(self, project_id: int, key: str) -> None:
        self.projects[project_id] = key

    def member(self, project_id: int, *user_ids: int, role: Role = Role.MEMBER) -> None:
        """Make users members of the project (users not yet made are created with default names)."""
        for user_id in user_ids:
            if user_id not in self.people:
                self.user(user_id, f"User{user_id}")
            self.roles[(project_id, user_id)] = role

    @property
    def members(self) -> set[tuple[int, int]]:
        return set(self.roles)

    def next_event_id(self) -> int:
        return next(self._event_ids)

    def next_ticket(self, project_id: int) -> tuple[int, int]:
        """A new ticket's id and its number in the project."""
        number = 1 + sum(1 for new, _added in self.tickets if new.project_id == project_id)
        return next(self._ticket_ids), number

    def uow(self) -> FakeUnitOfWork:
        """A fresh unit of work over this outbox (what `HubContext.uow()` is for the database)."""
        return FakeUnitOfWork(self)

    async def publish(self, events: Sequence[Event], notifications: Sequence[Notification]) -> None:
        self.published.append((list(events), list(notifications)))

    def write(self, events: Sequence[Event]) -> list[Notification]:
        """Store committed events (ids, timestamps) and the notifications they call for."""
        for event in events:
            event.id = self.next_event_id()
            event.created_at = self.now
        self.events.extend(events)
        if not self.notify:
            return []
        made = plan_notifications(events, self.preferences, self.members, self.now)
        for notification in made:
            notification.id = next(self._notification_ids)
        self.notifications.extend(made)
        return made


class FakeUnitOfWork(UnitOfWork):
    """A `UnitOfWork` whose transaction is a `MemoryOutbox` (see the module docstring)."""

    def __init__(self, outbox: MemoryOutbox) -> None:
        # No database: `db` and `session` are overridden to refuse, so the base never touches it.
        super().__init__(
            cast(Database, None),
            outbox.publish,
            _no_hook if outbox.notify else None,
            would_notify if outbox.notify else None,
        )
        self.outbox = outbox
        self.entered = False
        self._tickets = MemoryTicketRepository(outbox)

    @property
    def db(self) -> Database:
        self._needs_repository("uow.db")

    @property
    def session(self) -> AsyncSession:
        self._needs_repository("uow.session")

    @property
    def tickets(self) -> MemoryTicketRepository:  # type: ignore[override]  # the interface, in memory
        return self._tickets

    @staticmethod
    def _needs_repository(what: str) -> NoReturn:
        raise NeedsRepository(f"the service used {what}: give it a repository to test it on a FakeUnitOfWork")

    async def __aenter__(self) -> FakeUnitOfWork:
        if self.entered:
            raise RuntimeError("a unit of work is entered once at a time")
        self.entered = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pending = []  # what was not committed is rolled back, as `session.close()` does
        self.entered = False

    async def commit(self) -> list[Event]:
        """Store pending events and their notifications in the outbox, then publish both."""
        if not self.entered:
            raise RuntimeError("UnitOfWork used outside `async with`")
        events, self._pending = self._pending, []
        notifications = self.outbox.write(events) if events else []
        self.committed.extend(events)
        if events:
            await self.outbox.publish(events, notifications)
        return events

    async def rollback(self) -> None:
        self._pending = []


class MemoryTicketRepository:
    """`TicketRepository` over a `MemoryOutbox`: the same answers the SQL repositories give."""

    def __init__(self, outbox: MemoryOutbox) -> None:
        self._outbox = outbox

    @property
    def writes_events_alone(self) -> bool:
        return self._outbox.alone

    async def people(self, project_id: int) -> list[Mentionable]:
        outbox = self._outbox
        return [
            Mentionable(user_id=person.id, name=person.name, email=person.email)
            for (pid, uid), _role in sorted(outbox.roles.items())
            if pid == project_id and (person := outbox.people.get(uid)) is not None
        ]

    async def member(self, project_id: int, user_id: int) -> tuple[Person, Role] | None:
        role = self._outbox.roles.get((project_id, user_id))
        person = self._outbox.people.get(user_id)
        return None if role is None or person is None else (person, role)

    def _allows(self, new: NewTicket, access: CreateAccess) -> bool:
        role = self._outbox.roles.get((new.project_id, new.reporter.id))
        if new.project_id not in self._outbox.projects:
            return False
        if (role is None and not access.without_membership) or (
            role is not None and role not in access.roles
        ):
            return False
        if new.assignee_id is None:
            return True
        assignee_role = self._outbox.roles.get((new.project_id, new.assignee_id))
        return assignee_role is not None and assignee_role in access.assignable

    async def add(
        self, new: NewTicket, access: CreateAccess, *, event: Event | None = None
    ) -> AddedTicket | None:
        if not self._allows(new, access):
            return None
        outbox = self._outbox
        ticket_id, number = outbox.next_ticket(new.project_id)
        assignee = None if new.assignee_id is None else outbox.people[new.assignee_id]
        event_id = None
        if event is not None:  # written and committed with the ticket, as the one statement does
            if not self.writes_events_alone:
                raise AssertionError("an event was given to a repository that does not write events")
            event_id = event.id = outbox.next_event_id()
            event.created_at = new.created_at
            outbox.events.append(event)
        key = outbox.projects[new.project_id]
        added = AddedTicket(ticket_id, number, key, tuple(sorted(new.labels)), assignee, event_id)
        outbox.tickets.append((new, added))
        return added
