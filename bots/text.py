"""Plain words for tickets and changes, shared by every chat platform's rendering."""

from __future__ import annotations

from typing import Any

STATUS_LABELS = {
    "todo": "To do",
    "in_progress": "In progress",
    "in_review": "In review",
    "done": "Done",
    "canceled": "Canceled",
}
STATUS_ORDER = tuple(STATUS_LABELS)
PRIORITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "urgent": "Urgent"}
#: REST writes (`api`) come from the board or scripts; chat shows both as "web".
ORIGIN_LABELS = {"web": "web", "api": "web", "slack": "Slack", "discord": "Discord"}


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


def change_line(event_type: str, payload: dict[str, Any], actor_name: str) -> str:
    """One line describing an event for a ticket's thread: `Alice Archer: To do → In progress (via web)`."""
    ticket = payload.get("ticket") or {}
    changes = payload.get("changes") or {}
    origin = via(payload.get("origin"))
    if event_type == "ticket.status_changed":
        old, new = changes.get("status", [None, ticket.get("status")])
        return f"{actor_name} moved it {status_label(old)} → {status_label(new)}{origin}"
    if event_type == "ticket.assigned":
        return f"{actor_name} assigned it to {person(ticket.get('assignee'))}{origin}"
    if event_type == "ticket.deleted":
        return f"{actor_name} deleted it{origin}"
    if event_type == "ticket.created":
        return f"{actor_name} created it{origin}"
    fields = ", ".join(sorted(changes)) or "details"
    return f"{actor_name} changed {fields}{origin}"


def actor_name(payload: dict[str, Any], actor_id: int | None, names: dict[int, str]) -> str:
    """The acting user's name, from the lookup the relay made for the batch."""
    if actor_id is not None and actor_id in names:
        return names[actor_id]
    return "Someone"
