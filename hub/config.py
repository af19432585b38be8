"""Settings, read once from the environment (and an optional `.env` file).

Every setting of the public contract lives here. `load_settings()` validates them all and raises
`ConfigError` with one line per bad setting, naming it, so start-up fails with a message a user can act
on. Secrets are wrapped in `SecretStr` so they never show up in a repr or a log line.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_FILE = ".switchboard_secret"
MIN_SECRET_LENGTH = 32


#: Sockets may resume (`last_event_id`) from any point of the last 7 days: retention never goes below.
RESUME_WINDOW_DAYS = 7


class ConfigError(Exception):
    """Start-up configuration is invalid; the message names each bad setting."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def parse_rate(value: str) -> tuple[int, float] | None:
    """`"N/SECONDS"` -> (N, SECONDS); `"off"` -> None (no limit). ValueError for anything else."""
    text = value.strip().lower()
    if text == "off":
        return None
    count, sep, window = text.partition("/")
    try:
        limit, seconds = int(count), float(window)
    except ValueError:
        raise ValueError(f"{value!r} is not N/SECONDS (e.g. 10/300) or off") from None
    if not sep or limit < 1 or not 0 < seconds <= 86_400:
        raise ValueError(f"{value!r} must be N/SECONDS with N >= 1 and 0 < SECONDS <= 86400, or off")
    return limit, seconds


