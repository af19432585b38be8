"""`/ticket` (the create-ticket modal's submission and the "Create ticket" message shortcut:
`bots/slack/create.py`).

The slash command acknowledges first (Slack wants an answer within 3 s), then does the work and
answers with `respond()` (ephemeral). A parse error, an unlinked account or a refused permission is an
ephemeral sentence, never a stack trace.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.command_types import Create
from bots.commands import Help, Link, ParseError, parse
from bots.slack import render
from bots.slack.bot import SORRY, SlackBot, failed, log, team_of
from bots.slack.command_rules import handled_in_slack
from bots.slack.create import show
from bots.slack.modal import create_view, notice_view

COMMAND = "/ticket"


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command(COMMAND)
    async def on_ticket(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        try:
            await _ticket(bot, body, respond, client)
        except Exception:
            log.exception("/ticket %r failed", body.get("text"))
            await respond(render.result_message(failed(SORRY), bot.public_url))


async def _ticket(bot: SlackBot, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
    try:
        command = parse(body.get("text", ""))
    except ParseError as error:
        await respond(render.result_message(failed(str(error)), bot.public_url))
        return
    team, user = team_of(body), str(body.get("user_id", ""))
    # The form opens with the trigger, which expires 3 s after the command: open it (loading) before
    # anything slow (resolving an unlinked user calls users.info), fill it in afterwards.
    loading: str | None = None
    if isinstance(command, Create) and not command.title:
        opened = await client.views_open(
            trigger_id=body["trigger_id"], view=notice_view("New ticket", "Loading the form…")
        )
        loading = str((opened.get("view") or {}).get("id", ""))
    actor = None if isinstance(command, Help) else await bot.actor(team, user, client)
    if isinstance(command, Link) and command.code:
        bot.people.forget(team, user)
    place = bot.place(team, user, body.get("channel_id"), str(body.get("user_name", "")))
    if actor is not None and await handled_in_slack(bot, place, command, actor, respond, client):
        return  # `list` pages, `subscribe` checks the channel (bots/slack/command_rules.py)
    result = await bot.actions.execute(place, command, actor)
    if result.open_form and actor is not None:
        view = create_view(
            await bot.writable_projects(actor), project_key=result.project_key, channel=place.channel_id
        )
        if loading is not None:
            await show(client, loading, view)
        else:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        return
    if loading is not None:  # no form after all (not linked, no project): say why in the modal too
        await show(client, loading, notice_view("New ticket", result.text))
    await respond(render.result_message(result, bot.public_url))
