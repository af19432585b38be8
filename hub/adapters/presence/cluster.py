"""Presence on a Redis Cluster: the same data and scripts as :class:`RedisPresence`, slot-local keys.

A Lua script on a cluster may only touch keys in one hash slot, and the presence scripts check the
heartbeat of every instance that has a connection in the project. So on a cluster every key of a project
carries the hash tag ``{project:ID}`` and the heartbeat is kept *per project*:

``P:presence:{project:ID}`` (hash), ``P:typing:{project:ID}`` (sorted set)
    as in :mod:`hub.adapters.presence.redis`.
``P:instance:{project:ID}:I`` (string, TTL ``instance_ttl``)
    instance ``I``'s heartbeat for that project, written on :meth:`join` and refreshed (one pipelined
    ``SET`` per project the instance has connections in) every ``heartbeat_interval``.

Projects spread over the masters by slot; all presence traffic of one project stays on one master.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import cast

from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from hub.adapters.presence.redis import RedisPresence, _dump, logger


def _node_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme.lower().removesuffix('+cluster')}{sep}{rest}"


class RedisClusterPresence(RedisPresence):
    """:class:`RedisPresence` for ``redis+cluster://`` URLs; see the module docstring."""

    async def join(self, project_id: int, conn_id: str, user_id: int, name: str) -> bool:
        """Write this instance's heartbeat for the project, then join as :class:`RedisPresence` does."""
        # Before the connection is recorded locally, so a concurrent heartbeat never sees the project
        # without its key and mistakes it for a lost one.
        with self._unavailable("join"):
            await self._client().set(
                self._instance_prefix_for(project_id) + self._instance_id,
                self._incarnation,
                px=self._instance_ttl_ms,
            )
        return await super().join(project_id, conn_id, user_id, name)

    async def heartbeat(self) -> None:
        """Refresh the heartbeat of every project this instance has connections in; a project whose
        key had vanished (node restarted without persistence, missed heartbeats) gets its connections
        written again. With no connections, only checks that the cluster answers."""
        with self._unavailable("heartbeat"):
            client = self._client()
            projects = list(self._local)
            if not projects:
                await cast("Awaitable[bool]", client.ping())
                return
            async with client.pipeline(transaction=False) as pipe:
                for project_id in projects:
                    pipe.set(
                        self._instance_prefix_for(project_id) + self._instance_id,
                        self._incarnation,
                        px=self._instance_ttl_ms,
                        get=True,
                    )
                previous = await pipe.execute()
            mine = self._incarnation.encode()
            lost = [
                p
                for p, before in zip(projects, previous, strict=True)
                if before != mine and self._local.get(p)
            ]
            if not lost:
                return
            logger.warning(
                "presence heartbeat of %s had expired in %d project(s); re-registering",
                self._instance_id,
                len(lost),
            )
            async with client.pipeline(transaction=False) as pipe:
                for project_id in lost:
                    conns = self._local[project_id]
                    pipe.hset(
                        self._project_key(project_id),
                        mapping={self._field(c): _dump(e) for c, e in conns.items()},
                    )
                await pipe.execute()

    def _connect(self) -> RedisCluster:
        return RedisCluster.from_url(
            _node_url(self._url),
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
            socket_keepalive=True,
            require_full_coverage=False,
            retry=Retry(NoBackoff(), 1),
        )

    async def _deregister(self) -> None:
        async with self._client().pipeline(transaction=False) as pipe:
            for project_id in self._local:
                pipe.delete(self._instance_prefix_for(project_id) + self._instance_id)
            await pipe.execute()

    def _instance_prefix_for(self, project_id: int) -> str:
        return f"{self._prefix}:instance:{{project:{project_id}}}:"

    def _project_key(self, project_id: int) -> str:
        return f"{self._prefix}:presence:{{project:{project_id}}}"

    def _typing_key(self, project_id: int) -> str:
        return f"{self._prefix}:typing:{{project:{project_id}}}"
