"""Messages typed in a relayed ticket's thread become hub comments, and follow their edits and deletion.

Needs the privileged **Message Content** intent (docs/discord.md): without it Discord sends the bot
empty `content` for other people's messages. A reply by a linked user is added with
`origin="discord"` and `meta={"discord_guild", "discord_channel" (the thread's parent), "discord_thread",
"discord_message"}`; the relay then records that message instead of posting the comment back (no
echo). Unlinked users are told by DM (or, if they do not accept DMs, by a short-lived reply). Bots'
and webhooks' messages, our own included, are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import discord

from bots.actions import explain, not_linked
from bots.discord.bot import DiscordBot, log
from hub.domain.errors import DomainError
from hub.services.chat import accounts as chat
from hub.services.chat import mirrors
from hub.services.chat import relay as chat_relay
from hub.services.chat.accounts import ChatUser
from hub.services.chat.relay import CommentMessage
from hub.services.tickets import comments

THREAD_TYPES = (discord.ChannelType.public_thread, discord.ChannelType.private_thread)
REPLY_WAIT = 10.0
#: How long a note to one user stays in a thread or channel (where it cannot be ephemeral).
TELL_SECONDS = 120.0
_MENTION = re.compile(r"<(@!?|@&|#)(\d+)>")


async def _thread(client: discord.Client, channel_id: int) -> tuple[int, int] | None:
    """(guild id, parent channel id) of a thread, from the cache or the API; None if not a thread."""
    channel: Any = client.get_channel(channel_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except discord.HTTPException:
            return None
    if getattr(channel, "type", None) not in THREAD_TYPES or channel.parent_id is None:
        return None
    return int(channel.guild.id), int(channel.parent_id)


async def to_plain(bot: DiscordBot, message: discord.Message, guild_id: int) -> str:
    """Discord markup → comment text: a linked user's mention becomes their hub `@email` (so hub
    mentions notify them), others their display name; channels and roles their names; attachments
    are appended as links."""
    names = {m.id: m.display_name for m in message.mentions}
    roles = {r.id: r.name for r in message.role_mentions}
    parts, last = [], 0
    for match in _MENTION.finditer(message.content):
        parts.append(message.content[last : match.start()])
        kind, ident = match.group(1), int(match.group(2))
        if kind.startswith("@") and kind != "@&":
            email = await chat.linked_email(bot.uow(), ChatUser("discord", str(guild_id), str(ident)))
            parts.append("@" + (email or names.get(ident, str(ident))))
        elif kind == "@&":
            parts.append("@" + roles.get(ident, str(ident)))
        else:
            channel = message.guild.get_channel(ident) if message.guild else None
            parts.append("#" + (channel.name if channel else str(ident)))
        last = match.end()
    parts.append(message.content[last:])
    text = "".join(parts).strip()
    links = "\n".join(a.url for a in message.attachments)
    return f"{text}\n{links}".strip() if links else text


async def _tell(message: discord.Message, text: str) -> None:
    """Tell a message's author something, never silently: by DM; if they refuse DMs, as a short-lived
    reply in the thread; if the thread is locked or archived (Discord refuses the bot's posts there),
    as a short-lived message mentioning them in the thread's parent channel."""
    try:
        await message.author.send(f"⚠️ {text}")
        return
    except discord.HTTPException:
        pass
    try:
        await message.reply(f"⚠️ {text}", delete_after=TELL_SECONDS, mention_author=False)
        return
    except discord.HTTPException as error:
        log.info("could not reply to %s in %s (%s)", message.author.id, message.channel.id, error)
    parent = getattr(message.channel, "parent", None) or getattr(message.channel, "parent_id", None)
    parent_id = parent if isinstance(parent, int) else getattr(parent, "id", None)
    if parent_id is None:
        place = await _thread(message._state._get_client(), message.channel.id)
        parent_id = place[1] if place else None
    if parent_id is None:
        log.info("could not tell %s: %s", message.author.id, text)
        return
    channel = message._state._get_client().get_partial_messageable(parent_id)
    try:
        await channel.send(
            f"⚠️ {message.author.mention} {text}",
            delete_after=TELL_SECONDS,
            allowed_mentions=discord.AllowedMentions(users=[message.author]),
        )
    except discord.HTTPException:
        log.info("could not tell %s: %s", message.author.id, text)


async def on_message(bot: DiscordBot, client: discord.Client, message: discord.Message) -> None:
    if message.author.bot or message.webhook_id is not None or message.guild is None:
        return
    if message.type not in (discord.MessageType.default, discord.MessageType.reply):
        return
    # Registered before the first await: Discord's MESSAGE_UPDATE for this message is handled in a
    # task started after this one, and waits for it (see `_comment_of`).
    done = bot.replies.setdefault(message.id, asyncio.Event())
    try:
        await _reply_to_comment(bot, client, message)
    finally:
        bot.replies.pop(message.id, None)
        done.set()


async def _reply_to_comment(bot: DiscordBot, client: discord.Client, message: discord.Message) -> None:
    place = await _thread(client, message.channel.id)
    if place is None:
        return
    guild_id, parent_id = place
    team, thread = str(guild_id), str(message.channel.id)
    ticket_id = await chat_relay.ticket_of_thread(bot.uow(), "discord", team, str(parent_id), thread)
    if ticket_id is None:
        return  # a thread, but not a relayed ticket's
    actor = await bot.actor(bot.account(message.author, guild_id))
    if actor is None:
        await _tell(message, "Your reply was not added to the ticket. " + not_linked("discord"))
        return
    text = await to_plain(bot, message, guild_id)
    if not text:
        return
    meta = {
        "discord_guild": team,
        "discord_channel": str(parent_id),
        "discord_thread": thread,
        "discord_message": str(message.id),
    }
    try:
        comment = await comments.add_comment(bot.uow(), actor, ticket_id, text, origin="discord", meta=meta)
    except DomainError as error:
        await _tell(message, "Your reply was not added to the ticket: " + explain(error))
        return
    # Record it now (the relay would too), so an edit or deletion in Discord can follow at once.
    row = CommentMessage(team, str(parent_id), int(comment["id"]), ticket_id, 0, str(message.id), True)
    await chat_relay.save_comment_message(bot.uow(), "discord", row)


async def _comment_of(bot: DiscordBot, client: discord.Client, channel_id: int, message_id: int) -> Any:
    pending = bot.replies.get(message_id)
    if pending is not None:  # the reply itself is still being recorded
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REPLY_WAIT):
                await pending.wait()
    place = await _thread(client, channel_id)
    if place is None:
        return None, 0
    guild_id, parent_id = place
    found = await chat_relay.comment_of_message(
        bot.uow(), "discord", str(guild_id), str(parent_id), str(message_id)
    )
    return found, guild_id


