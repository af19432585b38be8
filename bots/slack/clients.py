"""Slack Web API clients: one per workspace token, all pointed at `SLACK_API_URL`, all polite.

Every client retries connection errors and rate limits (429: sleeps `Retry-After`, then tries again,
up to three times). No aiohttp session is shared: slack_sdk opens and closes one per call when it is
given none, so nothing is left open at shutdown.
"""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bots.sink import PermanentSendError
from bots.slack.config import SlackConfig

RATE_LIMIT_RETRIES = 3


def make_client(config: SlackConfig, token: str | None) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=config.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


class SlackClients:
    """The bot client for a workspace: the configured token, or the one its OAuth install stored."""

    def __init__(self, config: SlackConfig, store: AsyncInstallationStore | None = None) -> None:
        self.config = config
        self.store = store
        self.default = make_client(config, config.bot_token)
        self._by_team: dict[str, AsyncWebClient] = {}

    async def for_team(self, team_id: str) -> AsyncWebClient:
        if self.store is None:
            return self.default
        if team_id not in self._by_team:
            bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                raise PermanentSendError(f"Switchboard is not installed in workspace {team_id}")
            self._by_team[team_id] = make_client(self.config, bot.bot_token)
        return self._by_team[team_id]

    def forget(self, team_id: str) -> None:
        """Drop a cached token (after `invalid_auth`, an uninstall or a reinstall)."""
        self._by_team.pop(team_id, None)
