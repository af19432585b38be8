"""Notifications: listing with unread counts, read, read-all; nobody reads another's."""

from __future__ import annotations

from hub.adapters.db.models import Notification
from hub.context import HubContext
from tests.support.api import Api


async def _notify(context: HubContext, user_id: int, n: int) -> list[int]:
    async with context.uow() as uow:
        rows = [Notification(user_id=user_id, notification_type="custom", title=f"N{i}") for i in range(n)]
        uow.session.add_all(rows)
        await uow.commit()
        return [row.id for row in rows]


async def test_list_read_and_read_all(api: Api, context: HubContext) -> None:
    user, other = await api.user(), await api.user()
    ids = await _notify(context, user.id, 3)
    await _notify(context, other.id, 1)
    listed = await api.get("/api/notifications", token=user.token)
    assert listed.body["unread_count"] == 3
    assert [n["title"] for n in listed.body["items"]] == ["N2", "N1", "N0"]
    assert set(listed.body["items"][0]) >= {
        "id",
        "notification_type",
        "title",
        "message",
        "timestamp",
        "ticket_id",
        "project_id",
        "read",
    }
    read = await api.post(f"/api/notifications/{ids[0]}/read", token=user.token)
    assert read.body["read"] is True
    unread = await api.get("/api/notifications", query={"unread": "true"}, token=user.token)
    assert [n["title"] for n in unread.body["items"]] == ["N2", "N1"]
    assert unread.body["unread_count"] == 2
    assert (await api.post("/api/notifications/read-all", token=user.token)).body == {"updated": 2}
    assert (await api.get("/api/notifications", token=user.token)).body["unread_count"] == 0
    assert (await api.get("/api/notifications", token=other.token)).body["unread_count"] == 1


async def test_someone_elses_notification_is_404(api: Api, context: HubContext) -> None:
    user, other = await api.user(), await api.user()
    (theirs,) = await _notify(context, other.id, 1)
    assert (await api.post(f"/api/notifications/{theirs}/read", token=user.token)).status == 404
