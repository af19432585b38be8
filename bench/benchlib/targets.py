"""The servers under test, each an async context manager that leaves nothing behind.

- `hub_target("sqlite", ...)`: `switchboard serve` on a fresh SQLite file with the in-process bus.
- `hub_target("postgres", ...)`: `switchboard serve` on a database created for the run (and dropped
  after it), migrated with `switchboard migrate`, with Redis as the bus under a unique REDIS_PREFIX
  whose keys are deleted afterwards.
- `baseline_target()`: bench/baseline_quart.py.

Hub setup goes through the REST API like a real deployment: an owner registers and creates the project;
enough members register (concurrently) that no user exceeds the per-user socket limit, and each is added
to the project. Their access tokens are signed with the hub's own `issue_access_token` and the run's
SECRET_KEY — what `switchboard token EMAIL` prints — instead of one argon2 login per user.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from benchlib.procs import PYTHON, REPO, ServerProcess, free_port
from benchlib.titles import DESCRIPTION

SECRET = "bench-secret-key-that-is-long-enough-0123456789abcdef"
PASSWORD = "bench-password-1234"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
REDIS_URL = "redis://127.0.0.1:6379/0"
#: Sockets per user; the hub allows 32 (MAX_SOCKETS_PER_USER), leave some slack.
SOCKETS_PER_USER = 30
SETUP_CONCURRENCY = 8
WARMUP_TICKETS = 5


@dataclass
class Target:
    """A running server the benchmarks talk to."""

    name: str
    kind: str  # "hub" or "baseline"
    server: ServerProcess
    ws_path: str
    project_id: int = 0
    writer_token: str = ""
    socket_tokens: list[str] = field(default_factory=list)
    workdir: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.server.port

    def auth(self, index: int) -> Sequence[str]:
        """Subprotocols for socket `index`: spread over the members, as a browser would send them."""
        if not self.socket_tokens:
            return ["switchboard"]
        return ["switchboard", f"bearer.{self.socket_tokens[index % len(self.socket_tokens)]}"]

    def writer_args(self) -> list[str]:
        args = ["--url", self.server.url, "--target", self.kind]
        if self.kind == "hub":
            args += ["--project", str(self.project_id), "--token", self.writer_token]
        return args


def base_env(**extra: str) -> dict[str, str]:
    """The environment for hub processes: no inherited DATABASE_/REDIS_/chat settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "SLACK_", "DISCORD_", "PYTHON"))
    }
    env.update(SECRET_KEY=SECRET, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO), SWITCHBOARD_ENV="development")
    # The load generator signs up and adds hundreds of users from one address: no abuse limits here.
    env.update(
        {
            f"{name}_RATE_LIMIT": "off"
            for name in ("LOGIN", "LOGIN_ADDRESS", "REGISTER", "REFRESH", "MEMBER_ADD")
        }
    )
    env.update(extra)
    return env


def sign_token(user_id: int, ttl: int = 3600) -> str:
    """What `switchboard token EMAIL --ttl 3600` prints, signed in-process."""
    from hub.services.accounts.auth import TokenConfig, issue_access_token

    config = TokenConfig(secret=SECRET, access_ttl=ttl, refresh_ttl=ttl)
    return str(issue_access_token(config, user_id, ttl))


async def run_cli(env: dict[str, str], cwd: Path, *args: str, within: float = 120.0) -> str:
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "hub.cli",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"switchboard {' '.join(args)} failed:\n{out.decode()}")
    return out.decode()


@asynccontextmanager
async def database(backend: str, workdir: Path) -> AsyncIterator[dict[str, str]]:
    """Environment for a fresh hub database of `backend` ("sqlite" or "postgres"); cleaned up after."""
    if backend == "sqlite":
        yield base_env(DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'hub.db'}")
        return
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r}")
    tag = f"{os.getpid()}_{secrets.token_hex(4)}"
    name, prefix = f"sb_bench_{tag}", f"bench{tag}"
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    env = base_env(DATABASE_URL=PG_URL.format(name=name), REDIS_URL=REDIS_URL, REDIS_PREFIX=prefix)
    try:
        await run_cli(env, workdir, "migrate")
        yield env
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(path, json=body, headers=headers)
    if response.status_code >= 300:
        raise RuntimeError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
    return response.json()


