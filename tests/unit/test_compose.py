"""docker-compose.yml, the proxy config and .env.example: no container engine runs here, so check their
structure, that every command they run exists in our CLI, and that every setting is listed."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from hub.cli import _parser
from hub.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _cli_commands() -> set[str]:
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def _compose() -> dict[str, dict[str, dict[str, object]]]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_compose_services_and_commands() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "hub1", "hub2", "worker", "slack", "discord", "proxy"} <= set(
        services
    )
    commands = _cli_commands()
    for name, service in services.items():
        command = service.get("command")
        if isinstance(command, list) and command[0] == "switchboard":
            assert command[1] in commands, f"{name} runs {command[1]}, which the CLI does not implement"
            _parser().parse_args(command[1:])  # raises SystemExit on unknown options
        if "build" in service:
            env = service["environment"]
            assert isinstance(env, dict)
            assert str(env["DATABASE_URL"]).startswith("postgresql+asyncpg://")
            assert str(env["REDIS_URL"]).startswith("redis://")
    for name in ("hub1", "hub2", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"  # type: ignore[index]
    for name in ("postgres", "redis", "hub1", "hub2", "worker", "slack", "discord", "proxy"):
        assert "healthcheck" in services[name], name
    assert services["discord"]["command"] == ["switchboard", "discord"]
    assert "pgdata" in _compose()["volumes"]


def test_proxy_passes_websockets_to_both_hubs() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server hub1:8000" in conf
    assert "server hub2:8000" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "$request_uri" not in conf  # would log ?token= query strings
    volumes = _compose()["services"]["proxy"]["volumes"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in volumes  # type: ignore[operator]


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    missing = {name.upper() for name in Settings.model_fields} - listed
    assert missing == set()


def test_dockerfile_is_slim_non_root_and_caches_dependencies() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "USER switchboard" in text
    assert text.index("COPY pyproject.toml") < text.index("COPY hub")
