"""Tickets: create, list, read, change, delete, follow. Every change writes its event."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from hub.adapters.db.models import Membership, Project, Ticket, TicketLabel, TicketWatcher, User
from hub.adapters.db.ticket_insert import InsertedTicket, insert_ticket
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import EventType, Priority, Role, Status
from hub.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hub.domain.identity import Actor
from hub.domain.limits import INT_MAX, parse_id, text_problem
from hub.domain.mentions import Mentionable, resolve_mentions
from hub.services.policy import Action, authorize, roles_allowing
from hub.services.views import iso, ticket_view

TICKET_LOAD = (
    joinedload(Ticket.project),
    joinedload(Ticket.assignee),
    joinedload(Ticket.reporter),
    selectinload(Ticket.labels),
    selectinload(Ticket.watchers),
)
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
    rows = await uow.session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id)
    )
    return [Mentionable(user_id=uid, name=name, email=email) for uid, name, email in rows]


async def mentions_in(uow: UnitOfWork, project_id: int, text: str) -> list[int]:
    """Members mentioned in `text`; the member list is only loaded when there is an `@` at all."""
    if "@" not in (text or ""):
        return []
    return resolve_mentions(text, await project_people(uow, project_id))


async def _check_assignee(uow: UnitOfWork, project_id: int, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    if await uow.session.get(Membership, (project_id, assignee_id)) is None:
        raise ValidationFailed("invalid assignee", fields={"assignee_id": "not a member of this project"})


async def load_ticket(uow: UnitOfWork, ref: int | str, *, for_update: bool = False) -> Ticket:
    """Find a ticket by numeric id or key (`OPS-12`); NotFound if there is none."""
    query: Select[tuple[Ticket]] = select(Ticket).options(*TICKET_LOAD)
    text = str(ref).strip()
    # ASCII digits only, within the column's range: anything else names no ticket (never a driver error).
    if (ticket_id := parse_id(text)) is not None:
        query = query.where(Ticket.id == ticket_id)
    elif (match := _KEY_REF.match(text)) and (number := parse_id(match.group(2))) is not None:
        query = query.join(Ticket.project).where(
            Project.key == match.group(1).upper(), Ticket.number == number
        )
    else:
        raise NotFound(f"no ticket {text[:40]}")
    ticket = await uow.session.scalar(query.execution_options(populate_existing=for_update))
    if ticket is None:
        raise NotFound(f"no ticket {text}")
    return ticket


async def visible_ticket(
    uow: UnitOfWork, actor: Actor, ref: int | str, action: Action
) -> tuple[Ticket, Role]:
    ticket = await load_ticket(uow, ref)
    try:
        role = await authorize(uow.session, ticket.project_id, actor, action)
    except NotFound:
        raise NotFound(f"no ticket {ref}") from None
    return ticket, role


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
            insert_(TicketWatcher.__table__)
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
    errors: dict[str, str] = {}
    _check_title(title, errors)
    _check_choice("status", status, Status, errors)
    _check_choice("priority", priority, Priority, errors)
    clean = clean_labels(labels, errors)
    if errors:
        raise ValidationFailed("invalid ticket", fields=errors)
    async with uow:
        mentioned = await mentions_in(uow, project_id, description)
        now = utcnow()
        row = {
            "project_id": project_id,
            "title": title.strip(),
            "description": description,
            "status": status,
            "priority": priority,
            "assignee_id": assignee_id,
            "reporter_id": actor.id,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        watcher_ids = sorted(
            {user_id for user_id in (actor.id, assignee_id, *mentioned) if user_id is not None}
        )
        if not uow.db.is_sqlite:
            return await _create_at_once(uow, actor, row, clean, watcher_ids, mentioned, origin)
        view = await _insert_stepwise(uow, actor, row, clean, watcher_ids)
        payload = {"ticket": view, "origin": origin, "mentions": mentioned}
        uow.emit(EventType.TICKET_CREATED, project_id=project_id, actor_id=actor.id, payload=payload)
        await uow.commit()
        return view


async def _insert_stepwise(
    uow: UnitOfWork, actor: Actor, row: dict[str, Any], labels: list[str], watcher_ids: list[int]
) -> dict[str, Any]:
    """Check, number and insert a ticket statement by statement; its view from the values written."""
    project_id = row["project_id"]
    await authorize(uow.session, project_id, actor, Action.WRITE)
    assignee = await _assignee_view(uow, project_id, row["assignee_id"])
    number, project_key = (
        await uow.session.execute(
            update(Project)
            .where(Project.id == project_id)
            .values(ticket_seq=Project.ticket_seq + 1)
            .returning(Project.ticket_seq, Project.key)
        )
    ).one()
    row = {**row, "number": number}
    # Core inserts: nothing here needs the ORM's unit of work, and they are the hot write path.
    ticket_id = await uow.session.scalar(insert(Ticket.__table__).values(row).returning(Ticket.id))
    if labels:
        await uow.session.execute(
            insert(TicketLabel.__table__), [{"ticket_id": ticket_id, "name": name} for name in labels]
        )
    await uow.session.execute(
        insert(TicketWatcher.__table__), [{"ticket_id": ticket_id, "user_id": uid} for uid in watcher_ids]
    )
    # Labels in the database's order, as a read returns them.
    ordered = labels if len(labels) < 2 else await _label_names(uow, ticket_id)
    return _created_view({"id": ticket_id, **row}, project_key, assignee, actor, ordered, watcher_ids)


async def _create_at_once(
    uow: UnitOfWork,
    actor: Actor,
    row: dict[str, Any],
    labels: list[str],
    watcher_ids: list[int],
    mentioned: list[int],
    origin: str,
) -> dict[str, Any]:
    """PostgreSQL: the checks and inserts in one statement (see `ticket_insert`). When no
    notification can come of it, the event is written by that statement too, which commits alone;
    otherwise the unit of work writes the event and its notifications in the transaction."""
    # What the event will say, but for the ticket's id, number, key and sorted labels (filled in by
    # the statement). The assignee is only known here if it is the author: else someone is notified.
    assignee = None if row["assignee_id"] is None else {"id": row["assignee_id"], "name": "", "email": ""}
    if row["assignee_id"] == actor.id:
        assignee = {"id": actor.id, "name": actor.name, "email": actor.email}
    draft = _created_view({**row, "id": 0, "number": 0}, "", assignee, actor, labels, watcher_ids)
    event = uow.event(
        EventType.TICKET_CREATED,
        project_id=row["project_id"],
        actor_id=actor.id,
        payload={"ticket": draft, "origin": origin, "mentions": mentioned},
    )
    alone = uow.can_write_alone(event)

    async def insert(executor: AsyncSession | AsyncConnection) -> InsertedTicket | None:
        return await insert_ticket(
            executor,
            row,
            roles=roles_allowing(Action.WRITE),
            site_admin=actor.is_admin,
            watchers=watcher_ids,
            labels=labels,
            event=event if alone else None,
        )

    if alone:
        async with uow.db.single_statements() as conn:
            done = await insert(conn)
    else:
        done = await insert(uow.session)
    if done is None:
        # Refused: the stepwise checks say why, in the same order (not found, forbidden, assignee).
        await authorize(uow.session, row["project_id"], actor, Action.WRITE)
        await _assignee_view(uow, row["project_id"], row["assignee_id"])
        raise NotFound("project not found")
    written = {**row, "id": done.id, "number": done.number}
    view = _created_view(written, done.project_key, done.assignee, actor, done.labels, watcher_ids)
    event.payload = {"ticket": view, "origin": origin, "mentions": mentioned}
    if alone:
        assert done.event_id is not None  # the statement wrote it
        event.id, event.created_at = done.event_id, row["created_at"]
        await uow.written_alone(event)
    else:
        uow.emit(
            EventType.TICKET_CREATED, project_id=row["project_id"], actor_id=actor.id, payload=event.payload
        )
        await uow.commit()
    return view


async def _assignee_view(uow: UnitOfWork, project_id: int, assignee_id: int | None) -> dict[str, Any] | None:
    """The assignee as a view, checked to be a member of the project."""
    if assignee_id is None:
        return None
    row = (
        await uow.session.execute(
            select(User.id, User.name, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id, User.id == assignee_id)
        )
    ).first()
    if row is None:
        raise ValidationFailed("invalid assignee", fields={"assignee_id": "not a member of this project"})
    return {"id": row.id, "name": row.name, "email": row.email}


async def _label_names(uow: UnitOfWork, ticket_id: int) -> list[str]:
    query = select(TicketLabel.name).where(TicketLabel.ticket_id == ticket_id).order_by(TicketLabel.name)
    return list(await uow.session.scalars(query))


def _created_view(
    row: dict[str, Any],
    project_key: str,
    assignee: dict[str, Any] | None,
    reporter: Actor,
    labels: list[str],
    watcher_ids: list[int],
) -> dict[str, Any]:
    """`ticket_view` of a ticket just inserted, from the values written (the same shape and order)."""
    return {
        "id": row["id"],
        "key": f"{project_key}-{row['number']}",
        "number": row["number"],
        "project_id": row["project_id"],
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "priority": row["priority"],
        "assignee": assignee,
        "reporter": {"id": reporter.id, "name": reporter.name, "email": reporter.email},
        "labels": list(labels),
        "watchers": list(watcher_ids),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "version": row["version"],
    }


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
    errors: dict[str, str] = {}
    statuses = [s.strip() for s in status.split(",")] if status else []
    for item in statuses:
        _check_choice("status", item, Status, errors)
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"must be between 1 and {MAX_LIMIT}"
    assignee_id = parse_id(assignee) if assignee not in (None, "me", "none") else None
    if assignee not in (None, "me", "none") and assignee_id is None:
        errors["assignee"] = f"must be a user id (1 to {INT_MAX}), me or none"
    for name, text in (("q", q), ("label", label), ("status", status), ("cursor", cursor)):
        if text is not None and (problem := text_problem(text)):
            errors[name] = problem
    if errors:
        raise ValidationFailed("invalid filter", fields=errors)
    query = select(Ticket).options(*TICKET_LOAD).where(Ticket.project_id == project_id)
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    if assignee == "me":
        query = query.where(Ticket.assignee_id == actor.id)
    elif assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    if label:
        query = query.where(Ticket.id.in_(select(TicketLabel.ticket_id).where(TicketLabel.name == label)))
    if q and q.strip():
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(Ticket.title.ilike(pattern, escape="\\"), Ticket.description.ilike(pattern, escape="\\"))
        )
    if cursor:
        query = query.where(Ticket.id < _decode_cursor(cursor))
    query = query.order_by(Ticket.id.desc()).limit(limit + 1)
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
    unknown = set(changes) - set(EDITABLE)
    errors: dict[str, str] = {field: "cannot be changed" for field in unknown}
    if "title" in changes:
        _check_title(str(changes["title"] or ""), errors)
        changes["title"] = str(changes["title"] or "").strip()
    if "status" in changes:
        _check_choice("status", str(changes["status"]), Status, errors)
    if "priority" in changes:
        _check_choice("priority", str(changes["priority"]), Priority, errors)
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    if "labels" in changes:
        changes["labels"] = clean_labels(changes["labels"] or [], errors)
    if errors:
        raise ValidationFailed("invalid change", fields=errors)
    async with uow:
        ticket, _role = await visible_ticket(uow, actor, ref, Action.WRITE)
        if version is not None and version != ticket.version:
            raise Conflict(
                f"ticket {ticket.key} was changed by someone else "
                f"(version {ticket.version}, you sent {version})",
                fields={"version": f"stale; current version is {ticket.version}"},
            )
        diff = _diff(ticket, changes)
        if not diff:
            return ticket_view(ticket)
        if "assignee_id" in diff:
            await _check_assignee(uow, ticket.project_id, changes["assignee_id"])
        mentioned: list[int] = []
        for field, (_old, new) in diff.items():
            if field == "labels":
                ticket.labels = [TicketLabel(ticket_id=ticket.id, name=name) for name in new]
            else:
                setattr(ticket, field, new)
        if "description" in diff:
            people = await project_people(uow, ticket.project_id)
            before = set(resolve_mentions(diff["description"][0] or "", people))
            mentioned = [uid for uid in resolve_mentions(ticket.description, people) if uid not in before]
        ticket.updated_at = utcnow()
        try:
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
    groups = {
        EventType.TICKET_STATUS_CHANGED: {k: v for k, v in diff.items() if k == "status"},
        EventType.TICKET_ASSIGNED: {k: v for k, v in diff.items() if k == "assignee_id"},
        EventType.TICKET_UPDATED: {k: v for k, v in diff.items() if k not in ("status", "assignee_id")},
    }
    for event_type, group in groups.items():
        if group:
            payload = {"ticket": view, "changes": group, "origin": origin}
            if event_type is EventType.TICKET_UPDATED:
                payload["mentions"] = mentioned
            uow.emit(event_type, project_id=ticket.project_id, actor_id=actor.id, payload=payload)


async def delete_ticket(uow: UnitOfWork, actor: Actor, ref: int | str, *, origin: str = "api") -> None:
    """Admins delete any ticket; members only the ones they reported."""
    async with uow:
        ticket, role = await visible_ticket(uow, actor, ref, Action.WRITE)
        if role.rank < Role.ADMIN.rank and ticket.reporter_id != actor.id:
            raise Forbidden("only the reporter or a project admin can delete a ticket")
        view = ticket_view(ticket)
        await uow.session.execute(delete(Ticket).where(Ticket.id == ticket.id))
        uow.emit(
            EventType.TICKET_DELETED,
            project_id=ticket.project_id,
            actor_id=actor.id,
            payload={"ticket": view, "origin": origin},
        )
        await uow.commit()


async def set_following(uow: UnitOfWork, actor: Actor, ref: int | str, follow: bool) -> dict[str, Any]:
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
                delete(TicketWatcher.__table__).where(
                    TicketWatcher.ticket_id == ticket.id, TicketWatcher.user_id == actor.id
                )
            )
        ticket = await _reload(uow, ticket.id)
        view = ticket_view(ticket)
        uow.emit(
            EventType.TICKET_WATCHERS_CHANGED,
            project_id=ticket.project_id,
            actor_id=actor.id,
            payload={"ticket": view, "changes": {"watchers": [actor.id, follow]}, "origin": "api"},
        )
        await uow.commit()
        return view
