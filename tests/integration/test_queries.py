"""Ticket lists load people, labels and watchers in a fixed number of statements (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from hub.context import HubContext
from tests.support.api import Api


@contextmanager
def count_statements(context: HubContext) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            return
        if "FROM events" in statement or "notifications.event_id IN" in statement:
            # the fan-out's once-a-second outbox poll (events, then their notifications when it finds
            # some the bus did not bring) runs in the background on the same engine
            return
        statements.append(statement)

    engine = context.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _list(api: Api, token: str, pid: int) -> int:
    reply = await api.get(f"/api/projects/{pid}/tickets", query={"limit": 200}, token=token)
    assert reply.status == 200
    return len(reply.body["items"])


async def test_ticket_list_statement_count_does_not_grow(api: Api, context: HubContext) -> None:
    owner, bob = await api.user(), await api.user()
    pid = int((await api.project(owner))["id"])
    await api.add(owner, pid, bob, "member")
    await api.ticket(owner, pid, assignee_id=bob.id, labels=["a"])
    with count_statements(context) as few:
        assert await _list(api, owner.token, pid) == 1
    for n in range(25):
        await api.ticket(
            owner, pid, title=f"T{n}", assignee_id=(bob.id if n % 2 else owner.id), labels=[f"l{n}"]
        )
    with count_statements(context) as many:
        assert await _list(api, owner.token, pid) == 26
    assert len(many) == len(few)
    assert len(many) <= 6, many
