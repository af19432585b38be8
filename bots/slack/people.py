"""Who a Slack user is in the hub: their linked account, or — first time — their verified email.

`users.info` gives `profile.email` (scope `users:read.email`) and `is_email_confirmed`; only a
confirmed email that equals a hub user's email links automatically. Misses are remembered for a minute
so a busy unlinked user does not cost a `users.info` call per message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from hub.adapters.db.uow import UnitOfWork
from hub.domain.identity import Actor
from hub.services.chat import accounts as chat
from hub.services.chat.accounts import ChatUser
from hub.services.chat.relay import Target

log = logging.getLogger(__name__)
MISS_TTL = 60.0


class SlackPeople:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Callable[[], float] = time.monotonic) -> None:
        self._uow = uow
        self._clock = clock
        self._misses: dict[tuple[str, str], float] = {}

    async def actor(self, team_id: str, user_id: str, client: AsyncWebClient) -> Actor | None:
        who = ChatUser("slack", team_id, user_id)
        actor = await chat.resolve_actor(self._uow(), who)
        if actor is not None:
            return actor
        if self._misses.get((team_id, user_id), float("-inf")) > self._clock():
            return None
        actor = await self._by_email(team_id, user_id, client)
        if actor is None:
            self._misses[(team_id, user_id)] = self._clock() + MISS_TTL
        return actor

    async def _by_email(self, team_id: str, user_id: str, client: AsyncWebClient) -> Actor | None:
        try:
            info = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.info("users.info %s failed: %s", user_id, exc.response.get("error") if exc.response else exc)
            return None
        user = info.get("user") or {}
        profile = user.get("profile") or {}
        if user.get("is_bot") or not user.get("is_email_confirmed") or not profile.get("email"):
            return None
        name = profile.get("real_name") or user.get("real_name") or user.get("name") or ""
        who = ChatUser("slack", team_id, user_id, name)
        return await chat.link_by_email(self._uow(), who, profile["email"])

    def forget(self, team_id: str, user_id: str) -> None:
        self._misses.pop((team_id, user_id), None)


class SlackMentions:
    """Whom a channel post may mention: the Slack accounts linked in the channel's workspace, when the
    subscription's `mentions` allows (`hub.services.chat.accounts.mention_ids`). Best effort: a
    lookup that fails leaves names plain and never holds a post back."""

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    async def people(self, target: Target, user_ids: set[int], *, text: str = "") -> dict[int, str]:
        if not getattr(target, "mentions", True) or not (user_ids or "@" in text):
            return {}
        try:
            return await chat.mention_ids(
                self._uow(), "slack", target.team_id, user_ids,
                project_id=target.project_id if text else None, text=text,
            )  # fmt: skip
        except Exception:
            log.exception("looking up whom to mention failed; names stay plain")
            return {}
