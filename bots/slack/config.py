"""Slack settings, read once from the hub's `Settings` (plus the optional OAuth variables).

Modes:

- **single workspace**: `SLACK_BOT_TOKEN` + `SLACK_SIGNING_SECRET`;
- **multi workspace** (OAuth install, tokens in our database): `SLACK_CLIENT_ID` +
  `SLACK_CLIENT_SECRET` + `SLACK_SIGNING_SECRET`;
- either, plus `SLACK_APP_TOKEN` (`xapp-…`): Socket Mode instead of the HTTP endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from hub.config import ConfigError, Settings

BOT_SCOPES = (
    "commands", "chat:write", "chat:write.public", "im:write", "users:read", "users:read.email",
    "channels:history", "groups:history", "links:read", "links:write", "pins:write",
    "channels:read", "groups:read",
)  # fmt: skip


def _secret(settings: Settings, name: str, env: Mapping[str, str]) -> str | None:
    value = getattr(settings, name, None)
    if value is not None and hasattr(value, "get_secret_value"):
        return str(value.get_secret_value()) or None
    return value or env.get(name.upper()) or None


@dataclass(frozen=True)
class SlackConfig:
    signing_secret: str
    api_url: str
    public_url: str
    bot_token: str | None = None
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    digest_hour: int = 9
    #: False (production): `ack()` answers Slack at once and the work continues in the background.
    process_before_response: bool = False
    #: Subscribing Slack Connect (externally shared) channels (`SLACK_ALLOW_SHARED_CHANNELS`).
    allow_shared_channels: bool = False
    #: Refresh rotating OAuth bot tokens this long before they expire (`SLACK_TOKEN_ROTATION_MINUTES`).
    token_rotation_minutes: int = 120
    #: Tickets per page of `/ticket list` (`SLACK_LIST_PAGE_SIZE`).
    list_page_size: int = 20
    #: The Home tab's open tickets and notifications (`SLACK_HOME_TICKETS`, `SLACK_HOME_NOTIFICATIONS`).
    home_tickets: int = 15
    home_notifications: int = 5

    @property
    def multi_workspace(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str] | None = None) -> SlackConfig | None:
        """None when Slack is not configured; ConfigError naming what is missing when half-configured.

        `SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET` and `SLACK_DIGEST_HOUR` are read from `Settings` when
        it has them, else from the environment (see docs/slack.md)."""
        env = os.environ if env is None else env
        bot = _secret(settings, "slack_bot_token", env)
        signing = _secret(settings, "slack_signing_secret", env)
        app_token = _secret(settings, "slack_app_token", env)
        client_id = _secret(settings, "slack_client_id", env)
        client_secret = _secret(settings, "slack_client_secret", env)
        if not any((bot, signing, app_token, client_id, client_secret)):
            return None
        problems = []
        if not bot and not (client_id and client_secret):
            problems.append("SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) is required")
        if not signing and not app_token:
            problems.append("SLACK_SIGNING_SECRET is required for the HTTP endpoint")
        hour = str(getattr(settings, "slack_digest_hour", None) or env.get("SLACK_DIGEST_HOUR") or "9")
        if not hour.isdigit() or not 0 <= int(hour) <= 23:
            problems.append("SLACK_DIGEST_HOUR must be an hour 0-23")
        if problems:
            raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
        return cls(
            signing_secret=signing or "",
            api_url=settings.slack_api_url,
            public_url=settings.public_url,
            bot_token=bot,
            app_token=app_token,
            client_id=client_id,
            client_secret=client_secret,
            digest_hour=int(hour),
            allow_shared_channels=bool(getattr(settings, "slack_allow_shared_channels", False)),
            token_rotation_minutes=int(getattr(settings, "slack_token_rotation_minutes", 120)),
            list_page_size=int(getattr(settings, "slack_list_page_size", 20)),
            home_tickets=int(getattr(settings, "slack_home_tickets", 15)),
            home_notifications=int(getattr(settings, "slack_home_notifications", 5)),
        )
