"""Event bus over a Redis Cluster with sharded pub/sub (``SPUBLISH``/``SSUBSCRIBE``, Redis 7).

Classic ``PUBLISH`` in a cluster is broadcast to every node, so its cost grows with the cluster instead
of shrinking. Sharded pub/sub keeps a channel on the master that owns the channel name's hash slot:

* **Publishing** goes through one :class:`~redis.asyncio.cluster.RedisCluster` client, which routes
  ``SPUBLISH`` by slot and follows ``MOVED`` redirects.
* **Subscribing** needs a connection to each master that owns one of our channels. Each master gets its
  own :class:`~hub.adapters.bus.redis.RedisBus` in ``sharded`` mode -- the same supervisor, liveness
  checks, reconnect backoff and ``wait_subscribed`` barrier as the single-node bus -- and this class
  routes every channel to the bus of the master that serves its slot.
* **Topology** is re-read every ``refresh_interval`` seconds and at once when a node refuses a
  subscription (``MOVED``) or drops one because its slot migrated; channels whose slot changed owner
  are moved to the new master's bus (a failover to a replica, a resharding).
* **Outages of one shard** are that shard's bus's business: it reconnects on its own, and after it has
  re-subscribed the :meth:`on_reconnect` callbacks run, so the hub re-reads its outbox for what was
  published meanwhile. Channels on the other shards are not interrupted.

The hub's event stream is one channel (``events``: every process needs every event, in id order), so it
lives on one shard; per-project presence channels spread over all of them. See docs/operations.md
"Redis Cluster" for what that means for capacity.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hub.adapters.bus.base import BusUnavailable, EventBus, Listener, ReconnectCallback
from hub.adapters.bus.listeners import ListenerRegistry
from hub.adapters.bus.redis import RedisBus

logger = logging.getLogger(__name__)

#: URL schemes that name a Redis Cluster; the part after ``+cluster`` is the node connection's scheme.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def node_url(url: str) -> str:
    """``redis+cluster://h:p`` -> ``redis://h:p`` (what redis-py expects for any one seed node)."""
    scheme, sep, rest = url.partition("://")
    return f"{CLUSTER_SCHEMES.get(scheme.lower(), scheme)}{sep}{rest}"