async def setup_hub(url: str, members: int) -> tuple[int, str, list[str]]:
    """Owner, project `BENCH`, `members` members; returns (project_id, owner_token, member_tokens)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        owner = await _post(
            client,
            "/api/auth/register",
            {"email": "owner@bench.example.com", "password": PASSWORD, "name": "Bench Owner"},
        )
        owner_token = sign_token(int(owner["id"]))
        project = await _post(client, "/api/projects", {"key": "BENCH", "name": "Bench"}, owner_token)
        project_id = int(project["id"])
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def member(index: int) -> str:
            async with gate:
                user = await _post(
                    client,
                    "/api/auth/register",
                    {"email": f"m{index}@bench.example.com", "password": PASSWORD, "name": f"Member {index}"},
                )
                await _post(
                    client,
                    f"/api/projects/{project_id}/members",
                    {"email": f"m{index}@bench.example.com", "role": "member"},  # by id only for co-members
                    owner_token,
                )
                return sign_token(int(user["id"]))

        tokens = list(await asyncio.gather(*(member(i) for i in range(members))))
        for index in range(WARMUP_TICKETS):  # compile caches and pools warm before anything is measured
            await _post(
                client,
                f"/api/projects/{project_id}/tickets",
                {"title": f"warm-up {index}", "description": DESCRIPTION},
                owner_token,
            )
    return project_id, owner_token, tokens


@asynccontextmanager
async def workspace() -> AsyncIterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def hub_target(
    backend: str,
    sockets: int,
    *,
    cpu: int = 0,
    log_level: str = "INFO",
    wrapper: Sequence[str] = (),
) -> AsyncIterator[Target]:
    """`switchboard serve` on `backend`, set up for `sockets` subscribers of one project. `wrapper`
    goes between the interpreter and `-m hub.cli` (a script that instruments the server)."""
    async with workspace() as workdir, database(backend, workdir) as env:
        env["LOG_LEVEL"] = log_level
        port = free_port()
        cmd = [PYTHON, *wrapper, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = ServerProcess(cmd, env=env, cwd=workdir, port=port, cpu=cpu)
        try:
            await server.wait_ready()
            members = max(1, math.ceil(sockets / SOCKETS_PER_USER))
            project_id, owner_token, tokens = await setup_hub(server.url, members)
            yield Target(
                name=backend,
                kind="hub",
                server=server,
                ws_path=f"/ws/projects/{project_id}/tickets/",
                project_id=project_id,
                writer_token=owner_token,
                socket_tokens=tokens,
                workdir=workdir,
                info={"members": members},
            )
        finally:
            server.stop()


@asynccontextmanager
async def baseline_target(
    *, cpu: int = 0, send: str = "quart", wrapper: Sequence[str] = ()
) -> AsyncIterator[Target]:
    """bench/baseline_quart.py (`--send quart|asgi`), warmed up with a few publishes."""
    async with workspace() as workdir:
        port = free_port()
        script = str(REPO / "bench" / "baseline_quart.py")
        cmd = [PYTHON, *wrapper, script, "--port", str(port), "--send", send]
        server = ServerProcess(cmd, env=base_env(), cwd=workdir, port=port, cpu=cpu)
        try:
            await server.wait_ready()
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                for _ in range(WARMUP_TICKETS):
                    await client.post("/publish", content=b'{"type":"warm-up"}')
            name = "baseline" if send == "quart" else f"baseline-{send}"
            yield Target(name=name, kind="baseline", server=server, ws_path="/ws", workdir=workdir)
        finally:
            server.stop()


@asynccontextmanager
async def target(
    name: str, sockets: int, *, cpu: int = 0, wrapper: Sequence[str] = ()
) -> AsyncIterator[Target]:
    """`name` is "sqlite", "postgres", "baseline" or "baseline-asgi"."""
    if name.startswith("baseline"):
        send = name.partition("-")[2] or "quart"
        async with baseline_target(cpu=cpu, send=send, wrapper=wrapper) as running:
            yield running
    else:
        async with hub_target(name, sockets, cpu=cpu, wrapper=wrapper) as running:
            yield running
