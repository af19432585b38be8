"""Event bus adapter: publish/subscribe between the hub's sockets, within or across processes.

Pick the backend with :func:`create_bus`; nothing connects before :meth:`EventBus.start`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hub.adapters.bus.base import BusUnavailable, EventBus, Listener, ReconnectCallback
from hub.adapters.bus.cluster import CLUSTER_SCHEMES, RedisClusterBus
from hub.adapters.bus.memory import MemoryBus
from hub.adapters.bus.redis import RedisBus

__all__ = [
    "BusUnavailable",
    "EventBus",
    "Listener",
    "MemoryBus",
    "ReconnectCallback",
    "RedisBus",
    "RedisClusterBus",
    "create_bus",
]


def create_bus(url: str | None, *, prefix: str = "sb") -> EventBus:
    """Return the bus backend for ``url``: ``None``, ``""`` or ``memory://`` -> :class:`MemoryBus`;
    ``redis://`` / ``rediss://`` -> :class:`RedisBus` with channels namespaced by ``prefix``;
    ``redis+cluster://`` / ``rediss+cluster://`` -> :class:`RedisClusterBus` (sharded pub/sub).

    :raises ValueError: unsupported URL scheme.
    """
    if not url:
        return MemoryBus()
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryBus()
    if scheme in ("redis", "rediss"):
        return RedisBus(url, prefix=prefix)
    if scheme in CLUSTER_SCHEMES:
        return RedisClusterBus(url, prefix=prefix)
    raise ValueError(
        f"unsupported event bus URL scheme {scheme!r}; use memory://, redis://, rediss:// or redis+cluster://"
    )
