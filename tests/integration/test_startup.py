"""Starting and stopping `switchboard serve` as an operator meets it, with real processes.

Failures (busy port, unreachable PostgreSQL or Redis, a bad DATABASE_URL) end with one line naming the
problem and a non-zero exit, never a traceback; "running at" is printed once, when the hub serves;
start-up waits out a short Redis outage (STARTUP_TIMEOUT); `--workers N` runs N hubs on one port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.database import exec_autocommit
from tests.support.process import REPO, HubProcess, cli_env, free_port, run_cli
from tests.support.services import require_postgres, require_redis

RUNNING = "Switchboard is running at"


def _wait_for_output(hub: HubProcess, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in hub.output():
        if hub.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared:\n{hub.output()}")
        time.sleep(0.1)


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("switchboard: "), stderr
    return lines[0]


def test_a_busy_port_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--port", str(port))
    assert result.returncode == 1
    line = _one_line_error(result.stderr)
    assert f"127.0.0.1:{port}" in line
    assert "already in use" in line
    assert RUNNING not in result.stdout


@pytest.mark.parametrize(
    ("setting", "value", "code", "named"),
    [
        (
            "DATABASE_URL",
            "postgresql+asyncpg://sb@127.0.0.1:{port}/sb",
            1,
            "PostgreSQL at 127.0.0.1:{port}/sb",
        ),
        ("REDIS_URL", "redis://127.0.0.1:{port}/0", 1, "Redis at 127.0.0.1:{port}"),
        ("DATABASE_URL", "postgresql+asyncpg://sb@db:{port}x/sb", 2, "DATABASE_URL"),
        ("DATABASE_URL", "mysql://sb@127.0.0.1/sb", 2, "DATABASE_URL"),
    ],
    ids=["postgres-unreachable", "redis-unreachable", "database-url-bad-port", "database-url-bad-scheme"],
)
def test_unreachable_or_bad_dependencies_are_named(
    tmp_path: Path, setting: str, value: str, code: int, named: str
) -> None:
    port = free_port()  # nothing listens there: connections are refused
    env = cli_env(tmp_path, STARTUP_TIMEOUT="1", **{setting: value.format(port=port)})
    result = run_cli(tmp_path, "serve", "--port", str(free_port()), env=env)
    assert result.returncode == code, result.stderr
    assert named.format(port=port) in result.stderr
    assert "Traceback" not in result.stderr
    if code == 1:
        assert "unreachable after 1 s" in _one_line_error(result.stderr)
    assert RUNNING not in result.stdout


@pytest.mark.postgres
def test_a_missing_postgres_database_is_named(tmp_path: Path) -> None:
    base = require_postgres()
    url = base.rsplit("/", 1)[0] + f"/sb_missing_{uuid.uuid4().hex[:8]}"
    env = cli_env(tmp_path, DATABASE_URL=url, STARTUP_TIMEOUT="1")
    result = run_cli(tmp_path, "serve", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    assert "does not exist" in _one_line_error(result.stderr)


class Forwarder:
    """A TCP port that refuses connections until `start()`, then pipes each one to `target` (a Redis
    that comes back after an outage)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._server is not None
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._server.accept()
                upstream = socket.create_connection(self.target)
                self._sockets += [client, upstream]
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in [*self._sockets, *([self._server] if self._server else [])]:
            with contextlib.suppress(OSError):
                sock.close()


