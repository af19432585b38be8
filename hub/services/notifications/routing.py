"""From events to notifications: who hears about what, and where.

Runs inside the writing transaction (a unit-of-work hook), so a committed change always has its
notifications and a rolled-back one has none. Rules:

- `ticket.assigned` (and `ticket.created` with an assignee) → the assignee: `ticket_assigned`;
- `comment.created` → the ticket's watchers (reporter, assignee, earlier commenters, followers):
  `comment_added`; anyone @mentioned gets `mention` instead;
- `ticket.status_changed` → the watchers: `status_changed`;
- a new @mention in a description → that user: `mention`;
- `notification.custom` (from `hub.notify`) → its user.

Never to the actor themself, and about a project only to its **current** members
(`policy.receives_notification`): whoever was removed meanwhile — still named in an event's watchers,
say — gets nothing, site admins without a membership neither. Membership is read once per batch, in
this transaction, after the events were written: on PostgreSQL under the outbox lock, which a
removal's own `member.removed` event must take too, so a removal either committed before this read or
commits after these notifications (which then predate it). Each recipient's preferences then
decide, per destination (web, Slack, Discord), immediate, digest or off; quiet hours turn immediate
chat messages into digest entries.
A notification every destination has turned off is not stored at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event, Notification, User
from hub.adapters.db.types import utcnow
from hub.domain.enums import EventType
from hub.domain.events import (
    CommentCreated,
    NotificationCustom,
    TicketAssigned,
    TicketCreated,
    TicketStatusChanged,
    TicketUpdated,
    View,
    parse_event,
)
from hub.services.access import memberships_among
from hub.services.notifications import preferences
from hub.services.policy import receives_notification

Draft = tuple[int, str, str, str]  # (user_id, notification_type, title, message)


def _label(ticket: View) -> str:
    return f"{ticket.get('key', '')} {ticket.get('title', '')}".strip()


def _others(user_ids: Iterable[int], actor: int | None) -> list[int]:
    return [uid for uid in user_ids if uid != actor]


def _assignment(event: TicketCreated | TicketAssigned, actor: int | None) -> list[Draft]:
    """The assignee hears that the ticket is theirs (unless they assigned it themself)."""
    assignee = event.assignee_id
    if not assignee or assignee == actor:
        return []
    label = _label(event.ticket)
    return [(assignee, "ticket_assigned", f"Assigned to you: {label}", label)]


def _description_mentions(event: TicketCreated | TicketUpdated, actor: int | None) -> list[Draft]:
    """Members newly @mentioned in a description hear about it."""
    label, excerpt = _label(event.ticket), event.ticket.get("description", "")[:200]
    return [
        (uid, "mention", f"You were mentioned in {label}", excerpt) for uid in _others(event.mentions, actor)
    ]


def _created(event: TicketCreated, actor: int | None) -> list[Draft]:
    return _assignment(event, actor) + _description_mentions(event, actor)


def _status_changed(event: TicketStatusChanged, actor: int | None) -> list[Draft]:
    """The ticket's watchers hear of its new status."""
    label, (old, new) = _label(event.ticket), event.old_and_new
    title, message = f"{label}: {old} → {new}", f"Status is now {new}"
    return [(uid, "status_changed", title, message) for uid in _others(event.watcher_ids, actor)]


def _commented(event: CommentCreated, actor: int | None) -> list[Draft]:
    """Those @mentioned hear of the mention; the ticket's other watchers of the comment."""
    author = (event.comment.get("author") or {}).get("name", "Someone")
    excerpt = (event.comment.get("body") or "")[:200]
    label = _label(event.ticket)
    mentioned = _others(event.mentions, actor)
    drafts = [(uid, "mention", f"{author} mentioned you on {label}", excerpt) for uid in mentioned]
    for uid in _others(event.watchers, actor):
        if uid not in mentioned:
            drafts.append((uid, "comment_added", f"{author} commented on {label}", excerpt))
    return drafts


