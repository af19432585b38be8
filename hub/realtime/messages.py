"""Wire messages: built once per event, shared as one `str` by every socket that receives them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from hub.domain.enums import SOCKET_ACTIONS, EventType
from hub.domain.events import COMMENT_EVENTS, TICKET_EVENTS

#: Ticket events shown on the ticket socket, with the action name clients know.
ACTIONS: dict[str, str] = {str(k): v for k, v in SOCKET_ACTIONS.items()}
ACTIONS[str(EventType.TICKET_WATCHERS_CHANGED)] = "updated"


def dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def _ticket_data(payload: dict[str, Any]) -> Any:
    return payload["ticket"]


def _comment_data(payload: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"ticket_id": payload["ticket_id"], "comment": payload["comment"]}
    if "ticket" in payload:
        data["ticket"] = payload["ticket"]
    return data


#: The `data` of a `ticket_update`, by event type: the ticket, or the comment with its ticket.
_DATA: dict[str, Callable[[dict[str, Any]], Any]] = {
    **{str(kind): _ticket_data for kind in TICKET_EVENTS},
    **{str(kind): _comment_data for kind in COMMENT_EVENTS},
}


def ticket_update(event: dict[str, Any]) -> str | None:
    """The `ticket_update` message for an event (as in the bus envelope), or None if not a ticket event."""
    action = ACTIONS.get(event["type"])
    if action is None:
        return None
    payload = event["payload"]
    data = _DATA[event["type"]](payload)
    return dumps(
        {
            "type": "ticket_update",
            "action": action,
            "event_id": event["id"],
            "project_id": event["project_id"],
            "data": data,
            "origin": payload.get("origin"),
        }
    )


def broadcast(event: dict[str, Any]) -> str:
    """The `broadcast` message of a `project.broadcast` event (hub.services.projects.broadcast)."""
    payload = event["payload"]
    return dumps(
        {
            "type": "broadcast",
            "event": payload["event"],
            "data": payload["data"],
            "event_id": event["id"],
            "project_id": event["project_id"],
        }
    )


#: The `action` of a `member_update`, by event type.
MEMBER_ACTIONS: dict[str, str] = {
    str(EventType.MEMBER_ADDED): "added",
    str(EventType.MEMBER_UPDATED): "updated",
    str(EventType.MEMBER_REMOVED): "removed",
}


def member_update(event: dict[str, Any]) -> str:
    """The `member_update` message of a `member.*` event: the member as the members list shows it, so
    boards keep their assignee pickers current."""
    return dumps(
        {
            "type": "member_update",
            "action": MEMBER_ACTIONS[event["type"]],
            "event_id": event["id"],
            "project_id": event["project_id"],
            "data": event["payload"]["member"],
        }
    )


def project_update(event: dict[str, Any]) -> str:
    """The `project_update` message of a `project.updated` event. The event's project carries the
    *actor's* role; every member sees this message, so it goes without one."""
    project = {k: v for k, v in event["payload"]["project"].items() if k != "role"}
    return dumps(
        {
            "type": "project_update",
            "event_id": event["id"],
            "project_id": event["project_id"],
            "data": project,
        }
    )


#: What a tickets socket shows for each type: a `ticket_update` unless listed here.
_FOR_TICKETS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    str(EventType.PROJECT_BROADCAST): broadcast,
    str(EventType.PROJECT_UPDATED): project_update,
    **{kind: member_update for kind in MEMBER_ACTIONS},
}


def for_tickets(event: dict[str, Any]) -> str | None:
    """What a tickets socket shows for an event: a `ticket_update`, a `broadcast`, a `member_update`, a
    `project_update`, or None (nothing)."""
    return _FOR_TICKETS.get(event["type"], ticket_update)(event)


def notification(view: dict[str, Any]) -> str:
    return dumps({"type": "notification", "event_id": view["event_id"], "data": view})


def error(code: str, message: str) -> str:
    return dumps({"type": "error", "code": code, "message": message})


PONG = dumps({"type": "pong"})
PING = dumps({"type": "ping"})
RESYNC = dumps({"type": "resync_required"})
