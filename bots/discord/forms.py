"""The modals: create a ticket, comment on one, edit one — and their submissions, each taken once.

Discord modals hold at most five top-level components. The create form has project (a select of the
projects the user may write to; a text input when there are more than 25), title, description,
priority (a select) and assignee (a text input: a name, an email, an @handle or a Discord user id,
resolved among the project's members exactly like `/ticket assign`). A value that cannot be used is
answered with an ephemeral message that says which field and why, and repeats what was typed.

Modals are not kept in discord.py's view store: `on_submit` reads the submitted values from the
interaction itself, so a form opened before a restart still works. Every modal's `custom_id` carries
a nonce (the id of the interaction that opened it); its submission is claimed once through
`chat_deliveries` (`modal:<custom_id>`), so a double submit — two interactions with the same
`custom_id` — or a gateway replay creates one ticket (one comment, one edit).

`custom_id`s: `sbm:create:<nonce>[:<channel>:<message>]` (the message the context-menu command was
used on), `sbm:comment:<ticket>:<nonce>`, `sbm:edit:<ticket>:<version>:<nonce>`.
"""

from __future__ import annotations

import time
from typing import Any

import discord

from bots.actions import Result, explain, not_linked
from bots.command_types import Comment
from bots.discord import threads
from bots.discord.bot import DiscordBot, bot_of, log
from bots.text import PRIORITY_LABELS
from hub.domain.errors import DomainError
from hub.domain.identity import Actor
from hub.services.chat import accounts as chat
from hub.services.chat.deliveries import claim_delivery, finish_delivery, prune_deliveries
from hub.services.projects import projects as project_service
from hub.services.tickets import tickets as ticket_service

PREFIX = "sbm:"
MAX_OPTIONS = 25
TITLE_MAX = 200
DESCRIPTION_MAX = 4000
COMMENT_MAX = 4000
JUMP = "https://discord.com/channels/{guild}/{channel}/{message}"
#: Seconds between prunings of expired submission claims.
PRUNE_EVERY = 60.0


def _text(
    custom_id: str, label: str, *, value: str = "", long: bool = False, required: bool = True,
    max_length: int = TITLE_MAX, placeholder: str | None = None,
) -> discord.ui.Label[Any]:  # fmt: skip
    field: discord.ui.TextInput[Any] = discord.ui.TextInput(
        custom_id=custom_id,
        style=discord.TextStyle.long if long else discord.TextStyle.short,
        default=value[:max_length] or None,
        required=required,
        max_length=max_length,
        placeholder=placeholder,
    )
    return discord.ui.Label(text=label, component=field)


def _priority(current: str = "medium") -> discord.ui.Label[Any]:
    options = [
        discord.SelectOption(label=label, value=value, default=value == current)
        for value, label in PRIORITY_LABELS.items()
    ]
    select: discord.ui.Select[Any] = discord.ui.Select(custom_id="priority", options=options, required=False)
    return discord.ui.Label(text="Priority", component=select)


def _modal(title: str, custom_id: str, items: list[discord.ui.Label[Any]]) -> discord.ui.Modal:
    modal = discord.ui.Modal(title=title, custom_id=custom_id, timeout=None)
    for item in items:
        modal.add_item(item)
    modal.stop()  # answered by `on_submit` from the interaction, not from discord.py's view store
    return modal


def values(data: Any) -> dict[str, Any]:
    """custom_id → value (text inputs) or list of values (selects) of a modal submission."""
    found: dict[str, Any] = {}
    for component in (data or {}).get("components") or []:
        inner = [component.get("component")] if component.get("type") == 18 else component.get("components")
        for item in inner or []:
            if not isinstance(item, dict) or not item.get("custom_id"):
                continue
            found[item["custom_id"]] = item["values"] if "values" in item else item.get("value") or ""
    return found


async def _actor_or_refuse(interaction: discord.Interaction) -> tuple[DiscordBot, Actor | None]:
    bot = bot_of(interaction)
    actor = await bot.actor(bot.account(interaction.user, interaction.guild_id))
    if actor is None:
        embed = discord.Embed(description=not_linked("discord"), colour=0xEF4444)
        await interaction.response.send_message(embed=embed, ephemeral=True)
    return bot, actor


async def _refuse(interaction: discord.Interaction, text: str) -> None:
    embed = discord.Embed(description=text[:4096], colour=0xEF4444)
    await interaction.response.send_message(embed=embed, ephemeral=True)


