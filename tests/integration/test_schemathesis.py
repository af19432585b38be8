"""Schemathesis against a real `switchboard serve`, on SQLite and on PostgreSQL: /openapi.json is honest.

A hub process on a free port with a fresh database; a seeded owner of a project with a ticket and a
comment (so generated ids can resolve); then `st run` over /openapi.json with every check, a fixed seed
and deterministic generation, bounded to about a minute per database. The run must find no server
error, no response that breaks its documented schema, content type or headers, no status code the
document does not declare, no undocumented method answered and no operation that ignores its declared
authentication. (What the other checks report — e.g. schema-valid data a service refuses for reasons a
schema cannot say, such as a webhook host that resolves to a private address — is printed, not failed.)

The CLI runs as a subprocess with a JSON report: the most stable surface of schemathesis 4, and it keeps
its plugins and warnings out of this pytest session.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.database import exec_autocommit
from tests.support.process import HubProcess, cli_env, run_cli
from tests.support.services import require_postgres

PASSWORD = "correct-horse-battery"
#: Failures that mean the document lies about a response, or the server failed: none is allowed.
#: ST1xx: server errors, undocumented statuses, content types, headers, response schemas;
#: ST204/ST205: methods; ST401: an operation that declares authentication but does not require it.
FORBIDDEN = {"ST204", "ST205", "ST401"}
#: Operations that end the seeded login (the token the run uses): not fuzzed here.
SESSION_ENDING = r"^/api/auth/logout$|^/api/me/password$"
#: The hub's rate limits would turn most of the run into 429s; they have tests of their own.
NO_RATE_LIMITS = {
    name: "off"
    for name in (
        "LOGIN_RATE_LIMIT",
        "LOGIN_ADDRESS_RATE_LIMIT",
        "REGISTER_RATE_LIMIT",
        "REFRESH_RATE_LIMIT",
        "MEMBER_ADD_RATE_LIMIT",
    )
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
        return
    base = require_postgres()
    name = f"sbfuzz_{uuid.uuid4().hex[:8]}"
    asyncio.run(exec_autocommit(base, f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(exec_autocommit(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[HubProcess]:
    env = cli_env(tmp_path, DATABASE_URL=database_url, LOG_LEVEL="WARNING", **NO_RATE_LIMITS)
    migrated = run_cli(tmp_path, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    process = HubProcess(tmp_path, env)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _seed(url: str) -> str:
    """An owner with a project, a ticket and a comment; returns the owner's access token."""
    with httpx.Client(base_url=url, timeout=30) as client:
        account = {"email": "owner@example.com", "password": PASSWORD, "name": "Owner"}
        assert client.post("/api/auth/register", json=account).status_code == 201
        login = client.post("/api/auth/login", json={"email": account["email"], "password": PASSWORD})
        token = str(login.json()["access_token"])
        auth = {"Authorization": f"Bearer {token}"}
        project = client.post("/api/projects", json={"key": "OPS", "name": "Ops"}, headers=auth).json()
        ticket = client.post(
            f"/api/projects/{project['id']}/tickets", json={"title": "first"}, headers=auth
        ).json()
        comment = client.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "hi"}, headers=auth)
        assert comment.status_code == 201
        return token


def _st() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if found is None:
        pytest.fail("schemathesis is not installed: pip install -e '.[test]'", pytrace=False)
    return found


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(
    hub: HubProcess, tmp_path: Path
) -> None:
    token = _seed(hub.url)
    report = tmp_path / "schemathesis.json"
    command = [
        _st(),
        "run",
        f"{hub.url}/openapi.json",
        "--checks=all",
        "--max-examples=20",
        "--seed=20260101",
        "--generation-deterministic",
        "--request-timeout=10",
        "--exclude-path-regex",
        SESSION_ENDING,
        "--header",
        f"Authorization: Bearer {token}",
        "--report=json",
        f"--report-json-path={report}",
        "--no-color",
    ]
    # Its own working directory: schemathesis keeps a `.schemathesis` example database in the cwd.
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert report.exists(), f"schemathesis wrote no report:\n{run.stdout[-5000:]}\n{run.stderr[-3000:]}"
    result = json.loads(report.read_text())
    assert result["errors"] == [], result["errors"]
    assert result["operations"]["tested"] >= 40, result["operations"]
    failures = result["failures"]
    fatal = [f for f in failures if f["code"].startswith("ST1") or f["code"] in FORBIDDEN]
    summary = "\n".join(f"{f['code']} {f['title']}: {', '.join(f['operations'])}" for f in failures)
    print(f"schemathesis: {result['test_cases']}\n{summary}")
    assert fatal == [], f"{summary}\n\n{run.stdout[-20000:]}\nhub log:\n{hub.output()[-5000:]}"
