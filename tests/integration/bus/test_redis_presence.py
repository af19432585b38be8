"""RedisPresence specifics: state shared by hub instances, and instances that crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio

from hub.adapters.presence import PresenceUnavailable, PresenceUser, RedisPresence
from tests.integration.bus.private_redis import free_port
from tests.integration.bus.support import FakeClock
from tests.support.waiting import wait_until

pytestmark = pytest.mark.redis

ALICE, BOB = 1, 2

Factory = Callable[..., Awaitable[RedisPresence]]


@pytest.fixture
async def make_store(redis_url: str, redis_prefix: str) -> AsyncIterator[Factory]:
    """Started RedisPresence instances ("hub processes") sharing one prefix; stopped after the test."""
    stores: list[RedisPresence] = []

    async def make(instance_id: str, **options: Any) -> RedisPresence:
        store = RedisPresence(redis_url, instance_id=instance_id, prefix=redis_prefix, **options)
        stores.append(store)
        await store.start()
        return store

    yield make
    for store in stores:
        await store.stop()


async def test_instances_share_presence(make_store: Factory) -> None:
    a, b = await make_store("hub-a"), await make_store("hub-b")

    assert await a.join(10, "tab-1", ALICE, "Alice") is True
    assert await b.join(10, "tab-2", ALICE, "Alice") is False  # same user, other instance
    assert await b.join(10, "tab-3", BOB, "Bob") is True
    await b.set_viewing(10, "tab-2", 7)

    expected = [PresenceUser(ALICE, "Alice", 7, None), PresenceUser(BOB, "Bob", None, None)]
    assert await a.snapshot(10) == expected
    assert await b.snapshot(10) == expected

    assert await a.leave(10, "tab-1") is False  # still online through hub-b
    assert await b.leave(10, "tab-2") is True
    assert [u.user_id for u in await a.snapshot(10)] == [BOB]


async def test_same_connection_id_on_two_instances_are_different_connections(make_store: Factory) -> None:
    a, b = await make_store("hub-a"), await make_store("hub-b")
    await a.join(10, "1", ALICE, "Alice")
    await b.join(10, "1", BOB, "Bob")
    assert await a.leave(10, "1") is True
    assert [u.user_id for u in await b.snapshot(10)] == [BOB]


async def test_simultaneous_last_leaves_announce_exactly_once(make_store: Factory) -> None:
    a, b = await make_store("hub-a"), await make_store("hub-b")
    for round_ in range(20):
        await a.join(10, f"a-{round_}", ALICE, "Alice")
        await b.join(10, f"b-{round_}", ALICE, "Alice")
        results = await asyncio.gather(a.leave(10, f"a-{round_}"), b.leave(10, f"b-{round_}"))
        assert sorted(results) == [False, True], f"round {round_}: {results}"


async def test_typing_is_shared(make_store: Factory) -> None:
    clock = FakeClock()
    a, b = await make_store("hub-a", clock=clock), await make_store("hub-b", clock=clock)
    await a.join(10, "tab-1", ALICE, "Alice")
    await b.set_typing(10, ALICE, 42, True)
    assert (await a.snapshot(10))[0].typing == 42
    clock.advance(5.1)
    assert (await a.snapshot(10))[0].typing is None


async def test_crashed_instance_users_disappear(make_store: Factory) -> None:
    survivor = await make_store("hub-a")
    doomed = await make_store("hub-b", instance_ttl=1.0)
    await survivor.join(10, "a-1", ALICE, "Alice")
    await doomed.join(10, "b-1", ALICE, "Alice")  # Alice has tabs on both
    await doomed.join(10, "b-2", BOB, "Bob")  # Bob only on the doomed instance
    assert [u.user_id for u in await survivor.snapshot(10)] == [ALICE, BOB]
    await asyncio.sleep(1.2)  # several heartbeats (every ~0.33 s) keep it alive past its TTL
    assert [u.user_id for u in await survivor.snapshot(10)] == [ALICE, BOB]

    await doomed.stop(deregister=False)  # crash: heartbeats stop, nobody calls leave()

    async def bob_gone() -> bool:
        return [u.user_id for u in await survivor.snapshot(10)] == [ALICE]

    deadline = asyncio.get_running_loop().time() + 3
    while not await bob_gone():
        assert asyncio.get_running_loop().time() < deadline, "Bob still online 3 s after a 1 s TTL"
        await asyncio.sleep(0.05)

    assert await survivor.expired_users(10) == [BOB]  # Alice is still online via hub-a
    assert await survivor.expired_users(10) == []  # reaped: announced exactly once
    assert await survivor.leave(10, "a-1") is True


async def test_graceful_stop_removes_instance_at_once(make_store: Factory) -> None:
    a, b = await make_store("hub-a"), await make_store("hub-b")
    await b.join(10, "b-1", BOB, "Bob")
    await b.stop()
    assert await a.snapshot(10) == []
    assert await a.expired_users(10) == [BOB]


async def test_concurrent_reapers_report_each_user_once(make_store: Factory) -> None:
    a, b, c = await make_store("hub-a"), await make_store("hub-b"), await make_store("hub-c")
    for user_id in range(1, 31):
        await c.join(10, f"c-{user_id}", user_id, f"User {user_id}")
    await c.stop()

    from_a, from_b = await asyncio.gather(a.expired_users(10), b.expired_users(10))
    assert sorted(from_a + from_b) == list(range(1, 31))


async def test_leave_of_reaped_connection_announces_nothing(make_store: Factory) -> None:
    a = await make_store("hub-a")
    b = await make_store("hub-b", instance_ttl=0.5, heartbeat_interval=60)
    await b.join(10, "b-1", BOB, "Bob")
    expired: list[int] = []

    async def bobs_instance_expired() -> bool:  # b's heartbeat expires: it only beats every 60 s
        expired.extend(await a.expired_users(10))
        return bool(expired)

    await wait_until(bobs_instance_expired, what="hub-b's heartbeat to expire", within=3)
    assert expired == [BOB]
    assert await b.leave(10, "b-1") is False  # a already announced Bob's departure


async def test_heartbeat_rewrites_connections_lost_by_redis(
    make_store: Factory, redis_url: str, redis_prefix: str
) -> None:
    a, b = await make_store("hub-a"), await make_store("hub-b")
    await a.join(10, "a-1", ALICE, "Alice")
    await a.set_viewing(10, "a-1", 5)

    async with redis.asyncio.Redis.from_url(redis_url) as admin:  # simulate a Redis restart
        keys = [key async for key in admin.scan_iter(match=f"{redis_prefix}:*")]
        await admin.delete(*keys)
    assert await b.snapshot(10) == []

    await a.heartbeat()
    assert await b.snapshot(10) == [PresenceUser(ALICE, "Alice", 5, None)]


async def test_start_fails_fast_when_redis_is_unreachable() -> None:
    store = RedisPresence(f"redis://127.0.0.1:{free_port()}/0", instance_id="hub-x")
    with pytest.raises(PresenceUnavailable):
        await store.start()
    with pytest.raises(PresenceUnavailable):
        await store.snapshot(10)


def test_instance_id_must_not_contain_a_colon() -> None:
    with pytest.raises(ValueError, match="instance_id"):
        RedisPresence("redis://127.0.0.1:6379/0", instance_id="host:1234")
