"""docker-compose.yml: no container engine runs here, so check its structure and that every command
it runs exists in our CLI."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from hub.cli import _parser

ROOT = Path(__file__).resolve().parents[2]


def _cli_commands() -> set[str]:
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_compose_services_and_commands() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "hub"} <= set(services)
    commands = _cli_commands()
    for name, service in services.items():
        command = service.get("command")
        if isinstance(command, list) and command[0] == "switchboard":
            assert command[1] in commands, f"{name} runs unknown command {command[1]}"
            parser = _parser()
            parser.parse_args(command[1:])  # raises SystemExit on unknown options
        if "build" in service:
            assert service["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert services["hub"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "hub"):
        assert "healthcheck" in services[name], name


def test_dockerfile_runs_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER switchboard" in text
    assert text.index("COPY pyproject.toml") < text.index("COPY hub")
