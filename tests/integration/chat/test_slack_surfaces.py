"""The create modal, the message shortcut and link unfurling."""

from __future__ import annotations

import json

from tests.integration.chat.conftest import BOARD, CHANNEL, SlackHub, link_directly


def _values(project: str, title: str, assignee: str | None = None) -> dict[str, object]:
    return {
        "project": {"value": {"type": "static_select", "selected_option": {"value": project}}},
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "description": {"value": {"type": "plain_text_input", "value": "from the modal"}},
        "priority": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
        "assignee": {"value": {"type": "users_select", "selected_user": assignee}},
    }


async def test_create_without_title_opens_a_modal_whose_submission_creates(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    _key, reply = await hub.slack.command("UALICE", "create")
    assert reply.status_code == 200
    # The modal opens at once (loading) while the trigger is fresh, then the form is filled in.
    opened = await hub.fake.wait_for(lambda: hub.fake.calls_to("views.open"))
    assert opened[0].params["trigger_id"]
    filled = await hub.fake.wait_for(lambda: hub.fake.calls_to("views.update"))
    view = filled[0].params["view"]
    assert view["callback_id"] == "sb_create"
    assert [o["value"] for o in view["blocks"][0]["element"]["options"]] == ["OPS"]
    meta = {"callback_id": view["callback_id"], "private_metadata": view["private_metadata"]}
    submitted = await hub.slack.view_submission("UALICE", meta, _values("OPS", "From the modal", "UBOB"))
    assert submitted.status_code == 200
    assert submitted.json()["response_action"] == "update"  # "Creating…"; the work runs after the ack
    await hub.fake.wait_for(lambda: hub.fake.calls_to("chat.postEphemeral"))  # the confirmation
    created = (await hub.api.get(f"/api/projects/{project['id']}/tickets", token=alice.token)).body["items"]
    assert [(t["title"], t["priority"], t["assignee"]["id"]) for t in created] == [
        ("From the modal", "high", bob.id)
    ]
    assert json.loads(view["private_metadata"])["channel"] == CHANNEL


async def test_modal_submission_errors_keep_the_modal_open(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    viewer = await hub.person("Vic Viewer", "UVIC")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], viewer, "viewer")
    await link_directly(hub, viewer, "UVIC")  # linked: her role is checked in the acknowledgement
    meta = {"callback_id": "sb_create", "private_metadata": "{}"}
    refused = await hub.slack.view_submission("UVIC", meta, _values("OPS", "Not allowed"))
    assert refused.status_code == 200
    body = refused.json()
    assert body["response_action"] == "errors"
    assert "viewer" in body["errors"]["project"]
    stranger = await hub.slack.view_submission("UNOBODY", meta, _values("OPS", "Who am I"))
    assert stranger.json()["response_action"] == "update"  # only users.info can tell: answered after
    await hub.fake.wait_for(lambda: hub.fake.calls_to("users.info"))
    listed = await hub.api.get(f"/api/projects/{project['id']}/tickets", token=alice.token)
    assert listed.body["items"] == []


async def test_message_shortcut_prefills_the_modal(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.command("UALICE", "help")
    await hub.command("UALICE", "link")  # links by email (the shortcut needs a linked account)
    key, url = hub.slack.response_url()
    reply = await hub.slack.interactive({
        "type": "message_action", "callback_id": "sb_ticket_from_message", "trigger_id": "9.9.9",
        "team": {"id": "T111", "domain": "fake"}, "user": {"id": "UALICE", "team_id": "T111"},
        "channel": {"id": CHANNEL, "name": "general"}, "response_url": url, "action_ts": "1.1",
        "message": {"type": "message", "ts": "1700.0001", "user": "UOTHER",
                    "text": "Login is broken <@UALICE>\nsteps: open the page"},
    })  # fmt: skip
    assert reply.status_code == 200
    await hub.fake.wait_for(lambda: hub.fake.calls_to("views.open"))  # at once, "Loading…"
    filled = await hub.fake.wait_for(lambda: hub.fake.calls_to("views.update"))
    blocks = filled[0].params["view"]["blocks"]
    assert blocks[1]["element"]["initial_value"] == f"Login is broken @{alice.email}"
    assert "steps: open the page" in blocks[2]["element"]["initial_value"]
    assert key not in [r["key"] for r in hub.fake.responses]


async def test_board_links_unfurl_for_linked_readers(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    ticket = await hub.api.ticket(alice, project["id"], title="Unfurl me")
    url = f"{BOARD}/#/p/{project['id']}/t/{ticket['id']}"
    event = {"type": "link_shared", "channel": CHANNEL, "user": "UALICE", "message_ts": "1700.0002",
             "links": [{"url": url, "domain": "board.test"},
                       {"url": "https://elsewhere.example/x", "domain": "elsewhere.example"}]}  # fmt: skip
    assert (await hub.slack.event(event)).status_code == 200
    unfurl = (await hub.fake.wait_for(lambda: hub.fake.calls_to("chat.unfurl")))[0]
    assert list(unfurl.params["unfurls"]) == [url]
    assert "Unfurl me" in str(unfurl.params["unfurls"][url]["blocks"])
    hub.fake.add_user("USTRANGER", "Stranger", "stranger@elsewhere.example")
    assert (await hub.slack.event({**event, "user": "USTRANGER"})).status_code == 200
    await hub.settle(0.5)
    assert len(hub.fake.calls_to("chat.unfurl")) == 1
