"""Ticket storage: the create path and the loads it needs, on SQLite (stepwise) and PostgreSQL (one
statement). Both implement `hub.services.tickets.repository.TicketRepository`; one contract test runs
against both (tests/integration/db/test_ticket_repository.py).

Creating is refused (None) unless the author's role and the assignee's membership satisfy the
`CreateAccess` the policy gave; the service then asks the ordinary checks for the precise error.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.engine import Database
from hub.adapters.db.horizon import ordering
from hub.adapters.db.models import Event, Membership, Project, Ticket, TicketLabel, TicketWatcher, User
from hub.adapters.db.outbox import outbox_lock_key
from hub.adapters.db.ticket_insert import insert_ticket
from hub.domain.enums import Role
from hub.domain.mentions import Mentionable
from hub.domain.tickets import AddedTicket, CreateAccess, NewTicket, Person

_TICKETS = cast(Table, Ticket.__table__)
_LABELS = cast(Table, TicketLabel.__table__)
_WATCHERS = cast(Table, TicketWatcher.__table__)


class SqlTicketRepository:
    """Any SQL database, statement by statement (SQLite's path: it has no data-modifying CTEs). Runs
    in the unit of work's session; the project row's number is drawn only once every check held."""

    #: Whether `add` can write the ticket's event in its own statement and commit alone.
    writes_events_alone = False

    def __init__(self, session: AsyncSession, db: Database) -> None:
        self._session = session
        self._db = db

    async def people(self, project_id: int) -> list[Mentionable]:
        """The project's members, as @mentions resolve them."""
        rows = await self._session.execute(
            select(User.id, User.name, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id)
        )
        return [Mentionable(user_id=uid, name=name, email=email) for uid, name, email in rows]

    async def member(self, project_id: int, user_id: int) -> tuple[Person, Role] | None:
        """A member of the project and their role there; None for anyone else."""
        row = (
            await self._session.execute(
                select(User.id, User.name, User.email, Membership.role)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.project_id == project_id, User.id == user_id)
            )
        ).first()
        if row is None:
            return None
        return Person(id=row.id, name=row.name, email=row.email), Role(row.role)

    async def add(
        self, new: NewTicket, access: CreateAccess, *, event: Event | None = None
    ) -> AddedTicket | None:
        """Insert `new` with its watchers and labels if `access` allows it; None (nothing written) if
        not. `event` is for repositories that `writes_events_alone`."""
        if event is not None:
            raise ValueError("this repository writes no events: the unit of work does")
        role = await self._session.scalar(
            select(Membership.role).where(
                Membership.project_id == new.project_id, Membership.user_id == new.reporter.id
            )
        )
        if not (role in access.roles if role is not None else access.without_membership):
            return None
        assignee = None
        if new.assignee_id is not None:
            found = await self.member(new.project_id, new.assignee_id)
            if found is None or found[1] not in access.assignable:
                return None
            assignee = found[0]
        drawn = (
            await self._session.execute(
                update(Project)
                .where(Project.id == new.project_id)
                .values(ticket_seq=Project.ticket_seq + 1)
                .returning(Project.ticket_seq, Project.key)
            )
        ).first()
        if drawn is None:
            return None
        number, project_key = drawn
        ticket_id = await self._insert_rows(new, number)
        # Labels in the database's order, as a read returns them.
        labels = new.labels if len(new.labels) < 2 else await self._label_names(ticket_id)
        return AddedTicket(
            id=ticket_id, number=number, project_key=project_key, labels=labels, assignee=assignee
        )

    async def _insert_rows(self, new: NewTicket, number: int) -> int:
        # Core inserts: nothing here needs the ORM's unit of work, and they are the hot write path.
        row = {
            "project_id": new.project_id,
            "number": number,
            "title": new.title,
            "description": new.description,
            "status": new.status,
            "priority": new.priority,
            "assignee_id": new.assignee_id,
            "reporter_id": new.reporter.id,
            "version": 1,
            "created_at": new.created_at,
            "updated_at": new.created_at,
        }
        ticket_id = await self._session.scalar(insert(_TICKETS).values(row).returning(Ticket.id))
        assert ticket_id is not None
        if new.labels:
            await self._session.execute(
                insert(_LABELS), [{"ticket_id": ticket_id, "name": name} for name in new.labels]
            )
        await self._session.execute(
            insert(_WATCHERS),
            [{"ticket_id": ticket_id, "user_id": uid} for uid in new.watchers],
        )
        return int(ticket_id)

    async def _label_names(self, ticket_id: int) -> tuple[str, ...]:
        query = select(TicketLabel.name).where(TicketLabel.ticket_id == ticket_id).order_by(TicketLabel.name)
        return tuple(await self._session.scalars(query))


class PostgresTicketRepository(SqlTicketRepository):
    """PostgreSQL: checks and inserts in one statement (`ticket_insert`); given the ticket's event, the
    same statement writes it and commits on its own connection (outside the unit of work's session)."""

    writes_events_alone = True

    async def add(
        self, new: NewTicket, access: CreateAccess, *, event: Event | None = None
    ) -> AddedTicket | None:
        if event is None:
            return await insert_ticket(self._session, new, access)
        async with self._db.single_statements() as conn:
            return await insert_ticket(
                conn,
                new,
                access,
                event=event,
                lock=ordering(self._db) == "lock",
                lock_key=outbox_lock_key(self._db.schema),
            )


def ticket_repository(session: AsyncSession, db: Database) -> SqlTicketRepository:
    """The repository for `db`'s dialect."""
    return SqlTicketRepository(session, db) if db.is_sqlite else PostgresTicketRepository(session, db)