# --- opening ---------------------------------------------------------------------------------------
async def open_create(
    interaction: discord.Interaction,
    *,
    project_key: str | None = None,
    title: str = "",
    description: str = "",
    source: discord.Message | None = None,
) -> None:
    """Answer `interaction` with the create form (only projects the user may write to are offered)."""
    bot, actor = await _actor_or_refuse(interaction)
    if actor is None:
        return
    writable = [p for p in await project_service.list_projects(bot.uow(), actor) if p.get("role") != "viewer"]
    if not writable:
        await _refuse(
            interaction, "You are not a member (or above) of any project, so you can't create tickets."
        )
        return
    custom_id = f"{PREFIX}create:{interaction.id}"
    if source is not None:
        custom_id += f":{source.channel.id}:{source.id}"
    key = (project_key or "").upper()
    if len(writable) <= MAX_OPTIONS:
        chosen = key if any(p["key"] == key for p in writable) else writable[0]["key"]
        options = [
            discord.SelectOption(
                label=f"{p['key']} — {p['name']}"[:100], value=p["key"], default=p["key"] == chosen
            )
            for p in writable
        ]
        project: discord.ui.Label[Any] = discord.ui.Label(
            text="Project", component=discord.ui.Select(custom_id="project", options=options)
        )
    else:
        project = _text("project", "Project key", value=key, max_length=10, placeholder="e.g. OPS")
    await interaction.response.send_modal(_modal("New ticket", custom_id, [
        project,
        _text("title", "Title", value=title),
        _text("description", "Description", value=description, long=True, required=False,
              max_length=DESCRIPTION_MAX),
        _priority(),
        _text("assignee", "Assignee", required=False, max_length=100,
              placeholder="a name, email, @handle or Discord user id (empty: nobody)"),
    ]))  # fmt: skip


async def _writable_ticket(
    interaction: discord.Interaction, ticket_id: int
) -> tuple[DiscordBot, Actor, dict[str, Any]] | None:
    """The ticket, if the user may change it; otherwise the refusal is answered and None returned."""
    bot, actor = await _actor_or_refuse(interaction)
    if actor is None:
        return None
    try:
        ticket = await ticket_service.get_ticket(bot.uow(), actor, ticket_id)
        project = await project_service.get_project(bot.uow(), actor, int(ticket["project_id"]))
    except DomainError as error:
        await _refuse(interaction, explain(error))
        return None
    if project.get("role") == "viewer" and not actor.is_admin:
        await _refuse(
            interaction, f"Your role (viewer) does not allow this: you can't change {ticket['key']}."
        )
        return None
    return bot, actor, ticket


async def open_comment(interaction: discord.Interaction, ticket_id: int) -> None:
    found = await _writable_ticket(interaction, ticket_id)
    if found is None:
        return
    _bot, _actor, ticket = found
    custom_id = f"{PREFIX}comment:{ticket_id}:{interaction.id}"
    await interaction.response.send_modal(_modal(f"Comment on {ticket['key']}"[:45], custom_id, [
        _text("text", "Comment", long=True, max_length=COMMENT_MAX),
    ]))  # fmt: skip


async def open_edit(interaction: discord.Interaction, ticket_id: int) -> None:
    found = await _writable_ticket(interaction, ticket_id)
    if found is None:
        return
    _bot, _actor, ticket = found
    custom_id = f"{PREFIX}edit:{ticket_id}:{int(ticket.get('version') or 0)}:{interaction.id}"
    await interaction.response.send_modal(_modal(f"Edit {ticket['key']}"[:45], custom_id, [
        _text("title", "Title", value=str(ticket.get("title") or "")),
        _text("description", "Description", value=str(ticket.get("description") or ""), long=True,
              required=False, max_length=DESCRIPTION_MAX),
        _priority(str(ticket.get("priority") or "medium")),
    ]))  # fmt: skip


# --- submitting ------------------------------------------------------------------------------------
async def _prune(bot: DiscordBot) -> None:
    """Drop expired submission claims, at most once a minute per process (they matter only while a
    second submit or a replay can still come)."""
    now = time.monotonic()
    if bot.pruned_at and now - bot.pruned_at < PRUNE_EVERY:
        return
    bot.pruned_at = now
    try:
        await prune_deliveries(bot.uow())
    except Exception:
        log.exception("pruning chat deliveries failed")


async def on_submit(interaction: discord.Interaction) -> bool:
    """Handle a submission of one of our modals (False: not ours). Never raises at the user."""
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = str(data.get("custom_id") or "")
    if interaction.type != discord.InteractionType.modal_submit or not custom_id.startswith(PREFIX):
        return False
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    key = "modal:" + custom_id
    await _prune(bot)
    if not await claim_delivery(bot.uow(), "discord", key):
        await bot.answer(interaction, Result("This form was already submitted; it was taken once.", ok=False))
        return True
    try:
        result = await _submitted(bot, interaction, custom_id.removeprefix(PREFIX).split(":"), values(data))
    except Exception:
        log.exception("discord modal %s failed", custom_id)
        result = Result("Something went wrong on our side; nothing was changed. Please try again.", ok=False)
    finally:
        await finish_delivery(bot.uow(), "discord", key)
    await bot.answer(interaction, result)
    return True