def test_start_during_a_redis_outage_waits_then_serves(tmp_path: Path) -> None:
    """Redis down at start: the port stays closed and nothing says "running" while the hub waits (up
    to STARTUP_TIMEOUT); once Redis answers the hub starts and /readyz reports Redis ok."""
    redis = httpx.URL(require_redis().replace("redis://", "http://"))
    forwarder = Forwarder((redis.host, redis.port or 6379))
    env = cli_env(
        tmp_path, REDIS_URL=f"redis://127.0.0.1:{forwarder.port}/15", STARTUP_TIMEOUT="60", LOG_LEVEL="info"
    )
    hub = HubProcess(tmp_path, env)
    try:
        _wait_for_output(hub, "does not answer", timeout=30)
        out = hub.output()
        assert f"Redis at 127.0.0.1:{forwarder.port} does not answer" in out
        assert RUNNING not in out
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{hub.url}/healthz", timeout=2)
        forwarder.start()
        hub.wait_ready()
        ready = httpx.get(f"{hub.url}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["redis"] == "ok"
        assert hub.output().count(RUNNING) == 1
    finally:
        code = hub.stop()
        forwarder.close()
    assert code == 0, hub.log.read_text()


def test_start_up_is_quiet_and_names_the_seeds_settings(tmp_path: Path) -> None:
    """One "running at" line, no Alembic plugin list or Hypercorn banner, `LOG_LEVEL=info` accepted,
    and a WARNING per setting of the Channels seed, naming what to use instead."""
    env = cli_env(tmp_path, LOG_LEVEL="info", DB_HOST="ticketing-db", VITE_API_BASE_URL="https://api.x")
    hub = HubProcess(tmp_path, env)
    try:
        hub.wait_ready()
        _wait_for_output(hub, RUNNING)
    finally:
        code = hub.stop()
    out = hub.log.read_text()
    assert code == 0, out
    assert out.count(RUNNING) == 1, out
    assert "alembic.runtime.plugins" not in out
    assert "Context impl" not in out
    assert "Running on http" not in out  # Hypercorn's own banner
    assert "Running upgrade 0001 -> 0002" in out  # what a migration does is still said
    warnings = [line for line in out.splitlines() if " WARNING hub.config " in line]
    assert any("DB_HOST" in line and "DATABASE_URL=postgresql+asyncpg://" in line for line in warnings), out
    assert any("VITE_API_BASE_URL" in line and "PUBLIC_URL" in line for line in warnings), out


def _without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


def test_env_example_as_dotenv_keeps_the_cli_in_development(tmp_path: Path) -> None:
    """A user who copies .env.example to .env gets a working CLI, not a production one that refuses;
    the production example as .env says which variable to set."""
    env = _without(cli_env(tmp_path), "SECRET_KEY", "SWITCHBOARD_ENV", "DATABASE_URL", "LOG_LEVEL")
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    result = run_cli(tmp_path, "migrate", env=env)
    assert result.returncode == 0, result.stderr
    shutil.copy(REPO / "deploy" / "production.env.example", tmp_path / ".env")
    result = run_cli(tmp_path, "migrate", env=env)
    assert result.returncode == 2
    assert "SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr


# -- --workers --------------------------------------------------------------------------------------


def test_workers_need_postgres_and_redis(tmp_path: Path) -> None:
    sqlite = run_cli(tmp_path, "serve", "--workers", "2", "--port", str(free_port()))
    assert sqlite.returncode == 2
    assert "needs PostgreSQL" in _one_line_error(sqlite.stderr)
    no_bus = run_cli(
        tmp_path,
        "serve",
        "--workers",
        "2",
        "--port",
        str(free_port()),
        env=cli_env(tmp_path, DATABASE_URL="postgresql+asyncpg://sb@127.0.0.1/sb"),
    )
    assert no_bus.returncode == 2
    assert "needs REDIS_URL" in _one_line_error(no_bus.stderr)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    base = require_postgres()
    name = f"sbstart_{uuid.uuid4().hex[:8]}"
    asyncio.run(exec_autocommit(base, f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(exec_autocommit(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


def _serving_pid(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of `pids` holds the server end of the loopback connection from `client_port`."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            inode = fields[9]
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
    return None


@pytest.mark.postgres
def test_workers_share_the_port_and_the_bus_and_stop_together(tmp_path: Path, postgres_database: str) -> None:
    """`serve --workers 2` on PostgreSQL + Redis: two worker processes answer on one port, a socket
    on either sees an event written through any of them, and SIGTERM closes every socket with 1012
    and stops both workers."""
    env = cli_env(
        tmp_path,
        DATABASE_URL=postgres_database,
        REDIS_URL=require_redis(),
        REDIS_PREFIX=f"sbw{uuid.uuid4().hex[:6]}",
        LOG_LEVEL="WARNING",
    )
    assert run_cli(tmp_path, "migrate", env=env).returncode == 0
    created = run_cli(
        tmp_path, "user", "create", "ops@example.com", "--password", "longenough1", "--name", "Ops", env=env
    )
    assert created.returncode == 0, created.stderr
    token = run_cli(tmp_path, "token", "ops@example.com", env=env).stdout.strip()
    hub = HubProcess(tmp_path, env, "--workers", "2")
    sockets: dict[int, list[ClientConnection]] = {}
    stack = contextlib.ExitStack()
    try:
        hub.wait_ready()
        _wait_for_output(hub, RUNNING)
        assert "2 workers" in hub.output()
        workers = _children(hub.proc.pid)
        assert len(workers) == 2
        headers = {"Authorization": f"Bearer {token}"}
        project = httpx.post(
            f"{hub.url}/api/projects", json={"key": "WRK", "name": "Workers"}, headers=headers
        )
        assert project.status_code == 201, project.text
        path = f"ws://127.0.0.1:{hub.port}/ws/projects/{project.json()['id']}/tickets/?token={token}"
        for _ in range(40):  # the kernel hands each connection to whichever worker accepts first
            ws = stack.enter_context(connect(path, open_timeout=10))
            pid = _serving_pid(hub.port, ws.socket.getsockname()[1], workers)
            sockets.setdefault(pid or 0, []).append(ws)
            if all(sockets.get(p) for p in workers):
                break
        assert set(sockets) == workers, f"connections per worker: { {p: len(s) for p, s in sockets.items()} }"
        for _ in range(2):  # two writes, through whichever workers take them
            ticket = httpx.post(
                f"{hub.url}/api/projects/{project.json()['id']}/tickets",
                json={"title": "hi"},
                headers=headers,
            )
            assert ticket.status_code == 201, ticket.text
            for ws in (conn for conns in sockets.values() for conn in conns):
                while (message := _recv(ws))["type"] != "ticket_update":
                    pass
                assert message["data"]["key"] == ticket.json()["key"]
        hub.proc.send_signal(15)
        for ws in (conn for conns in sockets.values() for conn in conns):
            assert _close_code(ws) == 1012
    finally:
        code = hub.stop()
        stack.close()
    assert code == 0, hub.log.read_text()
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert "Traceback" not in hub.log.read_text()


def _close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes; its close code."""
    try:
        while True:
            _recv(ws)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def _recv(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(ws.recv(timeout=10)))
