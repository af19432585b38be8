"""Unit of work: one transaction, the events it writes, and their publication after commit.

Services record events with `emit()`; `commit()` writes them to the `events` table in the same
transaction as the change (the outbox), commits, and only then hands them to the publisher. A crash
between commit and publish loses nothing: the relay republishes committed events from the table.

A reader asking for `after=N` must never step over an event whose transaction commits late. On
PostgreSQL writers commit in parallel and record their transaction id with their events
(`outbox.py`); readers stop at the safe horizon (`horizon.py`), past which a running transaction
could still commit a lower id. `OUTBOX_ORDERING=lock` brings back the advisory lock that serialised
the "insert events, commit" tail instead; SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import ordering
from hub.adapters.db.models import Event, Notification
from hub.adapters.db.outbox import outbox_lock_key, write_events
from hub.adapters.db.tickets import SqlTicketRepository, ticket_repository
from hub.adapters.db.types import utcnow
from hub.domain.correlation import request_id
from hub.domain.events import DomainEvent, payload_of, ticket_id_of

Publisher = Callable[[Sequence[Event], Sequence[Notification]], Awaitable[None]]
#: Runs after the events got their ids, inside the transaction; returns the notifications it added.
EventHook = Callable[[AsyncSession, Sequence[Event]], Awaitable[Sequence[Notification]]]


class UnitOfWork:
    def __init__(
        self,
        db: Database,
        publisher: Publisher | None = None,
        hook: EventHook | None = None,
        hook_wants: Callable[[Event], bool] | None = None,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._hook = hook
        #: Whether the hook would add rows for an event; without it, any event might get some.
        self._hook_wants = hook_wants
        self._pending: list[Event] = []
        self.committed: list[Event] = []
        self._session: AsyncSession | None = None
        self._gated = False

    @property
    def db(self) -> Database:
        return self._db

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside `async with`")
        return self._session

    @property
    def tickets(self) -> SqlTicketRepository:
        """The tickets of this transaction (`services.tickets.repository.TicketRepository`)."""
        return ticket_repository(self.session, self._db)

    async def __aenter__(self) -> UnitOfWork:
        gate = self._db.gate
        self._gated = await gate.enter() if gate is not None else False
        self._session = self._db.session()
        return self

    def _leave_gate(self) -> None:
        if self._gated and self._db.gate is not None:
            self._gated = False
            self._db.gate.leave()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed without expiring loaded objects, so views can
        # still be rendered from them after the block.
        session = self.session
        self._pending = []
        try:
            await session.close()
        finally:
            self._session = None
            self._leave_gate()

    def emit(self, event: DomainEvent, *, project_id: int | None, actor_id: int | None) -> Event:
        """Record `event` (by `actor_id`, None for the hub itself, in `project_id`, None for events
        about no project) to be written with this transaction; returns its row, whose id is set by
        `commit()`."""
        row = self.row(event, project_id=project_id, actor_id=actor_id)
        self._pending.append(row)
        return row

    @classmethod
    def row(cls, event: DomainEvent, *, project_id: int | None, actor_id: int | None) -> Event:
        """The outbox row of `event` (not yet written), its payload from the one serializer."""
        return cls.event(event.type, project_id=project_id, actor_id=actor_id, payload=payload_of(event))

    @staticmethod
    def event(type_: str, *, project_id: int | None, actor_id: int | None, payload: dict[str, Any]) -> Event:
        """An event row (not yet written) stamped with the current request's id, from its stored form
        (`row` builds it from a typed event)."""
        return Event(
            project_id=project_id,
            actor_id=actor_id,
            type=str(type_),
            payload=payload,
            request_id=request_id.get(),
            ticket_id=ticket_id_of(str(type_), payload),
        )

    def can_write_alone(self, event: Event) -> bool:
        """Whether `event` may be written by one autocommitted statement of a service's own (with
        the change it records) instead of in this transaction: only if the hook adds no rows for it."""
        return self._hook is None or (self._hook_wants is not None and not self._hook_wants(event))

    async def written_alone(self, event: Event) -> None:
        """Publish an event that one statement wrote and committed with its change (`event.id` set);
        see `can_write_alone`. The relay covers a crash before this, as for `commit`."""
        self.committed.append(event)
        if self._publisher is not None:
            await self._publisher([event], [])

    async def commit(self) -> list[Event]:
        """Write pending events (and the notifications they call for), commit, then publish them."""
        session = self.session
        events = self._pending
        self._pending = []
        notifications: Sequence[Notification] = []
        if events:
            await session.flush()  # whatever the service changed through the ORM goes first
            await write_events(
                session,
                events,
                utcnow(),
                sqlite=self._db.is_sqlite,
                lock=ordering(self._db) == "lock",
                lock_key=outbox_lock_key(self._db.schema),
            )
            if self._hook is not None:
                notifications = await self._hook(session, events)
                if notifications:
                    await session.flush()
        await session.commit()
        self._leave_gate()  # committed: the next writer may go while this one publishes
        self.committed.extend(events)
        if events and self._publisher is not None:
            await self._publisher(events, notifications)
        return events

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()
