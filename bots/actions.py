"""Running a parsed `/ticket` command as the linked hub user, through the service layer.

`execute` never raises for a user's mistake: unlinked accounts, unknown keys, missing permissions and
bad values come back as a `Result` with `ok=False` and a sentence that says what to do. Every change
passes `origin=<platform>`, so the relays know where it came from and never echo it back there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bots import command_types as c
from bots.commands import HELP_TEXT, USAGE
from bots.text import person, status_label, ticket_line
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import DomainError, NotFound
from hub.domain.identity import Actor
from hub.services.chat import accounts as chat
from hub.services.chat import subscriptions as chat_subscriptions
from hub.services.chat.accounts import ChatUser
from hub.services.notifications import preferences
from hub.services.projects import projects
from hub.services.tickets import comments, tickets

OPEN = "todo,in_progress,in_review"
UowFactory = Callable[[], UnitOfWork]
#: Who is online in a project: (user_id, name, viewing ticket id) per user.
PresenceLookup = Callable[[int], Awaitable[list[tuple[int, str, int | None]]]]


@dataclass(frozen=True)
class Place:
    """Where a command was typed: the chat account and channel (None in a DM)."""

    user: ChatUser
    channel_id: str | None = None

    @property
    def platform(self) -> str:
        return self.user.platform


@dataclass
class Result:
    """What to answer: `text` always; `ticket`/`tickets` for rich rendering; `open_form` asks the
    adapter to open its create-ticket form (for `project_key` if known)."""

    text: str
    ok: bool = True
    ticket: dict[str, Any] | None = None
    tickets: list[dict[str, Any]] = field(default_factory=list)
    open_form: bool = False
    project_key: str | None = None


def not_linked(platform: str) -> str:
    name = platform.capitalize()
    return (
        f"Your {name} account is not linked to Switchboard yet. On the board open *Chat accounts* and "
        f"create a link code (or `POST /api/me/chat-links`), then type `/ticket link CODE` here. "
        f"If your {name} email is confirmed and matches your Switchboard email, this happens by itself."
    )


def explain(error: DomainError) -> str:
    details = "; ".join(f"{name}: {reason}" for name, reason in error.fields.items())
    return f"{error.message[:1].upper()}{error.message[1:]}" + (f" ({details})" if details else "")


class Actions:
    """Executes commands for one hub; `presence` is optional (absent in a standalone bot process)."""

    def __init__(self, uow: UowFactory, presence: PresenceLookup | None = None) -> None:
        self.uow = uow
        self.presence = presence

    async def execute(self, place: Place, command: c.Command, actor: Actor | None) -> Result:
        try:
            if isinstance(command, c.Help):
                return Result(USAGE.get(command.topic or "", HELP_TEXT))
            if isinstance(command, c.Link):
                return await self._link(place, command, actor)
            if actor is None:
                return Result(not_linked(place.platform), ok=False)
            handler = getattr(self, "_" + type(command).__name__.lower())
            result: Result = await handler(place, command, actor)
            return result
        except DomainError as error:
            return Result(explain(error), ok=False)

    # --- accounts -------------------------------------------------------------------------------
    async def _link(self, place: Place, command: c.Link, actor: Actor | None) -> Result:
        if command.code is None:
            if actor is not None:
                return Result(
                    f"You are linked as {actor.name} ({actor.email}). To unlink, use *Chat accounts* on "
                    "the board (`DELETE /api/me/chat-links/{id}`)."
                )
            return Result(not_linked(place.platform), ok=False)
        linked = await chat.redeem_link_code(self.uow(), place.user, command.code)
        return Result(f"Linked! Commands from this account now act as {linked.name} ({linked.email}).")

    # --- tickets --------------------------------------------------------------------------------
    async def _default_project(self, place: Place, actor: Actor, verb: str) -> dict[str, Any]:
        """The channel's only subscribed project, else the user's only project; else ask."""
        if place.channel_id:
            subs = await chat_subscriptions.channel_subscriptions(
                self.uow(), actor, platform=place.platform, team_id=place.user.team_id,
                channel_id=place.channel_id,
            )  # fmt: skip
            if len(subs) == 1:
                return await projects.get_project(self.uow(), actor, subs[0]["project_id"])
        mine = await projects.list_projects(self.uow(), actor)
        if len(mine) == 1:
            return mine[0]
        keys = ", ".join(p["key"] for p in mine) or "none yet"
        raise NotFound(f"which project? Name it: {USAGE[verb]} (your projects: {keys})")

    async def _project(self, place: Place, actor: Actor, key: str | None, verb: str) -> dict[str, Any]:
        if key:
            return await projects.find_project_by_key(self.uow(), actor, key)
        return await self._default_project(place, actor, verb)

    async def _create(self, place: Place, command: c.Create, actor: Actor) -> Result:
        title, key = command.title, command.project_key
        if key:
            try:
                project = await projects.find_project_by_key(self.uow(), actor, key)
            except NotFound:
                if not title or not command.text:
                    raise
                project, title = await self._default_project(place, actor, "create"), command.text
        else:
            if not title:
                return Result("Opening the form…", open_form=True)
            project = await self._default_project(place, actor, "create")
        if not title:
            return Result("Opening the form…", open_form=True, project_key=project["key"])
        ticket = await tickets.create_ticket(
            self.uow(), actor, project["id"], title=title, origin=place.platform
        )
        return Result(f"Created {ticket['key']}: {ticket['title']}", ticket=ticket)

    async def _listtickets(self, place: Place, command: c.ListTickets, actor: Actor) -> Result:
        if command.mine:
            found: list[dict[str, Any]] = []
            for project in await projects.list_projects(self.uow(), actor):
                page = await tickets.list_tickets(
                    self.uow(), actor, project["id"], status=OPEN, assignee="me", limit=50
                )
                found.extend(page.items)
            heading = "Open tickets assigned to you"
        else:
            project = await self._project(place, actor, command.project_key, "list")
            found = (
                await tickets.list_tickets(self.uow(), actor, project["id"], status=OPEN, limit=20)
            ).items
            heading = f"Open tickets in {project['key']}"
        if not found:
            return Result(f"{heading}: none.")
        lines = "\n".join(f"• {ticket_line(t)}" for t in found)
        key = None if command.mine else project["key"]
        return Result(f"{heading}:\n{lines}", tickets=found, project_key=key)

    async def _show(self, place: Place, command: c.Show, actor: Actor) -> Result:
        ticket = await tickets.get_ticket(self.uow(), actor, command.ref)
        return Result(ticket_line(ticket), ticket=ticket)

    async def _assign(self, place: Place, command: c.Assign, actor: Actor) -> Result:
        ticket = await tickets.get_ticket(self.uow(), actor, command.ref)
        who = command.assignee
        assignee: int | None
        if who.kind == "me":
            assignee = actor.id
        elif who.kind == "nobody":
            assignee = None
        else:
            assignee = await chat.find_member(
                self.uow(), place.platform, place.user.team_id, ticket["project_id"], who.value
            )
            if assignee is None:
                shown = who.label or who.value
                hint = " (they may need to link their chat account)" if who.kind == "chat" else ""
                return Result(f"I can't find {shown} among the members of this project{hint}.", ok=False)
        ticket = await tickets.update_ticket(
            self.uow(), actor, command.ref, {"assignee_id": assignee}, origin=place.platform
        )
        return Result(f"{ticket['key']} is now assigned to {person(ticket['assignee'])}.", ticket=ticket)

    async def _setstatus(self, place: Place, command: c.SetStatus, actor: Actor) -> Result:
        ticket = await tickets.update_ticket(
            self.uow(), actor, command.ref, {"status": command.status}, origin=place.platform
        )
        return Result(f"{ticket['key']} is now {status_label(ticket['status'])}.", ticket=ticket)

    async def _comment(self, place: Place, command: c.Comment, actor: Actor) -> Result:
        await comments.add_comment(self.uow(), actor, command.ref, command.text, origin=place.platform)
        return Result(f"Commented on {command.ref}.")

    async def _who(self, place: Place, command: c.Who, actor: Actor) -> Result:
        project = await self._project(place, actor, command.project_key, "who")
        lines = [f"*{project['key']}*"]
        if self.presence is not None:
            lines.append(await self._online(actor, project["id"]))
        page = await tickets.list_tickets(self.uow(), actor, project["id"], status="in_progress", limit=100)
        working: dict[str, list[str]] = {}
        for ticket in page.items:
            working.setdefault(person(ticket["assignee"]), []).append(ticket["key"])
        for name, keys in sorted(working.items()):
            lines.append(f"• {name}: {', '.join(keys)}")
        if not working:
            lines.append("Nobody has a ticket in progress.")
        return Result("\n".join(lines))

    async def _online(self, actor: Actor, project_id: int) -> str:
        """`Online on the board: Ann (viewing OPS-3), Bob`."""
        assert self.presence is not None
        try:
            online = await self.presence(project_id)
        except Exception:  # presence is best effort: Redis may be down while the database is not
            return "Online on the board: unknown right now"
        keys: dict[int, str] = {}
        for _uid, _name, viewing in online:
            if viewing is not None and viewing not in keys:
                with contextlib.suppress(DomainError):
                    keys[viewing] = (await tickets.get_ticket(self.uow(), actor, viewing))["key"]
        names = [name + (f" (viewing {keys[v]})" if v in keys else "") for _uid, name, v in online]
        return f"Online on the board: {', '.join(names) or 'nobody'}"

    # --- channels and preferences ---------------------------------------------------------------
    async def _subscribe(self, place: Place, command: c.Subscribe, actor: Actor) -> Result:
        if not place.channel_id:
            return Result("Subscribe from the channel that should receive the updates.", ok=False)
        sub = await chat_subscriptions.subscribe(
            self.uow(), actor, platform=place.platform, team_id=place.user.team_id,
            channel_id=place.channel_id, project_key=command.project_key, event_types=command.event_types,
            labels=command.labels, format=command.format, summary=command.summary,
            mentions=command.mentions,
        )  # fmt: skip
        kinds = ", ".join(sub["event_types"] or ["everything"])
        labels = f", labels {', '.join(sub['labels'])}" if sub["labels"] else ""
        quiet = "" if sub.get("mentions", True) else ", no mentions"
        return Result(
            f"This channel now gets {sub['project_key']} updates ({kinds}{labels}, {sub['format']}{quiet})."
        )

    async def _unsubscribe(self, place: Place, command: c.Unsubscribe, actor: Actor) -> Result:
        if not place.channel_id:
            return Result("Unsubscribe from the channel that receives the updates.", ok=False)
        removed = await chat_subscriptions.unsubscribe(
            self.uow(), actor, platform=place.platform, team_id=place.user.team_id,
            channel_id=place.channel_id, project_key=command.project_key,
        )  # fmt: skip
        if not removed:
            return Result("This channel had no subscription of yours to remove.", ok=False)
        return Result(f"This channel no longer gets updates of {', '.join(removed)}.")

    async def _prefs(self, place: Place, command: c.Prefs, actor: Actor) -> Result:
        update: dict[str, Any] = {}
        if command.notification_type and command.mode:
            destination = command.destination or place.platform
            update["types"] = {command.notification_type: {destination: command.mode}}
        if command.quiet_off:
            update["quiet_hours"] = {"enabled": False}
        elif command.quiet:
            start, end, zone = command.quiet
            update["quiet_hours"] = {"enabled": True, "start": start, "end": end}
            if zone:
                update["quiet_hours"]["timezone"] = zone
        if update:
            prefs = await preferences.update_preferences(self.uow(), actor, update)
        else:
            prefs = await preferences.get_preferences(self.uow(), actor)
        lines = [
            f"• {kind}: " + ", ".join(f"{dest} {mode}" for dest, mode in modes.items())
            for kind, modes in prefs["types"].items()
        ]
        quiet = prefs["quiet_hours"]
        state = f"{quiet['start']}-{quiet['end']} {quiet['timezone']}" if quiet["enabled"] else "off"
        heading = "Saved. Your notifications" if update else "Your notifications"
        return Result(f"{heading}:\n" + "\n".join(lines) + f"\nQuiet hours: {state}")
