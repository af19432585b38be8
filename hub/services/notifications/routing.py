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

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import Event, Notification, User
from hub.adapters.db.types import utcnow
from hub.services.notifications import preferences
from hub.services.policy import memberships_among, receives_notification

Draft = tuple[int, str, str, str]  # (user_id, notification_type, title, message)


def _ticket_label(ticket: dict[str, Any]) -> str:
    return f"{ticket.get('key', '')} {ticket.get('title', '')}".strip()


def _drafts(event: Event) -> list[Draft]:
    payload = event.payload
    actor = event.actor_id
    ticket = payload.get("ticket") or {}
    label = _ticket_label(ticket)
    drafts: list[Draft] = []
    mentioned = [uid for uid in payload.get("mentions") or [] if uid != actor]
    if event.type in ("ticket.assigned", "ticket.created"):
        assignee = (ticket.get("assignee") or {}).get("id")
        if assignee and assignee != actor:
            drafts.append((assignee, "ticket_assigned", f"Assigned to you: {label}", label))
    if event.type == "comment.created":
        comment = payload.get("comment") or {}
        author = (comment.get("author") or {}).get("name", "Someone")
        excerpt = (comment.get("body") or "")[:200]
        for uid in mentioned:
            drafts.append((uid, "mention", f"{author} mentioned you on {label}", excerpt))
        for uid in payload.get("watchers") or []:
            if uid != actor and uid not in mentioned:
                drafts.append((uid, "comment_added", f"{author} commented on {label}", excerpt))
        return drafts
    if event.type in ("ticket.created", "ticket.updated"):
        for uid in mentioned:
            drafts.append(
                (uid, "mention", f"You were mentioned in {label}", ticket.get("description", "")[:200])
            )
    if event.type == "ticket.status_changed":
        old, new = (payload.get("changes") or {}).get("status", [None, ticket.get("status")])
        for uid in ticket.get("watchers") or []:
            if uid != actor:
                drafts.append((uid, "status_changed", f"{label}: {old} → {new}", f"Status is now {new}"))
    if event.type == "notification.custom":
        drafts.append(
            (int(payload["user_id"]), str(payload["notification_type"]), payload["title"], payload["message"])
        )
    return drafts


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
    """Create (add to the session) the notifications the events call for."""
    planned = [(event, draft) for event in events for draft in _drafts(event)]
    if not planned:
        return []
    user_ids = {draft[0] for _event, draft in planned}
    rows = await session.execute(select(User.id, User.preferences).where(User.id.in_(user_ids)))
    prefs = {uid: preferences.merged(stored) for uid, stored in rows}
    projects = {event.project_id for event, _draft in planned if event.project_id is not None}
    members = await memberships_among(session, projects, user_ids)
    now = utcnow()
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
    session.add_all(created)
    return created
