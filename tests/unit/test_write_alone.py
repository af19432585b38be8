"""Which events a service may write in one autocommitted statement: those no notification comes of."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.adapters.db.engine import Database
from hub.adapters.db.uow import UnitOfWork
from hub.services.notifications.routing import notifications_for, would_notify

ACTOR = 7


def created(**ticket: Any) -> dict[str, Any]:
    mentions = ticket.pop("mentions", [])
    view = {"id": 0, "key": "-0", "title": "T", "assignee": None, "watchers": [ACTOR], **ticket}
    return {"ticket": view, "origin": "api", "mentions": mentions}


@pytest.mark.parametrize(
    ("type_", "payload", "alone"),
    [
        ("ticket.created", created(), True),
        ("ticket.created", created(assignee={"id": ACTOR, "name": "A", "email": "a@x"}), True),
        ("ticket.created", created(mentions=[ACTOR]), True),  # mentioning oneself notifies nobody
        ("ticket.created", created(assignee={"id": 8, "name": "B", "email": "b@x"}), False),
        ("ticket.created", created(mentions=[9]), False),
        ("ticket.status_changed", created(watchers=[ACTOR, 8]), False),
    ],
)
def test_only_events_that_notify_nobody_may_be_written_alone(
    tmp_path: Path, type_: str, payload: dict[str, Any], alone: bool
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")  # nothing connects
    uow = UnitOfWork(db, None, notifications_for, would_notify)
    event = uow.event(type_, project_id=1, actor_id=ACTOR, payload=payload)
    assert uow.can_write_alone(event) is alone
    # Without knowing what the hook wants, nothing may skip the transaction; without a hook, all may.
    assert UnitOfWork(db, None, notifications_for).can_write_alone(event) is False
    assert UnitOfWork(db).can_write_alone(event) is True
