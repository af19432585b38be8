"""Buttons and selects on relayed tickets and DMs: the same commands, the same permission checks.

"Assign to me", "Assign to…" (a `users_select`: the chosen Slack user must be a linked member of the
project) and the status select run `Assign`/`SetStatus` through `bots.actions` as the clicking
user's hub account; the relay then re-renders the ticket message for everyone. "Comment" and "Edit"
open their modals (`bots/slack/edits.py`). Refusals (a viewer, an unlinked account) are answered
ephemerally to the clicker only.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import Result, explain, not_linked
from bots.command_types import Assign, Command, SetStatus, UserRef
from bots.slack import render
from bots.slack.bot import SORRY, SlackBot, failed, log, team_of
from bots.slack.edits import open_modal
from bots.slack.limits import MAX_SECTION, fit
from bots.slack.modal import comment_view, edit_view
from hub.domain.errors import DomainError
from hub.services.notifications import notifications


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.action("sb_assign_me")
    async def on_assign(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        await _run(bot, body, respond, client, Assign(str(action["value"]), UserRef("me")))

    @app.action("sb_assign_to")
    async def on_assign_to(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        ticket_id = str(action.get("block_id", "")).partition(":")[2]
        chosen = UserRef("chat", str(action.get("selected_user") or ""), "the person you chose")
        await _run(bot, body, respond, client, Assign(ticket_id, chosen))

    @app.action("sb_comment")
    async def on_comment(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _form(bot, body, client, str(action.get("value", "")), comment_view)

    @app.action("sb_edit")
    async def on_edit(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _form(bot, body, client, str(action.get("value", "")), edit_view)

    @app.action("sb_status")
    async def on_status(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        ticket_id = str(action.get("block_id", "")).partition(":")[2]
        status = (action.get("selected_option") or {}).get("value", "")
        await _run(bot, body, respond, client, SetStatus(ticket_id, status))

    @app.action("sb_open")
    async def on_open(ack: Any) -> None:
        await ack()  # a link button: Slack opens the URL, we only acknowledge

    @app.action("sb_mark_read")
    async def on_mark_read(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        actor = await bot.actor(team_of(body), body["user"]["id"], client)
        if actor is None:
            await respond(render.result_message(failed(not_linked("slack")), bot.public_url))
            return
        try:
            seen = await notifications.mark_read(bot.uow(), actor, int(action["value"]))
        except (DomainError, ValueError) as error:
            text = explain(error) if isinstance(error, DomainError) else "That notification is unknown."
            await respond(render.result_message(failed(text), bot.public_url))
            return
        await respond({"replace_original": True, "text": "✓ Read: " + fit(seen["title"], MAX_SECTION)})


async def _form(bot: SlackBot, body: dict[str, Any], client: AsyncWebClient, ref: str, build: Any) -> None:
    try:
        await open_modal(bot, body, client, ref, build)
    except Exception:
        log.exception("opening a ticket modal failed")


async def _run(
    bot: SlackBot, body: dict[str, Any], respond: Any, client: AsyncWebClient, command: Command
) -> None:
    team, user = team_of(body), body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    try:
        actor = await bot.actor(team, user, client)
        result: Result = await bot.actions.execute(bot.place(team, user, channel), command, actor)
    except Exception:
        log.exception("button %r failed", command)
        result = failed(SORRY)
    await respond(render.result_message(result, bot.public_url))