async def _submitted(
    bot: DiscordBot, interaction: discord.Interaction, parts: list[str], form: dict[str, Any]
) -> Result:
    actor = await bot.actor(bot.account(interaction.user, interaction.guild_id))
    if actor is None:
        return Result(not_linked("discord"), ok=False)
    kind = parts[0]
    try:
        if kind == "create":
            return await _create(bot, interaction, actor, parts[1:], form)
        if kind == "comment":
            ticket = await ticket_service.get_ticket(bot.uow(), actor, int(parts[1]))
            result = await bot.run(interaction, Comment(ticket["key"], str(form.get("text") or "")))
            return await threads.with_locked_note(bot, interaction, int(ticket["id"]), result)
        if kind == "edit":
            return await _edit(bot, actor, int(parts[1]), int(parts[2]), form)
    except DomainError as error:
        return Result(explain(error), ok=False)
    return Result("This form is no longer understood; please open it again.", ok=False)


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def _repeat(form: dict[str, Any]) -> str:
    title, description = _first(form.get("title")).strip(), _first(form.get("description")).strip()
    shown = f"\nYou wrote: **{title[:200]}**" if title else ""
    return shown + (f"\n> {description[:1000]}" if description else "")


async def _create(
    bot: DiscordBot, interaction: discord.Interaction, actor: Actor, source: list[str], form: dict[str, Any]
) -> Result:
    key, title = _first(form.get("project")).strip().upper(), _first(form.get("title")).strip()
    priority = _first(form.get("priority")) or "medium"
    if priority not in PRIORITY_LABELS:
        return Result(f"Priority: choose one of {', '.join(PRIORITY_LABELS)}." + _repeat(form), ok=False)
    if not title:
        return Result("Title: a ticket needs a title." + _repeat(form), ok=False)
    project = await project_service.find_project_by_key(bot.uow(), actor, key)
    assignee_text = _first(form.get("assignee")).strip()
    assignee = None
    if assignee_text:
        needle = assignee_text.removeprefix("<@").removeprefix("!").removesuffix(">")
        team = str(interaction.guild_id or "@me")
        assignee = await chat.find_member(bot.uow(), "discord", team, int(project["id"]), needle)
        if assignee is None:
            return Result(
                f"Assignee: I can't find {assignee_text!r} among the members of {project['key']} (give a "
                "name, an email, an @handle or a linked Discord user id; they may need to link their "
                "account). Nothing was created." + _repeat(form),
                ok=False,
            )
    description = _first(form.get("description")).strip()
    if len(source) == 3 and interaction.guild_id:
        link = JUMP.format(guild=interaction.guild_id, channel=source[1], message=source[2])
        description = (description + "\n\n" if description else "") + f"From Discord: {link}"
    ticket = await ticket_service.create_ticket(
        bot.uow(), actor, int(project["id"]), title=title, description=description, priority=priority,
        assignee_id=assignee, origin="discord",
    )  # fmt: skip
    text = f"Created {ticket['key']}: {ticket['title']}"
    if len(source) == 3:
        posted = await threads.confirm_in_channel(bot, interaction, int(source[1]), int(source[2]), ticket)
        if not posted:
            text += "\n(I could not post the confirmation under the message: I lack permission there.)"
    return Result(text, ticket=ticket)


async def _edit(bot: DiscordBot, actor: Actor, ticket_id: int, version: int, form: dict[str, Any]) -> Result:
    ticket = await ticket_service.get_ticket(bot.uow(), actor, ticket_id)
    title, description = _first(form.get("title")).strip(), _first(form.get("description")).strip()
    priority = _first(form.get("priority")) or str(ticket.get("priority") or "medium")
    if not title:
        return Result("Title: a ticket needs a title; nothing was changed." + _repeat(form), ok=False)
    changes: dict[str, Any] = {}
    for name, value in (("title", title), ("description", description), ("priority", priority)):
        if value != (ticket.get(name) or ""):
            changes[name] = value
    if not changes:
        return Result(f"{ticket['key']}: nothing changed.", ticket=ticket)
    updated = await ticket_service.update_ticket(
        bot.uow(), actor, ticket_id, changes, version=version or None, origin="discord"
    )
    return Result(f"Saved {updated['key']}: {', '.join(sorted(changes))} changed.", ticket=updated)
