"""Creating tickets from Slack modals: the create form's submission and the "Create ticket" message
shortcut. Acknowledged first, worked on after, answered by updating the modal.

Slack waits 3 s for the acknowledgement of a submission and accepts a `trigger_id` for 3 s. Both
listeners therefore acknowledge at once and do the slow part (the `users.info` of a first-time user,
the database writes, `chat.getPermalink`) in a bolt lazy listener, which runs after the
acknowledgement whether `process_before_response` is on or off:

- submission: the acknowledgement itself carries what can be checked fast without calling Slack —
  an empty title, no project, and for an already linked user their role in the project and the
  assignee (`response_action: errors`, the modal stays open). Otherwise it answers
  `response_action: update` with a "Creating…" notice; the lazy listener creates the ticket and
  updates the modal to "Created OPS-3" (or to why not: an unlinked account, a refused permission).
- shortcut: the lazy listener opens a "Loading…" modal with the fresh trigger first, then resolves
  the user and fills the form in with `views.update`.

A view is submitted once however often Slack delivers it: the lazy listener claims
`<team>/view:<view id>` in `chat_deliveries` (`hub.services.chat.deliveries`) before it creates, so a
resubmission of the same modal — even while the first is still being processed — creates nothing.

From a message (the shortcut), the description ends with the source message's permalink
(`chat.getPermalink`) and the confirmation is posted in that message's thread, visible to everyone in
the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import explain, not_linked
from bots.slack import render
from bots.slack.bot import SlackBot, log, team_of
from bots.slack.limits import MAX_TEXT, escape, fit
from bots.slack.modal import CALLBACK_ID, Submission, create_view, notice_view, read_submission
from bots.text import ticket_url
from hub.domain.enums import Role
from hub.domain.errors import DomainError
from hub.domain.identity import Actor
from hub.services import policy
from hub.services.chat import accounts as chat
from hub.services.chat.accounts import ChatUser
from hub.services.chat.deliveries import claim_delivery, finish_delivery
from hub.services.projects import projects
from hub.services.tickets import tickets

PLATFORM = "slack"
#: The message shortcut "Create ticket from message" (its callback id in manifest.yml).
SHORTCUT = "sb_ticket_from_message"


class _NotMember(Exception):
    def __init__(self) -> None:
        super().__init__("The assignee is not a linked member of this project.")


@dataclass(frozen=True)
class Checked:
    """A submission's fast check: field errors for the modal, else the project, the assignee and the
    actor (None: not linked yet, or only `users.info` can tell)."""

    errors: dict[str, str]
    actor: Actor | None = None
    project_id: int | None = None
    assignee_id: int | None = None


async def check(bot: SlackBot, team: str, user: str, form: Submission) -> Checked:
    """What can be decided from the form and our database alone (never a Slack call)."""
    if not form.project_key:
        return Checked({"project": "Choose a project."})
    if not form.title:
        return Checked({"title": "A title is required."})
    actor = await chat.resolve_actor(bot.uow(), ChatUser(PLATFORM, team, user))
    if actor is None:
        return Checked({})
    try:
        project, assignee = await _target(bot, team, actor, form)
    except DomainError as error:
        return Checked({"project": explain(error)[:150]})
    if form.assignee_slack_id and assignee is None:
        return Checked({"assignee": "not a linked member of this project"})
    return Checked({}, actor, project, assignee)


async def _target(bot: SlackBot, team: str, actor: Actor, form: Submission) -> tuple[int, int | None]:
    """The project (the actor must be allowed to write to it) and the assignee's hub id."""
    project = await projects.find_project_by_key(bot.uow(), actor, form.project_key)
    role = project.get("role")
    policy.require(Role(role) if role else None, policy.Action.WRITE)
    assignee = None
    if form.assignee_slack_id:
        assignee = await chat.find_member(bot.uow(), PLATFORM, team, project["id"], form.assignee_slack_id)
    return int(project["id"]), assignee


