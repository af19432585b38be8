"""Autocomplete for `/ticket` options: the caller's projects, their tickets, and statuses.

Discord asks while the user types and wants an answer within 3 s, at most 25 choices. Unlinked users
get no suggestions (they may still type). Only what the linked user may see is ever suggested: every
lookup goes through the service layer as that user.
"""

from __future__ import annotations

import re

import discord
from discord import app_commands

from bots.commands import STATUSES
from bots.discord.bot import DiscordBot, bot_of
from bots.text import STATUS_LABELS, status_label
from hub.domain.errors import DomainError
from hub.domain.identity import Actor
from hub.services.projects import projects as project_service
from hub.services.tickets import tickets as ticket_service

MAX = 25
KEY_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-(\d*)$")
Choices = list[app_commands.Choice[str]]


async def _actor(interaction: discord.Interaction) -> tuple[DiscordBot, Actor | None]:
    bot = bot_of(interaction)
    return bot, await bot.actor(bot.account(interaction.user, interaction.guild_id))


async def _projects(interaction: discord.Interaction, current: str) -> Choices:
    bot, actor = await _actor(interaction)
    if actor is None:
        return []
    needle = current.strip().lower()
    found = [
        app_commands.Choice(name=f"{p['key']} — {p['name']}"[:100], value=p["key"])
        for p in await project_service.list_projects(bot.uow(), actor)
        if needle in p["key"].lower() or needle in p["name"].lower()
    ]
    return found[:MAX]


async def projects(interaction: discord.Interaction, current: str) -> Choices:
    return await _projects(interaction, current)


async def projects_or_mine(interaction: discord.Interaction, current: str) -> Choices:
    mine = [app_commands.Choice(name="mine — tickets assigned to me", value="mine")]
    found = await _projects(interaction, current)
    return (mine if "mine".startswith(current.strip().lower()) else []) + found[: MAX - 1]


async def tickets(interaction: discord.Interaction, current: str) -> Choices:
    """`OPS-1` → tickets of OPS whose key starts so; other text searches titles; empty → newest."""
    bot, actor = await _actor(interaction)
    if actor is None:
        return []
    text = current.strip()
    match = KEY_PREFIX.match(text)
    visible = await project_service.list_projects(bot.uow(), actor)
    if match:
        visible = [p for p in visible if p["key"] == match.group(1).upper()]
    found: Choices = []
    for project in visible[:10]:
        try:
            page = await ticket_service.list_tickets(
                bot.uow(), actor, project["id"], q=None if match or not text else text, limit=MAX
            )
        except DomainError:
            continue
        for ticket in page.items:
            if match and not ticket["key"].startswith(text.upper()):
                continue
            label = f"{ticket['key']} {ticket['title']} ({status_label(ticket['status'])})"
            found.append(app_commands.Choice(name=label[:100], value=ticket["key"]))
    return found[:MAX]


async def statuses(interaction: discord.Interaction, current: str) -> Choices:
    needle = current.strip().lower().replace("_", " ")
    wanted = {value for alias, value in STATUSES.items() if alias.startswith(needle)} if needle else None
    return [
        app_commands.Choice(name=label, value=status)
        for status, label in STATUS_LABELS.items()
        if wanted is None or status in wanted or needle in label.lower()
    ]
