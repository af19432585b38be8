"""Tickets: create, list, read, change, delete, follow. Every change writes its event."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from hub.adapters.db.models import Membership, Project, Ticket, TicketLabel, TicketWatcher
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import Priority, Role, Status
from hub.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hub.domain.events import (
    DomainEvent,
    TicketAssigned,
    TicketCreated,
    TicketDeleted,
    TicketStatusChanged,
    TicketUpdated,
    TicketWatchersChanged,
    payload_of,
)
from hub.domain.identity import Actor
from hub.domain.limits import INT_MAX, parse_id, text_problem
from hub.domain.mentions import Mentionable, resolve_mentions
from hub.domain.tickets import AddedTicket, NewTicket, Person
from hub.services import policy
from hub.services.access import authorize
from hub.services.policy import Action
from hub.services.tickets.repository import TicketRepository
from hub.services.views import person_view, render_ticket, ticket_view

#: What a comment needs of its ticket: the key (the project) and the watchers (who hears of it).
COMMENT_LOAD = (joinedload(Ticket.project), selectinload(Ticket.watchers))
TICKET_LOAD = (
    joinedload(Ticket.project),
    joinedload(Ticket.assignee),
    joinedload(Ticket.reporter),
    selectinload(Ticket.labels),
    selectinload(Ticket.watchers),
)
_WATCHERS = cast(Table, TicketWatcher.__table__)
_KEY_REF = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-([0-9]{1,10})$", re.ASCII)
MAX_LABELS = 20
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
EDITABLE = ("title", "description", "status", "priority", "assignee_id", "labels")


@dataclass(frozen=True)
class TicketPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _check_title(title: str, errors: dict[str, str]) -> None:
    if not title.strip() or len(title.strip()) > 200:
        errors["title"] = "must be 1 to 200 characters"


def _check_choice(
    field: str, value: str, choices: type[Status] | type[Priority], errors: dict[str, str]
) -> None:
    if value not in {c.value for c in choices}:
        errors[field] = "must be one of " + ", ".join(c.value for c in choices)


def clean_labels(labels: Iterable[str], errors: dict[str, str]) -> list[str]:
    cleaned: list[str] = []
    for label in labels:
        name = label.strip()
        if not name or len(name) > 50:
            errors["labels"] = "each label must be 1 to 50 characters"
            return []
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_LABELS:
        errors["labels"] = f"at most {MAX_LABELS} labels"
    return cleaned


async def project_people(uow: UnitOfWork, project_id: int) -> list[Mentionable]:
    return await uow.tickets.people(project_id)


async def mentions_in(uow: UnitOfWork, project_id: int, text: str) -> list[int]:
    """Members mentioned in `text`; the member list is only loaded when there is an `@` at all."""
    if "@" not in (text or ""):
        return []
    return resolve_mentions(text, await project_people(uow, project_id))


async def _check_assignee(tickets: TicketRepository, project_id: int, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    found = await tickets.member(project_id, assignee_id)
    if not policy.can_be_assigned(found[1] if found else None):
        raise ValidationFailed("invalid assignee", fields={"assignee_id": "not a member of this project"})


def _ticket_query(ref: int | str, load: Sequence[Any]) -> Select[Ticket]:
    """The query finding a ticket by numeric id or key (`OPS-12`); NotFound if `ref` names none."""
    query = select(Ticket).options(*load)
    text = str(ref).strip()
    # ASCII digits only, within the column's range: anything else names no ticket (never a driver error).
    if (ticket_id := parse_id(text)) is not None:
        return query.where(Ticket.id == ticket_id)
    if (match := _KEY_REF.match(text)) and (number := parse_id(match.group(2))) is not None:
        return query.join(Ticket.project).where(
            Project.key == match.group(1).upper(), Ticket.number == number
        )
    raise NotFound(f"no ticket {text[:40]}")


async def load_ticket(
    uow: UnitOfWork, ref: int | str, *, for_update: bool = False, load: Sequence[Any] = TICKET_LOAD
) -> Ticket:
    """Find a ticket by numeric id or key (`OPS-12`); NotFound if there is none. `load`: the
    relationships to load with it (all that a ticket view shows, by default)."""
    query = _ticket_query(ref, load)
    ticket = await uow.session.scalar(query.execution_options(populate_existing=for_update))
    if ticket is None:
        raise NotFound(f"no ticket {str(ref).strip()}")
    return ticket


async def visible_ticket(
    uow: UnitOfWork, actor: Actor, ref: int | str, action: Action, *, load: Sequence[Any] = TICKET_LOAD
) -> tuple[Ticket, Role]:
    """The ticket and the actor's role in its project, if that allows `action`: outsiders get the
    same NotFound as for a ticket that does not exist. The role comes with the ticket (one statement:
    a scalar subquery on the membership), as `access.role_in` would find it."""
    membership = (
        select(Membership.role)
        .where(Membership.project_id == Ticket.project_id, Membership.user_id == actor.id)
        .scalar_subquery()
    )
    row = (await uow.session.execute(_ticket_query(ref, load).add_columns(membership))).first()
    if row is None:
        raise NotFound(f"no ticket {str(ref).strip()}")
    ticket, member_role = row
    role = policy.acting_role(member_role, is_site_admin=actor.is_admin)
    return ticket, policy.require(role, action, missing=f"no ticket {ref}")


async def _reload(uow: UnitOfWork, ticket_id: int) -> Ticket:
    uow.session.expunge_all()
    return await load_ticket(uow, ticket_id)


async def add_watchers(uow: UnitOfWork, ticket: Ticket, user_ids: Iterable[int | None]) -> list[int]:
    """Make users follow the ticket; returns its watchers as this transaction knows them (sorted).

    `INSERT … ON CONFLICT DO NOTHING`: two requests that both find a user not yet watching (two first
    comments by one user at once) both succeed with one row. The ORM's `ticket.watchers` is not
    updated: callers reload the ticket or use the list returned."""
    present = {w.user_id for w in ticket.watchers}
    new = sorted({user_id for user_id in user_ids if user_id is not None} - present)
    if new:
        insert_ = sqlite_insert if uow.db.is_sqlite else pg_insert
        await uow.session.execute(
            insert_(_WATCHERS)
            .values([{"ticket_id": ticket.id, "user_id": user_id} for user_id in new])
            .on_conflict_do_nothing()
        )
    return sorted(present | set(new))


async def create_ticket(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    *,
    title: str,
    description: str = "",
    status: str = Status.TODO,
    priority: str = Priority.MEDIUM,
    assignee_id: int | None = None,
    labels: Iterable[str] = (),
    origin: str = "api",
) -> dict[str, Any]:
    """Create a ticket; its reporter, its assignee and the members its description mentions watch it.

    Writes `ticket.created` with the ticket as written (rendered from the values inserted, not read
    back). Where the repository can (PostgreSQL) and no notification can come of the event, the
    insert writes the event itself and commits alone; otherwise the unit of work writes it and its
    notifications."""
    errors: dict[str, str] = {}
    _check_title(title, errors)
    _check_choice("status", status, Status, errors)
    _check_choice("priority", priority, Priority, errors)
    clean = clean_labels(labels, errors)
    if errors:
        raise ValidationFailed("invalid ticket", fields=errors)
    async with uow:
        tickets = uow.tickets
        mentioned = await mentions_in(uow, project_id, description)
        new = NewTicket(
            project_id=project_id,
            reporter=actor,
            title=title.strip(),
            description=description,
            status=status,
            priority=priority,
            assignee_id=assignee_id,
            labels=tuple(clean),
            watchers=tuple(sorted({uid for uid in (actor.id, assignee_id, *mentioned) if uid is not None})),
            created_at=utcnow(),
        )
        alone = None
        if tickets.writes_events_alone:
            # What the event will say, but for what the statement decides (it fills those in).
            draft = uow.row(
                _created_event(new, _draft(new), origin, mentioned), project_id=project_id, actor_id=actor.id
            )
            alone = draft if uow.can_write_alone(draft) else None
        added = await tickets.add(new, policy.create_ticket_access(actor), event=alone)
        if added is None:
            await _refuse_create(uow, tickets, actor, new)
        assert added is not None
        created = _created_event(new, added, origin, mentioned)
        if alone is not None:
            assert added.event_id is not None  # the statement wrote it
            alone.payload = payload_of(created)
            alone.id, alone.created_at = added.event_id, new.created_at
            await uow.written_alone(alone)
        else:
            uow.emit(created, project_id=project_id, actor_id=actor.id)
            await uow.commit()
        return created.ticket


def _created_event(new: NewTicket, added: AddedTicket, origin: str, mentioned: list[int]) -> TicketCreated:
    return TicketCreated(ticket=_created_view(new, added), origin=origin, mentions=tuple(mentioned))


def _created_view(new: NewTicket, added: AddedTicket) -> dict[str, Any]:
    """`ticket_view` of a ticket just inserted, from the values written (the one builder)."""
    return render_ticket(
        id=added.id,
        key=f"{added.project_key}-{added.number}",
        number=added.number,
        project_id=new.project_id,
        title=new.title,
        description=new.description,
        status=new.status,
        priority=new.priority,
        assignee=person_view(added.assignee) if added.assignee else None,
        reporter=person_view(new.reporter),
        labels=list(added.labels),
        watchers=list(new.watchers),
        created_at=new.created_at,
        updated_at=new.created_at,
        version=1,
    )


def _draft(new: NewTicket) -> AddedTicket:
    """The storage facts of a ticket not yet inserted: placeholders the one-statement insert fills
    in (id, number, key, label order). The assignee is only known here if it is the author; anyone
    else is notified, so that event is written by the unit of work from the real values instead."""
    assignee = None
    if new.assignee_id == new.reporter.id:
        assignee = Person(id=new.reporter.id, name=new.reporter.name, email=new.reporter.email)
    elif new.assignee_id is not None:
        assignee = Person(id=new.assignee_id, name="", email="")
    return AddedTicket(id=0, number=0, project_key="", labels=new.labels, assignee=assignee)


async def _refuse_create(uow: UnitOfWork, tickets: TicketRepository, actor: Actor, new: NewTicket) -> None:
    """Raise why the repository refused `new`, checking in its order: the project (not found), the
    author's role (forbidden), the assignee (invalid)."""
    await authorize(uow.session, new.project_id, actor, Action.WRITE)
    await _check_assignee(tickets, new.project_id, new.assignee_id)
    raise NotFound("project not found")


