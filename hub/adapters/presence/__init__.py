"""Presence adapter: who is online in a project, what they view and type, across hub instances.

Pick the backend with :func:`create_presence`; nothing connects before :meth:`PresenceStore.start`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hub.adapters.presence.base import PresenceStore, PresenceUnavailable, PresenceUser
from hub.adapters.presence.cluster import RedisClusterPresence
from hub.adapters.presence.memory import MemoryPresence
from hub.adapters.presence.redis import RedisPresence

__all__ = [
    "MemoryPresence",
    "PresenceStore",
    "PresenceUnavailable",
    "PresenceUser",
    "RedisClusterPresence",
    "RedisPresence",
    "create_presence",
]


def create_presence(url: str | None, *, instance_id: str, prefix: str = "sb") -> PresenceStore:
    """Return the presence backend for ``url``: ``None``, ``""`` or ``memory://`` ->
    :class:`MemoryPresence` (``instance_id`` unused); ``redis://`` / ``rediss://`` ->
    :class:`RedisPresence` keyed under ``prefix``; ``redis+cluster://`` / ``rediss+cluster://`` ->
    :class:`RedisClusterPresence` (slot-local keys). ``instance_id`` must be unique per process start.

    :raises ValueError: unsupported URL scheme, or an invalid ``instance_id`` for Redis.
    """
    if not url:
        return MemoryPresence()
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryPresence()
    if scheme in ("redis", "rediss"):
        return RedisPresence(url, instance_id=instance_id, prefix=prefix)
    if scheme in ("redis+cluster", "rediss+cluster"):
        return RedisClusterPresence(url, instance_id=instance_id, prefix=prefix)
    raise ValueError(
        f"unsupported presence URL scheme {scheme!r}; use memory://, redis://, rediss:// or redis+cluster://"
    )
