"""`/ticket list [KEY|mine]` in Slack, a page at a time: "Next" and "Previous" buttons instead of a cut.

A page holds `SLACK_LIST_PAGE_SIZE` open tickets (default 20). When there are more, the answer ends
with a "Next 20" button (and, past the first page, "Previous 20"); a click is acknowledged at once and
then answers the same list (same project or `mine`, same open statuses) one page on or back, in place
of the previous page (`replace_original`).

The button carries where the list stands (`value`, at most 2,000 characters): the project, and the
service's page cursors of the pages before (a project list pages by cursor, newest first, so a ticket
created meanwhile never shifts a page) — the last `MAX_BACK` of them; "Previous" from further on goes
back to the first page. `mine` gathers the open tickets assigned to the user in each of their
projects (at most `MINE_PER_PROJECT` each) and pages through them by position.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bots import command_types as c
from bots.actions import OPEN, Place
from bots.commands import USAGE
from bots.slack.bot import SlackBot
from bots.slack.limits import MAX_BLOCKS, MAX_BUTTON, MAX_SECTION, MAX_TEXT, fit
from bots.slack.render import board_url, sections, ticket_title
from bots.text import status_label
from hub.domain.errors import NotFound
from hub.domain.identity import Actor
from hub.services.chat import subscriptions as chat_subscriptions
from hub.services.projects import projects
from hub.services.tickets import tickets

NEXT = "sb_list_next"
PREVIOUS = "sb_list_prev"
#: Cursors of earlier pages a button remembers (each ~20 characters; a button value holds 2,000).
MAX_BACK = 60
#: `mine`: open tickets read per project (the service's largest page).
MINE_PER_PROJECT = tickets.MAX_LIMIT


@dataclass
class ListState:
    """Where a list stands: the project (None: `mine`), the page number and, for a project list, the
    cursors that start the pages up to this one (`cursors[-1]` starts this page; the last
    `MAX_BACK` are kept)."""

    project_id: int | None
    page: int = 0
    cursors: list[str] = field(default_factory=list)

    @property
    def cursor(self) -> str | None:
        return self.cursors[-1] if self.page > 0 and self.cursors else None

    def moved(self, page: int, cursors: list[str]) -> ListState:
        if page > 0 and self.project_id is not None and not cursors:
            page = 0  # further back than the cursors kept: the first page
        keep = page > 0 and self.project_id is not None
        return ListState(self.project_id, page, cursors[-MAX_BACK:] if keep else [])

    def value(self) -> str:
        return json.dumps({"p": self.project_id, "n": self.page, "c": self.cursors}, separators=(",", ":"))

    @classmethod
    def parse(cls, value: str) -> ListState:
        data = json.loads(value)
        project = data.get("p")
        cursors = [str(x) for x in data.get("c") or []][-MAX_BACK:]
        state = cls(int(project) if project is not None else None, max(0, int(data.get("n") or 0)), [])
        return state.moved(state.page, cursors)


async def default_project(bot: SlackBot, place: Place, actor: Actor) -> dict[str, Any]:
    """The channel's only subscribed project, else the user's only project (as every command does)."""
    if place.channel_id:
        subs = await chat_subscriptions.channel_subscriptions(
            bot.uow(), actor, platform="slack", team_id=place.user.team_id, channel_id=place.channel_id
        )
        if len(subs) == 1:
            return await projects.get_project(bot.uow(), actor, subs[0]["project_id"])
    mine = await projects.list_projects(bot.uow(), actor)
    if len(mine) == 1:
        return mine[0]
    keys = ", ".join(p["key"] for p in mine) or "none yet"
    raise NotFound(f"which project? Name it: {USAGE['list']} (your projects: {keys})")


async def first_page(bot: SlackBot, place: Place, command: c.ListTickets, actor: Actor) -> dict[str, Any]:
    if command.mine:
        return await page(bot, actor, ListState(None))
    if command.project_key:
        project = await projects.find_project_by_key(bot.uow(), actor, command.project_key)
    else:
        project = await default_project(bot, place, actor)
    return await page(bot, actor, ListState(int(project["id"])))


async def page(bot: SlackBot, actor: Actor, state: ListState, *, replace: bool = False) -> dict[str, Any]:
    """One page of the list as `respond()` arguments (ephemeral; `replace`: in place of the page whose
    button was clicked)."""
    size = bot.config.list_page_size
    if state.project_id is None:
        found, more, board = await _mine(bot, actor, state.page * size, size)
        heading = "Open tickets assigned to you"
        next_cursor = None
    else:
        project = await projects.get_project(bot.uow(), actor, state.project_id)
        listed = await tickets.list_tickets(
            bot.uow(), actor, state.project_id, status=OPEN, limit=size, cursor=state.cursor
        )
        found, more, next_cursor = listed.items, listed.next_cursor is not None, listed.next_cursor
        heading = f"Open tickets in {project['key']}"
        board = board_url(bot.public_url, state.project_id)
    if not found:
        none = f"{heading}: none." if state.page == 0 else f"{heading}: no more."
        return {"response_type": "ephemeral", "replace_original": replace, "text": fit(none, MAX_TEXT)}
    shown = f"{heading} ({state.page * size + 1}-{state.page * size + len(found)})"
    lines = [f"• {ticket_title(t, bot.public_url)} — {status_label(t.get('status'))}" for t in found]
    more_text = "…and {n} more <" + board + "|on the board>"
    blocks = sections([fit(shown, MAX_SECTION), *lines], more_text)[: MAX_BLOCKS - 1]
    buttons = _buttons(state, size, more, next_cursor)
    if buttons:
        blocks.append({"type": "actions", "block_id": "sb_list_pages", "elements": buttons})
    return {
        "response_type": "ephemeral", "replace_original": replace, "text": fit(shown, MAX_TEXT),
        "blocks": blocks,
    }  # fmt: skip


def _buttons(state: ListState, size: int, more: bool, next_cursor: str | None) -> list[dict[str, Any]]:
    buttons: list[dict[str, Any]] = []
    if state.page > 0:
        back = state.moved(state.page - 1, state.cursors[:-1])
        buttons.append(_button(PREVIOUS, f"Previous {size}", back.value()))
    if more:
        ahead = state.moved(state.page + 1, [*state.cursors, next_cursor or ""])
        buttons.append(_button(NEXT, f"Next {size}", ahead.value()))
    return buttons


def _button(action_id: str, label: str, value: str) -> dict[str, Any]:
    return {
        "type": "button", "action_id": action_id, "value": value,
        "text": {"type": "plain_text", "text": label[:MAX_BUTTON]},
    }  # fmt: skip


async def assigned_open(bot: SlackBot, actor: Actor) -> list[dict[str, Any]]:
    """The open tickets assigned to the user in all their projects (at most `MINE_PER_PROJECT` of
    each), newest first."""
    found: list[dict[str, Any]] = []
    for project in await projects.list_projects(bot.uow(), actor):
        listed = await tickets.list_tickets(
            bot.uow(), actor, project["id"], status=OPEN, assignee="me", limit=MINE_PER_PROJECT
        )
        found.extend(listed.items)
    found.sort(key=lambda t: int(t["id"]), reverse=True)
    return found


async def _mine(
    bot: SlackBot, actor: Actor, offset: int, size: int
) -> tuple[list[dict[str, Any]], bool, str]:
    found = await assigned_open(bot, actor)
    return found[offset : offset + size], len(found) > offset + size, board_url(bot.public_url)
