"""Fixtures for the event bus and presence integration tests.

Redis policy: tests that need Redis use ``TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``).
If it is unreachable they are skipped -- unless ``CI=true``, where a missing Redis is a broken pipeline
and must fail loudly instead of turning the suite silently green. Every test works under a random key
prefix and deletes only its own keys afterwards, since other suites may share the same Redis.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import redis
import redis.asyncio

from hub.adapters.bus import EventBus, MemoryBus, RedisBus
from hub.adapters.presence import MemoryPresence, PresenceStore, RedisPresence
from tests.integration.bus.private_redis import PrivateRedis
from tests.integration.bus.support import FakeClock

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def _require(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail the test when running in CI (``CI=true``)."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} -- CI=true, so this is an error, not a skip", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the shared test Redis, after checking that it answers (skip/fail per the CI rule)."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        _require(f"Redis at TEST_REDIS_URL={url} is unreachable: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture
def random_prefix() -> str:
    """A random key/channel prefix, unique to the test."""
    return f"sbtest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_prefix(redis_url: str, random_prefix: str) -> Iterator[str]:
    """A random prefix for one test on the shared Redis; its keys are deleted afterwards (never
    FLUSHALL, other suites may be using the same database)."""
    prefix = random_prefix
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
async def redis_admin(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A plain client on the shared test Redis, for checks such as PUBSUB NUMSUB."""
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A running redis-server of our own, which the test may kill and restart."""
    binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if binary is None:
        _require("redis-server binary not found (set REDIS_SERVER_BIN or install redis-server)")
    server = PrivateRedis(binary, tmp_path)
    server.start()
    yield server
    server.kill()


@dataclass(frozen=True)
class Backend:
    """Which implementation a parametrized test runs against."""

    name: str
    url: str | None
    prefix: str


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Parametrizes a test over the in-memory and the Redis implementation."""
    if request.param == "memory":
        return Backend("memory", None, "sb")
    return Backend("redis", request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"))


@pytest.fixture
async def make_bus(backend: Backend) -> AsyncIterator[Callable[..., Awaitable[EventBus]]]:
    """Factory for started buses of the current backend; all are stopped after the test."""
    buses: list[EventBus] = []

    async def make(**options: Any) -> EventBus:
        bus: EventBus = (
            MemoryBus() if backend.url is None else RedisBus(backend.url, prefix=backend.prefix, **options)
        )
        buses.append(bus)
        await bus.start()
        return bus

    yield make
    for bus in buses:
        await bus.stop()


@pytest.fixture
async def bus(make_bus: Callable[..., Awaitable[EventBus]]) -> EventBus:
    """A started bus of the current backend."""
    return await make_bus()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_presence(
    backend: Backend, clock: FakeClock
) -> AsyncIterator[Callable[..., Awaitable[PresenceStore]]]:
    """Factory for started presence stores of the current backend (sharing the fake clock)."""
    stores: list[PresenceStore] = []

    async def make(instance_id: str = "hub-a", **options: Any) -> PresenceStore:
        store: PresenceStore
        if backend.url is None:
            store = MemoryPresence(clock=clock, **options)
        else:
            store = RedisPresence(
                backend.url, instance_id=instance_id, prefix=backend.prefix, clock=clock, **options
            )
        stores.append(store)
        await store.start()
        return store

    yield make
    for store in stores:
        await store.stop()


@pytest.fixture
async def presence(make_presence: Callable[..., Awaitable[PresenceStore]]) -> PresenceStore:
    """A started presence store of the current backend."""
    return await make_presence()
