"""Domain events: the past-tense facts every change writes to the outbox, one frozen class per type.

Each class names its wire type in `type` (an `EventType`). `payload_of(event)` (the same as
`event.to_payload()`) is the one serializer to the JSON object stored in `events.payload`, which the
activity feed, socket messages, webhook bodies and chat relays show; `parse_event(type, payload)` reads a
stored payload back for consumers that want typed access. The payload shapes are a public contract: the
keys, their order and their values are exactly what the hub has always written
(tests/unit/test_domain_events.py spells out every one).

The envelope is not part of the payload: the project, the acting user, the id, the time and the request
are stamped by the unit of work (`UnitOfWork.emit(event, project_id=..., actor_id=...)`).

Read models inside events (`ticket`, `comment`, `project`, `member`) are the REST views, carried as the
JSON objects they are (`View`), so a socket message or a webhook body shows exactly what a GET returns.
Sequences of ids are tuples here (the events are values) and lists on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, Self, get_origin, get_type_hints

from hub.domain.enums import EventType

#: A read model as JSON (`hub.services.views`): what a GET of the entity returns.
View = dict[str, Any]
#: Changed fields → `[old, new]`.
Changes = dict[str, list[Any]]


class DomainEvent:
    """Base of every event: the wire `type`, the serializer and the parser."""

    __slots__ = ()
    type: ClassVar[EventType]

    def payload_keys(self) -> tuple[str, ...]:
        """The payload's keys, in order: the fields, unless an event's shape depends on its values."""
        return _FIELDS[self.__class__]

    def to_payload(self) -> dict[str, Any]:
        """The JSON object stored as the event's payload (tuples become lists)."""
        payload: dict[str, Any] = {}
        for key in self.payload_keys():
            value = getattr(self, key)
            payload[key] = list(value) if isinstance(value, tuple) else value
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        """The event a stored payload records. A missing id list or object reads as empty (as every
        consumer always read it); any other missing field is a KeyError."""
        values: dict[str, Any] = {}
        empty = _EMPTY[cls]
        for field in fields(cls):  # type: ignore[arg-type]  # every concrete event is a dataclass
            name = field.name
            if name in payload:
                value = payload[name]
                values[name] = tuple(value) if empty.get(name) is tuple else value
            elif field.default is not MISSING:
                values[name] = field.default
            elif name in empty:
                values[name] = empty[name]()
            else:
                raise KeyError(f"a {cls.type} payload needs {name!r}")
        return cls(**values)


def payload_of(event: DomainEvent) -> dict[str, Any]:
    """The JSON object stored as `event`'s payload: the one serializer."""
    return event.to_payload()


# -- tickets -----------------------------------------------------------------------------------------


class TicketEvent(DomainEvent):
    """An event about a ticket itself: its payload carries the ticket's view as it now is."""

    __slots__ = ()
    ticket: View

    @property
    def ticket_id(self) -> int | None:
        ticket_id = self.ticket.get("id")
        return None if ticket_id is None else int(ticket_id)

    @property
    def assignee_id(self) -> int | None:
        assignee_id = (self.ticket.get("assignee") or {}).get("id")
        return None if assignee_id is None else int(assignee_id)

    @property
    def watcher_ids(self) -> tuple[int, ...]:
        return tuple(int(uid) for uid in self.ticket.get("watchers") or ())


@dataclass(frozen=True, slots=True)
class TicketCreated(TicketEvent):
    type = EventType.TICKET_CREATED
    ticket: View
    origin: str
    #: Members @mentioned in the description.
    mentions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TicketUpdated(TicketEvent):
    """Fields other than status and assignee changed (one event per kind of change)."""

    type = EventType.TICKET_UPDATED
    ticket: View
    changes: Changes
    origin: str
    #: Members newly @mentioned by a changed description.
    mentions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TicketAssigned(TicketEvent):
    type = EventType.TICKET_ASSIGNED
    ticket: View
    #: `{"assignee_id": [old, new]}`.
    changes: Changes
    origin: str


