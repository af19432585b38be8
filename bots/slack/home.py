"""The App Home tab: published (`views.publish`) whenever a user opens it (`app_home_opened`).

A linked user sees, in this order: who they are linked as; their open tickets (assigned to them, in
all their projects; the newest `SLACK_HOME_TICKETS` (15), then "…and N more" linking the board);
their `SLACK_HOME_NOTIFICATIONS` (5) latest notifications; and quick preferences for Slack — one select per
notification type (immediate, digest, off) and a quiet-hours switch — that change the same stored
preferences as `/ticket prefs` and the board (`hub.services.notifications.preferences`). A change is
acknowledged first, then saved and the Home tab published again.

An unlinked user gets a Home tab that says how to link (the same words as every command).

User text (titles, names, notification text) is escaped and fitted (`bots/slack/limits.py`); the
view stays within Slack's 100 blocks for a Home tab and 3,000 characters per section.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import explain, not_linked
from bots.slack import listing
from bots.slack.bot import SlackBot, log, team_of
from bots.slack.limits import MAX_SECTION, fit
from bots.slack.render import board_url, sections, ticket_title
from bots.text import status_label
from hub.domain.errors import DomainError
from hub.domain.identity import Actor
from hub.services.notifications import notifications, preferences

#: Slack's limit for a Home tab.
MAX_HOME_BLOCKS = 100
PREF_ACTION = "sb_home_pref"
QUIET_ACTION = "sb_home_quiet"
TYPE_LABELS = {
    "ticket_assigned": "Assigned to me",
    "comment_added": "Comments",
    "status_changed": "Status changes",
    "mention": "Mentions",
    "custom": "Announcements",
}
MODE_LABELS = {"immediate": "Right away", "digest": "Daily digest", "off": "Off"}


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        await publish(bot, client, str(context.team_id or ""), str(event.get("user", "")))

    @app.action(re.compile(f"^{PREF_ACTION}:"))
    async def on_pref(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        kind = str(action.get("action_id", "")).split(":", 1)[1]
        mode = str((action.get("selected_option") or {}).get("value", ""))
        if kind in TYPE_LABELS and mode in preferences.MODES:
            await _change(bot, body, client, {"types": {kind: {"slack": mode}}})

    @app.action(QUIET_ACTION)
    async def on_quiet(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _change(bot, body, client, {"quiet_hours": {"enabled": action.get("value") == "on"}})


async def _change(
    bot: SlackBot, body: dict[str, Any], client: AsyncWebClient, update: dict[str, Any]
) -> None:
    team, user = team_of(body), str((body.get("user") or {}).get("id", ""))
    actor = await bot.actor(team, user, client)
    note = None
    if actor is not None:
        try:
            await preferences.update_preferences(bot.uow(), actor, update)
        except DomainError as error:
            note = "Not saved: " + explain(error)
    await publish(bot, client, team, user, note=note)


async def publish(
    bot: SlackBot, client: AsyncWebClient, team: str, user: str, *, note: str | None = None
) -> None:
    """Build and publish the user's Home tab (a failure is logged: Slack shows the previous one)."""
    try:
        actor = await bot.actor(team, user, client)
        blocks = await home_blocks(bot, actor) if actor is not None else unlinked_blocks(bot)
        if note:
            blocks.insert(1, _section(":warning: " + fit(note, MAX_SECTION - 10)))
        await client.views_publish(user_id=user, view={"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]})
    except Exception:
        log.exception("publishing the Home tab of %s/%s failed", team, user)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def unlinked_blocks(bot: SlackBot) -> list[dict[str, Any]]:
    board = board_url(bot.public_url)
    return [
        _header("Switchboard"),
        _section(fit(not_linked("slack"), MAX_SECTION)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{board}|Open the board>"}]},
    ]


async def home_blocks(bot: SlackBot, actor: Actor) -> list[dict[str, Any]]:
    board = board_url(bot.public_url)
    blocks: list[dict[str, Any]] = [
        _header("Switchboard"),
        _section(f"Linked as *{fit(actor.name, 200)}* ({fit(actor.email, 320)}) · <{board}|Open the board>"),
        _header("My open tickets"),
        *await _tickets(bot, actor, board),
        _header("Recent notifications"),
        *await _notifications(bot, actor),
        _header("Preferences in Slack"),
        *_preferences(await preferences.get_preferences(bot.uow(), actor)),
    ]
    return blocks


async def _tickets(bot: SlackBot, actor: Actor, board: str) -> list[dict[str, Any]]:
    found = await listing.assigned_open(bot, actor)
    if not found:
        return [_section("Nothing assigned to you is open.")]
    lines = [f"• {ticket_title(t, bot.public_url)} — {status_label(t.get('status'))}" for t in found]
    most = bot.config.home_tickets
    shown = lines[:most]
    if len(lines) > most:
        shown.append(f"…and {len(lines) - most} more <{board}|on the board>")
    return sections(shown, "…and {n} more <" + board + "|on the board>", budget=3 * MAX_SECTION)


async def _notifications(bot: SlackBot, actor: Actor) -> list[dict[str, Any]]:
    most = bot.config.home_notifications
    page = await notifications.list_notifications(bot.uow(), actor, limit=most) if most else {"items": []}
    if not page["items"]:
        return [_section("No notifications yet.")]
    lines = []
    for item in page["items"]:
        unread = "" if item["read"] else " :large_blue_circle:"
        lines.append(f"• *{fit(str(item['title']), 300)}*{unread} — {fit(str(item['message']), 500)}")
    return sections(lines, "…", budget=2 * MAX_SECTION)


def _preferences(prefs: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for kind, label in TYPE_LABELS.items():
        current = str((prefs["types"].get(kind) or {}).get("slack", "immediate"))
        options = [_option(mode) for mode in preferences.MODES]
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{label}*"},
                "accessory": {
                    "type": "static_select", "action_id": f"{PREF_ACTION}:{kind}", "options": options,
                    "initial_option": _option(current if current in MODE_LABELS else "immediate"),
                },
            }
        )  # fmt: skip
    quiet = prefs["quiet_hours"]
    start, end, zone = (fit(str(quiet[k]), 64) for k in ("start", "end", "timezone"))
    window = f"{start}-{end} {zone}"
    state = "on" if quiet["enabled"] else "off"
    blocks.append(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Quiet hours* ({window}): {state}"},
            "accessory": {
                "type": "button", "action_id": QUIET_ACTION, "value": "off" if quiet["enabled"] else "on",
                "text": {"type": "plain_text", "text": "Turn off" if quiet["enabled"] else "Turn on"},
            },
        }
    )  # fmt: skip
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "More choices: `/ticket prefs`"}]}
    )
    return blocks


def _option(mode: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": MODE_LABELS[mode]}, "value": mode}
