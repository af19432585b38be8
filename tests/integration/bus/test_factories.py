"""Backend selection by URL scheme; constructing a backend must not touch the network."""

from __future__ import annotations

import pytest

from hub.adapters.bus import MemoryBus, RedisBus, create_bus
from hub.adapters.presence import MemoryPresence, RedisPresence, create_presence

# TEST-NET-1 (RFC 5737): guaranteed unroutable, so any connection attempt would hang or fail.
UNREACHABLE = "redis://192.0.2.1:6379/0"


@pytest.mark.parametrize("url", [None, "", "memory://", "MEMORY://local"])
def test_memory_urls_select_memory_backends(url: str | None) -> None:
    assert isinstance(create_bus(url), MemoryBus)
    assert isinstance(create_presence(url, instance_id="hub-a"), MemoryPresence)


@pytest.mark.parametrize("url", [UNREACHABLE, "rediss://user:secret@192.0.2.1:6380/2"])
def test_redis_urls_select_redis_backends_without_connecting(url: str) -> None:
    bus = create_bus(url, prefix="tenant")
    presence = create_presence(url, instance_id="hub-a", prefix="tenant")
    assert isinstance(bus, RedisBus)
    assert isinstance(presence, RedisPresence)
    assert not bus.healthy  # constructed, not started: nothing connected


@pytest.mark.parametrize("url", ["amqp://localhost", "postgres://x", "localhost:6379"])
def test_unknown_schemes_are_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported event bus URL scheme"):
        create_bus(url)
    with pytest.raises(ValueError, match="unsupported presence URL scheme"):
        create_presence(url, instance_id="hub-a")
