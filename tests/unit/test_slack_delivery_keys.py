"""The id each kind of Slack request is deduplicated by (`bots.slack.dedupe.delivery_key`), and the
files a reply carries as comment text (`bots.slack.events.with_files`)."""

from __future__ import annotations

from bots.slack.dedupe import delivery_key
from bots.slack.events import with_files


def test_events_are_keyed_by_event_id_and_workspace() -> None:
    body = {"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event": {"type": "message"}}
    assert delivery_key(body) == "T1/event:Ev1"
    assert delivery_key({**body, "team_id": "T2"}) == "T2/event:Ev1"
    assert delivery_key({**body, "event_id": ""}) is None


def test_user_actions_are_keyed_by_trigger_id() -> None:
    command = {"command": "/ticket", "team_id": "T1", "text": "list", "trigger_id": "1.2.a"}
    assert delivery_key(command) == "T1/command:1.2.a"
    view = {"type": "view_submission", "team": {"id": "T1"}, "trigger_id": "3.4.b", "view": {"id": "V1"}}
    assert delivery_key(view) == "T1/view_submission:3.4.b"
    shortcut = {"type": "message_action", "team": {"id": "T1"}, "trigger_id": "5.6.c"}
    assert delivery_key(shortcut) == "T1/message_action:5.6.c"
    click = {"type": "block_actions", "team": {"id": "T1"}, "trigger_id": "7.8.d",
             "actions": [{"action_id": "sb_assign_me", "action_ts": "1800000000.1"}]}  # fmt: skip
    assert delivery_key(click) == "T1/block_actions:7.8.d:1800000000.1"


def test_requests_without_a_stable_id_or_that_must_always_answer_are_not_deduplicated() -> None:
    assert delivery_key({"type": "block_actions", "team": {"id": "T1"}, "actions": []}) is None
    assert delivery_key({"type": "block_suggestion", "team": {"id": "T1"}, "trigger_id": "1.2.3"}) is None
    assert delivery_key({"type": "url_verification", "challenge": "x"}) is None


def test_files_become_lines_with_their_names_and_links() -> None:
    files = [
        {"name": "a.png", "permalink": "https://s/a"},
        {"title": "Only a title", "url_private": "https://s/b"},
        {"id": "F3", "mode": "hidden_by_limit"},  # a free workspace's hidden file: no name, no link
        "junk",
    ]
    assert with_files("look", files) == "look\n📎 a.png (https://s/a)\n📎 Only a title (https://s/b)"
    assert with_files("  ", files[:1]) == "📎 a.png (https://s/a)"
    assert with_files("just text", None) == "just text"
