"""Notifications generated from events, routed by preferences, delivered on every socket of the user."""

from __future__ import annotations

from hub import notify
from tests.integration.realtime.conftest import Live
from tests.support.live import ws_connect


async def test_assignment_comment_status_and_mention_notifications(live: Live) -> None:
    alice, bob, cat = (
        await live.api.user("Alice Archer"),
        await live.api.user("Bob Baker"),
        await live.api.user("Cat Cole"),
    )
    pid = (await live.api.project(alice))["id"]
    await live.api.add(alice, pid, bob, "member")
    await live.api.add(alice, pid, cat, "member")
    async with (
        ws_connect(live.address, "/ws/notifications/", token=bob.token) as bob_tab1,
        ws_connect(live.address, "/ws/notifications/", token=bob.token) as bob_tab2,
        ws_connect(live.address, "/ws/notifications/", token=alice.token) as alice_ws,
        ws_connect(live.address, "/ws/notifications/", token=cat.token) as cat_ws,
    ):
        ticket = await live.api.ticket(alice, pid, title="Fix login", assignee_id=bob.id)
        for tab in (bob_tab1, bob_tab2):
            message = await tab.recv()
            assert message["type"] == "notification"
            assert message["data"]["notification_type"] == "ticket_assigned"
            assert message["data"]["ticket_id"] == ticket["id"]
            assert message["data"]["read"] is False
            assert set(message["data"]) >= {"id", "title", "message", "timestamp", "project_id"}
        assert await alice_ws.silent(0.3) == []  # never to the actor
        await live.api.post(
            f"/api/tickets/{ticket['id']}/comments", json={"body": "done? @cat.cole"}, token=bob.token
        )
        alice_note = await alice_ws.recv()
        assert alice_note["data"]["notification_type"] == "comment_added"  # reporter watches
        cat_note = await cat_ws.recv()
        assert cat_note["data"]["notification_type"] == "mention"
        assert await bob_tab1.silent(0.3) == []  # bob commented: nothing for him
        await live.api.patch(f"/api/tickets/{ticket['id']}", json={"status": "done"}, token=alice.token)
        for ws in (bob_tab1, cat_ws):
            assert (await ws.recv())["data"]["notification_type"] == "status_changed"
    listed = await live.api.get("/api/notifications", token=bob.token)
    assert [n["notification_type"] for n in listed.body["items"]] == ["status_changed", "ticket_assigned"]
    assert listed.body["unread_count"] == 2


async def test_preferences_route_notifications(live: Live) -> None:
    alice, bob = await live.api.user(), await live.api.user()
    pid = (await live.api.project(alice))["id"]
    await live.api.add(alice, pid, bob, "member")
    prefs = await live.api.get("/api/me/preferences", token=bob.token)
    assert prefs.body["types"]["ticket_assigned"] == {
        "web": "immediate",
        "slack": "immediate",
        "discord": "immediate",
    }
    changed = await live.api.put(
        "/api/me/preferences",
        json={
            "types": {"ticket_assigned": {"web": "off", "slack": "digest"}},
            "quiet_hours": {"enabled": True},
        },
        token=bob.token,
    )
    assert changed.status == 200
    assert changed.body["types"]["ticket_assigned"] == {
        "web": "off",
        "slack": "digest",
        "discord": "immediate",
    }
    assert changed.body["quiet_hours"]["enabled"] is True
    bad = await live.api.put(
        "/api/me/preferences",
        json={
            "types": {"mention": {"web": "loud"}},
            "quiet_hours": {"start": "25:00", "timezone": "Mars/Base"},
        },
        token=bob.token,
    )
    assert bad.status == 422
    assert set(bad.error_fields()) >= {"types.mention.web", "quiet_hours.start"}
    async with ws_connect(live.address, "/ws/notifications/", token=bob.token) as ws:
        await live.api.ticket(alice, pid, title="quiet", assignee_id=bob.id)
        assert await ws.silent(0.5) == []
    assert (await live.api.get("/api/notifications", token=bob.token)).body["items"] == []


async def test_hub_notify_reaches_every_socket(live: Live) -> None:
    user = await live.api.user()
    async with (
        ws_connect(live.address, "/ws/notifications/", token=user.token) as one,
        ws_connect(live.address, "/ws/notifications/", token=user.token) as two,
    ):
        await notify(user.id, "deploy", "Deployed", "v2 is live", context=live.context)
        for ws in (one, two):
            message = await ws.recv()
            assert message["data"]["notification_type"] == "deploy"
            assert message["data"]["title"] == "Deployed"
            assert message["data"]["message"] == "v2 is live"
