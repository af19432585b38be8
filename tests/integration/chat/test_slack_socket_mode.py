"""Socket Mode (`SLACK_APP_TOKEN`): the hub dials out to Slack; the same listeners answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack import FakeSlack
from tests.integration.chat.conftest import SlackHub, start_slack_hub


@pytest.fixture
async def socket_hub(
    stack: tuple[str, str | None, dict[str, str]], fake_slack: FakeSlack
) -> AsyncIterator[SlackHub]:
    hub, manager = await start_slack_hub(stack, fake_slack, SLACK_APP_TOKEN="xapp-1-test")
    try:
        yield hub
    finally:
        await hub.slack.aclose()
        await hub.api.aclose()
        await manager.__aexit__(None, None, None)


async def test_slash_command_over_socket_mode(socket_hub: SlackHub) -> None:
    hub = socket_hub
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    opened = await hub.fake.wait_for(lambda: hub.fake.calls_to("apps.connections.open"))
    assert opened[0].token == "xapp-1-test"
    key, url = hub.slack.response_url()
    payload = {
        "token": "legacy", "team_id": "T111", "team_domain": "fake", "channel_id": "C111",
        "channel_name": "general", "user_id": "UALICE", "user_name": "alice", "command": "/ticket",
        "text": "create OPS Over the socket", "api_app_id": "A111", "response_url": url,
        "trigger_id": "1.2.3",
    }  # fmt: skip
    await hub.fake.push({"envelope_id": "env-1", "type": "slash_commands", "payload": payload,
                         "accepts_response_payload": True})  # fmt: skip
    ack = await hub.fake.wait_for(lambda: [a for a in hub.fake.acks if a.get("envelope_id") == "env-1"])
    assert ack[0] == {"envelope_id": "env-1"}
    answer = await hub.answer(key)
    assert "Created OPS-1" in answer["text"]
    listed = await hub.api.get(f"/api/projects/{project['id']}/tickets", token=alice.token)
    assert [t["title"] for t in listed.body["items"]] == ["Over the socket"]
