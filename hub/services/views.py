"""Read models: how users, projects, tickets, comments and events look to clients.

One function per entity, used by the REST API and by event payloads alike, so a socket message
carries exactly what a GET would return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.adapters.db.models import Comment, Event, Membership, Notification, Project, Ticket, User
from hub.domain.identity import Actor
from hub.domain.tickets import Person


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email}


def me_view(user: User) -> dict[str, Any]:
    return {**user_view(user), "is_admin": user.is_admin, "created_at": iso(user.created_at)}


def project_view(project: Project, role: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "description": project.description,
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
    }
    if role is not None:
        view["role"] = role
    return view


def member_view(membership: Membership) -> dict[str, Any]:
    return {
        "user": user_view(membership.user),
        "user_id": membership.user_id,
        "project_id": membership.project_id,
        "role": membership.role,
        "created_at": iso(membership.created_at),
    }


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    """Needs project, assignee, reporter, labels and watchers loaded (see `tickets.TICKET_LOAD`)."""
    return render_ticket(
        id=ticket.id,
        key=ticket.key,
        number=ticket.number,
        project_id=ticket.project_id,
        title=ticket.title,
        description=ticket.description,
        status=ticket.status,
        priority=ticket.priority,
        assignee=user_view(ticket.assignee) if ticket.assignee else None,
        reporter=user_view(ticket.reporter),
        labels=[label.name for label in ticket.labels],
        watchers=[watcher.user_id for watcher in ticket.watchers],
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
    )


def person_view(person: Person | Actor) -> dict[str, Any]:
    """A user as `user_view` shows them, from a plain value instead of a loaded row."""
    return {"id": person.id, "name": person.name, "email": person.email}


def render_ticket(
    *,
    id: int,
    key: str,
    number: int,
    project_id: int,
    title: str,
    description: str,
    status: str,
    priority: str,
    assignee: dict[str, Any] | None,
    reporter: dict[str, Any],
    labels: list[str],
    watchers: list[int],
    created_at: datetime | None,
    updated_at: datetime | None,
    version: int,
) -> dict[str, Any]:
    """The ticket as clients see it (REST, events, sockets, chat): the one place its shape and key
    order are decided. `ticket_view` renders a loaded row; the create path renders the values it
    wrote (and the PostgreSQL statement fills id, number, key and labels into this same dict)."""
    return {
        "id": id,
        "key": key,
        "number": number,
        "project_id": project_id,
        "title": title,
        "description": description,
        "status": status,
        "priority": priority,
        "assignee": assignee,
        "reporter": reporter,
        "labels": labels,
        "watchers": watchers,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "version": version,
    }


def comment_view(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "ticket_id": comment.ticket_id,
        "author": user_view(comment.author),
        "body": comment.body,
        "origin": comment.origin,
        "edited": comment.edited,
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
    }


def notification_view(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "notification_type": notification.notification_type,
        "title": notification.title,
        "message": notification.message,
        "timestamp": iso(notification.created_at),
        "ticket_id": notification.ticket_id,
        "project_id": notification.project_id,
        "event_id": notification.event_id,
        "read": notification.read_at is not None,
    }


def event_view(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "project_id": event.project_id,
        "actor_id": event.actor_id,
        "type": event.type,
        "payload": event.payload,
        "created_at": iso(event.created_at),
    }