def register(app: AsyncApp, bot: SlackBot) -> None:
    async def acknowledge_submission(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        checked = await check(bot, team_of(body), body["user"]["id"], read_submission(view))
        if checked.errors:
            await ack(response_action="errors", errors=checked.errors)
            return
        await ack(response_action="update", view=notice_view("New ticket", "Creating the ticket…"))

    async def create_submitted(body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            await _create(bot, body, view, client)
        except Exception:
            log.exception("creating a ticket from a Slack modal failed")

    async def acknowledge_shortcut(ack: Any) -> None:
        await ack()

    async def open_form(body: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            await _open_from_message(bot, body, client)
        except Exception:
            log.exception("opening the create form from a message failed")

    app.view(CALLBACK_ID)(ack=acknowledge_submission, lazy=[create_submitted])
    app.shortcut(SHORTCUT)(ack=acknowledge_shortcut, lazy=[open_form])


async def show(client: AsyncWebClient, view_id: str, view: dict[str, Any]) -> None:
    try:
        await client.views_update(view_id=view_id, view=view)
    except SlackApiError as error:  # the user closed the modal: the channel answer still goes out
        log.info("views.update %s failed: %s", view_id, error.response.get("error"))


async def _create(bot: SlackBot, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
    team, user, view_id = team_of(body), body["user"]["id"], str(view.get("id", ""))
    form = read_submission(view)
    checked = await check(bot, team, user, form)
    if checked.errors:
        return  # the acknowledgement showed them in the modal
    key = f"{team}/view:{view_id}"
    if not await claim_delivery(bot.uow(), PLATFORM, key):
        log.info("view %s submitted again while (or after) it was processed: nothing created", view_id)
        return
    actor = checked.actor or await bot.actor(team, user, client)  # may call users.info: after the ack
    if actor is None:
        await show(client, view_id, notice_view("Not linked", not_linked(PLATFORM)))
        await finish_delivery(bot.uow(), PLATFORM, key)
        return
    try:
        project_id, assignee = (checked.project_id, checked.assignee_id)
        if project_id is None:
            project_id, assignee = await _target(bot, team, actor, form)
            if form.assignee_slack_id and assignee is None:
                raise _NotMember()
        description = await _with_source(client, form)
        ticket = await tickets.create_ticket(
            bot.uow(), actor, project_id, title=form.title, description=description,
            priority=form.priority, assignee_id=assignee, origin=PLATFORM,
        )  # fmt: skip
    except (DomainError, _NotMember) as error:
        reason = explain(error) if isinstance(error, DomainError) else str(error)
        await show(client, view_id, notice_view("Ticket not created", reason))
        await finish_delivery(bot.uow(), PLATFORM, key)
        return
    await finish_delivery(bot.uow(), PLATFORM, key)
    link = ticket_url(bot.public_url, ticket)
    done = f"Created <{link}|{escape(ticket['key'])}>: {fit(ticket['title'], 300)}"
    await show(client, view_id, {**notice_view("Ticket created", ""), "blocks": [_mrkdwn(done)]})
    await _confirm(bot, client, form, user, ticket)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def _with_source(client: AsyncWebClient, form: Submission) -> str:
    """The description, ending with the source message's permalink when made from a message."""
    if not (form.message and form.channel):
        return form.description
    try:
        found = await client.chat_getPermalink(channel=form.channel, message_ts=form.message)
    except SlackApiError as error:
        log.info("chat.getPermalink failed: %s", error.response.get("error"))
        return form.description
    link = str(found.get("permalink") or "")
    if not link or link in form.description:
        return form.description
    return f"{form.description.rstrip()}\n\nFrom Slack: {link}".lstrip()


async def _confirm(
    bot: SlackBot, client: AsyncWebClient, form: Submission, user: str, ticket: dict[str, Any]
) -> None:
    """From a message: a reply in its thread for the whole channel. From `/ticket create`: an
    ephemeral note to the creator where they typed it."""
    if not form.channel:
        return
    _fallback, blocks = render.ticket_blocks(ticket, bot.public_url)
    if form.message:
        text = fit(f"created {ticket['key']}: {ticket['title']}", MAX_TEXT - 20)
        head = _mrkdwn(f"<@{user}> created a ticket from this message")
        try:
            await client.chat_postMessage(
                channel=form.channel, thread_ts=form.message, text=f"<@{user}> {text}",
                blocks=[head, *blocks], unfurl_links=False,
            )  # fmt: skip
            return
        except SlackApiError as error:  # e.g. not_in_channel: at least the creator hears of it
            log.info("could not reply in the thread of %s: %s", form.message, error.response.get("error"))
    try:
        text = fit(f"Created {ticket['key']}: {ticket['title']}", MAX_TEXT)
        await client.chat_postEphemeral(channel=form.channel, user=user, text=text, blocks=blocks)
    except SlackApiError:
        log.info("could not confirm %s in %s", ticket["key"], form.channel)


async def _open_from_message(bot: SlackBot, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Open the modal while the trigger is fresh, then fill it in (resolving the user may be slow)."""
    opened = await client.views_open(
        trigger_id=body["trigger_id"], view=notice_view("New ticket", "Loading the form…")
    )
    view_id = str((opened.get("view") or {}).get("id", ""))
    team, user = team_of(body), body["user"]["id"]
    actor = await bot.actor(team, user, client)
    if actor is None:
        await show(client, view_id, notice_view("Not linked", not_linked(PLATFORM)))
        return
    message = body.get("message") or {}
    text = await bot.plain(team, message.get("text", ""))
    title = (text.strip().splitlines() or [""])[0]
    channel = (body.get("channel") or {}).get("id")
    view = create_view(
        await bot.writable_projects(actor), title=title, description=text, channel=channel,
        message=message.get("ts"),
    )  # fmt: skip
    await show(client, view_id, view)
