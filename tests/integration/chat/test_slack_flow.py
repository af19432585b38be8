"""End to end through real slack-bolt: signed Slack requests in, fake Slack Web API and sockets out."""

from __future__ import annotations

import time

from tests.integration.chat.conftest import CHANNEL, SlackHub
from tests.support.live import ws_connect


async def test_slash_create_reaches_socket_and_channel(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    answer = await hub.command("UALICE", "subscribe OPS")
    assert "now gets OPS updates" in answer["text"]
    async with ws_connect(hub.address, f"/ws/projects/{project['id']}/tickets/", token=alice.token) as ws:
        started = time.monotonic()
        key, reply = await hub.slack.command("UALICE", "create OPS Pager fires twice")
        assert reply.status_code == 200
        assert time.monotonic() - started < 3.0  # acknowledged within Slack's 3 seconds
        message = await ws.recv_type("ticket_update")
        assert message["action"] == "created"
        assert message["origin"] == "slack"
        assert message["data"]["title"] == "Pager fires twice"
        assert message["data"]["reporter"]["id"] == alice.id  # acted as the linked hub user
    answer = await hub.answer(key)
    assert answer["response_type"] == "ephemeral"
    assert "Created OPS-1" in answer["text"]
    root = await hub.fake.wait_for(hub.root_of("OPS-1"))
    assert root.metadata["event_payload"]["event_id"] == message["event_id"]
    assert "Pager fires twice" in str(root.blocks)
    assert f"{'http://board.test'}/#/p/{project['id']}/t/{message['data']['id']}" in str(root.blocks)
    post = hub.fake.calls_to("chat.postMessage")[0]
    assert post.token == "xoxb-test-token"
    assert post.params["channel"] == CHANNEL


async def test_bad_signature_and_stale_timestamp_are_refused(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    body = hub.slack.command_body("UALICE", "create OPS Sneaky", response_key="bad")
    bad = await hub.slack.send(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    missing = await hub.slack.send(body, "application/x-www-form-urlencoded", signature="")
    stale = await hub.slack.send(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 301)
    assert (bad.status_code, missing.status_code, stale.status_code) == (401, 401, 401)
    await hub.settle(0.5)
    listed = await hub.api.get(f"/api/projects/{project['id']}/tickets", token=alice.token)
    assert listed.body["items"] == []
    assert hub.fake.responses == []
    assert hub.fake.calls_to("users.info") == []  # nothing ran, not even the identity lookup


async def test_slack_routes_stay_out_of_the_api_document(hub: SlackHub) -> None:
    spec = (await hub.api.get("/openapi.json")).body
    assert "/api/me/chat-links" in spec["paths"]
    assert not [path for path in spec["paths"] if path.startswith("/slack")]
    assert (await hub.api.http.get("/slack/install")).status_code == 404  # single workspace: no OAuth routes
