"""The ticket storage the ticket service needs, as an interface.

Implementations: `SqlTicketRepository` (any SQL database, stepwise) and `PostgresTicketRepository`
(one statement) in `hub/adapters/db/tickets.py`, handed out by `UnitOfWork.tickets`; a fake can
stand in for both. Guarantees every implementation keeps (tests/integration/db/test_ticket_repository.py
checks both SQL ones):

- `add` writes nothing and returns None unless the reporter's role and the assignee's membership
  satisfy the `CreateAccess` (the policy's rule as values); otherwise it draws the project's next
  number and inserts the ticket, its watchers and labels, returning the labels in the order reads
  return them and the assignee as a `Person`.
- Given an `event` (only if `writes_events_alone`), `add` writes it with the ticket in one statement
  that commits on its own, filling the ticket's id, number, key and sorted labels into its payload.
"""

from __future__ import annotations

from typing import Protocol

from hub.adapters.db.models import Event
from hub.domain.enums import Role
from hub.domain.mentions import Mentionable
from hub.domain.tickets import AddedTicket, CreateAccess, NewTicket, Person


class TicketRepository(Protocol):
    @property
    def writes_events_alone(self) -> bool:
        """Whether `add` can write the ticket's event itself and commit alone."""
        ...

    async def people(self, project_id: int) -> list[Mentionable]:
        """The project's members, as @mentions resolve them."""
        ...

    async def member(self, project_id: int, user_id: int) -> tuple[Person, Role] | None:
        """A member of the project and their role there; None for anyone else."""
        ...

    async def add(
        self, new: NewTicket, access: CreateAccess, *, event: Event | None = None
    ) -> AddedTicket | None:
        """Insert `new` if `access` allows it (see the module docstring); None, writing nothing, if not."""
        ...
