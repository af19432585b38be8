"""Plain words for tickets and changes, shared by every chat platform's rendering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.domain.enums import EventType

STATUS_LABELS = {
    "todo": "To do",
    "in_progress": "In progress",
    "in_review": "In review",
    "done": "Done",
    "canceled": "Canceled",
}
PRIORITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "urgent": "Urgent"}
#: REST writes (`api`) come from the board or scripts; chat shows both as "web". Inbound integrations'
#: changes (docs/integrations.md) name their sender; generic ones say "integration".
ORIGIN_LABELS = {
    "web": "web",
    "api": "web",
    "slack": "Slack",
    "discord": "Discord",
    "github": "GitHub",
    "alertmanager": "Alertmanager",
    "integration": "integration",
}


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "?")


def priority_label(priority: str | None) -> str:
    return PRIORITY_LABELS.get(priority or "", priority or "?")


def person(user: dict[str, Any] | None) -> str:
    return str(user["name"]) if user else "nobody"


def ticket_url(public_url: str, ticket: dict[str, Any]) -> str:
    """The board's address of a ticket (`#/p/{project}/t/{ticket}`, the board's own routing)."""
    return f"{public_url.rstrip('/')}/#/p/{ticket['project_id']}/t/{ticket['id']}"


def ticket_line(ticket: dict[str, Any]) -> str:
    """`OPS-7 Pager fires twice — In progress · High · Bob Baker`."""
    return (
        f"{ticket['key']} {ticket['title']} — {status_label(ticket.get('status'))} · "
        f"{priority_label(ticket.get('priority'))} · {person(ticket.get('assignee'))}"
    )


def via(origin: str | None) -> str:
    return f" (via {ORIGIN_LABELS.get(origin or '', origin or 'web')})"


def _moved(ticket: dict[str, Any], changes: dict[str, Any]) -> str:
    old, new = changes.get("status", [None, ticket.get("status")])
    return f"moved it {status_label(old)} → {status_label(new)}"


def _changed(ticket: dict[str, Any], changes: dict[str, Any]) -> str:
    return f"changed {', '.join(sorted(changes)) or 'details'}"


#: How an assignment reads in a thread (the Slack relay mentions the new assignee after it).
ASSIGNED = "assigned it to"
#: What the actor did, by event type (`changed <fields>` unless listed).
_DID: dict[str, Callable[[dict[str, Any], dict[str, Any]], str]] = {
    EventType.TICKET_STATUS_CHANGED: _moved,
    EventType.TICKET_ASSIGNED: lambda ticket, _changes: f"{ASSIGNED} {person(ticket.get('assignee'))}",
    EventType.TICKET_DELETED: lambda _ticket, _changes: "deleted it",
    EventType.TICKET_CREATED: lambda _ticket, _changes: "created it",
}


def change_line(event_type: str, payload: dict[str, Any], actor_name: str) -> str:
    """One line describing an event for a ticket's thread: `Alice Archer: To do → In progress (via web)`."""
    did = _DID.get(event_type, _changed)(payload.get("ticket") or {}, payload.get("changes") or {})
    return f"{actor_name} {did}{via(payload.get('origin'))}"


def actor_name(payload: dict[str, Any], actor_id: int | None, names: dict[int, str]) -> str:
    """The acting user's name, from the lookup the relay made for the batch."""
    if actor_id is not None and actor_id in names:
        return names[actor_id]
    return "Someone"
