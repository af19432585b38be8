"""What a writer sends and how a subscriber recognises it.

Every benchmark ticket's title is `bench <seq> <t_send>`: the sequence number identifies the event
(for loss and duplicate counts) and `t_send` is `time.monotonic()` in the writer just before the
request went out. CLOCK_MONOTONIC is system-wide on Linux, so a subscriber in another process
computes the delivery latency as its own `time.monotonic()` at receipt minus `t_send`.

The baseline server broadcasts whatever body it is given; `baseline_message()` renders the same
`ticket_update` shape the hub sends for a created ticket, so both carry messages of the same size.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

PREFIX = "bench"
#: A description that brings a created ticket's socket message to about 700 bytes, like a real one.
DESCRIPTION = (
    "Customers on the EU cluster report that exports time out after 30 seconds when the report "
    "covers more than one quarter. Reproduced with the staging data set; the query plan shows a "
    "sequential scan on events. Needs an index or a paginated export before Friday's release."
)


def title(seq: int, t_send: float) -> str:
    return f"{PREFIX} {seq} {t_send:.6f}"


def parse_title(text: str) -> tuple[int, float] | None:
    """(seq, t_send) of a benchmark title; None for any other ticket (e.g. warm-up ones)."""
    parts = text.split(" ")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    try:
        return int(parts[1]), float(parts[2])
    except ValueError:
        return None


def baseline_message(seq: int, t_send: float, project_id: int = 1) -> bytes:
    """A `ticket_update` for a created ticket, shaped and sized like the hub's."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    number = seq + 1
    ticket = {
        "id": number,
        "key": f"BENCH-{number}",
        "number": number,
        "project_id": project_id,
        "title": title(seq, t_send),
        "description": DESCRIPTION,
        "status": "todo",
        "priority": "medium",
        "assignee": None,
        "reporter": {"id": 1, "name": "Bench Owner", "email": "owner@bench.example.com"},
        "labels": [],
        "watchers": [1],
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    return orjson.dumps(
        {
            "type": "ticket_update",
            "action": "created",
            "event_id": number,
            "project_id": project_id,
            "data": ticket,
            "origin": "api",
        }
    )
