"""Presence shared by all hub instances through Redis, robust to instances that crash.

Data layout (``P`` = prefix, ``I`` = instance id):

``P:presence:{project}`` (hash)
    field ``"{I}:{conn_id}"`` -> JSON ``{"instance", "user_id", "name", "viewing", "at"}``, one per
    connection. Only instance ``I`` writes its own fields.
``P:instance:{I}`` (string, TTL ``instance_ttl``)
    the instance's heartbeat, refreshed every ``instance_ttl / 3``. A connection counts only while
    its instance's heartbeat key exists, so the connections of a crashed instance vanish from every
    snapshot within ``instance_ttl`` (30 s by default) without anybody cleaning up.
``P:typing:{project}`` (sorted set)
    member ``"{user_id}:{ticket_id}"`` scored by expiry time (``clock()`` + ``typing_ttl``).

``join``, ``leave`` and :meth:`~RedisPresence.expired_users` run as Lua scripts, so "was this the user's
first/last live connection?" is decided atomically across instances. The scripts look up heartbeat keys
they compute themselves, which standalone Redis and Sentinel allow; on a Redis Cluster
:class:`~hub.adapters.presence.cluster.RedisClusterPresence` keeps every key a script touches in the
project's hash slot.
Each script scans the project's hash: O(connections in the project), fine for team-sized projects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.adapters.presence.base import PresenceStore, PresenceUnavailable, PresenceUser
from hub.adapters.presence.snapshot import ConnectionRecord, TypingRecord, build_snapshot

logger = logging.getLogger(__name__)

# Shared by the scripts: ``is_alive(instance)`` checks (and caches) the heartbeat key, whose prefix is
# the last ARGV of every script.
_LUA_PRELUDE = """
local instance_prefix = ARGV[#ARGV]
local alive_cache = {}
local function is_alive(instance)
  local alive = alive_cache[instance]
  if alive == nil then
    alive = redis.call('EXISTS', instance_prefix .. instance) == 1
    alive_cache[instance] = alive
  end
  return alive
end
-- Is user_id online through a live connection other than skip_field (false: skip nothing)?
-- Connections of the same user on dead instances are deleted on the way: the join/leave being decided
-- supersedes them.
local function other_live_connection(key, user_id, skip_field)
  local online = false
  local entries = redis.call('HGETALL', key)
  for i = 1, #entries, 2 do
    local field = entries[i]
    if field ~= skip_field then
      local entry = cjson.decode(entries[i + 1])
      if entry.user_id == user_id then
        if is_alive(entry.instance) then
          online = true
        else
          redis.call('HDEL', key, field)
        end
      end
    end
  end
  return online
end
"""

# KEYS[1] project hash; ARGV: field, entry JSON, user id, instance prefix. Returns 1 if newly online
# (re-joining with the field of an existing connection of the same user is not "newly").
_JOIN = (
    _LUA_PRELUDE
    + """
local online = other_live_connection(KEYS[1], tonumber(ARGV[3]), false)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if online then return 0 end
return 1
"""
)

# KEYS[1] project hash; ARGV: field, instance prefix. Returns 1 if the user is now offline, 0 if still
# online, -1 if the connection was not there (already reaped, or never joined).
_LEAVE = (
    _LUA_PRELUDE
    + """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
if other_live_connection(KEYS[1], cjson.decode(raw).user_id, ARGV[1]) then return 0 end
return 1
"""
)

# KEYS[1] project hash; ARGV: instance prefix. Deletes connections of dead instances and returns the
# ids of users left without any live connection.
_REAP = (
    _LUA_PRELUDE
    + """
local live_users, dead_users = {}, {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local entry = cjson.decode(entries[i + 1])
  if is_alive(entry.instance) then
    live_users[entry.user_id] = true
  else
    redis.call('HDEL', KEYS[1], entries[i])
    dead_users[entry.user_id] = true
  end
end
local gone = {}
for user_id in pairs(dead_users) do
  if not live_users[user_id] then table.insert(gone, user_id) end
end
return gone
"""
)


class RedisPresence(PresenceStore):
    """Presence in Redis; see the module docstring for the data layout.

    :param url: ``redis://`` or ``rediss://`` URL.
    :param instance_id: identifies this hub *process*; it must be unique per process start (e.g.
        ``f"{hostname}-{pid}-{random}"``), otherwise a restarted process would keep the previous
        incarnation's connections alive. Must not contain ``:``.
    :param prefix: namespace for keys.
    :param instance_ttl: lifetime of the heartbeat key; how long a crashed instance's users linger.
    :param heartbeat_interval: seconds between heartbeats (default ``instance_ttl / 3``).
    :param typing_ttl: seconds a typing indicator lives after its last refresh.
    :param clock: wall-clock time source for typing expiry and connection recency. It is shared between
        instances through Redis, so it must be comparable across machines (NTP-synced ``time.time``).
    """

    def __init__(
        self,
        url: str,
        *,
        instance_id: str,
        prefix: str = "sb",
        instance_ttl: float = 30.0,
        heartbeat_interval: float | None = None,
        typing_ttl: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not instance_id or ":" in instance_id:
            raise ValueError(f"instance_id must be non-empty and contain no ':': {instance_id!r}")
        self._url = url
        self._instance_id = instance_id
        self._prefix = prefix
        self._instance_ttl_ms = max(1, round(instance_ttl * 1000))
        self._heartbeat_interval = heartbeat_interval if heartbeat_interval is not None else instance_ttl / 3
        self._typing_ttl = typing_ttl
        # Real-time safety net so abandoned typing sets disappear; scores decide expiry.
        self._typing_key_ttl = max(60, math.ceil(typing_ttl * 4))
        self._clock = clock
        self._instance_prefix = f"{prefix}:instance:"
        self._instance_key = self._instance_prefix + instance_id
        # Distinguishes this process from an earlier one that used the same instance id.
        self._incarnation = secrets.token_hex(8)

        self._redis: Redis | RedisCluster | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._heartbeat_task: asyncio.Task[None] | None = None
        # Our own connections, to rewrite them when our entries were lost (Redis restart, or we were
        # reaped after missing heartbeats) and to update them without a read-modify-write round trip.
        self._local: dict[int, dict[str, dict[str, Any]]] = {}

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, write the first heartbeat (failing fast with :class:`PresenceUnavailable` if Redis is
        unreachable) and start heart-beating."""
        if self._redis is not None:
            raise RuntimeError("RedisPresence is already started")
        self._redis = self._connect()
        self._scripts = {
            name: self._script_client().register_script(source)
            for name, source in (("join", _JOIN), ("leave", _LEAVE), ("reap", _REAP))
        }
        try:
            await self.heartbeat()
        except PresenceUnavailable:
            await self.stop(deregister=False)
            raise
        self._heartbeat_task = asyncio.create_task(
            self._heartbeat_forever(self._heartbeat_interval), name="redis-presence-heartbeat"
        )

    async def stop(self, *, deregister: bool = True) -> None:
        """Stop heart-beating and close the connection pool. Idempotent.

        :param deregister: delete the heartbeat key, so this instance's connections count as gone at
            once and the next :meth:`expired_users` call anywhere reports their users. With False the
            key is left to expire, which is exactly what a crash looks like to the other instances.
        """
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        client = self._redis
        if client is None:
            return
        try:
            if deregister:
                try:
                    await self._deregister()
                except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                    logger.warning("could not deregister presence instance %s: %s", self._instance_id, exc)
        finally:
            self._local.clear()
            self._redis = None
            await client.aclose()

    # -- connections -------------------------------------------------------------------------------

    async def join(self, project_id: int, conn_id: str, user_id: int, name: str) -> bool:
        """Write the connection; True if the user had no other live connection in the project."""
        entry: dict[str, Any] = {
            "instance": self._instance_id,
            "user_id": user_id,
            "name": name,
            "viewing": None,
            "at": self._clock(),
        }
        project_conns = self._local.setdefault(project_id, {})
        previous = project_conns.get(conn_id)
        project_conns[conn_id] = entry
        try:
            with self._unavailable("join"):
                result = await self._scripts["join"](
                    keys=[self._project_key(project_id)],
                    args=[self._field(conn_id), _dump(entry), user_id, self._instance_prefix_for(project_id)],
                    client=self._script_client(),
                )
        except PresenceUnavailable:
            # Not in Redis, so not ours to re-register later either (the caller sees the failure).
            if previous is None:
                project_conns.pop(conn_id, None)
            else:
                project_conns[conn_id] = previous
            raise
        return bool(result == 1)

    async def leave(self, project_id: int, conn_id: str) -> bool:
        """Delete the connection; True if it was the user's last live one in the project.

        False as well when another instance already reaped the connection -- that instance announced
        the departure.
        """
        project_conns = self._local.get(project_id)
        if project_conns is not None:
            project_conns.pop(conn_id, None)
            if not project_conns:
                del self._local[project_id]
        with self._unavailable("leave"):
            result = await self._scripts["leave"](
                keys=[self._project_key(project_id)],
                args=[self._field(conn_id), self._instance_prefix_for(project_id)],
                client=self._script_client(),
            )
        return bool(result == 1)

    async def set_viewing(self, project_id: int, conn_id: str, ticket_id: int | None) -> None:
        """Rewrite the connection's entry with the new ticket and recency; unknown connections are
        ignored."""
        entry = self._local.get(project_id, {}).get(conn_id)
        if entry is None:
            return
        entry["viewing"] = ticket_id
        entry["at"] = self._clock()
        with self._unavailable("set_viewing"):
            # redis-py types hset for its sync and async clients at once; the async one returns an awaitable.
            written = self._client().hset(self._project_key(project_id), self._field(conn_id), _dump(entry))
            await cast("Awaitable[int]", written)

    async def set_typing(self, project_id: int, user_id: int, ticket_id: int, is_typing: bool) -> None:
        """Score the indicator with its expiry, or remove it; expired members are pruned on the way."""
        key = self._typing_key(project_id)
        member = f"{user_id}:{ticket_id}"
        now = self._clock()
        with self._unavailable("set_typing"):
            if not is_typing:
                await self._client().zrem(key, member)
                return
            async with self._client().pipeline(transaction=False) as pipe:
                pipe.zadd(key, {member: now + self._typing_ttl})
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.expire(key, self._typing_key_ttl)
                await pipe.execute()

    async def snapshot(self, project_id: int) -> list[PresenceUser]:
        """Online users, ignoring connections whose instance heartbeat has expired."""
        now = self._clock()
        with self._unavailable("snapshot"):
            client = self._client()
            async with client.pipeline(transaction=False) as pipe:
                pipe.hgetall(self._project_key(project_id))
                pipe.zrangebyscore(self._typing_key(project_id), f"({now!r}", "+inf", withscores=True)
                raw_entries, raw_typing = await pipe.execute()
            entries = {field.decode(): json.loads(value) for field, value in raw_entries.items()}
            instances = sorted({entry["instance"] for entry in entries.values()})
            heartbeat_keys = [self._instance_prefix_for(project_id) + instance for instance in instances]
            heartbeats = await client.mget(heartbeat_keys) if heartbeat_keys else []
        alive = {instance for instance, beat in zip(instances, heartbeats, strict=True) if beat is not None}
        connections = [
            ConnectionRecord(e["user_id"], e["name"], e["viewing"], e["at"], field)
            for field, e in entries.items()
            if e["instance"] in alive
        ]
        typing = []
        for member, expires_at in raw_typing:
            user_id, _, ticket_id = member.decode().partition(":")
            typing.append(TypingRecord(int(user_id), int(ticket_id), expires_at))
        return build_snapshot(connections, typing, now)

    async def heartbeat(self) -> None:
        """Refresh this instance's heartbeat key.

        If the key had vanished (Redis restarted without persistence, or this instance missed its
        heartbeats long enough to be reaped) the instance's connections are written again. Their users
        may have been announced as gone meanwhile; the hub should treat a reconnecting socket's
        snapshot as authoritative.
        """
        with self._unavailable("heartbeat"):
            client = self._client()
            previous = await client.set(
                self._instance_key, self._incarnation, px=self._instance_ttl_ms, get=True
            )
            if previous is not None and previous.decode() != self._incarnation:
                logger.warning(
                    "presence instance id %r was still in use by another process; instance ids must be"
                    " unique per process start",
                    self._instance_id,
                )
            if previous != self._incarnation.encode() and self._local:
                logger.warning("presence heartbeat of %s had expired; re-registering", self._instance_id)
                async with client.pipeline(transaction=False) as pipe:
                    for project_id, conns in self._local.items():
                        pipe.hset(
                            self._project_key(project_id),
                            mapping={self._field(c): _dump(e) for c, e in conns.items()},
                        )
                    await pipe.execute()

    async def expired_users(self, project_id: int) -> list[int]:
        """Atomically delete dead instances' connections in the project and return the users who have
        no live connection left (sorted). Exactly one caller gets each such user."""
        with self._unavailable("expired_users"):
            gone = await self._scripts["reap"](
                keys=[self._project_key(project_id)],
                args=[self._instance_prefix_for(project_id)],
                client=self._script_client(),
            )
        return sorted(int(user_id) for user_id in gone)

    # -- helpers -----------------------------------------------------------------------------------

    def _connect(self) -> Redis | RedisCluster:
        return Redis.from_url(
            self._url,
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
            socket_keepalive=True,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),
        )

    async def _deregister(self) -> None:
        await self._client().delete(self._instance_key)

    def _instance_prefix_for(self, project_id: int) -> str:
        """Prefix of the heartbeat keys that count for ``project_id``'s connections (one for all
        projects here; per project on a cluster, so the scripts stay in one slot)."""
        return self._instance_prefix

    def _script_client(self) -> Redis:
        # redis-py types AsyncScript for the standalone client only; with a RedisCluster it runs
        # EVALSHA on the node of KEYS[1] (and loads the script there on NOSCRIPT), which is what we need.
        return cast("Redis", self._client())

    def _client(self) -> Redis | RedisCluster:
        if self._redis is None:
            raise PresenceUnavailable("redis presence is not started")
        return self._redis

    def _project_key(self, project_id: int) -> str:
        return f"{self._prefix}:presence:{project_id}"

    def _typing_key(self, project_id: int) -> str:
        return f"{self._prefix}:typing:{project_id}"

    def _field(self, conn_id: str) -> str:
        return f"{self._instance_id}:{conn_id}"

    @contextlib.contextmanager
    def _unavailable(self, action: str) -> Iterator[None]:
        """Translate Redis connectivity errors into :class:`PresenceUnavailable`."""
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise PresenceUnavailable(f"presence {action} failed: {exc}") from exc


def _dump(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"))
