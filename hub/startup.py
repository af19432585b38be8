"""What `switchboard serve` checks before it opens its port, and the one-line errors an operator sees.

Order: the port is bound (not yet listening), Redis answers when `REDIS_URL` is set, the database
answers (SQLite: is migrated), then the port listens.
PostgreSQL and Redis are each given `STARTUP_TIMEOUT` seconds to answer, so a stack whose services
start in any order comes up; past that the hub exits non-zero with one line naming what failed.
Redis is required at start-up even though running hubs ride out a Redis outage (the outbox poll
delivers meanwhile): a hub that has never reached Redis cannot tell an outage from a wrong
`REDIS_URL`, and starting anyway would hide the mistake behind one-second-late events and a
per-process presence. Every failure raises `StartupError`, whose message is that line.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import urlsplit

from hub.config import Settings

log = logging.getLogger(__name__)

#: Connections the kernel queues for the hub while it is busy accepting (Hypercorn's backlog).
BACKLOG = 2048
RETRY_EVERY = 0.5
#: A dependency still silent after this many seconds gets one WARNING saying the hub waits for it.
NOTICE_AFTER = 2.0


class StartupError(Exception):
    """The hub cannot start; the message is one line for the operator, naming the problem."""


def describe(exc: BaseException) -> str:
    """The innermost cause of `exc` in one line, without SQLAlchemy's or redis-py's wrapping."""
    while True:
        inner = getattr(exc, "orig", None) or exc.__cause__
        if not isinstance(inner, BaseException) or inner is exc:
            break
        exc = inner
    text = str(exc)
    if "Traceback (most recent call last)" in text:  # e.g. Hypercorn's lifespan failure: last line
        text = text.strip().strip("'\"").replace("\\n", "\n").strip().splitlines()[-1]
    text = " ".join(text.split()) or type(exc).__name__
    text = text.split(" [SQL:", 1)[0].split(" (Background on this error", 1)[0]
    return text if len(text) <= 300 else text[:297] + "..."


def database_name(url: str) -> str:
    """`PostgreSQL at host:port/db` or `SQLite file path`, never the password."""
    if url.startswith("sqlite"):
        return f"SQLite database {url.split(':///', 1)[-1] or ':memory:'}"
    parts = urlsplit(url.replace("+asyncpg", ""))
    return f"PostgreSQL at {parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"


def redis_name(url: str) -> str:
    parts = urlsplit(url)
    return f"Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}"


async def _wait_for(what: str, check: Callable[[], Awaitable[object]], seconds: float) -> None:
    started = time.monotonic()
    deadline = started + seconds
    waiting = False
    while True:
        left = deadline - time.monotonic()
        try:
            await asyncio.wait_for(check(), max(left, 0.1))
            if waiting:
                log.info("%s answers; starting", what)
            return
        except Exception as exc:  # each failure is retried; the last one names the problem
            cause = "no answer" if isinstance(exc, TimeoutError) else describe(exc)
            if deadline - time.monotonic() <= RETRY_EVERY:
                raise StartupError(f"{what} is unreachable after {seconds:g} s: {cause}") from None
            if not waiting and time.monotonic() - started >= NOTICE_AFTER:
                waiting = True
                log.warning(
                    "%s does not answer (%s); waiting up to %g s (STARTUP_TIMEOUT)", what, cause, seconds
                )
        await asyncio.sleep(RETRY_EVERY)


async def check_database(settings: Settings) -> None:
    """Migrate an embedded SQLite database, or wait for PostgreSQL to answer a query."""
    from hub.adapters.db.engine import Database

    if settings.is_sqlite:
        from hub.adapters.db.migrate import upgrade

        try:
            await upgrade(settings.database_url)
        except Exception as exc:
            name = database_name(settings.database_url)
            raise StartupError(f"cannot migrate the {name}: {describe(exc)}") from None
        return
    db = Database(settings.database_url, pool_size=1)
    try:
        await _wait_for(database_name(settings.database_url), db.ping, settings.startup_timeout)
    finally:
        await db.dispose()


async def check_redis(settings: Settings) -> None:
    """Wait for Redis to answer PING (nothing to do without `REDIS_URL` or with `memory://`)."""
    url = settings.redis_url
    if not url or url.startswith("memory://"):
        return
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    from hub.adapters.bus.cluster import CLUSTER_SCHEMES, node_url

    client: Redis | RedisCluster
    if url.partition("://")[0].lower() in CLUSTER_SCHEMES:
        # Any node answers PING once the cluster client has read the slot map from one of them.
        client = RedisCluster.from_url(node_url(url), socket_connect_timeout=2, socket_timeout=2)
    else:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    async def ping() -> bool:
        # redis-py types ping for its sync and async clients at once; the async client's is awaitable.
        return await cast("Awaitable[bool]", client.ping())

    try:
        await _wait_for(redis_name(url), ping, settings.startup_timeout)
    finally:
        await client.aclose()


async def preflight(settings: Settings) -> None:
    """Everything `serve` needs before it opens its port; raises `StartupError`. Redis first: a hub
    that cannot start does not migrate the database."""
    await check_redis(settings)
    await check_database(settings)


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, made first so that a busy port or a bad address is reported
    at once (`StartupError`). It does not listen yet: until the caller calls `listen(BACKLOG)`, once
    the database and Redis answer, connections are refused rather than left waiting. Workers fork
    after that and share it."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use (another switchboard serve? pick one with --port)"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need privileges)"
        else:
            reason = exc.strerror or str(exc)
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock
