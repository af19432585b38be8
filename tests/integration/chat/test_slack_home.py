"""The App Home tab: published on `app_home_opened`, within Slack's limits, escaped, and with quick
preferences that change the same stored preferences as `/ticket prefs`."""

from __future__ import annotations

from typing import Any

from bots.slack.home import PREF_ACTION, QUIET_ACTION
from tests.fakes.slack_limits import raw_texts, unescaped
from tests.integration.chat.conftest import SlackHub

HOSTILE = "<!channel> Pay & <b>ship</b>"
HOME_TICKETS = 15  # SLACK_HOME_TICKETS' default


async def _open_home(hub: SlackHub, user: str, count: int) -> dict[str, Any]:
    reply = await hub.slack.event(
        {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
    )
    assert reply.status_code == 200
    await hub.fake.wait_for(lambda: len(hub.fake.calls_to("views.publish")) >= count)
    assert hub.fake.rejected == []
    return hub.fake.homes[user]


def _text(view: dict[str, Any]) -> str:
    return str(view["blocks"])


def _part(view: dict[str, Any], header: str) -> str:
    """The text of the blocks under one header of the Home tab."""
    texts: list[str] = []
    inside = False
    for block in view["blocks"]:
        if block["type"] == "header":
            inside = block["text"]["text"] == header
        elif inside:
            texts.append(str(block))
    return "\n".join(texts)


def _element(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in view["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id:
            return dict(accessory)
    raise AssertionError(f"no {action_id} in the Home tab")


async def test_unlinked_user_gets_how_to_link(hub: SlackHub) -> None:
    hub.fake.add_user("USTRANGER", "Stranger Danger", "nobody@elsewhere.test")
    view = await _open_home(hub, "USTRANGER", 1)
    assert view["type"] == "home"
    assert "/ticket link CODE" in _text(view)
    assert "My open tickets" not in _text(view)


async def test_home_lists_my_open_tickets_notifications_and_preferences(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    ops = await hub.api.project(alice, "OPS")
    web = await hub.api.project(alice, "WEB")
    for project in (ops, web):
        await hub.api.add(alice, project["id"], bob, "member")
    for n in range(HOME_TICKETS + 5):
        project = ops if n % 2 else web
        await hub.api.ticket(alice, project["id"], title=f"{HOSTILE} {n} " + "x" * 150, assignee_id=bob.id)
    done = await hub.api.ticket(alice, ops["id"], title="Finished work", assignee_id=bob.id)
    await hub.api.patch(f"/api/tickets/{done['id']}", json={"status": "done"}, token=alice.token)
    await hub.api.ticket(alice, ops["id"], title="Not mine")

    view = await _open_home(hub, "UBOB", 1)
    text = _text(view)
    assert len(view["blocks"]) <= 100
    assert "Linked as *Bob Baker*" in text
    mine = _part(view, "My open tickets")
    assert mine.count("&lt;!channel&gt; Pay &amp; &lt;b&gt;ship&lt;/b&gt;") == HOME_TICKETS
    assert "…and 5 more <http://board.test/|on the board>" in mine
    assert "Finished work" not in mine
    assert "Not mine" not in mine
    recent = _part(view, "Recent notifications")
    assert recent.count("\n") == 0  # five short lines: one section
    assert recent.count("• *") == 5
    assert "Finished work: todo → done" in recent  # the newest notification first
    assert not [t for t in raw_texts(view["blocks"]) if unescaped(t)]
    assert _element(view, f"{PREF_ACTION}:comment_added")["initial_option"]["value"] == "immediate"

    # A quick preference: acknowledged, saved (the same preferences as /ticket prefs), re-published.
    select = _element(view, f"{PREF_ACTION}:comment_added")
    picked = {"type": "static_select", "action_id": select["action_id"], "block_id": "b1",
              "selected_option": select["options"][1]}  # fmt: skip
    _key, reply = await hub.slack.block_action("UBOB", picked, channel="DUBOB")
    assert reply.status_code == 200
    view = await _open_home_after(hub, "UBOB", 2)
    assert _element(view, f"{PREF_ACTION}:comment_added")["initial_option"]["value"] == "digest"
    prefs = await hub.api.get("/api/me/preferences", token=bob.token)
    assert prefs.body["types"]["comment_added"] == {
        "web": "immediate",
        "slack": "digest",
        "discord": "immediate",
    }

    quiet = _element(view, QUIET_ACTION)
    assert quiet["value"] == "on"
    await hub.slack.block_action("UBOB", {"type": "button", **quiet}, channel="DUBOB")
    view = await _open_home_after(hub, "UBOB", 3)
    assert _element(view, QUIET_ACTION)["value"] == "off"
    prefs = await hub.api.get("/api/me/preferences", token=bob.token)
    assert prefs.body["quiet_hours"]["enabled"] is True
    answer = await hub.command("UBOB", "prefs")
    assert "comment_added: web immediate, slack digest" in answer["text"]


async def _open_home_after(hub: SlackHub, user: str, count: int) -> dict[str, Any]:
    await hub.fake.wait_for(lambda: len(hub.fake.calls_to("views.publish")) >= count)
    assert hub.fake.rejected == []
    return hub.fake.homes[user]
