"""The `/ticket` application command: one group, the same subcommands as Slack's `/ticket`.

Each subcommand defers at once (Discord wants an answer within 3 s; the work may take longer), turns
its options into the platform-neutral command (through `bots.commands`' parsers, so statuses, keys and
users are understood exactly as in Slack) and answers with an ephemeral followup. Mistakes come back
as a red embed that says what to do; nothing here raises at the user.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bots import command_types as c
from bots.actions import Result
from bots.commands import ParseError, parse
from bots.discord import access, complete, forms, threads
from bots.discord.bot import DiscordBot, bot_of
from hub.domain.errors import DomainError
from hub.services.tickets import tickets

USAGE = {
    "create": "`/ticket create title:<title> [project:KEY]`",
    "list": "`/ticket list [project:KEY|mine]` — open tickets of a project, or the ones assigned to you",
    "show": "`/ticket show ticket:KEY-N`",
    "assign": "`/ticket assign ticket:KEY-N [user:@someone] [nobody:True]` — no user: yourself",
    "status": "`/ticket status ticket:KEY-N status:<status>` — todo, in progress, in review, done, canceled",
    "comment": "`/ticket comment ticket:KEY-N text:<text>`",
    "who": "`/ticket who [project:KEY]` — who is on the board and who works on what",
    "link": "`/ticket link code:ABCD-EFGH` — get a code on the board: Profile → Chat accounts",
    "subscribe": "`/ticket subscribe project:KEY [events:status assigned] [labels:bug] [format:detailed] "
    "[summary:True] [mentions:False]` — relay a project into this channel",
    "unsubscribe": "`/ticket unsubscribe [project:KEY]`",
    "prefs": "`/ticket prefs [setting:comment_added discord off | quiet 22:00-08:00 Europe/Berlin]`",
    "help": "`/ticket help [command]`",
}
HELP_TEXT = "Commands of `/ticket`:\n" + "\n".join(f"• {line}" for line in USAGE.values())
FORMATS = [app_commands.Choice(name=name, value=name) for name in ("compact", "detailed")]
TOPICS = [app_commands.Choice(name=name, value=name) for name in USAGE]


def _parsed(verb: str, text: str) -> c.Command | Result:
    try:
        return parse(f"{verb} {text}")
    except ParseError as error:
        problem = str(error).split("\nUsage:", 1)[0]
        return Result(f"{problem}\nUsage: {USAGE[verb]}", ok=False)


async def _run(interaction: discord.Interaction, command: c.Command | Result) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = bot_of(interaction)
    result = command if isinstance(command, Result) else await bot.run(interaction, command)
    await bot.answer(interaction, result)


async def _ticket_id(bot: DiscordBot, interaction: discord.Interaction, ref: str) -> int | None:
    actor = await bot.actor(bot.account(interaction.user, interaction.guild_id))
    if actor is None:
        return None
    try:
        return int((await tickets.get_ticket(bot.uow(), actor, ref))["id"])
    except DomainError:
        return None


class TicketCommand(app_commands.Group):
    """`/ticket …`; registered on the client's command tree."""

    def __init__(self) -> None:
        super().__init__(name="ticket", description="Switchboard tickets: create, assign, comment, subscribe")

    @app_commands.command(description="Create a ticket")
    @app_commands.describe(
        title="What is it about? (leave out for the form)", project="The project (default: this channel's)"
    )
    @app_commands.autocomplete(project=complete.projects)
    async def create(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, 200] | None = None,
        project: str | None = None,
    ) -> None:
        key = project.strip().upper() if project else None
        if not (title or "").strip():
            await forms.open_create(interaction, project_key=key)  # a modal is a first answer: no defer
            return
        assert title is not None
        await _run(interaction, c.Create(title=title.strip(), project_key=key))

    @app_commands.command(name="list", description="Open tickets of a project, or yours")
    @app_commands.describe(project="A project key, or `mine`")
    @app_commands.autocomplete(project=complete.projects_or_mine)
    async def list_(self, interaction: discord.Interaction, project: str | None = None) -> None:
        await _run(interaction, _parsed("list", project or ""))

    @app_commands.command(description="Show a ticket")
    @app_commands.autocomplete(ticket=complete.tickets)
    async def show(self, interaction: discord.Interaction, ticket: str) -> None:
        await _run(interaction, _parsed("show", ticket))

    @app_commands.command(description="Assign a ticket (to yourself when no user is given)")
    @app_commands.describe(user="Who should work on it", nobody="Unassign it instead")
    @app_commands.autocomplete(ticket=complete.tickets)
    async def assign(
        self,
        interaction: discord.Interaction,
        ticket: str,
        user: discord.User | None = None,
        nobody: bool = False,
    ) -> None:
        if nobody and user is not None:
            await _run(interaction, Result("Give a user or `nobody`, not both.", ok=False))
            return
        who = "nobody" if nobody else (f"<@{user.id}>" if user is not None else "me")
        command = _parsed("assign", f"{ticket} {who}")
        if isinstance(command, c.Assign) and user is not None:
            label = "@" + (user.display_name or user.name)
            command = c.Assign(command.ref, c.UserRef("chat", str(user.id), label))
        await _run(interaction, command)

    @app_commands.command(description="Move a ticket to another status")
    @app_commands.autocomplete(ticket=complete.tickets, status=complete.statuses)
    async def status(self, interaction: discord.Interaction, ticket: str, status: str) -> None:
        await _run(interaction, _parsed("status", f"{ticket} {status}"))

    @app_commands.command(description="Comment on a ticket")
    @app_commands.autocomplete(ticket=complete.tickets)
    async def comment(
        self, interaction: discord.Interaction, ticket: str, text: app_commands.Range[str, 1, 4000]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = bot_of(interaction)
        command = _parsed("comment", f"{ticket} {text}")
        if not isinstance(command, c.Comment):
            await bot.answer(interaction, command if isinstance(command, Result) else Result("?", ok=False))
            return
        result = await bot.run(interaction, command)
        ticket_id = await _ticket_id(bot, interaction, command.ref) if result.ok else None
        await bot.answer(interaction, await threads.with_locked_note(bot, interaction, ticket_id, result))

    @app_commands.command(description="Who is on the board, and who works on what")
    @app_commands.autocomplete(project=complete.projects)
    async def who(self, interaction: discord.Interaction, project: str | None = None) -> None:
        await _run(interaction, _parsed("who", project or ""))

    @app_commands.command(description="Link your Discord account to Switchboard with a code from the board")
    async def link(self, interaction: discord.Interaction, code: str | None = None) -> None:
        await _run(interaction, _parsed("link", code or ""))

    @app_commands.command(description="Relay a project's tickets into this channel")
    @app_commands.describe(
        events="Kinds to relay: created assigned status comments updated deleted (default: all)",
        labels="Only tickets with one of these labels (comma separated)",
        format="compact (default) or detailed",
        summary="Keep a pinned board summary in this channel",
        mentions="Mention linked people (assignees, @mentions) in posts (default: on)",
    )
    @app_commands.autocomplete(project=complete.projects)
    @app_commands.choices(format=FORMATS)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        project: str,
        events: str | None = None,
        labels: str | None = None,
        format: str | None = None,
        summary: bool = False,
        mentions: bool | None = None,
    ) -> None:
        refusal = access.subscribe_refusal(interaction, bot_of(interaction).config.subscribe_role)
        if refusal is not None:
            await _run(interaction, Result(refusal, ok=False))
            return
        words = [project, events or ""]
        words += [f"label:{label.strip()}" for label in (labels or "").split(",") if label.strip()]
        words += [f"format:{format or 'compact'}", f"summary:{'on' if summary else 'off'}"]
        if mentions is not None:
            words.append(f"mentions:{'on' if mentions else 'off'}")
        await _run(interaction, _parsed("subscribe", " ".join(words)))

    @app_commands.command(description="Stop relaying a project (or all of yours) into this channel")
    @app_commands.autocomplete(project=complete.projects)
    async def unsubscribe(self, interaction: discord.Interaction, project: str | None = None) -> None:
        subscribe_role = bot_of(interaction).config.subscribe_role
        refusal = access.member_refusal(interaction, subscribe_role, "unsubscribe")
        if refusal is not None:
            await _run(interaction, Result(refusal, ok=False))
            return
        await _run(interaction, _parsed("unsubscribe", project or ""))

    @app_commands.command(description="Your notification settings")
    @app_commands.describe(setting="e.g. `comment_added discord off` or `quiet 22:00-08:00 Europe/Berlin`")
    async def prefs(self, interaction: discord.Interaction, setting: str | None = None) -> None:
        await _run(interaction, _parsed("prefs", setting or ""))

    @app_commands.command(name="help", description="What /ticket can do")
    @app_commands.choices(command=TOPICS)
    async def help_(self, interaction: discord.Interaction, command: str | None = None) -> None:
        await _run(interaction, Result(USAGE.get(command or "", HELP_TEXT)))


async def ticket_from_message(interaction: discord.Interaction, message: discord.Message) -> None:
    """The message command "Create ticket": the create form, prefilled from the message; the ticket
    links back to it and the confirmation is a reply to it, visible to the channel."""
    first, _sep, rest = message.content.strip().partition("\n")
    title = first[:200] or f"Message from {message.author.display_name}"[:200]
    description = message.content.strip() if rest or len(first) > 200 else ""
    await forms.open_create(interaction, title=title, description=description, source=message)


def context_menus() -> list[app_commands.ContextMenu]:
    return [app_commands.ContextMenu(name="Create ticket", callback=ticket_from_message)]


def definitions(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """The commands as Discord will store them (to decide whether a sync is needed)."""
    return [command.to_dict(tree) for command in tree.get_commands()]
