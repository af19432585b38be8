"""Values a ticket is created from and the facts its storage adds (number, key, label order).

They cross the line between the ticket service and the ticket repositories (`hub/adapters/db/tickets.py`),
so they are plain frozen values that any implementation — SQL stepwise, the PostgreSQL one-statement
insert, an in-memory fake — takes and returns the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.domain.identity import Actor


@dataclass(frozen=True, slots=True)
class CreateAccess:
    """The create-ticket rule as values (`policy.create_ticket_access`), for a repository that checks
    it as it inserts: the author's membership role must be one of `roles`, or, without a membership,
    `without_membership` must hold (a site admin); an assignee must be a member with one of
    `assignable`."""

    roles: tuple[str, ...]
    without_membership: bool
    assignable: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket to insert, already validated: everything but what storage decides (id, number)."""

    project_id: int
    reporter: Actor
    title: str
    description: str
    status: str
    priority: str
    assignee_id: int | None
    #: Cleaned, in the order given (storage returns them in its own order).
    labels: tuple[str, ...]
    #: The user ids that start watching it, sorted.
    watchers: tuple[int, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    """A user as tickets show them (`{"id", "name", "email"}`)."""

    id: int
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class AddedTicket:
    """What storage decided for a ticket it inserted."""

    id: int
    number: int
    project_key: str
    #: In the database's collation order, as reads return them.
    labels: tuple[str, ...]
    assignee: Person | None
    #: The id of the event written by the same statement (only when the repository was given one).
    event_id: int | None = None
