"""`DiscordSink`: the relays' operations as discord.py REST calls.

A ticket's root message is an embed with buttons; its thread is started from that message, so the
thread's id is the message's id (Discord's rule) — the relay keeps one id for both. Every relayed
message carries `event N` in its embed footer; `find_posted` reads the channel's or thread's recent
history for it after a crash. discord.py waits out 429s per bucket by itself (inside the call, so
only that channel's lane waits; a wait longer than its `max_ratelimit_timeout` surfaces as
`RateLimitedError`); errors that retrying cannot fix (missing access, unknown channel, 50024 "cannot
execute action on this channel type", a user who does not accept DMs) become `PermanentSendError`,
and an already deleted message is not an error.

discord.py re-sends a request by itself only after a 500/502/504/524 answer or a connection reset
(errno 54/10054); a message post carries a `nonce` with `enforce_nonce`, which Discord uses to
return the first message instead of creating a second one.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bots.discord import render
from bots.discord.mentions import DiscordMentions
from bots.discord.views import notification_view, ticket_view
from bots.sink import PermanentSendError, RateLimitedError
from hub.services.chat.accounts import ChatUser
from hub.services.chat.relay import Target

log = logging.getLogger("bots.discord")
#: Discord's JSON error codes for "this target will not take messages".
PERMANENT_CODES = {
    10003,  # unknown channel
    10013,  # unknown user
    50001,  # missing access
    50007,  # cannot send messages to this user
    50013,  # missing permissions
    50024,  # cannot execute action on this channel type (e.g. a thread or a forum)
    50083,  # thread is archived
}
UNKNOWN_MESSAGE = 10008
UNKNOWN_CHANNEL = 10003


def _permanent(error: discord.HTTPException | discord.RateLimited, what: str) -> Exception:
    if isinstance(error, discord.RateLimited):
        return RateLimitedError(what, error.retry_after)
    if isinstance(error, discord.Forbidden | discord.NotFound) or error.code in PERMANENT_CODES:
        return PermanentSendError(f"{what}: {error.status} {error.code} {error.text}")
    return error


class DiscordSink:
    platform = "discord"

    def __init__(
        self, client: discord.Client, public_url: str, mentions: DiscordMentions | None = None
    ) -> None:
        self.client = client
        self.public_url = public_url
        #: Whom channel posts mention (`<@id>` of linked people; None: nobody).
        self.mentions = mentions

    def _channel(self, channel_id: str, guild_id: str | None = None) -> discord.PartialMessageable:
        guild = int(guild_id) if guild_id and guild_id.isdigit() else None
        return self.client.get_partial_messageable(int(channel_id), guild_id=guild)

    async def _send(self, channel: discord.PartialMessageable, what: str, **kwargs: Any) -> discord.Message:
        try:
            return await channel.send(**kwargs)
        except (discord.HTTPException, discord.RateLimited) as error:
            raise _permanent(error, what) from error

    # --- channel relay ----------------------------------------------------------------------------
    async def post_ticket(self, target: Target, ticket: dict[str, Any], *, event_id: int) -> str:
        channel = self._channel(target.channel_id, target.team_id)
        message = await self._send(
            channel,
            f"post {ticket['key']}",
            embed=render.ticket_embed(ticket, self.public_url, fmt=target.format, event_id=event_id),
            view=ticket_view(ticket, self.public_url),
            **(await self.mentions.ticket(target, ticket) if self.mentions else {}),
        )
        try:
            await self._start_thread(channel, message.id, ticket)
        except PermanentSendError as error:  # no thread permission: the root still stands and updates
            log.warning("no thread for %s in %s: %s", ticket["key"], target.channel_id, error)
        return str(message.id)

    async def _start_thread(
        self, channel: discord.PartialMessageable, message_id: int, ticket: dict[str, Any] | None
    ) -> None:
        name = render.thread_name(ticket) if ticket else f"Ticket {message_id}"
        try:
            await channel.get_partial_message(message_id).create_thread(name=name)
        except discord.HTTPException as error:
            if error.code == 160004:  # a thread has already been created for this message
                return
            raise _permanent(error, "create thread") from error

    async def update_ticket(
        self, target: Target, message_id: str, ticket: dict[str, Any], *, deleted: bool = False
    ) -> None:
        embed = render.ticket_embed(ticket, self.public_url, fmt=target.format, deleted=deleted)
        message = self._channel(target.channel_id, target.team_id).get_partial_message(int(message_id))
        try:
            said = (
                await self.mentions.ticket(target, ticket, message_id)
                if self.mentions and not deleted
                else {}
            )
            await message.edit(
                embed=embed, view=None if deleted else ticket_view(ticket, self.public_url),
                content=said.get("content"), allowed_mentions=said.get("allowed_mentions"),
            )  # fmt: skip
        except discord.NotFound:
            log.info("root message %s of %s is gone; not updated", message_id, ticket.get("key"))
        except discord.HTTPException as error:
            raise _permanent(error, "edit ticket") from error

    async def _in_thread(self, target: Target, thread_id: str, what: str, **kwargs: Any) -> str:
        """Send into the ticket's thread; (re)start it if it is missing (a crash after the root post)."""
        thread = self._channel(thread_id, target.team_id)
        try:
            return str((await thread.send(**kwargs)).id)
        except discord.NotFound as error:
            if error.code != UNKNOWN_CHANNEL:
                raise _permanent(error, what) from error
        await self._start_thread(self._channel(target.channel_id, target.team_id), int(thread_id), None)
        return str((await self._send(thread, what, **kwargs)).id)

    async def post_reply(self, target: Target, thread_id: str, lines: list[str], *, event_id: int) -> str:
        said = await self.mentions.reply(target, thread_id, lines) if self.mentions else {}
        return await self._in_thread(
            target, thread_id, "reply", embed=render.reply_embed(lines, event_id), **said
        )

    async def post_comment(
        self, target: Target, thread_id: str, comment: dict[str, Any], origin: str, *, event_id: int
    ) -> str:
        embed = render.comment_embed(comment, origin, event_id)
        said = await self.mentions.comment(target, comment) if self.mentions else {}
        return await self._in_thread(target, thread_id, "comment", embed=embed, **said)

    async def update_comment(
        self,
        target: Target,
        message_id: str,
        comment: dict[str, Any],
        origin: str,
        *,
        thread_id: str | None = None,
    ) -> None:
        message = self._channel(thread_id or target.channel_id).get_partial_message(int(message_id))
        try:
            old = await message.fetch()
            await message.edit(embed=render.comment_embed(comment, origin, render.event_of(old)))
        except discord.NotFound:
            return
        except discord.HTTPException as error:
            raise _permanent(error, "edit comment") from error

    async def delete_message(self, target: Target, message_id: str, *, thread_id: str | None = None) -> None:
        message = self._channel(thread_id or target.channel_id).get_partial_message(int(message_id))
        try:
            await message.delete()
        except discord.NotFound:
            return
        except discord.HTTPException as error:
            raise _permanent(error, "delete") from error

    async def find_posted(self, target: Target, thread_id: str | None, event_id: int) -> str | None:
        channel = self._channel(thread_id or target.channel_id, target.team_id)
        me = self.client.user.id if self.client.user else None
        try:
            async for message in channel.history(limit=100):
                if message.author.id == me and render.event_of(message) == event_id:
                    return str(message.id)
        except discord.NotFound:
            return None
        except discord.HTTPException as error:
            raise _permanent(error, "history") from error
        return None

    def chat_message_of(self, meta: dict[str, Any], target: Target) -> str | None:
        if meta.get("discord_guild") == target.team_id and meta.get("discord_channel") == target.channel_id:
            message = meta.get("discord_message")
            return str(message) if message else None
        return None

    async def post_summary(self, target: Target, summary: dict[str, Any], message_id: str | None) -> str:
        channel = self._channel(target.channel_id, target.team_id)
        embed = render.summary_embed(summary)
        if message_id:
            try:
                await channel.get_partial_message(int(message_id)).edit(embed=embed)
                return message_id
            except discord.NotFound:
                pass  # unpinned and deleted: post a new one
            except discord.HTTPException as error:
                raise _permanent(error, "edit summary") from error
        message = await self._send(channel, "summary", embed=embed)
        try:
            await message.pin(reason="Switchboard board summary")
        except discord.HTTPException as error:
            log.info("could not pin the summary in %s: %s", target.channel_id, error)
        return str(message.id)

    # --- direct messages --------------------------------------------------------------------------
    async def _dm(self, account: ChatUser) -> discord.DMChannel:
        try:
            return await self.client.create_dm(discord.Object(id=int(account.external_id)))
        except discord.HTTPException as error:
            raise _permanent(error, "open DM") from error

    async def send_dm(self, account: ChatUser, notification: dict[str, Any]) -> None:
        channel = await self._dm(account)
        try:
            await channel.send(
                embed=render.dm_embed(notification), view=notification_view(notification, self.public_url)
            )
        except discord.HTTPException as error:
            raise _permanent(error, "DM") from error

    async def send_pause_note(
        self, account: ChatUser, channel_id: str, project_key: str, reason: str
    ) -> None:
        channel = await self._dm(account)
        text = (
            f"I stopped posting {project_key} tickets in <#{channel_id}>: {reason}. Fix the channel (or "
            f"my access to it), then run `/ticket subscribe {project_key}` there to resume."
        )
        try:
            await channel.send(content=text[:2000], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            raise _permanent(error, "pause note") from error

    async def send_digest(self, account: ChatUser, notifications: list[dict[str, Any]]) -> None:
        channel = await self._dm(account)
        try:
            await channel.send(embed=render.digest_embed(notifications))
        except discord.HTTPException as error:
            raise _permanent(error, "digest DM") from error
