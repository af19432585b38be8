"""PostgreSQL: a new ticket, its watchers, labels (and event) in one statement (one round trip).

Creating tickets is the hub's hottest write. Stepwise it is: the author's role, the assignee's
membership, the project's next number, the ticket, its watchers, its labels — each a round trip, and
the project row stays locked (for the number) across all the later ones. Here data-modifying CTEs do
it in one statement: the number is drawn only when the author's role and the assignee's membership
hold — as the policy says: the allowed roles, whether the author may act without a membership (a site
admin) and the roles an assignee may have come in as values (`CreateAccess`) — and every insert hangs
off that row. When the statement returns nothing, the caller runs the ordinary checks to raise the
precise error (not found, forbidden, invalid assignee). When no notification can come of the
ticket's event, the event is written by the same statement too, which then commits on its own: no
BEGIN and COMMIT round trips. Its payload is the service's (built by the one ticket view builder from
the values written), in which the statement fills only what it decides: the ticket's id, number, key
and sorted labels. SQLite has no data-modifying CTEs; `SqlTicketRepository` writes step by step there.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.adapters.db.models import Event
from hub.domain.tickets import AddedTicket, CreateAccess, NewTicket, Person

_CHANGE = """
    WITH allowed AS (
        SELECT 1 FROM memberships
        WHERE project_id = CAST(:project_id AS integer) AND user_id = CAST(:reporter_id AS integer)
          AND role = ANY(CAST(:roles AS text[]))
        UNION ALL
        SELECT 1 WHERE CAST(:without_membership AS boolean) AND NOT EXISTS (
            SELECT 1 FROM memberships
            WHERE project_id = CAST(:project_id AS integer) AND user_id = CAST(:reporter_id AS integer)
        )
    ), assignee AS (
        SELECT users.id, users.name, users.email FROM users
        JOIN memberships ON memberships.user_id = users.id
        WHERE memberships.project_id = CAST(:project_id AS integer)
          AND users.id = CAST(:assignee_id AS integer)
          AND memberships.role = ANY(CAST(:assignable AS text[]))
    ), seq AS (
        UPDATE projects SET ticket_seq = ticket_seq + 1
        WHERE id = CAST(:project_id AS integer) AND EXISTS (SELECT 1 FROM allowed)
          AND (CAST(:assignee_id AS integer) IS NULL OR EXISTS (SELECT 1 FROM assignee))
        RETURNING ticket_seq, key
    ), ticket AS (
        INSERT INTO tickets (project_id, number, title, description, status, priority, assignee_id,
                             reporter_id, version, created_at, updated_at)
        SELECT CAST(:project_id AS integer), seq.ticket_seq, CAST(:title AS text),
               CAST(:description AS text), CAST(:status AS text), CAST(:priority AS text),
               CAST(:assignee_id AS integer), CAST(:reporter_id AS integer), 1,
               CAST(:created_at AS timestamptz), CAST(:updated_at AS timestamptz)
        FROM seq
        RETURNING id, number
    ), watchers AS (
        INSERT INTO ticket_watchers (ticket_id, user_id)
        SELECT ticket.id, watcher FROM ticket, unnest(CAST(:watchers AS integer[])) AS watcher
    ), labels AS (
        INSERT INTO ticket_labels (ticket_id, name)
        SELECT ticket.id, label FROM ticket, unnest(CAST(:labels AS text[])) AS label
    )