class RedisClusterBus(EventBus):
    """:class:`EventBus` over a Redis Cluster; see the module docstring.

    :param url: ``redis+cluster://host:port`` (or ``rediss+cluster://``) of any node; the others are
        discovered with ``CLUSTER SLOTS``.
    :param prefix: namespace for channel names (as :class:`RedisBus`).
    :param refresh_interval: seconds between topology reads.
    :param shard_options: passed to each per-master :class:`RedisBus` (``ping_interval``, ...).
    """

    def __init__(
        self, url: str, *, prefix: str = "sb", refresh_interval: float = 5.0, **shard_options: Any
    ) -> None:
        self._url = node_url(url)
        self._scheme = self._url.partition("://")[0]
        self._prefix = prefix
        self._refresh_interval = refresh_interval
        self._shard_options = shard_options
        self._timeout = float(shard_options.get("socket_timeout", 2.0))
        self._listeners = ListenerRegistry()
        self._reconnect_callbacks: list[ReconnectCallback] = []
        self._cluster: RedisCluster | None = None
        self._shards: dict[str, RedisBus] = {}  # node name "host:port" -> its subscriber bus
        self._route: dict[str, str] = {}  # channel -> node name it is subscribed on
        self._refresher: asyncio.Task[None] | None = None
        self._refresh_now = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the topology, start one subscriber bus per master, route the channels added so far.

        :raises BusUnavailable: no node answered, or a master could not be subscribed to.
        """
        if self._cluster is not None:
            raise RuntimeError("RedisClusterBus is already started")
        self._cluster = RedisCluster.from_url(
            self._url,
            socket_timeout=self._timeout,
            socket_connect_timeout=float(self._shard_options.get("connect_timeout", 2.0)),
            socket_keepalive=True,
            # A dead master must not stop publishes to the others, nor make them wait for retries.
            require_full_coverage=False,
            retry=Retry(NoBackoff(), 1),
        )
        try:
            await self._cluster.initialize()
            for node in self._cluster.get_primaries():
                self._shard(node.name)
            for channel in self._listeners.channels():
                self._subscribe(channel)
            await asyncio.gather(*(shard.start() for shard in self._shards.values()))
        except (RedisError, OSError, BusUnavailable) as exc:
            await self.stop()
            raise BusUnavailable(f"cannot use the Redis Cluster at {self._where()}: {exc}") from exc
        self._refresher = asyncio.create_task(self._refresh_forever(), name="redis-cluster-topology")

    async def stop(self) -> None:
        """Stop the topology task and every shard bus, close the cluster client. Idempotent."""
        refresher, self._refresher = self._refresher, None
        if refresher is not None:
            refresher.cancel()
            await asyncio.gather(refresher, return_exceptions=True)
        shards, self._shards = list(self._shards.values()), {}
        self._route.clear()
        await asyncio.gather(*(shard.stop() for shard in shards), return_exceptions=True)
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            await cluster.aclose()

    # -- public API --------------------------------------------------------------------------------

    async def publish(self, channel: str, message: bytes) -> None:
        """``SPUBLISH`` to the master that owns the channel's slot.

        :raises BusUnavailable: not started, or that master cannot be reached.
        """
        cluster = self._cluster
        if cluster is None:
            raise BusUnavailable("redis cluster bus is not started")
        try:
            await cluster.execute_command("SPUBLISH", self._name(channel), message)
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"cannot publish to the Redis Cluster at {self._where()}: {exc}") from exc

    def add_listener(self, channel: str, callback: Listener) -> None:
        """Register ``callback``; a channel's first listener subscribes it on its slot's master."""
        if self._listeners.add(channel, callback) and self._cluster is not None:
            try:
                self._subscribe(channel)
            except BusUnavailable as exc:  # routed by the next topology refresh
                logger.warning("redis cluster bus cannot subscribe %s yet: %s", channel, exc)
                self._refresh_now.set()

    def remove_listener(self, channel: str, callback: Listener) -> None:
        """Unregister ``callback``; the last listener unsubscribes the channel."""
        if self._listeners.remove(channel, callback):
            node = self._route.pop(channel, None)
            if node is not None and node in self._shards:
                self._shards[node].remove_listener(channel, self._dispatch)

    @property
    def healthy(self) -> bool:
        """True while every master's subscriber connection is up (one shard down degrades the bus:
        its channels neither publish nor deliver until it is back)."""
        return self._cluster is not None and all(shard.healthy for shard in self._shards.values())

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """Await ``callback`` after any shard re-subscribed following an outage or a topology change."""
        self._reconnect_callbacks.append(callback)

    async def wait_subscribed(self) -> None:
        """Return once every shard applied the listener changes made before this call."""
        if self._cluster is None:
            raise BusUnavailable("redis cluster bus is not started")
        await asyncio.gather(*(shard.wait_subscribed() for shard in list(self._shards.values())))

    # -- routing -----------------------------------------------------------------------------------

    def _name(self, channel: str) -> str:
        return f"{self._prefix}:{channel}"

    def _owner(self, channel: str) -> str:
        assert self._cluster is not None
        node = self._cluster.get_node_from_key(self._name(channel))
        if node is None:  # a slot without an owner: the cluster is being resharded or lost a master
            raise BusUnavailable(f"no Redis Cluster node serves channel {channel!r}")
        return str(node.name)

    def _shard(self, node: str) -> RedisBus:
        shard = self._shards.get(node)
        if shard is None:
            shard = RedisBus(
                f"{self._scheme}://{node}",
                prefix=self._prefix,
                sharded=True,
                on_moved=self._refresh_now.set,
                **self._shard_options,
            )
            shard.on_reconnect(self._shard_reconnected)
            self._shards[node] = shard
        return shard

    def _subscribe(self, channel: str) -> None:
        node = self._owner(channel)
        self._shard(node).add_listener(channel, self._dispatch)
        self._route[channel] = node

    def _dispatch(self, channel: str, message: bytes) -> None:
        self._listeners.dispatch(channel, message)

    async def _shard_reconnected(self) -> None:
        for callback in self._reconnect_callbacks:
            try:
                await callback()
            except Exception:
                logger.exception("redis cluster bus on_reconnect callback %r failed", callback)

    # -- topology ----------------------------------------------------------------------------------

    async def _refresh_forever(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._refresh_interval):
                    await self._refresh_now.wait()
            except TimeoutError:
                pass
            self._refresh_now.clear()
            try:
                await self._refresh()
            except (RedisError, OSError, BusUnavailable) as exc:
                logger.debug("redis cluster topology refresh failed: %s", exc)
            except Exception:
                logger.exception("redis cluster topology refresh failed unexpectedly")

    async def _refresh(self) -> None:
        """Re-read the slot map and move channels whose slot changed owner to the new owner's bus."""
        assert self._cluster is not None
        await self._cluster.nodes_manager.initialize()
        moved = False
        for channel in self._listeners.channels():
            node = self._route.get(channel)
            owner = self._owner(channel)
            if owner == node:
                continue
            shard = self._shard(owner)
            if not shard.started:
                await shard.start()  # BusUnavailable: try again at the next refresh
            if node is not None:
                self._shards[node].remove_listener(channel, self._dispatch)
            shard.add_listener(channel, self._dispatch)
            self._route[channel] = owner
            logger.info("redis cluster bus moved channel %s from %s to %s", channel, node, owner)
            moved = True
        for node in [n for n in self._shards if n not in set(self._route.values())]:
            if node not in {primary.name for primary in self._cluster.get_primaries()}:
                await self._shards.pop(node).stop()  # no longer a master and none of our channels
        if moved:
            await self.wait_subscribed()
            await self._shard_reconnected()  # messages published during the move may be missing

    def _where(self) -> str:
        """Seed host:port, never the URL (it may contain a password)."""
        seed = self._url.partition("://")[2].rpartition("@")[2]
        return seed.split("/", 1)[0]
