"""What the Slack listeners share: settings, the command runner, identity lookup, the unit of work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.actions import Actions, Place, Result
from bots.slack.config import SlackConfig
from bots.slack.markup import to_plain
from bots.slack.people import SlackPeople
from hub.adapters.db.uow import UnitOfWork
from hub.domain.identity import Actor
from hub.services.chat import accounts as chat
from hub.services.chat.accounts import ChatUser
from hub.services.projects import projects

log = logging.getLogger("bots.slack")
SORRY = "Something went wrong on our side; nothing was changed. Please try again."


@dataclass
class SlackBot:
    config: SlackConfig
    actions: Actions
    people: SlackPeople
    uow: Callable[[], UnitOfWork]

    @property
    def public_url(self) -> str:
        return self.config.public_url

    def place(self, team_id: str, user_id: str, channel_id: str | None, name: str = "") -> Place:
        """DMs (`D…` channels) have no channel to subscribe or default a project from."""
        channel = channel_id if channel_id and not channel_id.startswith("D") else None
        return Place(ChatUser("slack", team_id, user_id, name), channel)

    async def actor(self, team_id: str, user_id: str, client: AsyncWebClient) -> Actor | None:
        return await self.people.actor(team_id, user_id, client)

    async def plain(self, team_id: str, text: str) -> str:
        """A Slack message as hub text; mentions of linked users become their hub @email."""

        async def email_of(user_id: str) -> str | None:
            return await chat.linked_email(self.uow(), ChatUser("slack", team_id, user_id))

        return await to_plain(text, email_of)

    async def writable_projects(self, actor: Actor) -> list[dict[str, Any]]:
        return [p for p in await projects.list_projects(self.uow(), actor) if p.get("role") != "viewer"]


def team_of(body: dict[str, Any]) -> str:
    """The workspace of any Slack payload (slash commands: `team_id`; interactivity: `team.id`)."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    return str(body.get("team_id") or (body.get("user") or {}).get("team_id") or "")


def failed(text: str) -> Result:
    return Result(text, ok=False)
