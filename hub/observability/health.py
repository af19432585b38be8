"""`switchboard healthcheck`: whether this container's process is healthy, with tools the image has.

A hub is asked over HTTP: `GET /readyz` (its database and, when configured, Redis answer) must return
200. The webhook worker and the bots serve no port of their own, so each keeps a heartbeat file,
`HEARTBEAT_DIR/switchboard-<kind>.heartbeat` (default directory: the system's temporary directory),
touched when it starts and every `INTERVAL` seconds after, and deleted when it stops cleanly. The check
passes while the file is younger than `--max-age` (default `MAX_AGE`): a process that exited, whose event
loop hangs, or (the worker) whose delivery loop died, leaves the file missing or stale. A container runs
one process of each kind, so one file per kind is enough; set `HEARTBEAT_DIR` to run several side by side.

Each check returns None when healthy, or one line saying what is wrong (printed by the CLI, and kept by
Docker in `docker inspect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from hub.config import ConfigError

log = logging.getLogger(__name__)

#: Seconds between two touches of a heartbeat file.
INTERVAL = 5.0
#: Default `--max-age`: six missed touches before the process counts as unhealthy.
MAX_AGE = 30.0
#: Default `--url` (the port the image's `switchboard serve` listens on) and `--timeout`.
HUB_URL = "http://127.0.0.1:8000/readyz"
TIMEOUT = 2.0
#: Process kinds that keep a heartbeat file (the hub is asked over HTTP instead).
KINDS = ("worker", "slack", "discord")


def heartbeat_path(directory: str | None, kind: str) -> Path:
    """Where a process of `kind` keeps its heartbeat (`HEARTBEAT_DIR`, or the temporary directory)."""
    return Path(directory or tempfile.gettempdir()) / f"switchboard-{kind}.heartbeat"


def _touch(path: Path) -> None:
    path.write_text(f"{os.getpid()}\n")  # the pid, for whoever looks; the mtime is what counts


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)  # a clean stop is unhealthy at once, not after MAX_AGE


@contextlib.asynccontextmanager
async def heartbeat(
    path: Path, alive: Callable[[], bool] = lambda: True, interval: float = INTERVAL
) -> AsyncIterator[None]:
    """Touch `path` now and every `interval` seconds while `alive()` holds; delete it on the way out.

    The first touch failing (a read-only or missing directory) stops start-up with `ConfigError` naming
    `HEARTBEAT_DIR`, rather than leaving a process its health check would restart forever."""
    try:
        _touch(path)
    except OSError as exc:
        raise ConfigError(f"HEARTBEAT_DIR: cannot write the heartbeat file {path}: {exc.strerror}") from None

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval)
            if alive():
                try:
                    _touch(path)
                except OSError as exc:  # the check will report it stale: say why here
                    log.warning("cannot touch heartbeat file %s: %s", path, exc.strerror)

    task = asyncio.create_task(beat(), name=f"heartbeat {path.name}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        _remove(path)


def check_heartbeat(path: Path, max_age: float = MAX_AGE, now: float | None = None) -> str | None:
    """None when `path` was touched within `max_age` seconds; else what is wrong."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat file {path}: the process is not running (or has not started)"
    except OSError as exc:
        return f"cannot read the heartbeat file {path}: {exc.strerror}"
    if age > max_age:
        return f"heartbeat file {path} was last touched {age:.0f} s ago (limit {max_age:g} s)"
    return None


def check_hub(url: str = HUB_URL, timeout: float = TIMEOUT) -> str | None:
    """None when `GET url` answers 200; else what is wrong."""
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{url}: {str(exc) or type(exc).__name__}"
    if response.status_code != 200:
        return f"{url} answered {response.status_code}: {response.text[:200].strip()}"
    return None