class Settings(BaseSettings):
    """The hub's configuration. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False, frozen=True)

    switchboard_env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./switchboard.db"
    #: PostgreSQL connections kept open per process (as many again may open for bursts, then close).
    database_pool_size: int = Field(default=20, ge=1, le=500)
    #: How writers keep outbox readers from skipping a late commit on PostgreSQL: "snapshot" (writers
    #: commit in parallel, readers stop at the safe horizon, hub/adapters/db/horizon.py) or "lock" (the
    #: previous advisory lock serialising every write's commit; a fallback, and the write benchmark's
    #: "before"). Readers keep the horizon either way, so processes may differ. SQLite ignores it.
    outbox_ordering: Literal["snapshot", "lock"] = "snapshot"
    redis_url: str | None = None
    redis_prefix: str = Field(default="sb", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    secret_key: SecretStr | None = None
    access_token_ttl: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl: int = Field(default=1_209_600, ge=60, le=31_536_000)
    allow_signup: bool = True
    public_url: str = "http://127.0.0.1:8000"
    cors_allowed_origins: Annotated[list[str], NoDecode] = []
    ws_allowed_origins: Annotated[list[str], NoDecode] = []
    webhook_allow_private: bool = False
    webhook_retry_schedule: str | None = None
    #: Seconds one webhook attempt may take (connect to last byte of the response).
    webhook_timeout: float = Field(default=10.0, gt=0, le=300)
    #: How long a worker holds a delivery it sends; a killed worker's messages wait this long at most.
    #: None: WEBHOOK_TIMEOUT + 5 s. Must be longer than WEBHOOK_TIMEOUT.
    webhook_lease_seconds: float | None = Field(default=None, gt=0, le=3600)
    #: Retention (hub.services.retention, docs/operations.md "Retention"), run by the webhook worker every
    #: RETENTION_INTERVAL_SECONDS in batches of RETENTION_BATCH rows. Events older than
    #: EVENTS_RETENTION_DAYS (at least the 7-day resume window; 0: keep for ever) that every consumer has
    #: passed move to `events_archive`, kept EVENTS_ARCHIVE_DAYS (0: for ever).
    events_retention_days: int = Field(default=30, ge=0, le=36_500)
    events_archive_days: int = Field(default=0, ge=0, le=36_500)
    notifications_retention_days: int = Field(default=90, ge=0, le=36_500)
    webhook_attempts_retention_days: int = Field(default=30, ge=1, le=36_500)
    #: Sessions ended (revoked, or without a refresh token left) and expired refresh tokens.
    sessions_retention_days: int = Field(default=30, ge=1, le=36_500)
    retention_interval_seconds: float = Field(default=3600.0, ge=1, le=86_400)
    retention_batch: int = Field(default=1000, ge=10, le=100_000)
    #: Seconds `serve` waits at start for PostgreSQL and Redis to answer before it gives up (hub.startup).
    startup_timeout: float = Field(default=10.0, gt=0, le=600)
    #: Whether `switchboard serve` runs a webhook worker in-process (false: only `switchboard worker`).
    webhook_in_process: bool = True
    #: Where `switchboard worker|slack|discord` keep the heartbeat file `switchboard healthcheck` reads
    #: (hub.observability.health); None: the system's temporary directory.
    heartbeat_dir: str | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: Largest `data` of a broadcast, serialised (hub.services.projects.broadcast): every project
    #: socket queues it.
    broadcast_max_bytes: int = Field(default=16_384, ge=256, le=1_048_576)
    #: Bearer token `/metrics` requires; unset: `/metrics` answers only direct loopback requests.
    metrics_token: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"  #: any case: `info` works
    log_format: Literal["text", "json"] = "text"
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_digest_hour: int = Field(default=9, ge=0, le=23)
    #: Subscribing a Slack Connect (externally shared) channel: refused unless true (docs/slack.md).
    slack_allow_shared_channels: bool = False
    #: OAuth installs with token rotation: refresh a bot token this many minutes before it expires.
    slack_token_rotation_minutes: int = Field(default=120, ge=1, le=720)
    #: Tickets per page of `/ticket list` in Slack (a "Next" button pages on).
    slack_list_page_size: int = Field(default=20, ge=1, le=40)
    #: The App Home tab: open tickets shown (then "…and N more on the board"), latest notifications.
    slack_home_tickets: int = Field(default=15, ge=1, le=40)
    slack_home_notifications: int = Field(default=5, ge=0, le=20)
    #: A digest the platform refuses is tried this many times a day in all, this many seconds apart,
    #: then given up for the day (logged; its notifications stay for the next digest).
    chat_digest_attempts: int = Field(default=5, ge=1, le=100)
    chat_digest_retry_seconds: int = Field(default=300, ge=0, le=86_400)
    #: Channel relay (bots/lanes.py): a subscription whose deliveries fail this many times in a row is
    #: paused (its creator is told); retries wait CHAT_CHANNEL_RETRY_SECONDS doubled per failure, at
    #: most CHAT_CHANNEL_RETRY_MAX_SECONDS. A 429's Retry-After is honoured as given and not counted.
    chat_channel_max_failures: int = Field(default=8, ge=1, le=1000)
    chat_channel_retry_seconds: float = Field(default=5.0, gt=0, le=3600)
    chat_channel_retry_max_seconds: float = Field(default=900.0, gt=0, le=86_400)
    discord_bot_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    discord_digest_hour: int = Field(default=9, ge=0, le=23)
    #: Besides Manage Channels, members with this Discord role (an id or a name) may `/ticket subscribe`.
    discord_subscribe_role: str | None = None
    #: Messages discord.py keeps in memory (0: none; deletions and edits work without the cache).
    discord_message_cache: int = Field(default=1000, ge=0, le=100_000)
    #: Rate limits, each "N/SECONDS" (at most N in any SECONDS) or "off" (see `parse_rate`).
    login_rate_limit: str = "10/300"  #: failed logins per account (normalised email)
    login_address_rate_limit: str = "30/300"  #: failed logins per client address
    register_rate_limit: str = "20/3600"  #: registrations per client address
    refresh_rate_limit: str = "120/60"  #: token refreshes per client address
    member_add_rate_limit: str = "60/60"  #: member additions per acting user
    #: Requests per inbound integration at `/hooks/{id}` (docs/integrations.md).
    integration_rate_limit: str = "600/60"
    #: Largest body `/hooks/{id}` accepts (413 beyond); MAX_BODY_BYTES caps every request anyway.
    integration_max_body: int = Field(default=1_048_576, ge=1024)
    #: How far a signed request's `webhook-timestamp` may be from now, in seconds (generic kind).
    integration_signature_tolerance: int = Field(default=300, ge=1, le=86_400)
    #: Comma-separated proxy addresses or networks whose X-Forwarded-For is believed (default: none).
    trusted_proxies: Annotated[list[str], NoDecode] = []
    #: Password hashes (argon2) run at once; None: the number of CPU cores.
    password_hash_concurrency: int | None = Field(default=None, ge=1, le=256)
    #: Sign-ins allowed to wait for a hashing slot; more are refused at once with 429.
    password_hash_queue: int = Field(default=16, ge=0, le=10_000)
    #: Inbound WebSocket messages per second per socket (token bucket), and the burst allowed.
    ws_inbound_rate: float = Field(default=20.0, gt=0, le=10_000)
    ws_inbound_burst: int = Field(default=40, ge=1, le=100_000)
    #: A socket that falls further behind is closed with 4008 (hub.realtime.connection.SendLimits):
    #: messages queued or written while the kernel refuses more, bytes queued or unsent, and seconds
    #: the kernel may keep refusing its bytes while events keep coming.
    ws_send_queue_messages: int = Field(default=256, ge=1, le=100_000)
    ws_send_queue_bytes: int = Field(default=1_048_576, ge=4096, le=1 << 30)
    ws_send_stall_seconds: float = Field(default=10.0, gt=0, le=3600)
    #: Seconds a close frame may wait behind a socket's backlog before the connection is dropped.
    ws_close_grace_seconds: float = Field(default=5.0, ge=0, le=300)
    #: SO_SNDBUF of each socket: what the kernel may hold for a client (0: the kernel's default).
    ws_send_buffer_bytes: int = Field(default=131_072, ge=0, le=1 << 26)

    @field_validator(
        "secret_key",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "discord_bot_token",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("cors_allowed_origins", "ws_allowed_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator(
        "login_rate_limit",
        "login_address_rate_limit",
        "register_rate_limit",
        "refresh_rate_limit",
        "member_add_rate_limit",
        "integration_rate_limit",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value.strip()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        items = _split_csv(value)
        if isinstance(items, list):
            for item in items:
                try:
                    ipaddress.ip_network(str(item), strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or network") from None
        return items

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        try:
            make_url(value).port  # noqa: B018  # parses the port too
        except (ArgumentError, ValueError):
            raise ValueError("is not a valid database URL (dialect://user:password@host:port/name)") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(
            ("redis://", "rediss://", "redis+cluster://", "rediss+cluster://", "memory://")
        ):
            raise ValueError(
                "must start with redis://, rediss://, redis+cluster://, rediss+cluster:// or memory://"
            )
        return value

    @field_validator("public_url", "slack_api_url", "discord_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return value or None

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if not value:
            return None
        for item in value.split(","):
            try:
                seconds = float(item)
            except ValueError:
                raise ValueError(f"{item.strip()!r} is not a number of seconds") from None
            if seconds <= 0:
                raise ValueError(f"{item.strip()!r} must be positive")
        return value

    @model_validator(mode="after")
    def _webhook_lease(self) -> Settings:
        if self.webhook_lease_seconds is not None and self.webhook_lease_seconds <= self.webhook_timeout:
            raise ValueError("WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT")
        return self

    @model_validator(mode="after")
    def _retention(self) -> Settings:
        for name in ("events_retention_days", "notifications_retention_days"):
            days = getattr(self, name)
            if 0 < days < RESUME_WINDOW_DAYS:
                raise ValueError(
                    f"{name.upper()}={days} is shorter than the {RESUME_WINDOW_DAYS}-day resume window; use"
                    f" at least {RESUME_WINDOW_DAYS} (or 0 to keep rows for ever)"
                )
        return self

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        if self.switchboard_env == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters in production"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def jwt_secret(self) -> str:
        assert self.secret_key is not None, "load_settings() fills secret_key"
        return self.secret_key.get_secret_value()


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"][:1]).upper() or "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"  {name}: {message}" if name != "SETTINGS" else f"  {message}")
    return "invalid configuration:\n" + "\n".join(lines)


def _local_secret(directory: Path) -> str:
    """The embedded default keeps a generated key in a local file so tokens survive restarts."""
    path = directory / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def load_settings(env: Mapping[str, str] | None = None, *, secret_dir: Path | None = None) -> Settings:
    """Read and validate the settings; raise `ConfigError` naming every bad setting."""
    try:
        if env is None:
            settings = Settings()
        else:
            # Any: pydantic parses the strings into each field's type.
            values: dict[str, Any] = {key.lower(): value for key, value in env.items()}
            # `_env_file` is an argument of BaseSettings.__init__, not a field, which mypy cannot see.
            settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None
    if settings.secret_key is None or not settings.secret_key.get_secret_value():
        key = _local_secret(secret_dir or Path.cwd())
        settings = settings.model_copy(update={"secret_key": SecretStr(key)})
    return settings


#: The seed's (Django Channels) settings, which Switchboard does not read, and what to set instead
#: (docs/migrating-from-channels.md). SECRET_KEY and CORS_ALLOWED_ORIGINS keep their names.
SEED_SETTINGS: dict[str, str] = {
    "DB_HOST": "DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME",
    "DB_PORT": "DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME",
    "DB_NAME": "DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME",
    "DB_USER": "DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME",
    "DB_PASSWORD": "DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME",
    "REDIS_HOST": "REDIS_URL=redis://HOST:PORT/0",
    "REDIS_PORT": "REDIS_URL=redis://HOST:PORT/0",
    "ALLOWED_HOSTS": "PUBLIC_URL (and WS_ALLOWED_ORIGINS for other origins; the Host header is not checked)",
    "DEBUG": "SWITCHBOARD_ENV=development|production and LOG_LEVEL=DEBUG",
    "VITE_API_BASE_URL": "PUBLIC_URL (the board is served by the hub; nothing is built)",
    "VITE_WS_BASE_URL": "PUBLIC_URL (sockets are on the same origin as the board)",
}


def seed_settings_in_use(env: Mapping[str, str], dotenv: Path | None = None) -> list[str]:
    """One warning per seed setting found in `env` or the `dotenv` file, naming what to use instead."""
    names = {key.upper() for key, value in env.items() if value is not None}
    if dotenv is not None and dotenv.is_file():
        from dotenv import dotenv_values

        names |= {key.upper() for key in dotenv_values(dotenv)}
    found = [name for name in SEED_SETTINGS if name in names]
    found += sorted(name for name in names if name.startswith("VITE_") and name not in SEED_SETTINGS)
    return [
        f"{name} is a setting of the Channels seed and is ignored; use "
        f"{SEED_SETTINGS.get(name, 'nothing: the board is served by the hub, no front-end build')} "
        "(docs/migrating-from-channels.md)"
        for name in found
    ]
