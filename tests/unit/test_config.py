"""Settings: defaults, parsing, and start-up errors that name the bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from hub.config import ConfigError, load_settings, seed_settings_in_use
from hub.context import build_context


def test_defaults_are_the_embedded_hub(tmp_path: Path) -> None:
    settings = load_settings({}, secret_dir=tmp_path)
    assert settings.database_url == "sqlite+aiosqlite:///./switchboard.db"
    assert settings.redis_url is None
    assert settings.database_pool_size == 20
    assert settings.access_token_ttl == 900
    assert settings.refresh_token_ttl == 1_209_600
    assert settings.webhook_allow_private is False
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.discord_api_url == "https://discord.com/api/v10"


def test_generated_secret_is_kept_in_a_local_file(tmp_path: Path) -> None:
    first = load_settings({}, secret_dir=tmp_path).jwt_secret
    second = load_settings({}, secret_dir=tmp_path).jwt_secret
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / ".switchboard_secret").stat().st_mode & 0o077 == 0


def test_lists_and_booleans_parse_from_text(tmp_path: Path) -> None:
    settings = load_settings(
        {"CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example", "ALLOW_SIGNUP": "false"},
        secret_dir=tmp_path,
    )
    assert settings.cors_allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.allow_signup is False


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"ACCESS_TOKEN_TTL": "soon"}, "ACCESS_TOKEN_TTL"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE"),
        ({"ALLOW_SIGNUP": "perhaps"}, "ALLOW_SIGNUP"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"WEBHOOK_RETRY_SCHEDULE": "5,ten,60"}, "WEBHOOK_RETRY_SCHEDULE"),
        ({"PUBLIC_URL": "ftp://x"}, "PUBLIC_URL"),
        ({"DISCORD_GATEWAY_URL": "http://x"}, "DISCORD_GATEWAY_URL"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env, secret_dir=tmp_path)
    assert named in str(caught.value)


def test_several_bad_values_are_all_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"ACCESS_TOKEN_TTL": "x", "REFRESH_TOKEN_TTL": "y"}, secret_dir=tmp_path)
    assert "ACCESS_TOKEN_TTL" in str(caught.value)
    assert "REFRESH_TOKEN_TTL" in str(caught.value)


@pytest.mark.parametrize("key", [None, "short"])
def test_production_refuses_a_missing_or_short_key(tmp_path: Path, key: str | None) -> None:
    env = {"SWITCHBOARD_ENV": "production"}
    if key:
        env["SECRET_KEY"] = key
    with pytest.raises(ConfigError) as caught:
        load_settings(env, secret_dir=tmp_path)
    assert "SECRET_KEY" in str(caught.value)
    assert not (tmp_path / ".switchboard_secret").exists()


def test_production_accepts_a_long_key(tmp_path: Path) -> None:
    settings = load_settings({"SWITCHBOARD_ENV": "production", "SECRET_KEY": "k" * 40}, secret_dir=tmp_path)
    assert settings.jwt_secret == "k" * 40
    assert "k" * 40 not in repr(settings)


def test_the_pool_size_reaches_the_engine(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1/x", "DATABASE_POOL_SIZE": "32"}
    context = build_context(load_settings(env, secret_dir=tmp_path))  # nothing connects
    pool = context.db.engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    assert (pool.size(), pool._max_overflow) == (32, 32)


@pytest.mark.parametrize("value", ["info", "Warning", " debug "])
def test_log_level_is_case_insensitive(tmp_path: Path, value: str) -> None:
    assert load_settings({"LOG_LEVEL": value}, secret_dir=tmp_path).log_level == value.strip().upper()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"DATABASE_URL": "postgresql+asyncpg://u@db:notaport/x"}, "DATABASE_URL"),
        ({"STARTUP_TIMEOUT": "0"}, "STARTUP_TIMEOUT"),
    ],
)
def test_more_bad_values_name_the_setting(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env, secret_dir=tmp_path)
    assert named in str(caught.value)


def test_seed_settings_are_named_with_what_to_use_instead(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("REDIS_HOST=ticketing-redis\nSECRET_KEY=x\n")
    env = {"DB_HOST": "ticketing-db", "DEBUG": "False", "VITE_WS_BASE_URL": "wss://x", "VITE_OTHER": "1"}
    warnings = seed_settings_in_use(env, dotenv)
    assert len(warnings) == 5
    by_name = {line.split(" ", 1)[0]: line for line in warnings}
    assert "DATABASE_URL=postgresql+asyncpg://" in by_name["DB_HOST"]
    assert "REDIS_URL=redis://" in by_name["REDIS_HOST"]
    assert "SWITCHBOARD_ENV" in by_name["DEBUG"]
    assert "PUBLIC_URL" in by_name["VITE_WS_BASE_URL"]
    assert "VITE_OTHER" in by_name
    assert seed_settings_in_use({"DATABASE_URL": "sqlite+aiosqlite:///x.db", "SECRET_KEY": "k"}) == []
