"""Running the real `switchboard` command line in a subprocess, and a hub server on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

SECRET = "cli-test-secret-key-that-is-long-enough-0123456789"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(
    proc: subprocess.Popen[bytes], url: str, output: Callable[[], str], what: str, timeout: float
) -> None:
    """Poll `url`/healthz until it answers 200; fail with `output()` if `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{output()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not answer /healthz within {timeout} s:\n{output()}")


def cli_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "SLACK_", "DISCORD_"))
    }
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'hub.db'}", SECRET_KEY=SECRET, PYTHONUNBUFFERED="1"
    )
    # The child imports the same source tree as the tests, whatever the installed copy is.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def run_cli(workdir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        cwd=workdir,
        env=env or cli_env(workdir),
        capture_output=True,
        text=True,
        timeout=120,
    )


class HubProcess:
    """`switchboard serve` as a child process; `stop()` sends SIGTERM like a process manager."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str, port: int | None = None) -> None:
        self.env = env
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"hub-{self.port}-{time.monotonic_ns()}.log"
        self._handle = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--port", str(self.port), *args],
            cwd=workdir,
            env=env,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        wait_healthy(self.proc, self.url, self.output, "hub", timeout)

    def output(self) -> str:
        self._handle.flush()
        return self.log.read_text()

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._handle.close()
        return int(self.proc.returncode)
