"""`/ticket` and the create-ticket modal (also opened by the "Create ticket" message shortcut).

The slash command acknowledges first (Slack wants an answer within 3 s), then does the work and
answers with `respond()` (ephemeral). A parse error, an unlinked account or a refused permission is an
ephemeral sentence, never a stack trace.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import not_linked
from bots.commands import Help, Link, ParseError, parse
from bots.slack import render
from bots.slack.bot import SORRY, SlackBot, failed, log, team_of
from bots.slack.limits import MAX_TEXT, fit
from bots.slack.modal import CALLBACK_ID, create_view, read_submission
from hub.domain.errors import DomainError
from hub.services.chat import accounts as chat
from hub.services.projects import projects
from hub.services.tickets import tickets

COMMAND = "/ticket"
SHORTCUT = "sb_ticket_from_message"


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.command(COMMAND)
    async def on_ticket(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        try:
            await _ticket(bot, body, respond, client)
        except Exception:
            log.exception("/ticket %r failed", body.get("text"))
            await respond(render.result_message(failed(SORRY), bot.public_url))

    @app.view(CALLBACK_ID)
    async def on_create(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        await _submit(bot, ack, body, view, client)

    @app.shortcut(SHORTCUT)
    async def on_shortcut(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        team, user = team_of(body), body["user"]["id"]
        actor = await bot.actor(team, user, client)
        if actor is None:
            await respond(render.result_message(failed(not_linked("slack")), bot.public_url))
            return
        message = body.get("message") or {}
        text = await bot.plain(team, message.get("text", ""))
        title = (text.strip().splitlines() or [""])[0][:200]
        channel = (body.get("channel") or {}).get("id")
        view = create_view(
            await bot.writable_projects(actor), title=title, description=text, channel=channel,
            message=message.get("ts"),
        )  # fmt: skip
        await client.views_open(trigger_id=body["trigger_id"], view=view)


async def _ticket(bot: SlackBot, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
    try:
        command = parse(body.get("text", ""))
    except ParseError as error:
        await respond(render.result_message(failed(str(error)), bot.public_url))
        return
    team, user = team_of(body), str(body.get("user_id", ""))
    actor = None if isinstance(command, Help) else await bot.actor(team, user, client)
    if isinstance(command, Link) and command.code:
        bot.people.forget(team, user)
    place = bot.place(team, user, body.get("channel_id"), str(body.get("user_name", "")))
    result = await bot.actions.execute(place, command, actor)
    if result.open_form and actor is not None:
        view = create_view(
            await bot.writable_projects(actor), project_key=result.project_key, channel=place.channel_id
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        return
    await respond(render.result_message(result, bot.public_url))


async def _submit(
    bot: SlackBot, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
) -> None:
    """Create the ticket, or answer the modal with field errors (the modal stays open)."""
    team, user = team_of(body), body["user"]["id"]
    form = read_submission(view)
    actor = await bot.actor(team, user, client)
    if actor is None:
        await ack(response_action="errors", errors={"title": not_linked("slack")[:150]})
        return
    try:
        project = await projects.find_project_by_key(bot.uow(), actor, form.project_key)
        assignee = None
        if form.assignee_slack_id:
            assignee = await chat.find_member(bot.uow(), "slack", team, project["id"], form.assignee_slack_id)
            if assignee is None:
                await ack(
                    response_action="errors", errors={"assignee": "not a linked member of this project"}
                )
                return
        ticket = await tickets.create_ticket(
            bot.uow(), actor, project["id"], title=form.title, description=form.description,
            priority=form.priority, assignee_id=assignee, origin="slack",
        )  # fmt: skip
    except DomainError as error:
        block = "title" if "title" in error.fields else "project"
        await ack(response_action="errors", errors={block: error.message[:150]})
        return
    await ack()
    if form.channel:
        text = fit(f"Created {ticket['key']}: {ticket['title']}", MAX_TEXT)
        _fallback, blocks = render.ticket_blocks(ticket, bot.public_url)
        try:
            await client.chat_postEphemeral(channel=form.channel, user=user, text=text, blocks=blocks)
        except Exception:
            log.info("could not confirm %s in %s", ticket["key"], form.channel)
