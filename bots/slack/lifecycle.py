"""A workspace's and a channel's life, as Slack reports it: uninstalls, revoked tokens, archived,
deleted and left channels, reinstalls, and the rotation of OAuth bot tokens.

Events (each sets the lifecycle state of the subscriptions concerned through
`hub.services.chat.subscriptions`; only "active" subscriptions relay):

    app_uninstalled                  every subscription of the workspace → "uninstalled"; its
                                     installation rows (slack_installations, slack_bots) deleted
    tokens_revoked (bot tokens)      the same (user tokens alone: nothing, we use none)
    channel_archive, group_archive   the channel's subscriptions → "archived"
    channel_unarchive, group_unarchive   "archived" → "active"
    channel_deleted, group_deleted   → "removed"
    member_left_channel (the bot), group_left   → "removed" (subscribe again after inviting the bot)

A reinstall (the OAuth callback's success) returns the workspace's "uninstalled" subscriptions to
"active". "paused" subscriptions (the relay gave up on them) are left as they are by unarchive and
reinstall; "removed" ones by a reinstall.

Token rotation (an app with `token_rotation_enabled`): OAuth installs then carry a refresh token and
an expiry. Bolt refreshes the token of incoming requests itself (its authorizer uses the app's
client, so `SLACK_API_URL`); `TokenKeeper` does the same for the relay and the notifier, which post
without a request: a token closer than `SLACK_TOKEN_ROTATION_MINUTES` to its expiry is
refreshed (`oauth.v2.access`, `grant_type=refresh_token`) and saved before it is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bots.slack.bot import SlackBot, log
from hub.services.chat import subscriptions

PLATFORM = "slack"
#: The events this module handles (the manifest subscribes to them: tests/…/test_manifest.py).
LIFECYCLE_EVENTS = (
    "app_uninstalled", "tokens_revoked", "channel_archive", "channel_unarchive", "channel_deleted",
    "group_archive", "group_unarchive", "group_deleted", "member_left_channel", "group_left",
)  # fmt: skip
#: (state, reason, the states it may change) per channel event.
CHANNEL_EVENTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "channel_archive": ("archived", "the channel was archived", ("active", "paused")),
    "group_archive": ("archived", "the channel was archived", ("active", "paused")),
    "channel_unarchive": ("active", "", ("archived",)),
    "group_unarchive": ("active", "", ("archived",)),
    "channel_deleted": ("removed", "the channel was deleted", ("active", "paused", "archived")),
    "group_deleted": ("removed", "the channel was deleted", ("active", "paused", "archived")),
    "group_left": ("removed", "Switchboard was removed from the channel", ("active", "paused", "archived")),
}
BOT_LEFT = ("removed", "Switchboard was removed from the channel", ("active", "paused", "archived"))
STOPPED_BY_UNINSTALL = ("active", "paused")


class TokenKeeper:
    """The bot token of an OAuth-installed workspace, refreshed before it expires.

    A token without an expiry is kept until `forget`; a rotating one is read from the store before
    each use (bolt, or another process, may have refreshed it) and, once within `minutes` of its
    expiry, refreshed and saved (installation and bot rows, as bolt's authorizer does)."""

    def __init__(
        self, store: AsyncInstallationStore, rotator: AsyncTokenRotator | None, minutes: int
    ) -> None:
        self.store = store
        self.rotator = rotator
        self.minutes = minutes
        self._bots: dict[str, Bot] = {}

    def _fresh(self, bot: Bot) -> bool:
        expires = bot.bot_token_expires_at
        return expires is None or expires > time.time() + self.minutes * 60

    async def token(self, team_id: str) -> str | None:
        bot = self._bots.get(team_id)
        if bot is None or bot.bot_token_expires_at is not None:
            bot = await self._load(team_id)
        if bot is None or not bot.bot_token:
            self._bots.pop(team_id, None)
            return None
        self._bots[team_id] = bot
        return bot.bot_token

    async def _load(self, team_id: str) -> Bot | None:
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or self._fresh(bot) or not bot.bot_refresh_token or self.rotator is None:
            return bot
        try:
            installation = await self.store.async_find_installation(enterprise_id=None, team_id=team_id)
            if installation is not None and installation.bot_refresh_token:
                rotated = await self.rotator.perform_token_rotation(
                    installation=installation, minutes_before_expiration=self.minutes
                )
                if rotated is not None:
                    await self.store.async_save(rotated)
                    return rotated.to_bot()
            refreshed = await self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=self.minutes
            )
        except (SlackTokenRotationError, SlackApiError) as error:
            log.error("refreshing the bot token of workspace %s failed: %s", team_id, error)
            return bot  # still valid until it expires; the next use tries again
        if refreshed is None:
            return bot
        await self.store.async_save_bot(refreshed)
        log.info("refreshed the bot token of workspace %s", team_id)
        return refreshed

    def forget(self, team_id: str) -> None:
        self._bots.pop(team_id, None)


