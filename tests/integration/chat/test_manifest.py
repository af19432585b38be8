"""The Slack app manifest in the repository asks for exactly what the code uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from bots.slack.commands import COMMAND
from bots.slack.config import BOT_SCOPES
from bots.slack.create import SHORTCUT
from bots.slack.lifecycle import LIFECYCLE_EVENTS

MANIFEST = Path(__file__).resolve().parents[3] / "bots" / "slack" / "manifest.yml"


def test_manifest_matches_the_code() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["should_escape"] is True  # mentions arrive as <@U123|name>, which the parser reads
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == [SHORTCUT]
    settings = manifest["settings"]
    endpoints = {command["url"], settings["event_subscriptions"]["request_url"],
                 settings["interactivity"]["request_url"]}  # fmt: skip
    assert endpoints == {"https://hub.example.com/slack/events"}
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.channels",
        "message.groups",
        "link_shared",
        "app_home_opened",
        *LIFECYCLE_EVENTS,
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["oauth_config"]["redirect_urls"] == ["https://hub.example.com/slack/oauth_redirect"]
