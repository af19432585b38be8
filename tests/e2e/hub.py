"""A real hub for browser tests: `switchboard serve --demo` as a subprocess on a free port.

It can be stopped and started again on the same port with the same SQLite database (the restart
scenario), and a `sibling()` serves the same database on another port, so a test can write through the
API while the browser's own hub is down and the page cannot reconnect yet.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path

import httpx

DEMO_PASSWORD = "switchboard-demo"
_STRIP = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ACCESS_TOKEN_TTL", "PUBLIC_URL", "WS_ALLOWED_ORIGINS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_secret(length: int = 48) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


class HubProcess:
    """One `switchboard serve --demo` process; `start()` waits until `/healthz` answers."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        secret: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.secret = secret or random_secret()
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"hub-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.workdir / 'hub.db'}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _STRIP}
        env.update(
            DATABASE_URL=self.database_url,
            SECRET_KEY=self.secret,
            PUBLIC_URL=self.url,
            SWITCHBOARD_ENV="development",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> None:
        if self.process is not None:
            raise RuntimeError("hub already running")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--demo", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"hub did not answer /healthz within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (graceful: sockets get 1012), then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def sibling(self) -> HubProcess:
        """Another hub on another port sharing this one's database and secret."""
        return HubProcess(self.workdir, secret=self.secret, env=self.extra_env)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class HubApi:
    """The REST API as one demo user, for arranging and checking what the browser does."""

    def __init__(self, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
        self.base_url = base_url
        with httpx.Client(base_url=base_url, timeout=10) as client:
            response = client.post("/api/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def call(self, method: str, path: str, json: object | None = None, expect: int | None = None) -> object:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            response = client.request(
                method, path, json=json, headers={"Authorization": f"Bearer {self.token}"}
            )
        if expect is not None:
            assert response.status_code == expect, f"{method} {path} → {response.status_code} {response.text}"
        else:
            response.raise_for_status()
        return response.json() if response.content else None

    def project_id(self, key: str = "OPS") -> int:
        projects = self.call("GET", "/api/projects")
        return next(p["id"] for p in projects["items"] if p["key"] == key)  # type: ignore[index]

    def tickets(self, key: str = "OPS") -> list[dict]:
        page = self.call("GET", f"/api/projects/{self.project_id(key)}/tickets?limit=200")
        return list(page["items"])  # type: ignore[index]

    def ticket(self, ref: str | int) -> dict:
        return dict(self.call("GET", f"/api/tickets/{ref}"))  # type: ignore[arg-type]

    def create_ticket(self, title: str, key: str = "OPS", **fields: object) -> dict:
        body = {"title": title, **fields}
        return dict(self.call("POST", f"/api/projects/{self.project_id(key)}/tickets", body))  # type: ignore[arg-type]

    def patch_ticket(self, ref: str | int, **fields: object) -> dict:
        return dict(self.call("PATCH", f"/api/tickets/{ref}", fields))  # type: ignore[arg-type]

    def user_id(self, email: str, key: str = "OPS") -> int:
        members = self.call("GET", f"/api/projects/{self.project_id(key)}/members")
        return next(m["user_id"] for m in members["items"] if m["user"]["email"] == email)  # type: ignore[index]