@dataclass(frozen=True, slots=True)
class TicketStatusChanged(TicketEvent):
    type = EventType.TICKET_STATUS_CHANGED
    ticket: View
    #: `{"status": [old, new]}`.
    changes: Changes
    origin: str

    @property
    def old_and_new(self) -> tuple[Any, Any]:
        old, new = self.changes.get("status", [None, self.ticket.get("status")])
        return old, new


@dataclass(frozen=True, slots=True)
class TicketDeleted(TicketEvent):
    type = EventType.TICKET_DELETED
    #: The ticket as it was.
    ticket: View
    origin: str


@dataclass(frozen=True, slots=True)
class TicketWatchersChanged(TicketEvent):
    type = EventType.TICKET_WATCHERS_CHANGED
    ticket: View
    #: `{"watchers": [user_id, following]}`.
    changes: Changes
    origin: str

    @classmethod
    def following(cls, ticket: View, user_id: int, follow: bool, origin: str) -> TicketWatchersChanged:
        """`user_id` started (`follow`) or stopped following the ticket."""
        return cls(ticket=ticket, changes={"watchers": [user_id, follow]}, origin=origin)


# -- comments ----------------------------------------------------------------------------------------


class CommentEvent(DomainEvent):
    """An event about a comment: its payload carries the ticket's id and reference and the comment."""

    __slots__ = ()
    ticket_id: int
    #: `{"id", "key", "title", "project_id"}` of the ticket commented on.
    ticket: View
    comment: View


@dataclass(frozen=True, slots=True)
class CommentCreated(CommentEvent):
    type = EventType.COMMENT_CREATED
    ticket_id: int
    ticket: View
    comment: View
    origin: str
    #: Members @mentioned in the comment.
    mentions: tuple[int, ...]
    #: The ticket's watchers after the comment (its author and those mentioned included).
    watchers: tuple[int, ...]
    #: Where a chat comment came from (e.g. its message id), so relays never echo it back.
    meta: View


@dataclass(frozen=True, slots=True)
class CommentUpdated(CommentEvent):
    type = EventType.COMMENT_UPDATED
    ticket_id: int
    ticket: View
    comment: View
    origin: str


@dataclass(frozen=True, slots=True)
class CommentDeleted(CommentEvent):
    type = EventType.COMMENT_DELETED
    ticket_id: int
    ticket: View
    #: The comment as it was.
    comment: View
    origin: str


# -- projects and members ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectCreated(DomainEvent):
    type = EventType.PROJECT_CREATED
    #: As its creator (the owner) sees it.
    project: View


@dataclass(frozen=True, slots=True)
class ProjectUpdated(DomainEvent):
    type = EventType.PROJECT_UPDATED
    #: As the actor sees it.
    project: View


class MemberEvent(DomainEvent):
    """An event about a membership: its payload carries the member's view."""

    __slots__ = ()
    member: View

    @property
    def user_id(self) -> int:
        return int(self.member["user_id"])


@dataclass(frozen=True, slots=True)
class MemberAdded(MemberEvent):
    type = EventType.MEMBER_ADDED
    member: View
    #: The project as the new member sees it (their notifications socket's `project_added`).
    project: View


@dataclass(frozen=True, slots=True)
class MemberUpdated(MemberEvent):
    type = EventType.MEMBER_UPDATED
    member: View


@dataclass(frozen=True, slots=True)
class MemberRemoved(MemberEvent):
    type = EventType.MEMBER_REMOVED
    #: The membership as it was.
    member: View


@dataclass(frozen=True, slots=True)
class ProjectBroadcast(DomainEvent):
    """An application message for every tickets socket of the project (`hub.broadcast`)."""

    type = EventType.PROJECT_BROADCAST
    #: The application's own type for it (`deploy.finished`).
    event: str
    data: View