"""

_SORTED_LABELS = "ARRAY(SELECT label FROM unnest(CAST(:labels AS text[])) AS label ORDER BY label)"

#: The change alone: the caller's transaction writes its event.
_INSERT = text(
    _CHANGE
    + f"""
    SELECT ticket.id, ticket.number, seq.key, {_SORTED_LABELS} AS labels,
           assignee.name AS assignee_name, assignee.email AS assignee_email, NULL AS event_id
    FROM ticket CROSS JOIN seq LEFT JOIN assignee ON true
    """
)

#: The change and its event, for a statement that commits on its own. The event's row is built from
#: the ticket's, so the transaction has its id (it wrote the ticket) before the event draws its id,
#: and records it; the outbox lock is taken once the ticket exists and before that (shared, so
#: readers see a writer that may hold a drawn id, `hub.adapters.db.horizon`; exclusive with
#: `OUTBOX_ORDERING=lock`). The event's payload gets the ticket's id, number, key and
#: sorted labels written into it.
_EVENT_CTE = f""",
    outbox_lock AS (SELECT {{lock}} FROM ticket),
    event AS (
        INSERT INTO events (project_id, actor_id, type, payload, request_id, created_at, xid, ticket_id)
        SELECT CAST(:project_id AS integer), CAST(:reporter_id AS integer), CAST(:event_type AS text),
               jsonb_set(jsonb_set(jsonb_set(jsonb_set(CAST(:payload AS jsonb),
                   '{{ticket,id}}', to_jsonb(ticket.id)),
                   '{{ticket,number}}', to_jsonb(ticket.number)),
                   '{{ticket,key}}', to_jsonb(seq.key || '-' || ticket.number)),
                   '{{ticket,labels}}', to_jsonb({_SORTED_LABELS})),
               CAST(:request_id AS text), CAST(:created_at AS timestamptz),
               CAST(CAST(pg_current_xact_id() AS text) AS bigint), ticket.id
        FROM ticket, seq, outbox_lock
        RETURNING id
    )
    SELECT ticket.id, ticket.number, seq.key, {_SORTED_LABELS} AS labels,
           assignee.name AS assignee_name, assignee.email AS assignee_email, event.id AS event_id
    FROM ticket CROSS JOIN seq CROSS JOIN event LEFT JOIN assignee ON true
    """
_INSERT_WITH_EVENT = text(
    _CHANGE + _EVENT_CTE.replace("{lock}", "pg_advisory_xact_lock_shared(CAST(:lock_key AS bigint))")
)
_INSERT_WITH_EVENT_LOCKED = text(
    _CHANGE + _EVENT_CTE.replace("{lock}", "pg_advisory_xact_lock(CAST(:lock_key AS bigint))")
)


async def insert_ticket(
    executor: AsyncSession | AsyncConnection,
    new: NewTicket,
    access: CreateAccess,
    *,
    event: Event | None = None,
    lock: bool = False,
    lock_key: int | None = None,
) -> AddedTicket | None:
    """Insert `new` if `access` lets its reporter create it and its assignee, if any, be assigned;
    None if not.

    With `event` (its payload a ticket view whose id, number, key and labels are filled in here), the
    event is written by the same statement, stamped with the ticket's `created_at`: run it on a
    connection that commits each statement; `lock` takes the outbox lock for it
    (`OUTBOX_ORDERING=lock`); `lock_key` (required with `event`) is the database's
    `outbox_lock_key`."""
    params: dict[str, Any] = {
        "project_id": new.project_id,
        "reporter_id": new.reporter.id,
        "assignee_id": new.assignee_id,
        "title": new.title,
        "description": new.description,
        "status": new.status,
        "priority": new.priority,
        "created_at": new.created_at,
        "updated_at": new.created_at,
        "roles": list(access.roles),
        "without_membership": access.without_membership,
        "assignable": list(access.assignable),
        "watchers": list(new.watchers),
        "labels": list(new.labels),
    }
    statement = _INSERT
    if event is not None:
        if lock_key is None:
            raise ValueError("an event's insert needs the database's outbox lock key")
        statement = _INSERT_WITH_EVENT_LOCKED if lock else _INSERT_WITH_EVENT
        params["lock_key"] = lock_key
        params.update(
            event_type=event.type,
            payload=orjson.dumps(event.payload, option=orjson.OPT_NON_STR_KEYS).decode(),
            request_id=event.request_id,
        )
    found = (await executor.execute(statement, params)).first()
    if found is None:
        return None
    assignee = None
    if new.assignee_id is not None:
        assignee = Person(id=new.assignee_id, name=found.assignee_name, email=found.assignee_email)
    return AddedTicket(
        id=int(found.id),
        number=int(found.number),
        project_key=str(found.key),
        labels=tuple(found.labels),
        assignee=assignee,
        event_id=None if found.event_id is None else int(found.event_id),
    )
