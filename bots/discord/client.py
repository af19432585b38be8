"""`SwitchboardClient`: the discord.py gateway client with the `/ticket` tree and the persistent items.

discord.py has two process-wide seams for where it connects, and `point_at` sets both: the REST base
(`discord.http.Route.BASE`, also used for interaction callbacks and followups) and the gateway
(`DiscordWebSocket.DEFAULT_GATEWAY`). The gateway address is asked of the REST API (`GET /gateway/bot`)
after login unless `DISCORD_GATEWAY_URL` names it. discord.py itself heartbeats, RESUMEs a dropped
session (or identifies afresh when Discord invalidates it) and waits out rate limits per bucket.

Application commands are synced at start-up only when they differ from what Discord has (compared
field by field), since Discord limits how often commands may be created.
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bots.discord import forms, messages
from bots.discord.bot import SORRY, DiscordBot, log
from bots.discord.commands import TicketCommand, context_menus
from bots.discord.config import DiscordConfig
from bots.discord.views import DYNAMIC_ITEMS

#: The fields of a command definition Discord stores and we set (others are defaults or read-only).
COMPARED = (
    "name", "description", "type", "options", "required", "autocomplete", "choices", "value",
    "min_length", "max_length", "min_value", "max_value", "channel_types",
)  # fmt: skip


def point_at(config: DiscordConfig) -> None:
    """Aim discord.py's REST (and, when configured, gateway) at `config`'s addresses."""
    discord.http.Route.BASE = config.api_url.rstrip("/")
    if config.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)


def canonical(value: Any) -> Any:
    """A command definition reduced to what we compare (defaults and empty values dropped)."""
    if isinstance(value, list):
        items = [canonical(v) for v in value]
        return sorted(items, key=repr) if all(isinstance(i, dict) and "name" in i for i in items) else items
    if isinstance(value, dict):
        kept = sorted((k, v) for k, v in value.items() if k in COMPARED and v not in (None, False, [], ""))
        return {k: canonical(v) for k, v in kept}
    return value


class SwitchboardClient(discord.Client):
    def __init__(self, bot: DiscordBot) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: thread replies become comments (docs/discord.md)
        super().__init__(
            intents=intents,
            guild_ready_timeout=bot.config.guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=bot.config.message_cache,
        )
        self.hub = bot
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(TicketCommand())
        for menu in context_menus():
            self.tree.add_command(menu)
        self.tree.on_error = self._command_failed  # type: ignore[method-assign]
        self.logged_in = asyncio.Event()
        self.synced = 0

    async def setup_hook(self) -> None:
        """After login, before the gateway: persistent items, gateway address, commands."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        if not self.hub.config.gateway_url:
            _shards, url, _limit = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        try:
            await self.sync_commands()
        except discord.HTTPException as error:
            log.error("could not register /ticket with Discord (%s); is the applications.commands "
                      "scope granted? (docs/discord.md)", error)  # fmt: skip
        self.logged_in.set()

    async def sync_commands(self) -> bool:
        """Register `/ticket` globally when Discord's copy differs; True if it synced."""
        assert self.application_id is not None
        ours = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        theirs = await self.http.get_global_commands(self.application_id)
        if canonical(ours) == canonical(list(theirs)):
            return False
        await self.tree.sync()
        self.synced += 1
        log.info("registered the /ticket command with Discord")
        return True

    async def on_message(self, message: discord.Message) -> None:
        try:
            await messages.on_message(self.hub, self, message)
        except Exception:
            log.exception("handling a Discord message failed")

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Submissions of our modals (read from the interaction: they outlive a restart)."""
        if interaction.type != discord.InteractionType.modal_submit:
            return
        try:
            await forms.on_submit(interaction)
        except Exception:
            log.exception("handling a Discord modal submission failed")

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        try:
            await messages.on_edit(self.hub, self, event)
        except Exception:
            log.exception("following a Discord message edit failed")

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        try:
            await messages.on_delete(self.hub, self, event)
        except Exception:
            log.exception("following a Discord message deletion failed")

    async def on_raw_bulk_message_delete(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        try:
            await messages.on_bulk_delete(self.hub, self, event)
        except Exception:
            log.exception("following a Discord bulk deletion failed")

    async def _command_failed(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("/ticket failed: %s", error, exc_info=error)
        embed = discord.Embed(description=SORRY, colour=0xEF4444)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(embed=embed, ephemeral=True)
            else:
                await interaction.response.send_message(embed=embed, ephemeral=True)
        except discord.HTTPException:
            pass
