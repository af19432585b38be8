"""`/ticket` subcommands Slack answers its own way before (or instead of) the shared executor.

- `list` goes a page at a time with "Next"/"Previous" buttons (`bots/slack/listing.py`);
- `subscribe` is refused in a channel the user is not a member of, and in a Slack Connect channel
  unless allowed (`bots/slack/channel_access.py`); the hub's role check then runs as everywhere.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import Place, explain, not_linked
from bots.command_types import Command, ListTickets, Subscribe
from bots.slack import channel_access, listing, render
from bots.slack.bot import SORRY, SlackBot, failed, log, team_of
from hub.domain.errors import DomainError
from hub.domain.identity import Actor

OUT_OF_DATE = "That list is out of date: run `/ticket list` again."


async def handled_in_slack(
    bot: SlackBot, place: Place, command: Command, actor: Actor, respond: Any, client: AsyncWebClient
) -> bool:
    """True when the command was answered here (the caller stops)."""
    if isinstance(command, ListTickets):
        try:
            await respond(await listing.first_page(bot, place, command, actor))
        except DomainError as error:
            await respond(render.result_message(failed(explain(error)), bot.public_url))
        return True
    if isinstance(command, Subscribe) and place.channel_id:
        refusal = await channel_access.subscribe_refusal(
            client, place.channel_id, place.user.external_id, allow_shared=bot.config.allow_shared_channels
        )
        if refusal is not None:
            await respond(render.result_message(failed(refusal), bot.public_url))
            return True
    return False


def register(app: AsyncApp, bot: SlackBot) -> None:
    """The list's page buttons: acknowledged first, then the page in place of the one clicked."""

    async def on_list_page(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            await _page(bot, body, action, respond, client)
        except Exception:
            log.exception("paging /ticket list failed")
            await respond(render.result_message(failed(SORRY), bot.public_url))

    for action_id in (listing.NEXT, listing.PREVIOUS):
        app.action(action_id)(on_list_page)


async def _page(
    bot: SlackBot, body: dict[str, Any], action: dict[str, Any], respond: Any, client: AsyncWebClient
) -> None:
    actor = await bot.actor(team_of(body), body["user"]["id"], client)
    if actor is None:
        await respond(render.result_message(failed(not_linked("slack")), bot.public_url))
        return
    try:
        state = listing.ListState.parse(str(action.get("value", "")))
    except (ValueError, TypeError, AttributeError):
        await respond(render.result_message(failed(OUT_OF_DATE), bot.public_url))
        return
    try:
        await respond(await listing.page(bot, actor, state, replace=True))
    except DomainError as error:
        await respond(render.result_message(failed(explain(error)), bot.public_url))
