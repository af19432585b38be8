"""What a webhook message looks like: which events are sent, their JSON body and their `webhook-id`.

No I/O here: the outbox consumer, the test sender and the docs all rely on these few functions, so the
body a receiver gets is defined in exactly one place.

Body (docs/webhooks.md)::

    {"type": "ticket.created", "timestamp": "2026-05-01T12:00:00.123456Z",
     "event_id": 42, "actor_id": 7, "data": {...}}

`data` is the ticket for ticket events (plus `changes` when the event has them) and
`{"ticket": {...}, "comment": {...}}` for comment events. `event_id` (the outbox id, increasing) and
`actor_id` (who made the change; null for system events) sit beside `type` so `data` keeps exactly the
shape the REST API returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import orjson

from hub.adapters.db.models import Event
from hub.domain.enums import EventType
from hub.services.views import iso

#: Ticket events sent to receivers (following a ticket, `ticket.watchers_changed`, is not among them).
TICKET_EVENTS: tuple[str, ...] = (
    EventType.TICKET_CREATED,
    EventType.TICKET_UPDATED,
    EventType.TICKET_ASSIGNED,
    EventType.TICKET_STATUS_CHANGED,
    EventType.TICKET_DELETED,
)
COMMENT_EVENTS: tuple[str, ...] = (
    EventType.COMMENT_CREATED,
    EventType.COMMENT_UPDATED,
    EventType.COMMENT_DELETED,
)
#: The outbox event types an endpoint can subscribe to (the contract's list, minus `webhook.test`).
WEBHOOK_EVENT_TYPES: tuple[str, ...] = TICKET_EVENTS + COMMENT_EVENTS
TEST_EVENT = EventType.WEBHOOK_TEST


def is_webhook_event(event_type: str) -> bool:
    return event_type in WEBHOOK_EVENT_TYPES


def subscribes(event_types: Iterable[str] | None, event_type: str) -> bool:
    """Whether an endpoint with this filter (None: everything) gets `event_type`."""
    return event_type in WEBHOOK_EVENT_TYPES and (event_types is None or event_type in event_types)


def _ticket_data(payload: dict[str, Any]) -> dict[str, Any]:
    data = dict(payload.get("ticket") or {})
    if "changes" in payload:
        data["changes"] = payload["changes"]
    return data


def _comment_data(payload: dict[str, Any]) -> dict[str, Any]:
    return {"ticket": payload.get("ticket"), "comment": payload.get("comment")}


#: How each type's `data` is made from its payload: the ticket (with `changes`) unless listed here.
_DATA: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = dict.fromkeys(COMMENT_EVENTS, _comment_data)


def event_data(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The `data` of an outbox event's message."""
    return _DATA.get(event_type, _ticket_data)(payload)


def encode(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def message_body(event: Event) -> str:
    """The exact JSON text sent for an outbox event (shared by every endpoint that gets it)."""
    return encode(
        {
            "type": event.type,
            "timestamp": iso(event.created_at),
            "event_id": event.id,
            "actor_id": event.actor_id,
            "data": event_data(event.type, event.payload),
        }
    )


def test_body(*, webhook_id: int, project_id: int, actor_id: int, now: datetime) -> str:
    return encode(
        {
            "type": TEST_EVENT,
            "timestamp": iso(now),
            "event_id": None,
            "actor_id": actor_id,
            "data": {
                "webhook_id": webhook_id,
                "project_id": project_id,
                "message": "This is a test event from Switchboard.",
            },
        }
    )


def msg_id(event_id: int, endpoint_id: int) -> str:
    """The `webhook-id` of an event's message to an endpoint: stable across retries and redeliveries."""
    return f"msg_{event_id}_{endpoint_id}"
