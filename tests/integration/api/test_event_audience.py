"""Each event type has an audience: the activity feed shows a member only what their role may see."""

from __future__ import annotations

from hub.context import HubContext
from hub.domain.enums import Role
from hub.domain.events import WebhookDisabled
from hub.realtime.messages import ACTIONS
from hub.services.notifications import notifications
from hub.services.policy import can_see_event
from tests.support.api import Api


async def _types(api: Api, pid: int, token: str) -> list[tuple[str, dict]]:
    reply = await api.get(f"/api/projects/{pid}/events", token=token, query={"after": 0, "limit": 500})
    assert reply.status == 200, reply.body
    return [(item["type"], item["payload"]) for item in reply.body["items"]]


async def test_viewers_see_ticket_activity_but_not_webhook_or_others_notifications(
    api: Api, context: HubContext
) -> None:
    owner, admin, viewer = await api.user("Owner"), await api.user("Admin"), await api.user("Viewer")
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, admin, "admin")
    await api.add(owner, pid, viewer, "viewer")
    await api.ticket(owner, pid, title="Visible to all")
    # What the webhook worker writes when it gives up on an endpoint, and hub.notify(...) for two users.
    async with context.uow() as uow:
        uow.emit(WebhookDisabled(webhook_id=1, reason="x"), project_id=pid, actor_id=None)
        await uow.commit()
    await notifications.send_custom(context.uow(), admin.id, title="For the admin only", project_id=pid)
    await notifications.send_custom(context.uow(), viewer.id, title="For the viewer", project_id=pid)

    seen_by_viewer = await _types(api, pid, viewer.token)
    kinds = [kind for kind, _ in seen_by_viewer]
    assert "ticket.created" in kinds
    assert "webhook.disabled" not in kinds
    personal = [payload["title"] for kind, payload in seen_by_viewer if kind == "notification.custom"]
    assert personal == ["For the viewer"]

    seen_by_admin = await _types(api, pid, admin.token)
    assert "webhook.disabled" in [kind for kind, _ in seen_by_admin]
    personal = [payload["title"] for kind, payload in seen_by_admin if kind == "notification.custom"]
    assert personal == ["For the admin only"]


async def test_paging_walks_past_hidden_events(api: Api, context: HubContext) -> None:
    owner, viewer = await api.user(), await api.user()
    pid = (await api.project(owner))["id"]
    await api.add(owner, pid, viewer, "viewer")
    async with context.uow() as uow:
        for n in range(3):
            uow.emit(WebhookDisabled(webhook_id=n, reason=""), project_id=pid, actor_id=None)
        await uow.commit()
    await api.ticket(owner, pid, title="After the hidden ones")
    seen: list[str] = []
    after = 0
    for _ in range(20):
        page = await api.get(
            f"/api/projects/{pid}/events", token=viewer.token, query={"after": after, "limit": 1}
        )
        seen += [item["type"] for item in page.body["items"]]
        if page.body["next_after"] == after:
            break
        after = page.body["next_after"]
    assert "ticket.created" in seen
    assert "webhook.disabled" not in seen


def test_what_the_ticket_socket_carries_every_member_may_see() -> None:
    # The tickets socket shows exactly the types in ACTIONS to every member, viewers included.
    for kind in ACTIONS:
        assert can_see_event(Role.VIEWER, 1, kind, {}), kind
    assert not can_see_event(Role.MEMBER, 1, "webhook.test", {})
    # A type nobody classified is private to admins and owners.
    assert not can_see_event(Role.MEMBER, 1, "something.new", {})
    assert can_see_event(Role.ADMIN, 1, "something.new", {})
