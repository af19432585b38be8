"""Slack Web API clients: one per workspace token, all pointed at `SLACK_API_URL`, all polite.

Every client retries rate limits (429: sleeps `Retry-After`, then tries again, up to three times) and
connection errors, except for calls that post a message (`NOT_RESENT`): a connection dropped after
Slack took a `chat.postMessage` would otherwise post it twice, leaving an orphan duplicate. Those
fail instead; the relay's write-ahead marker and `find_posted` (by message metadata) then find the
message Slack kept, or post it once. The channel relay uses `impatient(client)`: no 429 sleeping
inside the call, so a rate-limited channel's lane waits (`RateLimitedError`) while the others go on.
No aiohttp session is shared: slack_sdk opens and closes one per call when it is given none, so
nothing is left open at shutdown.
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bots.sink import PermanentSendError
from bots.slack.config import SlackConfig

RATE_LIMIT_RETRIES = 3


class TokenSource(Protocol):
    async def token(self, team_id: str) -> str | None: ...

    def forget(self, team_id: str) -> None: ...


#: Web API methods that create a message: never re-sent after a connection error (not idempotent).
NOT_RESENT = ("chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "chat.meMessage")


class PostSafeConnectionRetryHandler(AsyncConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry, minus the calls that would post a message twice."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").rsplit("/", 1)[-1] in NOT_RESENT:
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def _handlers(*, patient: bool) -> list[AsyncRetryHandler]:
    handlers: list[AsyncRetryHandler] = [PostSafeConnectionRetryHandler()]
    if patient:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return handlers


def make_client(config: SlackConfig, token: str | None) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=config.api_url, retry_handlers=_handlers(patient=True))


def impatient(client: AsyncWebClient) -> AsyncWebClient:
    """The same workspace's client without the 429 sleep: a rate limit surfaces as `SlackApiError`
    (status 429, `Retry-After` header) for the caller to schedule (the relay's lanes)."""
    return AsyncWebClient(
        token=client.token, base_url=client.base_url, team_id=client.default_params.get("team_id"),
        retry_handlers=_handlers(patient=False),
    )  # fmt: skip


class SlackClients:
    """The bot client for a workspace: the configured token, or the one its OAuth install stored."""

    def __init__(
        self,
        config: SlackConfig,
        store: AsyncInstallationStore | None = None,
        *,
        default: AsyncWebClient | None = None,
        tokens: TokenSource | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.default = default or make_client(config, config.bot_token)
        self._by_team: dict[str, AsyncWebClient] = {}
        #: Rotating OAuth tokens (`bots.slack.lifecycle.TokenKeeper`): asked before every use, so a
        #: token refreshed before its expiry is the one the next post uses.
        self.tokens = tokens

    async def for_team(self, team_id: str) -> AsyncWebClient:
        if self.store is None:
            return self.default
        if self.tokens is not None:
            token = await self.tokens.token(team_id)
            if token is None:
                self._by_team.pop(team_id, None)
                raise PermanentSendError(f"Switchboard is not installed in workspace {team_id}")
            client = self._by_team.get(team_id)
            if client is None or client.token != token:
                client = self._by_team[team_id] = make_client(self.config, token)
            return client
        if team_id not in self._by_team:
            bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                raise PermanentSendError(f"Switchboard is not installed in workspace {team_id}")
            self._by_team[team_id] = make_client(self.config, bot.bot_token)
        return self._by_team[team_id]

    def forget(self, team_id: str) -> None:
        """Drop a cached token (after `invalid_auth`, an uninstall or a reinstall)."""
        self._by_team.pop(team_id, None)
        if self.tokens is not None:
            self.tokens.forget(team_id)
