"""Closed vocabularies of the domain (the contract fixes their spellings)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Status(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    DONE = "done"
    CANCELED = "canceled"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class EventType(StrEnum):
    """Past-tense facts written to the outbox (one class each in `hub.domain.events`); the webhook
    `type` uses the same names."""

    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    TICKET_ASSIGNED = "ticket.assigned"
    TICKET_STATUS_CHANGED = "ticket.status_changed"
    TICKET_DELETED = "ticket.deleted"
    COMMENT_CREATED = "comment.created"
    COMMENT_UPDATED = "comment.updated"
    COMMENT_DELETED = "comment.deleted"
    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    MEMBER_ADDED = "member.added"
    MEMBER_UPDATED = "member.updated"
    MEMBER_REMOVED = "member.removed"
    TICKET_WATCHERS_CHANGED = "ticket.watchers_changed"
    PROJECT_BROADCAST = "project.broadcast"
    NOTIFICATION_CUSTOM = "notification.custom"
    SESSION_REVOKED = "session.revoked"
    WEBHOOK_DISABLED = "webhook.disabled"
    #: The test message a receiver gets; never written to the outbox.
    WEBHOOK_TEST = "webhook.test"


#: The `action` a ticket socket shows for each ticket event (the seed's names).
SOCKET_ACTIONS: dict[EventType, str] = {
    EventType.TICKET_CREATED: "created",
    EventType.TICKET_UPDATED: "updated",
    EventType.TICKET_ASSIGNED: "assigned",
    EventType.TICKET_STATUS_CHANGED: "status_changed",
    EventType.TICKET_DELETED: "deleted",
    EventType.COMMENT_CREATED: "commented",
    EventType.COMMENT_UPDATED: "comment_updated",
    EventType.COMMENT_DELETED: "comment_deleted",
}
