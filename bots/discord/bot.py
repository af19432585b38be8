"""What the Discord handlers share: settings, the command runner, identity lookup, the unit of work.

A Discord account is `ChatUser("discord", <guild id or "@me" in a DM>, <user id>)`. Discord user ids are
global, so the hub finds the linked account by user id whatever the guild (`chat.GLOBAL_USER_IDS`);
the guild id still scopes channel subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bots.actions import Actions, Place, Result
from bots.discord import render
from bots.discord.config import DiscordConfig
from hub.adapters.db.uow import UnitOfWork
from hub.domain.identity import Actor
from hub.services.chat import accounts as chat
from hub.services.chat.accounts import ChatUser

log = logging.getLogger("bots.discord")
SORRY = "Something went wrong on our side; nothing was changed. Please try again."
DM_TEAM = "@me"


@dataclass
class DiscordBot:
    config: DiscordConfig
    actions: Actions
    uow: Callable[[], UnitOfWork]
    #: Thread replies being turned into comments, by message id: an edit or deletion of one waits for
    #: its comment (and the link to it) to be recorded instead of missing it.
    replies: dict[int, asyncio.Event] = field(default_factory=dict)
    #: When expired modal-submission claims were last pruned (`time.monotonic()`; 0: never).
    pruned_at: float = 0.0

    @property
    def public_url(self) -> str:
        return self.config.public_url

    def account(self, user: discord.abc.User, guild_id: int | None) -> ChatUser:
        name = getattr(user, "display_name", None) or user.name
        return ChatUser("discord", str(guild_id) if guild_id else DM_TEAM, str(user.id), name)

    def place(self, interaction: discord.Interaction) -> Place:
        channel = str(interaction.channel_id) if interaction.guild_id and interaction.channel_id else None
        return Place(self.account(interaction.user, interaction.guild_id), channel)

    async def actor(self, who: ChatUser) -> Actor | None:
        return await chat.resolve_actor(self.uow(), who)  # Discord user ids are global: any guild, or a DM

    async def run(self, interaction: discord.Interaction, command: Any) -> Result:
        """Run a command as the interacting user; never raises."""
        place = self.place(interaction)
        try:
            actor = await self.actor(place.user)
            return await self.actions.execute(place, command, actor)
        except Exception:
            log.exception("discord command %r failed", command)
            return Result(SORRY, ok=False)

    async def answer(self, interaction: discord.Interaction, result: Result) -> None:
        """The answer to a deferred interaction, visible to the user only; a ticket comes with its
        buttons, a ticket list with the create form's."""
        from bots.discord.views import list_view, ticket_view  # the views' handlers need this module

        content, embeds = render.result_embeds(result, self.public_url)
        view = discord.utils.MISSING
        if result.ok and result.ticket is not None:
            view = ticket_view(result.ticket, self.public_url)
        elif result.ok and result.tickets:
            view = list_view(result.project_key)
        if content:
            await interaction.followup.send(content=content, embeds=embeds, ephemeral=True, view=view)
        else:
            await interaction.followup.send(embeds=embeds, ephemeral=True, view=view)


def bot_of(interaction: discord.Interaction) -> DiscordBot:
    """The `DiscordBot` of the client an interaction arrived on (`SwitchboardClient.hub`)."""
    bot: DiscordBot = interaction.client.hub  # type: ignore[attr-defined]
    return bot