# -- users and sessions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotificationCustom(DomainEvent):
    """A notification for one user (`hub.notify`, a disabled webhook): routed like any other."""

    type = EventType.NOTIFICATION_CUSTOM
    user_id: int
    notification_type: str
    title: str
    message: str
    ticket_id: int | None


@dataclass(frozen=True, slots=True)
class SessionRevoked(DomainEvent):
    """Sessions of a user ended (written without a project). With `session_id`, that one session;
    without, every session but `except_session_id`, and the session-less tokens issued up to
    `issued_before` (unix seconds; None: whatever their age). The two shapes differ on the wire."""

    type = EventType.SESSION_REVOKED
    user_id: int
    session_id: str | None
    reason: str
    except_session_id: str | None = None
    issued_before: int | None = None

    @classmethod
    def everywhere(
        cls, user_id: int, *, reason: str, except_session_id: str | None, issued_before: int | None
    ) -> SessionRevoked:
        return cls(user_id, None, reason, except_session_id, issued_before)

    def payload_keys(self) -> tuple[str, ...]:
        if self.session_id is not None:
            return ("user_id", "session_id", "reason")
        return ("user_id", "session_id", "except_session_id", "issued_before", "reason")


# -- webhooks ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookDisabled(DomainEvent):
    """The worker gave up on an endpoint (never sent to receivers; admins and owners see it)."""

    type = EventType.WEBHOOK_DISABLED
    webhook_id: int
    reason: str


# `EventType.WEBHOOK_TEST` names the test message a receiver gets (`webhooks.messages.test_body`); it is
# never written to the outbox, so it has no class here.

#: Wire type → class, for every event the hub writes.
EVENTS: dict[str, type[DomainEvent]] = {
    cls.type: cls
    for cls in (
        TicketCreated,
        TicketUpdated,
        TicketAssigned,
        TicketStatusChanged,
        TicketDeleted,
        TicketWatchersChanged,
        CommentCreated,
        CommentUpdated,
        CommentDeleted,
        ProjectCreated,
        ProjectUpdated,
        MemberAdded,
        MemberUpdated,
        MemberRemoved,
        ProjectBroadcast,
        NotificationCustom,
        SessionRevoked,
        WebhookDisabled,
    )
}
#: Each event class's fields in order (its payload's keys).
_FIELDS: dict[type[DomainEvent], tuple[str, ...]] = {
    cls: tuple(field.name for field in fields(cls))  # type: ignore[arg-type]
    for cls in EVENTS.values()
}
#: Each event class's collection fields → their kind: `tuple` (lists on the wire) or `dict` (objects).
_EMPTY: dict[type[DomainEvent], dict[str, type[tuple[Any, ...]] | type[dict[str, Any]]]] = {
    cls: {
        name: kind
        for name, hint in get_type_hints(cls).items()
        if name in _FIELDS[cls] and (kind := get_origin(hint)) in (tuple, dict)
    }
    for cls in EVENTS.values()
}
#: Types of the events about a ticket itself (their payload's `ticket` is the ticket's view).
TICKET_EVENTS = frozenset(c.type for c in EVENTS.values() if issubclass(c, TicketEvent))
#: Types of the events about a comment (`ticket_id`, a ticket reference and the comment).
COMMENT_EVENTS = frozenset(c.type for c in EVENTS.values() if issubclass(c, CommentEvent))


def ticket_id_of(type_: str, payload: Mapping[str, Any]) -> int | None:
    """The ticket a `ticket.*` or `comment.*` event is about (stored with the event as `ticket_id`, so a
    ticket's timeline is read by index); None for any other event, or a payload that names none."""
    if type_ in COMMENT_EVENTS:
        value = payload.get("ticket_id")
    elif type_ in TICKET_EVENTS:
        value = (payload.get("ticket") or {}).get("id")
    else:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def parse_event(type_: str, payload: Mapping[str, Any]) -> DomainEvent | None:
    """The typed event a stored `(type, payload)` records; None for a type the hub does not write."""
    cls = EVENTS.get(type_)
    return None if cls is None else cls.from_payload(payload)