def _custom(event: NotificationCustom, actor: int | None) -> list[Draft]:
    return [(int(event.user_id), str(event.notification_type), event.title, event.message)]


#: Who hears of each type of event (see the module docstring); types not listed notify nobody.
_DRAFTERS: dict[str, Callable[[Any, int | None], list[Draft]]] = {
    EventType.TICKET_CREATED: _created,
    EventType.TICKET_ASSIGNED: _assignment,
    EventType.TICKET_UPDATED: _description_mentions,
    EventType.TICKET_STATUS_CHANGED: _status_changed,
    EventType.COMMENT_CREATED: _commented,
    EventType.NOTIFICATION_CUSTOM: _custom,
}


def _drafts(event: Event) -> list[Draft]:
    drafter = _DRAFTERS.get(event.type)
    if drafter is None:
        return []
    return drafter(parse_event(event.type, event.payload), event.actor_id)


def would_notify(event: Event) -> bool:
    """Whether `notifications_for` may create a notification for `event` (before it is written: the
    answer depends on its type, actor and recipients, not on its id or the ticket's key)."""
    return bool(_drafts(event))


def _decide(prefs: dict[str, Any], kind: str, now: datetime) -> dict[str, str]:
    modes = dict(prefs["types"].get(kind) or prefs["types"]["custom"])
    if preferences.in_quiet_hours(prefs, now):
        for destination in ("slack", "discord"):
            if modes.get(destination) == "immediate":
                modes[destination] = "digest"
    return {d: modes.get(d, "immediate") for d in preferences.DESTINATIONS}


async def notifications_for(session: AsyncSession, events: Sequence[Event]) -> list[Notification]:
    """Create (add to the session) the notifications the events call for: the recipients'
    preferences and memberships are loaded (one query each), `plan_notifications` decides."""
    user_ids = {draft[0] for event in events for draft in _drafts(event)}
    if not user_ids:
        return []
    rows = await session.execute(select(User.id, User.preferences).where(User.id.in_(user_ids)))
    stored = {uid: prefs for uid, prefs in rows}
    projects = {event.project_id for event in events if event.project_id is not None}
    members = await memberships_among(session, projects, user_ids)
    created = plan_notifications(events, stored, members, utcnow())
    session.add_all(created)
    return created


def plan_notifications(
    events: Sequence[Event],
    stored_preferences: Mapping[int, dict[str, Any] | None],
    members: set[tuple[int, int]],
    now: datetime,
) -> list[Notification]:
    """The notifications the events call for (not added anywhere), from plain values: each existing
    recipient's stored preferences (a user missing from the mapping is deleted: nothing for them),
    the (project_id, user_id) memberships among the events' projects and recipients, and the time
    quiet hours are judged by. No I/O, so the rules can be tested without a database."""
    planned = [(event, draft) for event in events for draft in _drafts(event)]
    prefs = {uid: preferences.merged(stored) for uid, stored in stored_preferences.items()}
    created: list[Notification] = []
    seen: set[tuple[int, int]] = set()
    for event, (user_id, kind, title, message) in planned:
        if user_id not in prefs or (event.id, user_id) in seen:
            continue  # deleted user, or already notified about this event
        if not receives_notification(event.project_id, user_id, members):
            continue  # not (or no longer) a member of the project
        seen.add((event.id, user_id))
        modes = _decide(prefs[user_id], kind, now)
        if set(modes.values()) == {"off"}:
            continue
        ticket = event.payload.get("ticket") or {}
        created.append(
            Notification(
                user_id=user_id,
                notification_type=kind,
                title=title[:200],
                message=message,
                project_id=event.project_id,
                ticket_id=ticket.get("id") or event.payload.get("ticket_id"),
                event_id=event.id,
                deliver_web=modes["web"],
                deliver_slack=modes["slack"],
                deliver_discord=modes["discord"],
                created_at=now,
            )
        )
    return created
