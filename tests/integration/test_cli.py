"""The `switchboard` command line, run for real in a subprocess on the embedded default."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt

from tests.support.process import SECRET, HubProcess, cli_env, run_cli


def test_migrate_demo_user_and_token(tmp_path: Path) -> None:
    migrated = run_cli(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout
    first, second = run_cli(tmp_path, "demo"), run_cli(tmp_path, "demo")
    assert "demo data loaded" in first.stdout, first.stderr
    assert "already present" in second.stdout
    created = run_cli(
        tmp_path, "user", "create", "Zed@Example.com", "--password", "longenough", "--name", "Zed"
    )
    assert created.returncode == 0, created.stderr
    assert "<zed@example.com>" in created.stdout
    dup = run_cli(tmp_path, "user", "create", "zed@example.com", "--password", "longenough", "--name", "Zed")
    assert dup.returncode == 1
    assert "already registered" in dup.stderr
    short = run_cli(tmp_path, "user", "create", "y@example.com", "--password", "x", "--name", "Y")
    assert short.returncode == 1
    assert "password" in short.stderr
    token = run_cli(tmp_path, "token", "zed@example.com", "--ttl", "60")
    assert token.returncode == 0, token.stderr
    claims = jwt.decode(token.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 60
    missing = run_cli(tmp_path, "token", "nobody@example.com")
    assert missing.returncode != 0
    assert "no user" in missing.stderr


def test_bad_configuration_stops_with_the_setting_named(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "migrate", env=cli_env(tmp_path, ACCESS_TOKEN_TTL="soon"))
    assert result.returncode == 2
    assert "ACCESS_TOKEN_TTL" in result.stderr
    assert "Traceback" not in result.stderr


def test_newcomer_path_serve_login_create_and_see_events(tmp_path: Path) -> None:
    """Clone, first command, log in with the printed demo user, create a project and a ticket."""
    hub = HubProcess(tmp_path, cli_env(tmp_path), "--demo")
    try:
        hub.wait_ready()
        out = hub.output()
        assert f"http://127.0.0.1:{hub.port}/" in out
        assert "alice@example.com / switchboard-demo" in out
        with httpx.Client(base_url=hub.url, timeout=10) as client:
            login = client.post(
                "/api/auth/login", json={"email": "alice@example.com", "password": "switchboard-demo"}
            )
            assert login.status_code == 200
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            project = client.post(
                "/api/projects", json={"key": "NEW", "name": "Newcomer"}, headers=headers
            ).json()
            ticket = client.post(
                f"/api/projects/{project['id']}/tickets", json={"title": "First!"}, headers=headers
            ).json()
            assert ticket["key"] == "NEW-1"
            events = client.get(
                f"/api/projects/{project['id']}/events", params={"after": 0}, headers=headers
            ).json()
            assert [e["type"] for e in events["items"]] == ["project.created", "ticket.created"]
            assert client.get("/").status_code == 200
            assert client.get("/healthz").json()["demo"]["email"] == "alice@example.com"
    finally:
        code = hub.stop()
    assert code == 0, hub.output()
    assert (tmp_path / "hub.db").exists()