async def on_edit(bot: DiscordBot, client: discord.Client, event: discord.RawMessageUpdateEvent) -> None:
    if "content" not in event.data:
        return  # an embed resolving, a pin: not an edit of the text
    comment_id, guild_id = await _comment_of(bot, client, event.channel_id, event.message_id)
    if comment_id is None:
        return
    message = event.message
    actor = await bot.actor(bot.account(message.author, guild_id))
    if actor is None:
        return
    try:
        text = await to_plain(bot, message, guild_id)
        await comments.edit_comment(bot.uow(), actor, comment_id, text, origin="discord")
    except DomainError as error:
        await _tell(message, "The ticket comment was not changed: " + explain(error))


async def on_delete(bot: DiscordBot, client: discord.Client, event: discord.RawMessageDeleteEvent) -> None:
    await _deleted(bot, client, event.channel_id, event.message_id, event.cached_message)


async def on_bulk_delete(
    bot: DiscordBot, client: discord.Client, event: discord.RawBulkMessageDeleteEvent
) -> None:
    """A purge: each deleted message that mirrored a comment takes its comment along."""
    cached = {message.id: message for message in event.cached_messages}
    for message_id in sorted(event.message_ids):
        await _deleted(bot, client, event.channel_id, message_id, cached.get(message_id))


async def _deleted(
    bot: DiscordBot, client: discord.Client, channel_id: int, message_id: int, cached: discord.Message | None
) -> None:
    """The comment a deleted message became goes too. Discord's MESSAGE_DELETE names no one and the
    message is cached only if it was seen since the start, so the comment is deleted as its author
    (the linked account that typed it) unless the cached message says who that was."""
    comment_id, guild_id = await _comment_of(bot, client, channel_id, message_id)
    if comment_id is None:
        return
    actor = await bot.actor(bot.account(cached.author, guild_id)) if cached is not None else None
    actor = actor or await mirrors.comment_author(bot.uow(), comment_id)
    if actor is None:
        log.info("comment %s: its Discord message was deleted, its author is gone; kept", comment_id)
        return
    try:
        await comments.delete_comment(bot.uow(), actor, comment_id, origin="discord")
    except DomainError as error:
        log.info("comment %s not deleted after its Discord message was: %s", comment_id, error.message)
