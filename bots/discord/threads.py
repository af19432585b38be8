"""Where Discord will not show what the hub accepted: locked ticket threads, and confirmations in channels.

A locked thread takes no messages from the bot (Discord answers 400, code 50083), so a comment made
from Discord (`/ticket comment`, the Comment button) on a ticket whose thread is locked is added on
the board but will not appear in that thread: the author is told in the ephemeral answer instead of
the comment vanishing from Discord's view. "Create ticket from message" confirms by replying to the
source message, visible to the channel.
"""

from __future__ import annotations

from typing import Any

import discord

from bots.actions import Result
from bots.discord.bot import DiscordBot, log
from bots.text import ticket_url
from hub.services.chat import mirrors


async def _thread(client: discord.Client, thread_id: int) -> discord.Thread | None:
    channel = client.get_channel(thread_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(thread_id)
        except discord.HTTPException:
            return None
    return channel if isinstance(channel, discord.Thread) else None


async def locked_threads(bot: DiscordBot, client: discord.Client, guild_id: int, ticket_id: int) -> list[int]:
    """The parent channels in which the ticket's relayed thread is locked."""
    found = []
    for channel_id, thread_id in await mirrors.threads_of_ticket(
        bot.uow(), "discord", str(guild_id), ticket_id
    ):
        thread = await _thread(client, int(thread_id))
        if thread is not None and thread.locked:
            found.append(int(channel_id))
    return found


async def with_locked_note(
    bot: DiscordBot, interaction: discord.Interaction, ticket_id: int | None, result: Result
) -> Result:
    """`result`, told that the comment will not show in the ticket's locked thread(s), if any."""
    if not result.ok or ticket_id is None or interaction.guild_id is None:
        return result
    try:
        locked = await locked_threads(bot, interaction.client, interaction.guild_id, ticket_id)
    except Exception:  # the note is a courtesy; the comment stands either way
        log.exception("checking the threads of ticket %s failed", ticket_id)
        return result
    if locked:
        where = ", ".join(f"<#{channel}>" for channel in locked)
        result.text += (
            f"\n⚠️ The ticket's thread in {where} is locked, so this comment is on the board but will not "
            "appear there. A moderator can unlock the thread."
        )
    return result


async def confirm_in_channel(
    bot: DiscordBot,
    interaction: discord.Interaction,
    channel_id: int,
    message_id: int,
    ticket: dict[str, Any],
) -> bool:
    """Reply to the source message with the new ticket, visible to the channel; False if refused."""
    channel = interaction.client.get_partial_messageable(channel_id, guild_id=interaction.guild_id)
    reference = discord.MessageReference(
        message_id=message_id, channel_id=channel_id, fail_if_not_exists=False
    )
    text = (
        f"📋 {interaction.user.mention} created **[{ticket['key']}]({ticket_url(bot.public_url, ticket)})**: "
        f"{discord.utils.escape_markdown(str(ticket['title']))[:1800]}"
    )
    try:
        await channel.send(text, reference=reference, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.info("could not confirm %s under message %s: %s", ticket["key"], message_id, error)
        return False
    return True