def _encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": ticket_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))["id"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= INT_MAX:
            raise TypeError
        return value
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error):
        raise ValidationFailed("invalid cursor", fields={"cursor": "not a cursor from this API"}) from None


@dataclass(frozen=True)
class _Filter:
    """A ticket list's filters, checked."""

    statuses: list[str]
    #: None, "me", "none" or a user id.
    assignee: str | int | None
    label: str | None
    q: str | None
    before: int | None


def _check_filter(
    status: str | None, assignee: str | None, label: str | None, q: str | None, cursor: str | None, limit: int
) -> _Filter:
    errors: dict[str, str] = {}
    statuses = [s.strip() for s in status.split(",")] if status else []
    for item in statuses:
        _check_choice("status", item, Status, errors)
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"must be between 1 and {MAX_LIMIT}"
    who: str | int | None = assignee
    if assignee not in (None, "me", "none"):
        who = parse_id(assignee)
        if who is None:
            errors["assignee"] = f"must be a user id (1 to {INT_MAX}), me or none"
    for name, text in (("q", q), ("label", label), ("status", status), ("cursor", cursor)):
        if text is not None and (problem := text_problem(text)):
            errors[name] = problem
    if errors:
        raise ValidationFailed("invalid filter", fields=errors)
    return _Filter(statuses, who, label, q, _decode_cursor(cursor) if cursor else None)


