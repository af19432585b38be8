"""An Alertmanager group reaches a subscribed Slack channel like any other change, attributed to
Alertmanager: the firing notification's ticket gets its root, the resolved one a thread reply."""

from __future__ import annotations

from tests.integration.chat.conftest import (  # noqa: F401  (the chat fixtures, both backends)
    CHANNEL,
    SlackHub,
    _no_slack_env,
    fake_slack,
    hub,
)
from tests.integration.integrations.conftest import alert, alertmanager_request, notification
from tests.integration.realtime.conftest import stack  # noqa: F401  (the backend pairs)


async def test_alertmanager_ticket_and_its_resolution_reach_the_channel(hub: SlackHub) -> None:  # noqa: F811
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    await hub.command("UALICE", "subscribe OPS")
    created = await hub.api.post(
        f"/api/projects/{project['id']}/integrations", json={"kind": "alertmanager"}, token=alice.token
    )
    assert created.status == 201, created.body
    am = created.body
    hook = f"/hooks/{am['id']}"

    firing = notification("firing", alert("InstanceDown"), summary="Database instances are down")
    request = alertmanager_request(am["secret"], firing)
    reply = await hub.api.post(hook, data=request["data"], headers=request["headers"])
    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "opened OPS-1"
    root = await hub.root("OPS-1")
    assert "Database instances are down" in root.text

    resolved = notification(
        "resolved",
        alert("InstanceDown", status="resolved", ends="2026-12-03T14:30:00Z"),
        summary="Database instances are down",
    )
    request = alertmanager_request(am["secret"], resolved)
    reply = await hub.api.post(hook, data=request["data"], headers=request["headers"])
    assert reply.status == 200, reply.body
    moved = "Alertmanager moved it To do → Done (via Alertmanager)"
    thread = await hub.fake.wait_for(
        lambda: [m for m in hub.fake.channel_messages(CHANNEL, thread=root.ts) if m.text == moved]
    )
    assert len(thread) == 1
    assert "Done" in str(hub.fake.messages[root.ts].blocks)
