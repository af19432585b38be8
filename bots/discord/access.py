"""Whether `/ticket subscribe` may relay into the channel it was typed in, decided before the hub is asked.

Two questions, both answered from the interaction alone (no REST call):

* **Can posting work there?** The relay posts a root message per ticket and starts a thread from it.
  Inside a thread, a voice or stage channel, a forum's root, a category or a DM that fails with
  Discord's 400 (code 50024); so only text and announcement channels are accepted. The bot's own
  permissions in the channel come with the interaction (`app_permissions`): without Send Messages,
  Embed Links, Create Public Threads or Read Message History the relay could not work either, and
  the refusal names what is missing.
* **May this member decide it?** Discord cannot give one subcommand its own default permissions
  (a group's subcommands share the parent's), so this is enforced here: the member needs Manage
  Channels in that channel (`member.permissions` of the interaction, overwrites included) or the
  role configured as `DISCORD_SUBSCRIBE_ROLE` (an id or a name). The hub then still checks the
  member's project role (member or above).
"""

from __future__ import annotations

import discord

#: Channel types the relay can post into (and start threads from messages in).
POSTABLE = (discord.ChannelType.text, discord.ChannelType.news)
THREADS = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)
#: What the bot needs in a followed channel, as (permission attribute, the name Discord shows).
NEEDED = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    ("create_public_threads", "Create Public Threads"),
    ("send_messages_in_threads", "Send Messages in Threads"),
    ("read_message_history", "Read Message History"),
)
KIND_NAMES = {
    discord.ChannelType.voice: "a voice channel",
    discord.ChannelType.stage_voice: "a stage channel",
    discord.ChannelType.forum: "a forum",
    discord.ChannelType.media: "a media channel",
    discord.ChannelType.category: "a category",
    discord.ChannelType.private: "a direct message",
    discord.ChannelType.group: "a group DM",
}


def channel_refusal(interaction: discord.Interaction) -> str | None:
    """Why the relay could not post into the interaction's channel, or None if it can."""
    channel = interaction.channel
    kind = getattr(channel, "type", None)
    if interaction.guild_id is None or kind in (discord.ChannelType.private, discord.ChannelType.group):
        return "Subscribe from the server channel that should receive the updates, not from a DM."
    if kind in THREADS:
        parent = getattr(channel, "parent_id", None)
        where = f" <#{parent}>" if parent else ""
        return (
            "Threads cannot follow a project: tickets are posted as messages with their own threads. "
            f"Run `/ticket subscribe` in the channel itself{where}."
        )
    if kind not in POSTABLE:
        name = KIND_NAMES.get(kind, "this kind of channel") if isinstance(kind, discord.ChannelType) else ""
        return (
            f"I can't post tickets into {name or 'this kind of channel'}. "
            "Run `/ticket subscribe` in a text or announcement channel."
        )
    mine = interaction.app_permissions
    missing = [label for attribute, label in NEEDED if not getattr(mine, attribute)]
    if missing:
        return (
            "I lack permissions in this channel: " + ", ".join(missing) + ". Ask a server admin to "
            "grant them to the Switchboard role here (channel settings → Permissions), then subscribe again."
        )
    return None


def _has_role(member: discord.Member, wanted: str) -> bool:
    return any(wanted == str(role.id) or wanted.casefold() == role.name.casefold() for role in member.roles)


def member_refusal(
    interaction: discord.Interaction, subscribe_role: str | None, command: str = "subscribe"
) -> str | None:
    """Why this member may not decide what the channel follows (`/ticket subscribe` and
    `/ticket unsubscribe` alike), or None if they may."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return "Subscribe from the server channel that should receive the updates."
    if interaction.permissions.manage_channels:
        return None
    if subscribe_role and _has_role(member, subscribe_role):
        return None
    role = f" or the role **{subscribe_role}**" if subscribe_role else ""
    return (
        f"Only members with the Manage Channels permission in this channel{role} may choose what it "
        f"follows. Ask one of them to run `/ticket {command}` here."
    )


def subscribe_refusal(interaction: discord.Interaction, subscribe_role: str | None) -> str | None:
    """The first reason `/ticket subscribe` is refused here, or None."""
    return channel_refusal(interaction) or member_refusal(interaction, subscribe_role)