def _filtered(query: Select[Ticket], actor: Actor, where: _Filter) -> Select[Ticket]:
    if where.statuses:
        query = query.where(Ticket.status.in_(where.statuses))
    if where.assignee == "me":
        query = query.where(Ticket.assignee_id == actor.id)
    elif where.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif where.assignee is not None:
        query = query.where(Ticket.assignee_id == where.assignee)
    if where.label:
        labelled = select(TicketLabel.ticket_id).where(TicketLabel.name == where.label)
        query = query.where(Ticket.id.in_(labelled))
    if where.q and where.q.strip():
        pattern = "%" + where.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(Ticket.title.ilike(pattern, escape="\\"), Ticket.description.ilike(pattern, escape="\\"))
        )
    if where.before is not None:
        query = query.where(Ticket.id < where.before)
    return query


async def list_tickets(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    *,
    status: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> TicketPage:
    """Newest first; `assignee` is a user id, `me` or `none`; `q` searches title and description."""
    where = _check_filter(status, assignee, label, q, cursor, limit)
    query = select(Ticket).options(*TICKET_LOAD).where(Ticket.project_id == project_id)
    query = _filtered(query, actor, where).order_by(Ticket.id.desc()).limit(limit + 1)
    async with uow:
        await authorize(uow.session, project_id, actor, Action.READ)
        tickets = list((await uow.session.scalars(query)).unique())
    more = len(tickets) > limit
    tickets = tickets[:limit]
    return TicketPage(
        items=[ticket_view(t) for t in tickets],
        next_cursor=_encode_cursor(tickets[-1].id) if more and tickets else None,
    )


async def get_ticket(uow: UnitOfWork, actor: Actor, ref: int | str) -> dict[str, Any]:
    async with uow:
        ticket, _role = await visible_ticket(uow, actor, ref, Action.READ)
        return ticket_view(ticket)


def _diff(ticket: Ticket, changes: dict[str, Any]) -> dict[str, list[Any]]:
    diff: dict[str, list[Any]] = {}
    for field, new in changes.items():
        if field == "labels":
            old: Any = [label.name for label in ticket.labels]
        else:
            old = getattr(ticket, field)
        if old != new:
            diff[field] = [old, new]
    return diff


def _check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The change with its values cleaned (titles stripped, labels deduplicated); ValidationFailed
    naming every bad field."""
    errors: dict[str, str] = {field: "cannot be changed" for field in set(changes) - set(EDITABLE)}
    changes = dict(changes)
    if "title" in changes:
        _check_title(str(changes["title"] or ""), errors)
        changes["title"] = str(changes["title"] or "").strip()
    for field, choices in (("status", Status), ("priority", Priority)):
        if field in changes:
            _check_choice(field, str(changes[field]), choices, errors)
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    if "labels" in changes:
        changes["labels"] = clean_labels(changes["labels"] or [], errors)
    if errors:
        raise ValidationFailed("invalid change", fields=errors)
    return changes


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is not None and version != ticket.version:
        raise Conflict(
            f"ticket {ticket.key} was changed by someone else (version {ticket.version}, you sent {version})",
            fields={"version": f"stale; current version is {ticket.version}"},
        )


def _apply(ticket: Ticket, diff: dict[str, list[Any]]) -> None:
    for field, (_old, new) in diff.items():
        if field == "labels":
            ticket.labels = [TicketLabel(ticket_id=ticket.id, name=name) for name in new]
        else:
            setattr(ticket, field, new)
    ticket.updated_at = utcnow()


async def _newly_mentioned(uow: UnitOfWork, ticket: Ticket, diff: dict[str, list[Any]]) -> list[int]:
    """Members the changed description mentions that the old one did not."""
    if "description" not in diff:
        return []
    people = await project_people(uow, ticket.project_id)
    before = set(resolve_mentions(diff["description"][0] or "", people))
    return [uid for uid in resolve_mentions(ticket.description, people) if uid not in before]


async def update_ticket(
    uow: UnitOfWork,
    actor: Actor,
    ref: int | str,
    changes: dict[str, Any],
    *,
    version: int | None = None,
    origin: str = "api",
) -> dict[str, Any]:
    """Apply a partial change. A stale `version` is a Conflict; no-op changes write nothing.

    One event per kind of change: `ticket.status_changed` for status, `ticket.assigned` for the
    assignee, `ticket.updated` for everything else; each carries the ticket as it now is.
    """
    changes = _check_changes(changes)
    async with uow:
        ticket, _role = await visible_ticket(uow, actor, ref, Action.WRITE)
        _check_version(ticket, version)
        diff = _diff(ticket, changes)
        if not diff:
            return ticket_view(ticket)
        if "assignee_id" in diff:
            await _check_assignee(uow.tickets, ticket.project_id, changes["assignee_id"])
        _apply(ticket, diff)
        try:  # the mentions' query flushes the change too: a stale version fails there or here
            mentioned = await _newly_mentioned(uow, ticket, diff)
            await uow.session.flush()
        except StaleDataError:
            raise Conflict(
                f"ticket {ticket.key} was changed by someone else", fields={"version": "stale; reload"}
            ) from None
        await add_watchers(uow, ticket, [changes.get("assignee_id"), *mentioned])
        ticket = await _reload(uow, ticket.id)
        view = ticket_view(ticket)
        _emit_changes(uow, actor, ticket, view, diff, origin, mentioned)
        await uow.commit()
        return view


def _emit_changes(
    uow: UnitOfWork,
    actor: Actor,
    ticket: Ticket,
    view: dict[str, Any],
    diff: dict[str, list[Any]],
    origin: str,
    mentioned: list[int],
) -> None:
    """One event per kind of change, in this order: status, assignee, the other fields."""
    status = {k: v for k, v in diff.items() if k == "status"}
    assignee = {k: v for k, v in diff.items() if k == "assignee_id"}
    other = {k: v for k, v in diff.items() if k not in ("status", "assignee_id")}
    events: list[DomainEvent] = []
    if status:
        events.append(TicketStatusChanged(ticket=view, changes=status, origin=origin))
    if assignee:
        events.append(TicketAssigned(ticket=view, changes=assignee, origin=origin))
    if other:
        events.append(TicketUpdated(ticket=view, changes=other, origin=origin, mentions=tuple(mentioned)))
    for event in events:
        uow.emit(event, project_id=ticket.project_id, actor_id=actor.id)


async def delete_ticket(uow: UnitOfWork, actor: Actor, ref: int | str, *, origin: str = "api") -> None:
    """Admins delete any ticket; members only the ones they reported."""
    async with uow:
        ticket, role = await visible_ticket(uow, actor, ref, Action.WRITE)
        if not policy.can_delete_ticket(role, actor, ticket.reporter_id):
            raise Forbidden("only the reporter or a project admin can delete a ticket")
        view = ticket_view(ticket)
        await uow.session.execute(delete(Ticket).where(Ticket.id == ticket.id))
        uow.emit(TicketDeleted(ticket=view, origin=origin), project_id=ticket.project_id, actor_id=actor.id)
        await uow.commit()


async def set_following(
    uow: UnitOfWork, actor: Actor, ref: int | str, follow: bool, *, origin: str = "api"
) -> dict[str, Any]:
    """Follow or unfollow a ticket (any member, viewers included, may follow what they can read)."""
    async with uow:
        ticket, _role = await visible_ticket(uow, actor, ref, Action.READ)
        watching = any(w.user_id == actor.id for w in ticket.watchers)
        if watching == follow:
            return ticket_view(ticket)
        if follow:
            await add_watchers(uow, ticket, [actor.id])
        else:  # a statement, not the ORM: two unfollows at once must not fail on a row already gone
            await uow.session.execute(
                delete(_WATCHERS).where(
                    TicketWatcher.ticket_id == ticket.id, TicketWatcher.user_id == actor.id
                )
            )
        ticket = await _reload(uow, ticket.id)
        view = ticket_view(ticket)
        following = TicketWatchersChanged.following(view, actor.id, follow, origin=origin)
        uow.emit(following, project_id=ticket.project_id, actor_id=actor.id)
        await uow.commit()
        return view
