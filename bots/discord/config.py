"""Discord settings, read once from the hub's `Settings`.

`DISCORD_BOT_TOKEN` turns the adapter on. `DISCORD_API_URL` is the REST base discord.py talks to;
the gateway address is then asked of that REST API (`GET /gateway/bot`), as Discord's own clients do,
unless `DISCORD_GATEWAY_URL` names it. `DISCORD_DIGEST_HOUR` (UTC, default 9) is when daily digests
go out as DMs.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.config import Settings

DEFAULT_API_URL = "https://discord.com/api/v10"


@dataclass(frozen=True)
class DiscordConfig:
    token: str
    api_url: str = DEFAULT_API_URL
    gateway_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    digest_hour: int = 9
    #: How long discord.py waits for more GUILD_CREATEs before `on_ready` (tests shorten it).
    guild_ready_timeout: float = 2.0
    #: `DISCORD_SUBSCRIBE_ROLE`: a role (id or name) that may subscribe channels besides Manage Channels.
    subscribe_role: str | None = None
    #: `DISCORD_MESSAGE_CACHE`: messages discord.py keeps (None: no cache).
    message_cache: int | None = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig | None:
        """None when Discord is not configured (no `DISCORD_BOT_TOKEN`)."""
        secret = settings.discord_bot_token
        token = secret.get_secret_value().strip() if secret is not None else ""
        if not token:
            return None
        return cls(
            token=token,
            api_url=settings.discord_api_url.rstrip("/"),
            gateway_url=settings.discord_gateway_url,
            public_url=settings.public_url,
            digest_hour=settings.discord_digest_hour,
            subscribe_role=(settings.discord_subscribe_role or "").strip() or None,
            message_cache=settings.discord_message_cache or None,
        )
