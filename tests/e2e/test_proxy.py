"""The shipped topology, without Docker: the real nginx with the repository's own deploy/nginx.conf in
front of two `switchboard serve` processes on PostgreSQL + Redis and a separate `switchboard worker`,
and the board driven in Chromium through the proxy.

Only the upstream addresses (hub1:8000, hub2:8000 → 127.0.0.1:<port>) and the listen port (8080 → a
free port, still not the hubs' own) are substituted. PUBLIC_URL is deliberately left pointing elsewhere
and the hubs trust the proxy (TRUSTED_PROXIES, as docker-compose.yml sets it), so the board's sockets
open only if the proxy forwards the Host users reached it on, port included (issue 17: with
`Host $host` every socket was refused with 403).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.browser import require_playwright
from tests.e2e.hub import HubApi
from tests.support.database import exec_autocommit
from tests.support.process import HubProcess, cli_env, free_port, run_cli, wait_healthy
from tests.support.services import require_postgres, require_redis, unavailable

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import expect  # noqa: E402

from tests.e2e.pages import WHILE_HUB_DOWN, BoardPage  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
NGINX = os.environ.get("NGINX_PATH") or shutil.which("nginx") or "/usr/sbin/nginx"
LIVE = 10_000
RESTART_TITLES = ("Made while hub 1 restarts", "Made while hub 2 restarts")


def require_nginx() -> str:
    if not os.access(NGINX, os.X_OK):
        unavailable("nginx", f"not found at {NGINX} (apt-get install nginx)")
    return NGINX


def proxy_conf(hub_ports: tuple[int, int], listen: int, workdir: Path) -> str:
    """deploy/nginx.conf with only the upstream addresses and the listen port replaced."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for name, port in zip(("hub1", "hub2"), hub_ports, strict=True):
        assert conf.count(f"server {name}:8000 ") == 2  # a primary and a backup
        conf = conf.replace(f"server {name}:8000 ", f"server 127.0.0.1:{port} ")
    assert conf.count("listen 8080;") == 1
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    if os.geteuid() != 0:  # Debian's nginx keeps request buffers under /var/lib/nginx, root's
        temp = "".join(f"  {kind}_temp_path {workdir}/{kind};\n" for kind in ("client_body", "proxy"))
        conf = conf.replace("http {\n", "http {\n" + temp, 1)
    return conf


class Nginx:
    """nginx in the foreground as our child, with its own prefix, pid file and error log."""

    def __init__(self, workdir: Path, conf: str, port: int) -> None:
        workdir.mkdir()
        (workdir / "nginx.conf").write_text(conf)
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / "nginx.log"
        directives = f"daemon off; pid {workdir}/nginx.pid; error_log {workdir}/error.log;"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [require_nginx(), "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", directives],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.error_log = workdir / "error.log"

    def wait_ready(self, timeout: float = 15) -> None:
        wait_healthy(self.proc, self.url, self.output, "nginx", timeout)

    def output(self) -> str:
        logs = [self.log, self.error_log]
        return "\n".join(path.read_text(errors="replace") for path in logs if path.exists())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _autocommit(url: str, statement: str) -> None:
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, exec_autocommit(url, statement)).result()


@pytest.fixture
def database_url() -> Iterator[str]:
    base = require_postgres()
    name = f"sbproxy_{uuid.uuid4().hex[:8]}"
    _autocommit(base, f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + f"/{name}"
    _autocommit(base, f'DROP DATABASE "{name}" WITH (FORCE)')


def test_the_board_through_nginx_across_two_hubs_and_a_rolling_restart(
    tmp_path: Path, database_url: str, browser: object
) -> None:
    require_nginx()
    env = cli_env(
        tmp_path,
        DATABASE_URL=database_url,
        REDIS_URL=require_redis(),
        REDIS_PREFIX=f"sbp{uuid.uuid4().hex[:8]}",
        SWITCHBOARD_ENV="development",
        WEBHOOK_IN_PROCESS="false",  # webhooks go to the worker process, as in docker-compose.yml
        TRUSTED_PROXIES="127.0.0.1",
        HEARTBEAT_DIR=str(tmp_path),
        PUBLIC_URL="http://127.0.0.1:8000",  # not where the browser is: see the module docstring
    )
    env.pop("WS_ALLOWED_ORIGINS", None)
    for step in ("migrate", "demo"):
        done = run_cli(tmp_path, step, env=env)
        assert done.returncode == 0, done.stderr
    hubs = [HubProcess(tmp_path, env), HubProcess(tmp_path, env)]
    worker_log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "worker"],
        cwd=tmp_path,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    port = free_port()
    assert port != 8000
    nginx_dir = tmp_path / "nginx"
    proxy = Nginx(nginx_dir, proxy_conf((hubs[0].port, hubs[1].port), port, nginx_dir), port)
    context = browser.new_context(viewport={"width": 1400, "height": 860})  # type: ignore[attr-defined]
    context.set_default_timeout(LIVE)
    try:
        for hub in hubs:
            hub.wait_ready()
        proxy.wait_ready()

        # sign in through the proxy; the board's sockets go through it too and are accepted
        board = BoardPage(context.new_page(), proxy.url).login("alice@example.com")
        board.wait_live(LIVE)
        assert board.socket_urls
        assert all(url.startswith(f"ws://127.0.0.1:{port}/ws/") for url in board.socket_urls)

        # a change made on either hub directly shows live (one of them is not the board's hub)
        for n, hub in enumerate(hubs, 1):
            HubApi(hub.url, "bob@example.com").create_ticket(f"Made on hub {n}")
            board.expect_in_column(f"Made on hub {n}", "todo", timeout=LIVE)

        # the rest of the stack answers its health checks as compose runs them
        for check in (("--url", f"{proxy.url}/readyz"), ("--process", "worker")):
            result = run_cli(tmp_path, "healthcheck", *check, env=env)
            assert result.returncode == 0, result.stderr

        # rolling restart behind the proxy: hub 1, then hub 2, each SIGTERM and back on its port,
        # with a ticket created through the proxy while each is down
        api = HubApi(proxy.url, "bob@example.com")
        sockets_before = len(board.socket_urls)
        for index, title in enumerate(RESTART_TITLES):
            hubs[index].stop()
            api.create_ticket(title, priority="high")
            hubs[index] = HubProcess(tmp_path, env, port=hubs[index].port)
            hubs[index].wait_ready()
            board.wait_live(LIVE)
            board.expect_in_column(title, "todo", timeout=LIVE)

        board.wait_live(LIVE)
        assert len(board.socket_urls) > sockets_before  # the board's hub went away and it reconnected
        for title in ("Made on hub 1", "Made on hub 2", *RESTART_TITLES):
            expect(board.card(title)).to_have_count(1)  # each exactly once
        titles = [t["title"] for t in api.tickets()]
        assert [titles.count(title) for title in RESTART_TITLES] == [1, 1]
        board.assert_no_console_errors(allow=WHILE_HUB_DOWN)
        assert not re.search(r'" 403 ', proxy.output())  # no socket (nor anything) refused on the way
    finally:
        context.close()
        proxy.stop()
        for hub in hubs:
            hub.stop()
        worker.terminate()
        worker.wait(20)
        worker_log.close()
