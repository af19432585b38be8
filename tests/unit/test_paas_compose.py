"""deploy/compose.paas.yml, the compose file for Dokploy and Coolify (docs/deploy/dokploy.md). No container
engine runs here: check its shape against what those platforms need, that every command and health check
runs something the image has, and that the environment it gives each process makes valid settings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.discord.config import DiscordConfig
from bots.slack.config import SlackConfig
from hub.cli import _parser
from hub.config import load_settings
from hub.observability.health import HUB_URL

ROOT = Path(__file__).resolve().parents[2]
PAAS = ROOT / "deploy" / "compose.paas.yml"
#: What each image's health check may run: ours has Python and our console script (no curl, wget or
#: pgrep); postgres:*-alpine has pg_isready, redis:*-alpine redis-cli.
EXECUTABLES = {"postgres:16-alpine": {"pg_isready"}, "redis:7-alpine": {"redis-cli"}}
OURS = {"switchboard", "python"}
#: What a user puts in the platform's environment tab (deploy/production.env.example), chat included.
USER_ENV = {
    "SECRET_KEY": "s" * 48,
    "PUBLIC_URL": "https://tickets.example.com",
    "POSTGRES_PASSWORD": "pw",
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "signing",
    "SLACK_APP_TOKEN": "xapp-1",
    "SLACK_CLIENT_ID": "1.2",
    "SLACK_CLIENT_SECRET": "secret",
    "DISCORD_BOT_TOKEN": "discord",
}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^${}]*))?\}")


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}` (nested) and `${VAR:?error}`, innermost first."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    while (text := VARIABLE.sub(one, value)) != value:
        value = text
    return value


def _raw() -> dict[str, Any]:
    return dict(yaml.safe_load(PAAS.read_text()))


def _services(env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    return dict(_interpolate(_raw(), USER_ENV if env is None else env)["services"])


def _ours(service: dict[str, Any]) -> bool:
    return "build" in service


def test_services_fit_a_platform_that_routes_with_its_own_traefik() -> None:
    services = _services()
    assert set(services) == {"postgres", "redis", "migrate", "hub", "worker", "slack", "discord"}
    for name, service in services.items():
        # The platform routes the domain: a published port would bypass it and collide on the host;
        # a fixed container name forbids replicas.
        assert "ports" not in service, name
        assert "container_name" not in service, name
        # Named volumes only: Dokploy re-clones the repository on each deploy, so bind mounts of
        # repository paths (./…) would lose their data.
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in _raw()["volumes"], f"{name}: {volume}"
    hub = services["hub"]
    assert int(hub["deploy"]["replicas"]) >= 2
    assert "default" in hub["networks"]  # kept when the platform adds Traefik's network
    port = hub["command"][hub["command"].index("--port") + 1]
    assert hub["expose"] == [port]
    assert f":{port}/readyz" in HUB_URL  # `switchboard healthcheck` asks the port the hub serves
    assert services["slack"]["profiles"] == ["slack"]
    assert services["discord"]["profiles"] == ["discord"]
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if _ours(service) and name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert "pgdata" in _raw()["volumes"]


def test_every_command_and_health_check_exists_in_its_image() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "switchboard" in scripts  # the Dockerfile's `pip install .` puts it on PATH
    for name, service in _services().items():
        if _ours(service):
            command = service["command"]
            assert command[0] == "switchboard", name
            _parser().parse_args(command[1:])  # SystemExit on an unknown subcommand or option
        if name == "migrate":
            assert "healthcheck" not in service  # a one-shot job: the others wait for it to complete
            continue
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
        argv = test[1:] if test[0] == "CMD" else test[1].split()
        allowed = OURS if _ours(service) else EXECUTABLES[service["image"]]
        assert argv[0] in allowed, f"{name}'s health check runs {argv[0]}, which its image lacks"
        if _ours(service):
            _parser().parse_args(argv[1:])
            kind = service["command"][1]
            # The hub is asked over HTTP; the others by the heartbeat file of their own kind.
            expected = ["healthcheck"] if kind == "serve" else ["healthcheck", "--process", kind]
            assert argv[1:] == expected, name


def test_required_settings_are_demanded_by_name() -> None:
    for name in ("SECRET_KEY", "PUBLIC_URL", "POSTGRES_PASSWORD"):
        env = {key: value for key, value in USER_ENV.items() if key != name}
        with pytest.raises(KeyError, match=name):
            _services(env)


def test_each_process_gets_valid_settings_and_only_bots_get_chat_tokens() -> None:
    """The environment a container sees is the .env file (the platform's environment tab) overridden
    by `environment:`; it must load as production settings, and the hubs must not start the bots."""
    for name, service in _services().items():
        if not _ours(service):
            continue
        assert service["env_file"] == [{"path": ".env", "required": False}], name
        env = USER_ENV | {key: str(value) for key, value in service["environment"].items()}
        settings = load_settings(env)
        assert settings.switchboard_env == "production", name
        assert settings.database_url == "postgresql+asyncpg://switchboard:pw@postgres:5432/switchboard"
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.webhook_in_process is False, name  # the worker service delivers
        slack = SlackConfig.from_settings(settings, env=env)
        discord = DiscordConfig.from_settings(settings)
        if name == "hub":
            assert slack is None, "a hub given Slack tokens runs the bot in every replica"
            assert discord is None, "a hub given the Discord token opens a gateway session per replica"
        if name == "slack":
            assert slack is not None
        if name == "discord":
            assert discord is not None


def test_an_external_database_replaces_the_bundled_one() -> None:
    url = "postgresql+asyncpg://sb:pw@db.internal:5432/sb"
    hub = _services(USER_ENV | {"DATABASE_URL": url})["hub"]
    assert hub["environment"]["DATABASE_URL"] == url
