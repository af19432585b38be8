"""docker-compose.yml, the proxy config and .env.example: no container engine runs here, so check their
structure, that every command they run exists in our CLI, and that every setting is listed."""

from __future__ import annotations

import argparse
import fnmatch
import re
import shlex
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values

from hub.cli import _parser
from hub.config import Settings, load_settings

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
    # The hub checks a board page's Origin against the Host it receives: the port must survive.
    assert "proxy_set_header Host $http_host;" in conf
    assert "proxy_set_header X-Forwarded-Host $http_host;" in conf
    # a rolling restart never finds every hub marked down (docs/operations.md, tests/e2e/test_proxy.py)
    assert "server hub1:8000 backup max_fails=0;" in conf
    assert "server hub2:8000 backup max_fails=0;" in conf
    volumes = _compose()["services"]["proxy"]["volumes"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in volumes  # type: ignore[operator]


@pytest.mark.parametrize("example", [".env.example", "deploy/production.env.example"])
def test_env_example_lists_every_setting(example: str) -> None:
    text = (ROOT / example).read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    missing = {name.upper() for name in Settings.model_fields} - listed
    assert missing == set()


@pytest.mark.parametrize(
    ("example", "env"), [(".env.example", "development"), ("deploy/production.env.example", "production")]
)
def test_env_examples_are_valid_for_their_environment(tmp_path: Path, example: str, env: str) -> None:
    """.env.example is for local runs (a copy must not turn the CLI into production); the production
    file is valid as shipped once SECRET_KEY is filled in."""
    values = {k: v for k, v in dotenv_values(ROOT / example).items() if v is not None}
    assert values["SWITCHBOARD_ENV"] == env
    settings = load_settings({**values, "SECRET_KEY": "k" * 48}, secret_dir=tmp_path)
    assert settings.switchboard_env == env


def test_dockerfile_is_slim_non_root_and_caches_dependencies() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "USER switchboard" in text
    assert text.index("COPY pyproject.toml") < text.index("COPY hub")


# What a health check may run, per image: it runs inside the container, so only what the image has.
# Our image (`build: .`) is python:3.11-slim plus our package: `switchboard` and `python`, and whatever
# the Dockerfile apt-get installs. Third-party images, by what their official images ship:
THIRD_PARTY_EXECUTABLES = {
    "postgres:*-alpine": {"pg_isready"},  # part of the server package
    "redis:*-alpine": {"redis-cli"},  # part of the server package
    "nginx:*-alpine": {"wget"},  # BusyBox; nginx's Debian-based image has neither wget nor curl
}
SHELL_SEPARATORS = {"|", "||", "&&", ";"}


def _our_image_executables() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    installed: set[str] = set()
    for match in re.finditer(r"apt-get install ((?:[^\\\n&;|]|\\\n)+)", text):
        installed |= {word for word in match[1].split() if not word.startswith("-") and word != "\\"}
    return {"switchboard", "python", "python3"} | installed


def _executables(test: list[str] | str) -> list[list[str]]:
    """The commands (argv lists) a compose `healthcheck.test` runs."""
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    kind, *rest = test
    if kind == "CMD":
        return [rest]
    assert kind == "CMD-SHELL", f"unknown health check form {kind}"
    commands: list[list[str]] = [[]]
    for word in shlex.split(rest[0]):
        if word in SHELL_SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)  # only each command's first word matters here
    return [command for command in commands if command]


def test_every_health_check_runs_what_its_image_has() -> None:
    ours = _our_image_executables()
    checked = []
    for name, service in _compose()["services"].items():
        health = service.get("healthcheck")
        if not isinstance(health, dict):
            continue
        if "build" in service:
            allowed, image = ours, "our image"
        else:
            image = str(service["image"])
            pattern = next((p for p in THIRD_PARTY_EXECUTABLES if fnmatch.fnmatch(image, p)), None)
            assert pattern is not None, f"{name}: add {image} to THIRD_PARTY_EXECUTABLES"
            allowed = THIRD_PARTY_EXECUTABLES[pattern]
        for argv in _executables(health["test"]):  # type: ignore[arg-type]
            assert argv[0] in allowed, f"{name} checks its health with {argv[0]}, which {image} lacks"
            if argv[0] == "switchboard":
                parsed = _parser().parse_args(argv[1:])  # raises SystemExit on unknown options
                command = service["command"]
                assert isinstance(command, list)
                # each process kind is checked as that kind (a worker by its heartbeat, not a hub's URL)
                kind = command[1] if command[1] in ("worker", "slack", "discord") else "hub"
                assert parsed.process == kind, f"{name} runs {command[1]} but checks {parsed.process}"
            checked.append(name)
    assert {"postgres", "redis", "hub1", "hub2", "worker", "slack", "discord", "proxy"} <= set(checked)


def test_the_images_own_health_check_is_the_hubs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^HEALTHCHECK .*CMD (\[.*\])$", text, flags=re.MULTILINE)
    assert match is not None, "the Dockerfile's HEALTHCHECK should use the exec form"
    argv = yaml.safe_load(match[1])
    assert argv[0] in _our_image_executables()
    assert _parser().parse_args(argv[1:]).process == "hub"
