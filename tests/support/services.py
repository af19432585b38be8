"""Finding the real PostgreSQL and Redis the suite runs against.

Elsewhere a missing service skips its tests with a reason; with CI=true it fails the run loudly,
because a green CI that silently skipped the PostgreSQL half would prove nothing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, reason: str) -> None:
    message = f"{what} is not available: {reason}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def _reachable(url: str, default_port: int) -> str | None:
    parts = urlsplit(url.replace("+asyncpg", ""))
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"cannot connect to {host}:{port} ({exc})"


def require_postgres() -> str:
    problem = _reachable(POSTGRES_URL, 5432)
    if problem:
        unavailable("PostgreSQL", problem)
    return POSTGRES_URL


def require_redis() -> str:
    problem = _reachable(REDIS_URL, 6379)
    if problem:
        unavailable("Redis", problem)
    return REDIS_URL


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(name, "not installed")
    assert path is not None
    return path


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