class Lifecycle:
    """What happens to a workspace's subscriptions and installation when Slack says so."""

    def __init__(
        self, bot: SlackBot, store: AsyncInstallationStore | None, keeper: TokenKeeper | None
    ) -> None:
        self.bot = bot
        self.store = store
        self.keeper = keeper
        #: Called with the team id whenever its token changed or went away (the clients' cache).
        self.forget_team: list[Callable[[str], None]] = []

    def _forget(self, team_id: str) -> None:
        if self.keeper is not None:
            self.keeper.forget(team_id)
        for forget in self.forget_team:
            forget(team_id)

    async def uninstalled(self, team_id: str, enterprise_id: str | None, reason: str) -> int:
        """Delete the workspace's installation (multi-workspace mode), then stop relaying there.

        Credentials go first: once a subscription reads "uninstalled", no token of that workspace is
        left to use, and if marking fails Slack re-sends the event and both steps run again."""
        if self.store is not None:
            await self.store.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            await self.store.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)
        self._forget(team_id)
        changed = await subscriptions.set_workspace_state(
            self.bot.uow(), PLATFORM, team_id, "uninstalled", reason, only_from=STOPPED_BY_UNINSTALL
        )
        log.info("workspace %s: %s; %d subscription(s) stopped", team_id, reason, changed)
        return changed

    async def installed(self, team_id: str) -> int:
        """A (re)install: the workspace's "uninstalled" subscriptions relay again."""
        self._forget(team_id)
        changed = await subscriptions.set_workspace_state(
            self.bot.uow(), PLATFORM, team_id, "active", None, only_from=("uninstalled",)
        )
        if changed:
            log.info("workspace %s reinstalled; %d subscription(s) resumed", team_id, changed)
        return changed

    async def channel(self, team_id: str, channel_id: str, change: tuple[str, str, tuple[str, ...]]) -> int:
        state, reason, only_from = change
        changed = await subscriptions.set_channel_state(
            self.bot.uow(), PLATFORM, team_id, channel_id, state, reason or None, only_from=only_from
        )
        if changed:
            log.info("channel %s/%s: %d subscription(s) now %s", team_id, channel_id, changed, state)
        return changed

    def callback_options(self) -> AsyncCallbackOptions:
        """OAuth callback handlers: bolt's own pages, after resuming the workspace on success."""

        async def success(args: AsyncSuccessArgs) -> BoltResponse:
            team_id = args.installation.team_id
            if team_id:
                await self.installed(team_id)
            response: BoltResponse = await args.default.success(args)
            return response

        async def failure(args: AsyncFailureArgs) -> BoltResponse:
            response: BoltResponse = await args.default.failure(args)
            return response

        return AsyncCallbackOptions(success=success, failure=failure)


def register(app: AsyncApp, lifecycle: Lifecycle) -> None:
    @app.event("app_uninstalled")
    async def on_uninstalled(context: Any) -> None:
        await lifecycle.uninstalled(_team(context), context.enterprise_id, "the app was uninstalled")

    @app.event("tokens_revoked")
    async def on_tokens_revoked(event: dict[str, Any], context: Any) -> None:
        if (event.get("tokens") or {}).get("bot"):
            await lifecycle.uninstalled(_team(context), context.enterprise_id, "the bot token was revoked")

    @app.event("member_left_channel")
    async def on_member_left(event: dict[str, Any], context: Any) -> None:
        if event.get("user") and event.get("user") == context.bot_user_id:
            await lifecycle.channel(_team(context), str(event.get("channel", "")), BOT_LEFT)

    for name, change in CHANNEL_EVENTS.items():
        app.event(name)(_channel_listener(lifecycle, change))


def _channel_listener(lifecycle: Lifecycle, change: tuple[str, str, tuple[str, ...]]) -> Any:
    async def on_channel_event(event: dict[str, Any], context: Any) -> None:
        channel = event.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else channel
        if channel_id:
            await lifecycle.channel(_team(context), str(channel_id), change)

    return on_channel_event


def _team(context: Any) -> str:
    return str(context.team_id or "")
