"""Events API: thread replies become hub comments (and follow their edits and deletion); board links
unfurl.

A reply in a relayed ticket's thread by a linked user is added as a comment with `origin="slack"` and
`meta={"slack_team", "slack_channel", "slack_ts"}`; the relay then records that message instead of
posting the comment back into the thread (no echo). Bots' own messages are ignored by bolt itself.

Unfurls show the ticket to the whole channel on the strength of the *sharer's* permission (exactly
what pasting its text would do); unlinked sharers and tickets they cannot read are not unfurled.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import explain, not_linked
from bots.slack import render
from bots.slack.bot import SlackBot, log
from hub.domain.errors import DomainError
from hub.services.chat import relay as chat_relay
from hub.services.chat.relay import CommentMessage
from hub.services.tickets import comments, tickets

BOARD_LINK = re.compile(r"#/p/(\d+)/t/(\d+)")


def register(app: AsyncApp, bot: SlackBot) -> None:
    @app.event("message")
    async def on_message(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        team = str(context.team_id or "")
        subtype = event.get("subtype")
        try:
            if subtype == "message_changed":
                await _edited(bot, team, event, client)
            elif subtype == "message_deleted":
                await _deleted(bot, team, event, client)
            elif subtype is None and not event.get("bot_id"):
                await _reply(bot, team, event, client)
        except Exception:
            log.exception("handling a Slack message failed")

    @app.event("link_shared")
    async def on_link_shared(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        try:
            await _unfurl(bot, str(context.team_id or ""), event, client)
        except Exception:
            log.exception("unfurling failed")


async def _tell(client: AsyncWebClient, channel: str, user: str, thread: str | None, text: str) -> None:
    await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread, text=f":warning: {text}")


async def _reply(bot: SlackBot, team: str, event: dict[str, Any], client: AsyncWebClient) -> None:
    thread, ts, channel, user = event.get("thread_ts"), event["ts"], event["channel"], event.get("user", "")
    if not thread or thread == ts or not user:
        return
    ticket_id = await chat_relay.ticket_of_thread(bot.uow(), "slack", team, channel, thread)
    if ticket_id is None:
        return  # not a relayed ticket's thread
    actor = await bot.actor(team, user, client)
    if actor is None:
        await _tell(
            client, channel, user, thread, "Your reply was not added to the ticket. " + not_linked("slack")
        )
        return
    meta = {"slack_team": team, "slack_channel": channel, "slack_ts": ts}
    try:
        comment = await comments.add_comment(
            bot.uow(),
            actor,
            ticket_id,
            await bot.plain(team, event.get("text", "")),
            origin="slack",
            meta=meta,
        )
    except DomainError as error:
        await _tell(
            client, channel, user, thread, "Your reply was not added to the ticket: " + explain(error)
        )
        return
    # Record the message now (the relay would too): edits and deletions in Slack can follow at once.
    row = CommentMessage(team, channel, int(comment["id"]), ticket_id, 0, ts, from_chat=True)
    await chat_relay.save_comment_message(bot.uow(), "slack", row)


async def _edited(bot: SlackBot, team: str, event: dict[str, Any], client: AsyncWebClient) -> None:
    message = event.get("message") or {}
    channel, user = event["channel"], message.get("user", "")
    comment_id = await chat_relay.comment_of_message(bot.uow(), "slack", team, channel, message.get("ts", ""))
    if comment_id is None or not user:
        return
    actor = await bot.actor(team, user, client)
    if actor is None:
        return
    text = await bot.plain(team, message.get("text", ""))
    try:
        await comments.edit_comment(bot.uow(), actor, comment_id, text, origin="slack")
    except DomainError as error:
        await _tell(
            client,
            channel,
            user,
            message.get("thread_ts"),
            "The ticket comment was not changed: " + explain(error),
        )


async def _deleted(bot: SlackBot, team: str, event: dict[str, Any], client: AsyncWebClient) -> None:
    previous = event.get("previous_message") or {}
    channel, user = event["channel"], previous.get("user", "")
    comment_id = await chat_relay.comment_of_message(
        bot.uow(), "slack", team, channel, str(event.get("deleted_ts", ""))
    )
    if comment_id is None or not user:
        return
    actor = await bot.actor(team, user, client)
    if actor is not None:
        try:
            await comments.delete_comment(bot.uow(), actor, comment_id, origin="slack")
        except DomainError as error:
            log.info("comment %s not deleted after its Slack message was: %s", comment_id, error.message)


async def _unfurl(bot: SlackBot, team: str, event: dict[str, Any], client: AsyncWebClient) -> None:
    actor = await bot.actor(team, event.get("user", ""), client)
    if actor is None:
        return
    unfurls: dict[str, Any] = {}
    base = bot.public_url.rstrip("/")
    for link in event.get("links") or []:
        url = str(link.get("url", ""))
        match = BOARD_LINK.search(url)
        if not url.startswith(base) or match is None:
            continue
        try:
            ticket = await tickets.get_ticket(bot.uow(), actor, int(match.group(2)))
        except DomainError:
            continue
        _text, blocks = render.ticket_blocks(ticket, bot.public_url, fmt="detailed", actions=False)
        unfurls[url] = {"blocks": blocks}
    if unfurls:
        await client.chat_unfurl(channel=event["channel"], ts=event["message_ts"], unfurls=unfurls)
