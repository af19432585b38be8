"""The "Comment" and "Edit" buttons on ticket messages: their modals and what submitting them does.

A click is acknowledged at once; then the clicking user is resolved and checked through the services
(`writable_ticket`: they must be allowed to change the ticket) before the modal opens, so a viewer
gets an ephemeral refusal and an unlinked user the how-to-link note instead of a form. A submission
is acknowledged with only what needs no lookup (an empty comment or title keeps the modal open with
the error); the comment or the change is then made by a bolt lazy listener, as the user and with
`origin="slack"`, and the services check the permission again. The relay shows the result in the
ticket's thread; a refusal is told to the user ephemerally where they clicked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import explain, not_linked
from bots.slack.bot import SORRY, SlackBot, log, team_of
from bots.slack.limits import MAX_SECTION, fit
from bots.slack.modal import COMMENT_ID, EDIT_ID, TicketForm, read_ticket_form
from bots.text import PRIORITY_LABELS
from hub.domain.enums import Role
from hub.domain.errors import DomainError
from hub.domain.identity import Actor
from hub.services import policy
from hub.services.projects import projects
from hub.services.tickets import comments, tickets

PLATFORM = "slack"
TOO_SLOW = "The form could not open in time (Slack allows 3 seconds). Please click again."


async def writable_ticket(bot: SlackBot, actor: Actor, ref: str) -> dict[str, Any]:
    """The ticket, if `actor` may change it (DomainError otherwise: NotFound, Forbidden)."""
    ticket = await tickets.get_ticket(bot.uow(), actor, ref)
    project = await projects.get_project(bot.uow(), actor, int(ticket["project_id"]))
    role = project.get("role")
    policy.require(Role(role) if role else None, policy.Action.WRITE)
    return ticket


async def tell(client: AsyncWebClient, channel: str | None, user: str, text: str) -> None:
    """An ephemeral note to `user` in `channel` (a DM when there is no channel)."""
    text = fit(text, MAX_SECTION)
    try:
        if channel and not channel.startswith("D"):
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            await client.chat_postMessage(channel=user, text=text)
    except SlackApiError as error:
        log.info("could not tell %s: %s", user, error.response.get("error"))


async def open_modal(
    bot: SlackBot,
    body: dict[str, Any],
    client: AsyncWebClient,
    ref: str,
    build: Callable[[dict[str, Any], str | None], dict[str, Any]],
) -> None:
    """Open `build(ticket, channel)` for the clicking user, or tell them why not."""
    team, user = team_of(body), body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    actor = await bot.actor(team, user, client)
    if actor is None:
        await tell(client, channel, user, not_linked(PLATFORM))
        return
    try:
        ticket = await writable_ticket(bot, actor, ref)
    except DomainError as error:
        await tell(client, channel, user, ":warning: " + explain(error))
        return
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=build(ticket, channel))
    except SlackApiError as error:
        if error.response.get("error") != "expired_trigger_id":
            raise
        await tell(client, channel, user, TOO_SLOW)


def register(app: AsyncApp, bot: SlackBot) -> None:
    async def acknowledge_comment(ack: Any, view: dict[str, Any]) -> None:
        if not read_ticket_form(view).body:
            await ack(response_action="errors", errors={"body": "Write a comment first."})
            return
        await ack()

    async def comment_submitted(body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        await _apply(bot, body, read_ticket_form(view), client, _comment)

    async def acknowledge_edit(ack: Any, view: dict[str, Any]) -> None:
        form = read_ticket_form(view)
        if not form.title:
            await ack(response_action="errors", errors={"title": "A title is required."})
            return
        await ack()

    async def edit_submitted(body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        await _apply(bot, body, read_ticket_form(view), client, _edit)

    app.view(COMMENT_ID)(ack=acknowledge_comment, lazy=[comment_submitted])
    app.view(EDIT_ID)(ack=acknowledge_edit, lazy=[edit_submitted])


Change = Callable[[SlackBot, Actor, TicketForm], Any]


async def _comment(bot: SlackBot, actor: Actor, form: TicketForm) -> None:
    await comments.add_comment(bot.uow(), actor, form.ticket_id, form.body, origin=PLATFORM)


async def _edit(bot: SlackBot, actor: Actor, form: TicketForm) -> None:
    if not form.title:
        return  # refused in the acknowledgement
    changes: dict[str, Any] = {"title": form.title, "description": form.description}
    if form.priority in PRIORITY_LABELS:
        changes["priority"] = form.priority
    await tickets.update_ticket(bot.uow(), actor, form.ticket_id, changes, origin=PLATFORM)


async def _apply(
    bot: SlackBot, body: dict[str, Any], form: TicketForm, client: AsyncWebClient, change: Change
) -> None:
    team, user = team_of(body), body["user"]["id"]
    if change is _comment and not form.body:
        return  # refused in the acknowledgement
    try:
        actor = await bot.actor(team, user, client)
        if actor is None:
            await tell(client, form.channel, user, not_linked(PLATFORM))
            return
        await change(bot, actor, form)
    except DomainError as error:
        await tell(client, form.channel, user, ":warning: Not saved: " + explain(error))
    except Exception:
        log.exception("a Slack modal submission failed")
        await tell(client, form.channel, user, ":warning: " + SORRY)
