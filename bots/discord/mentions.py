"""Whom a channel post mentions: linked people, as `<@id>`, where the subscription allows.

A ticket's root message mentions its assignee and the members its description @mentions; a comment in
a thread mentions the members it @mentions; the thread reply that reports an assignment mentions the
new assignee. Only people with a linked Discord account can be mentioned (the hub user → Discord id
map comes from the chat identities, `hub.services.chat.accounts.mention_ids`; Discord user ids are
global, so an account linked in any guild or a DM counts). A subscription with `mentions` off
(`/ticket subscribe … mentions:False`) gets no mentions at all.

Each mention goes out with `allowed_mentions` naming exactly those users, so nothing else in a post
(a title saying `@everyone`, a role) can ever ping. A lookup that fails leaves the post without
mentions and never holds it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bots.discord import render
from hub.adapters.db.uow import UnitOfWork
from hub.services.chat import accounts as chat
from hub.services.chat.relay import Target

log = logging.getLogger("bots.discord")
#: Root messages whose assignee mention was last rendered (their assignment reply follows at once).
REMEMBERED = 1_000


def _id(person: Any) -> int | None:
    value = (person or {}).get("id") if isinstance(person, dict) else None
    return value if isinstance(value, int) else None


class DiscordMentions:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow
        self._assignees: dict[tuple[str, str], str] = {}

    async def _people(self, target: Target, user_ids: set[int], text: str = "") -> dict[int, str]:
        if not getattr(target, "mentions", True) or not (user_ids or "@" in text):
            return {}
        try:
            return await chat.mention_ids(
                self._uow(), "discord", None, user_ids,
                project_id=target.project_id if text else None, text=text,
            )  # fmt: skip
        except Exception:
            log.exception("looking up whom to mention failed; the post goes out without mentions")
            return {}

    async def ticket(
        self, target: Target, ticket: dict[str, Any], message_id: str | None = None
    ) -> dict[str, Any]:
        """`content` and `allowed_mentions` for a ticket's root message (empty: nobody to mention)."""
        assignee = _id(ticket.get("assignee"))
        people = await self._people(
            target, {assignee} if assignee else set(), str(ticket.get("description") or "")
        )
        if message_id is not None and assignee in people:
            if len(self._assignees) >= REMEMBERED:
                self._assignees.clear()
            self._assignees[(target.channel_id, message_id)] = people[assignee]
        others = [discord_id for user_id, discord_id in people.items() if user_id != assignee]
        return render.mentions(people.get(assignee) if assignee else None, others)

    async def reply(self, target: Target, thread_id: str, lines: list[str]) -> dict[str, Any]:
        """The new assignee, in the thread reply that reports an assignment."""
        assignee = self._assignees.get((target.channel_id, thread_id))
        if assignee is None or not any("assigned" in line for line in lines):
            return {}
        return render.mentions(assignee, [])

    async def comment(self, target: Target, comment: dict[str, Any]) -> dict[str, Any]:
        """The members a comment @mentions."""
        people = await self._people(target, set(), str(comment.get("body") or ""))
        return render.mentions(None, list(people.values()))
