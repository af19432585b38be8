"""Events API: thread replies become hub comments (and follow their edits and deletion); board links
unfurl.

A reply in a relayed ticket's thread by a linked user is added as a comment with `origin="slack"` and
`meta={"slack_team", "slack_channel", "slack_ts"}`; the relay then records that message instead of
posting the comment back into the thread (no echo). Replies with files (`file_share`: each file
becomes a line with its name and link) and replies also sent to the channel (`thread_broadcast`) are
replies too. Any other kind of message a person posts in a ticket's thread gets an ephemeral note to
its author saying it was not added; bots' messages (bolt drops our own) and Slack's notices
(`IGNORED_SUBTYPES`, joins, topic changes, …) are ignored.

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
from bots.slack.limits import MAX_SECTION, fit
from hub.domain.errors import DomainError
from hub.services.chat import relay as chat_relay
from hub.services.chat.relay import CommentMessage
from hub.services.tickets import comments, tickets

BOARD_LINK = re.compile(r"#/p/(\d+)/t/(\d+)")
#: Messages a person wrote that become comments in a ticket's thread: a plain reply, a reply with
#: files, and a reply also sent to the channel.
REPLY_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
#: Not a person's reply (bots, Slack's own notices, channel changes): ignored without a word.
IGNORED_SUBTYPES = frozenset({
    "bot_message", "message_replied", "channel_join", "channel_leave", "channel_topic", "channel_purpose",
    "channel_name", "channel_archive", "channel_unarchive", "channel_convert_to_private",
    "channel_convert_to_public", "channel_posting_permissions", "group_join", "group_leave", "group_topic",
    "group_purpose", "group_name", "group_archive", "group_unarchive", "pinned_item", "unpinned_item",
    "ekm_access_denied", "assistant_app_thread", "reminder_add", "slackbot_response",
})  # fmt: skip


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
            elif event.get("bot_id") or subtype in IGNORED_SUBTYPES:
                return
            elif subtype in REPLY_SUBTYPES:
                await _reply(bot, team, event, client)
            else:
                await _refuse(bot, team, event, client)
        except Exception:
            log.exception("handling a Slack message failed")

    @app.event("link_shared")
    async def on_link_shared(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        try:
            await _unfurl(bot, str(context.team_id or ""), event, client)
        except Exception:
            log.exception("unfurling failed")


async def _tell(client: AsyncWebClient, channel: str, user: str, thread: str | None, text: str) -> None:
    await client.chat_postEphemeral(
        channel=channel, user=user, thread_ts=thread, text=":warning: " + fit(text, MAX_SECTION)
    )


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
            with_files(await bot.plain(team, event.get("text", "")), event.get("files")),
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


def with_files(text: str, files: Any) -> str:
    """The reply's text followed by one line per shared file: its name and its Slack link
    (`permalink`; files a free workspace hides past its limit have neither and are left out)."""
    lines = [text] if text.strip() else []
    for file in files if isinstance(files, list) else []:
        if not isinstance(file, dict):
            continue
        link = str(file.get("permalink") or file.get("url_private") or "")
        name = str(file.get("name") or file.get("title") or "file")
        if link:
            lines.append(f"📎 {name} ({link})")
    return "\n".join(lines)


async def _refuse(bot: SlackBot, team: str, event: dict[str, Any], client: AsyncWebClient) -> None:
    """A person's message of a kind we cannot take, in a ticket's thread: tell its author (only them)
    that it did not become a comment, instead of dropping it silently."""
    thread, channel, user = event.get("thread_ts"), event.get("channel"), event.get("user")
    if not thread or thread == event.get("ts") or not user or not channel:
        return
    if await chat_relay.ticket_of_thread(bot.uow(), "slack", team, channel, thread) is None:
        return  # not a relayed ticket's thread: not ours to comment on
    kind = str(event.get("subtype"))
    await _tell(
        client, channel, user, thread,
        f"Your message was not added to the ticket: messages of this kind ({kind}) cannot become "
        "comments. Reply with text or files instead.",
    )  # fmt: skip


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
