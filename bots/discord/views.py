"""Buttons and selects on relayed tickets, command replies and DMs, as persistent dynamic items.

Their `custom_id`s carry the ticket (or notification) id — `sb:assign:<ticket>` (Assign to me),
`sb:comment:<ticket>` and `sb:edit:<ticket>` (open a modal), `sb:status:<ticket>` (status select),
`sb:assignto:<ticket>` (a user select: "Assign to…"), `sb:new` (the create form),
`sb:read:<notification>` — and the client registers the item classes (`add_dynamic_items`), so a click
on a message posted before a restart still reaches its handler. "Open in board" is a link button:
Discord opens it without telling us. Clicks run the same commands as `/ticket`, as the clicking
user's hub account, with the same permission checks; refusals are answered to the clicker only
(a viewer clicking Comment or Edit is refused before any form opens).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bots.actions import Result, explain, not_linked
from bots.command_types import Assign, SetStatus, UserRef
from bots.discord import forms
from bots.discord.bot import bot_of
from bots.text import STATUS_LABELS, ticket_url
from hub.domain.errors import DomainError
from hub.services.notifications import notifications


class AssignToMe(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"sb:assign:(?P<id>\d+)"):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Assign to me", style=discord.ButtonStyle.primary, custom_id=f"sb:assign:{ticket_id}"
            )
        )
        self.ticket_id = ticket_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AssignToMe:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = bot_of(interaction)
        await bot.answer(interaction, await bot.run(interaction, Assign(str(self.ticket_id), UserRef("me"))))


class StatusSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"sb:status:(?P<id>\d+)"):
    def __init__(self, ticket_id: int, current: str | None = None) -> None:
        options = [
            discord.SelectOption(label=label, value=status, default=status == current)
            for status, label in STATUS_LABELS.items()
        ]
        super().__init__(
            discord.ui.Select(custom_id=f"sb:status:{ticket_id}", placeholder="Status", options=options)
        )
        self.ticket_id = ticket_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StatusSelect:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data: dict[str, Any] = dict(interaction.data or {})
        values: list[str] = list(data.get("values") or [])
        bot = bot_of(interaction)
        if not values:
            await bot.answer(interaction, Result("Pick a status.", ok=False))
            return
        await bot.answer(interaction, await bot.run(interaction, SetStatus(str(self.ticket_id), values[0])))


class MarkRead(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"sb:read:(?P<id>\d+)"):
    def __init__(self, notification_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Mark read", style=discord.ButtonStyle.secondary, custom_id=f"sb:read:{notification_id}"
            )
        )
        self.notification_id = notification_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> MarkRead:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = bot_of(interaction)
        actor = await bot.actor(bot.account(interaction.user, interaction.guild_id))
        if actor is None:
            await bot.answer(interaction, Result(not_linked("discord"), ok=False))
            return
        try:
            seen = await notifications.mark_read(bot.uow(), actor, self.notification_id)
        except DomainError as error:
            await bot.answer(interaction, Result(explain(error), ok=False))
            return
        await bot.answer(interaction, Result(f"✓ Read: {seen['title']}"))


class CommentButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"sb:comment:(?P<id>\d+)"):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Comment", style=discord.ButtonStyle.secondary, custom_id=f"sb:comment:{ticket_id}"
            )
        )
        self.ticket_id = ticket_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CommentButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await forms.open_comment(interaction, self.ticket_id)


class EditButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"sb:edit:(?P<id>\d+)"):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Edit", style=discord.ButtonStyle.secondary, custom_id=f"sb:edit:{ticket_id}"
            )
        )
        self.ticket_id = ticket_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> EditButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await forms.open_edit(interaction, self.ticket_id)


class CreateButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"sb:new(?::(?P<key>[A-Z0-9]+))?"
):
    def __init__(self, project_key: str | None = None) -> None:
        custom_id = f"sb:new:{project_key}" if project_key else "sb:new"
        super().__init__(
            discord.ui.Button(label="New ticket", style=discord.ButtonStyle.success, custom_id=custom_id)
        )
        self.project_key = project_key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CreateButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await forms.open_create(interaction, project_key=self.project_key)


class AssignTo(discord.ui.DynamicItem[discord.ui.UserSelect[Any]], template=r"sb:assignto:(?P<id>\d+)"):
    """ "Assign to…": pick a server member; they must be a linked member of the ticket's project."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(
            discord.ui.UserSelect(custom_id=f"sb:assignto:{ticket_id}", placeholder="Assign to…")
        )
        self.ticket_id = ticket_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AssignTo:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data: dict[str, Any] = dict(interaction.data or {})
        chosen: list[str] = [str(v) for v in data.get("values") or []]
        bot = bot_of(interaction)
        if not chosen:
            await bot.answer(interaction, Result("Pick someone to assign.", ok=False))
            return
        who = discord.utils.get(self.item.values, id=int(chosen[0]))
        label = "@" + (who.display_name if who is not None else chosen[0])
        command = Assign(str(self.ticket_id), UserRef("chat", chosen[0], label))
        await bot.answer(interaction, await bot.run(interaction, command))


DYNAMIC_ITEMS = (AssignToMe, StatusSelect, MarkRead, CommentButton, EditButton, CreateButton, AssignTo)


def _template(view: discord.ui.View) -> discord.ui.View:
    """Components only: a stopped view is sent but not kept in discord.py's view store. The dynamic
    items registered on the client answer the clicks (also after a restart); a stored view would
    answer them a second time and keep one object per relayed message in memory forever."""
    view.stop()
    return view


def ticket_view(ticket: dict[str, Any], public_url: str) -> discord.ui.View:
    """Row 1: Assign to me, Comment, Edit, Open in board; row 2: status; row 3: Assign to…."""
    ticket_id = int(ticket["id"])
    view = discord.ui.View(timeout=None)
    for button in (AssignToMe(ticket_id), CommentButton(ticket_id), EditButton(ticket_id)):
        button.item.row = 0
        view.add_item(button)
    view.add_item(discord.ui.Button(label="Open in board", url=ticket_url(public_url, ticket), row=0))
    status = StatusSelect(ticket_id, ticket.get("status"))
    status.item.row = 1
    view.add_item(status)
    assign = AssignTo(ticket_id)
    assign.item.row = 2
    view.add_item(assign)
    return _template(view)


def list_view(project_key: str | None) -> discord.ui.View:
    """Under a ticket list: the create form's button."""
    view = discord.ui.View(timeout=None)
    view.add_item(CreateButton(project_key))
    return _template(view)


def notification_view(notification: dict[str, Any], public_url: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if notification.get("ticket_id") and notification.get("project_id"):
        ref = {"id": notification["ticket_id"], "project_id": notification["project_id"]}
        view.add_item(discord.ui.Button(label="Open in board", url=ticket_url(public_url, ref)))
    view.add_item(MarkRead(int(notification["id"])))
    return _template(view)
