"""The hub on a real 3-master Redis Cluster: sharded pub/sub bus, slot-local presence, two hubs, a shard
killed and restarted.

One cluster per module (about 2-3 s to start): three ``redis-server --cluster-enabled yes`` on loopback
ports 7100-7999 (never 6379), joined with ``redis-cli --cluster create``. Missing binaries skip the
module, or fail it under ``CI=true`` (tests/support/services.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from hub.adapters.bus import RedisClusterBus, create_bus
from hub.adapters.presence import RedisClusterPresence, create_presence
from hub.adapters.ratelimit import Rate, RedisRateLimiter, create_limiter
from tests.integration.bus.redis_cluster import PrivateRedisCluster
from tests.support.api import HttpApi
from tests.support.database import exec_autocommit
from tests.support.live import ws_connect
from tests.support.process import HubProcess, cli_env, run_cli
from tests.support.services import require_binary, require_postgres
from tests.support.waiting import wait_until

pytestmark = pytest.mark.redis

ALICE, BOB = 1, 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedisCluster]:
    server, cli = require_binary("redis-server"), require_binary("redis-cli")
    private = PrivateRedisCluster(server, cli, tmp_path_factory.mktemp("redis-cluster"))
    private.start()
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
async def admin(cluster: PrivateRedisCluster) -> AsyncIterator[RedisCluster]:
    client = RedisCluster(host="127.0.0.1", port=cluster.ports[0])
    await client.initialize()
    yield client
    await client.aclose()


def prefix() -> str:
    return f"sbtest-{uuid.uuid4().hex[:8]}"


def channels_on_every_master(admin: RedisCluster, namespace: str) -> dict[str, str]:
    """One channel name per master: master name -> channel (whose ``namespace:channel`` it owns)."""
    owners: dict[str, str] = {}
    for n in range(1000):
        channel = f"presence:{n}"
        node = admin.get_node_from_key(f"{namespace}:{channel}")
        assert node is not None
        owners.setdefault(node.name, channel)
        if len(owners) == len(admin.get_primaries()):
            return owners
    raise AssertionError("channels did not spread over every master")


async def test_factories_pick_the_cluster_backends(cluster: PrivateRedisCluster) -> None:
    assert isinstance(create_bus(cluster.url), RedisClusterBus)
    assert isinstance(create_presence(cluster.url, instance_id="i"), RedisClusterPresence)
    limiter = create_limiter(cluster.url, prefix=prefix())
    assert isinstance(limiter, RedisRateLimiter)
    await limiter.start()
    try:
        rate = Rate(2, 60)
        results = [(await limiter.hit("k", rate)).allowed for _ in range(3)]
        assert results == [True, True, False]
        assert limiter.errors == 0  # answered by the cluster, not by the per-process fallback
    finally:
        await limiter.stop()


async def test_sharded_bus_delivers_on_every_master(
    cluster: PrivateRedisCluster, admin: RedisCluster
) -> None:
    namespace = prefix()
    sender, receiver = (
        RedisClusterBus(cluster.url, prefix=namespace),
        RedisClusterBus(cluster.url, prefix=namespace),
    )
    got: list[tuple[str, bytes]] = []
    owners = channels_on_every_master(admin, namespace)
    for channel in owners.values():
        receiver.add_listener(channel, lambda c, m: got.append((c, m)))
    await sender.start()
    await receiver.start()
    try:
        await receiver.wait_subscribed()
        assert receiver.healthy
        for node, channel in owners.items():
            # The subscription lives on the master that owns the slot (sharded pub/sub), nowhere else.
            host, port = node.rsplit(":", 1)
            async with Redis(host=host, port=int(port)) as direct:
                counts = await direct.execute_command("PUBSUB", "SHARDNUMSUB", f"{namespace}:{channel}")
            assert counts[1] == 1
        for channel in owners.values():
            await sender.publish(channel, channel.encode())
        await wait_until(lambda: len(got) == len(owners), what="one message per shard")
        assert sorted(got) == sorted((c, c.encode()) for c in owners.values())
    finally:
        await sender.stop()
        await receiver.stop()


async def _set_slot_owner(cluster: PrivateRedisCluster, slot: int, owner_port: int) -> None:
    """Hand an (empty) slot to another master, as a resharding would, on every node."""
    async with Redis(port=owner_port) as owner:
        owner_id = (await owner.execute_command("CLUSTER", "MYID")).decode()
    for port in [owner_port, *(p for p in cluster.ports if p != owner_port)]:
        async with Redis(port=port) as node:
            await node.execute_command("CLUSTER", "SETSLOT", slot, "NODE", owner_id)


async def test_bus_follows_a_channel_whose_slot_moves(
    cluster: PrivateRedisCluster, admin: RedisCluster
) -> None:
    namespace = prefix()
    channel = "presence:7"
    name = f"{namespace}:{channel}"
    slot = admin.keyslot(name)
    source = admin.get_node_from_key(name)
    assert source is not None
    target = next(p for p in cluster.ports if p != source.port)
    sender = RedisClusterBus(cluster.url, prefix=namespace)
    receiver = RedisClusterBus(cluster.url, prefix=namespace, refresh_interval=0.5)
    got: list[bytes] = []
    receiver.add_listener(channel, lambda _c, m: got.append(m))
    await sender.start()
    await receiver.start()
    try:
        await receiver.wait_subscribed()
        await _set_slot_owner(cluster, slot, target)

        async def subscribed_on_target() -> bool:
            async with Redis(port=target) as node:
                counts = await node.execute_command("PUBSUB", "SHARDNUMSUB", name)
            return bool(counts[1] == 1)

        await wait_until(subscribed_on_target, what="the subscription to move to the new owner", within=10)
        await sender.publish(channel, b"after the move")  # the sender follows MOVED on its own
        await wait_until(lambda: got == [b"after the move"], what="delivery after the move")
    finally:
        await _set_slot_owner(cluster, slot, source.port)
        await sender.stop()
        await receiver.stop()


async def test_presence_is_shared_and_slot_local(cluster: PrivateRedisCluster) -> None:
    namespace = prefix()
    a = RedisClusterPresence(cluster.url, instance_id="hub-a", prefix=namespace)
    b = RedisClusterPresence(cluster.url, instance_id="hub-b", prefix=namespace, instance_ttl=1.0)
    await a.start()
    await b.start()
    try:
        for project in (10, 11, 12):  # different slots, so different masters are involved
            assert await a.join(project, "tab-1", ALICE, "Alice") is True
            assert await b.join(project, "tab-2", ALICE, "Alice") is False
            assert await b.join(project, "tab-3", BOB, "Bob") is True
            await b.set_typing(project, BOB, 7, True)
            users = await a.snapshot(project)
            assert [(u.user_id, u.typing) for u in users] == [(ALICE, None), (BOB, 7)]
        assert await a.leave(10, "tab-1") is False  # Alice is still online through hub-b
        await b.stop(deregister=False)  # hub-b crashes: its per-project heartbeats expire

        async def bob_gone() -> bool:
            return [u.user_id for u in await a.snapshot(11)] == [ALICE]

        await wait_until(bob_gone, what="hub-b's connections to expire", within=5)
        assert await a.expired_users(11) == [BOB]
        assert await a.expired_users(11) == []  # announced exactly once
    finally:
        await a.stop()
        await b.stop()


# -- two hub processes on the cluster -------------------------------------------------------------


@pytest.fixture
def database_url() -> Iterator[str]:
    base = require_postgres()
    name = f"sbcluster_{uuid.uuid4().hex[:8]}"
    asyncio.run(exec_autocommit(base, f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(exec_autocommit(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def hubs_on_cluster(
    tmp_path: Path, database_url: str, cluster: PrivateRedisCluster
) -> Iterator[tuple[HubProcess, HubProcess, str]]:
    namespace = uuid.uuid4().hex[:8]
    env = cli_env(tmp_path, DATABASE_URL=database_url, REDIS_URL=cluster.url, REDIS_PREFIX=namespace)
    migrated = run_cli(tmp_path, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    a, b = HubProcess(tmp_path, env), HubProcess(tmp_path, env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b, namespace
    finally:
        a.stop()
        b.stop()


def _address(hub: HubProcess) -> str:
    return f"127.0.0.1:{hub.port}"


@pytest.mark.postgres
async def test_two_hubs_share_events_and_presence_and_survive_a_shard_restart(
    hubs_on_cluster: tuple[HubProcess, HubProcess, str], cluster: PrivateRedisCluster, admin: RedisCluster
) -> None:
    hub_a, hub_b, namespace = hubs_on_cluster
    api = HttpApi(hub_a.url)
    try:
        alice, bob = await api.user("Alice Archer"), await api.user("Bob Baker")
        pid = (await api.project(alice))["id"]
        await api.add(alice, pid, bob, "member")
        async with (
            ws_connect(_address(hub_b), f"/ws/projects/{pid}/tickets/", token=bob.token) as tickets_on_b,
            ws_connect(_address(hub_b), f"/ws/projects/{pid}/presence/", token=bob.token) as presence_on_b,
        ):
            await presence_on_b.recv_type("presence_state")
            ticket = await api.ticket(alice, pid, title="Made on A")
            seen = await tickets_on_b.recv()
            assert (seen["action"], seen["data"]["id"]) == ("created", ticket["id"])
            async with ws_connect(
                _address(hub_a), f"/ws/projects/{pid}/presence/", token=alice.token
            ) as on_a:
                state = await on_a.recv_type("presence_state")
                assert sorted(u["user_id"] for u in state["users"]) == sorted([alice.id, bob.id])
                await presence_on_b.send({"type": "viewing", "ticket_id": ticket["id"]})
                assert (await on_a.recv_type("viewing"))["user_id"] == bob.id

            # Kill the master that carries the event stream's channel; no replica takes over.
            events_node = admin.get_node_from_key(f"{namespace}:events")
            assert events_node is not None
            cluster.kill(events_node.port)
            probe_b = HttpApi(hub_b.url)
            try:  # the bus noticed the lost shard (readiness is the bus's health)...
                await wait_until(lambda: _ready(probe_b, 503), what="hub B unready while its shard is down")
            finally:
                await probe_b.aclose()
            during = [await api.ticket(alice, pid, title=f"during {n}") for n in range(3)]
            assert all(t["key"] for t in during)  # writes do not depend on Redis
            cluster.restart(events_node.port)
            await api.ticket(alice, pid, title="after")
            titles = [(await tickets_on_b.recv(within=15))["data"]["title"] for _ in range(4)]
            assert titles == ["during 0", "during 1", "during 2", "after"]  # in order, none lost
            # ...and came back: both hubs ready again once the shard is (checked below, per hub).
            assert await tickets_on_b.silent(1.5) == []  # and none twice
        for hub in (hub_a, hub_b):
            probe = HttpApi(hub.url)
            try:
                await wait_until(
                    lambda probe=probe: _ready(probe), what=f"{hub.url}/readyz after the restart", within=15
                )
            finally:
                await probe.aclose()
    finally:
        await api.aclose()


async def _ready(api: HttpApi, status: int = 200) -> bool:
    return (await api.get("/readyz")).status == status
