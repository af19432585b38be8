"""RedisBus specifics: one shared subscription per channel, several processes, outages, idle links."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio

from hub.adapters.bus import BusUnavailable, RedisBus
from tests.integration.bus.private_redis import PrivateRedis, free_port
from tests.integration.bus.support import Recorder, eventually, subscribed

pytestmark = pytest.mark.redis


@asynccontextmanager
async def running_bus(url: str, prefix: str, **options: Any) -> AsyncIterator[RedisBus]:
    bus = RedisBus(url, prefix=prefix, **options)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


async def numsub(client: redis.asyncio.Redis, channel: str) -> int:
    [(_, count)] = await client.pubsub_numsub(channel)
    return int(count)


class ReconnectSpy:
    """An on_reconnect callback that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.called = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        self.called.set()


async def test_one_redis_subscription_per_channel_reference_counted(
    redis_url: str, redis_prefix: str, redis_admin: redis.asyncio.Redis
) -> None:
    first, second = Recorder(), Recorder()
    redis_channel = f"{redis_prefix}:project:12"
    async with running_bus(redis_url, redis_prefix) as bus:
        assert await numsub(redis_admin, redis_channel) == 0

        bus.add_listener("project:12", first)
        bus.add_listener("project:12", second)
        await subscribed(bus)
        assert await numsub(redis_admin, redis_channel) == 1  # one connection, however many listeners

        bus.remove_listener("project:12", first)
        await subscribed(bus)
        assert await numsub(redis_admin, redis_channel) == 1

        bus.remove_listener("project:12", second)
        await subscribed(bus)
        assert await numsub(redis_admin, redis_channel) == 0  # UNSUBSCRIBEd with the last listener


async def test_two_processes_see_each_other(redis_url: str, redis_prefix: str) -> None:
    seen_by_a, seen_by_b = Recorder(), Recorder()
    async with running_bus(redis_url, redis_prefix) as a, running_bus(redis_url, redis_prefix) as b:
        a.add_listener("project:7", seen_by_a)
        b.add_listener("project:7", seen_by_b)
        await subscribed(a)
        await subscribed(b)

        await a.publish("project:7", b"from a")
        await b.publish("project:7", b"from b")

        await eventually(
            lambda: len(seen_by_a.received) == 2 and len(seen_by_b.received) == 2, what="both messages"
        )
    assert seen_by_a.messages == [b"from a", b"from b"]
    assert seen_by_b.messages == [b"from a", b"from b"]


async def test_prefix_separates_deployments(redis_url: str, redis_prefix: str) -> None:
    ours, theirs = Recorder(), Recorder()
    async with (
        running_bus(redis_url, f"{redis_prefix}:blue") as blue,
        running_bus(redis_url, f"{redis_prefix}:green") as green,
    ):
        blue.add_listener("project:1", ours)
        green.add_listener("project:1", theirs)
        await subscribed(blue)
        await subscribed(green)

        await blue.publish("project:1", b"blue only")
        await green.publish("project:1", b"green only")

        await eventually(lambda: bool(ours.received and theirs.received), what="one message each")
        await blue.publish("project:1", b"barrier")
        await green.publish("project:1", b"barrier")
        await eventually(lambda: len(ours.received) == 2 and len(theirs.received) == 2, what="barriers")
    assert ours.messages == [b"blue only", b"barrier"]
    assert theirs.messages == [b"green only", b"barrier"]


async def test_start_fails_fast_when_redis_is_unreachable() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", start_timeout=0.5)
    with pytest.raises(BusUnavailable, match="could not subscribe") as failure:
        await bus.start()
    assert failure.value.__cause__ is not None  # the underlying connection error is kept
    assert not bus.healthy
    with pytest.raises(BusUnavailable):
        await bus.publish("project:1", b"x")


async def test_survives_a_redis_outage(private_redis: PrivateRedis, random_prefix: str) -> None:
    kept, added_during_outage, removed_during_outage = Recorder(), Recorder(), Recorder()
    reconnects = ReconnectSpy()
    async with running_bus(private_redis.url, random_prefix) as bus:
        bus.on_reconnect(reconnects)
        bus.add_listener("project:1", kept)
        bus.add_listener("project:3", removed_during_outage)
        await subscribed(bus)
        await bus.publish("project:1", b"before")
        await eventually(lambda: kept.messages == [b"before"], what="the message before the outage")
        assert bus.healthy
        assert reconnects.calls == 0  # the initial connect is not a reconnect

        private_redis.kill()
        await eventually(lambda: not bus.healthy, what="healthy to turn False")
        with pytest.raises(BusUnavailable):
            await bus.publish("project:1", b"lost")
        # Subscription changes while disconnected must be applied on reconnect.
        bus.add_listener("project:2", added_during_outage)
        bus.remove_listener("project:3", removed_during_outage)

        private_redis.start()  # same port, empty server: no subscriptions survived there
        async with asyncio.timeout(10):
            await reconnects.called.wait()
        assert bus.healthy
        assert reconnects.calls == 1
        await subscribed(bus)

        async with redis.asyncio.Redis.from_url(private_redis.url) as admin:
            assert await numsub(admin, f"{random_prefix}:project:1") == 1
            assert await numsub(admin, f"{random_prefix}:project:2") == 1
            assert await numsub(admin, f"{random_prefix}:project:3") == 0
        await bus.publish("project:1", b"after")
        await bus.publish("project:2", b"new")
        await bus.publish("project:3", b"unwanted")
        await eventually(lambda: len(kept.received) == 2 and bool(added_during_outage.received), what="after")
    assert kept.messages == [b"before", b"after"]
    assert added_during_outage.messages == [b"new"]
    assert removed_during_outage.messages == []


async def test_detects_a_silent_connection(private_redis: PrivateRedis, random_prefix: str) -> None:
    """A peer that stops answering (half-open TCP, frozen server) is detected by the bus's own PINGs.

    CLIENT PAUSE makes Redis hold every command without closing any socket -- nothing a socket error
    or TCP keepalive would notice quickly.
    """
    listener, reconnects = Recorder(), ReconnectSpy()
    async with running_bus(private_redis.url, random_prefix, ping_interval=0.2, pong_timeout=0.3) as bus:
        bus.on_reconnect(reconnects)
        bus.add_listener("project:1", listener)
        await subscribed(bus)

        async with redis.asyncio.Redis.from_url(private_redis.url) as admin:
            await admin.client_pause(1500, all=True)
        await eventually(lambda: not bus.healthy, what="the silent connection to be detected", within=1.5)

        async with asyncio.timeout(10):
            await reconnects.called.wait()
        assert bus.healthy
        await bus.publish("project:1", b"after the pause")
        await eventually(lambda: bool(listener.received), what="a message after the pause")
    assert listener.messages == [b"after the pause"]


#: The socket timeout of the idle test's buses, small so that idling past it several times is quick.
IDLE_SOCKET_TIMEOUT = 0.4


async def test_idle_subscription_keeps_receiving(redis_url: str, redis_prefix: str) -> None:
    """An idle subscription must not be dropped or silently re-established.

    What cuts idle pub/sub reads is the connection's socket timeout (redis-py 8 applies its 5 s
    default to them; the bus sets its own, 2 s by default). Both buses here run with a 0.4 s socket
    timeout, so 2 s of silence is five of them: a reader relying on socket timeouts would fail here,
    as it would after 5 s with redis-py 8's default or minutes in production. The mechanism under
    test is the same at any scale (explicit read timeouts plus the bus's own PINGs). Two buses run
    side by side: default ping settings (no PING while idle: the read timeout is the 10 s ping
    interval, far past the socket timeout), and a 0.3 s ping interval that sends several PINGs."""
    quiet, chatty = Recorder(), Recorder()
    reconnects = ReconnectSpy()
    unhealthy_seen: list[str] = []

    async with (
        running_bus(redis_url, redis_prefix, socket_timeout=IDLE_SOCKET_TIMEOUT) as default_bus,
        running_bus(
            redis_url, redis_prefix, socket_timeout=IDLE_SOCKET_TIMEOUT, ping_interval=0.3, pong_timeout=1.0
        ) as pinging_bus,
    ):
        buses = {"default": default_bus, "pinging": pinging_bus}
        for bus in buses.values():
            bus.on_reconnect(reconnects)
        default_bus.add_listener("project:9", quiet)
        pinging_bus.add_listener("project:9", chatty)
        await subscribed(default_bus)
        await subscribed(pinging_bus)

        async def watch_health() -> None:
            while True:
                unhealthy_seen.extend(name for name, bus in buses.items() if not bus.healthy)
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch_health())
        await asyncio.sleep(5 * IDLE_SOCKET_TIMEOUT)  # the idleness under test: nothing to wait for
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)

        await default_bus.publish("project:9", b"still there?")
        await eventually(lambda: bool(quiet.received and chatty.received), what="the message after idling")
    assert unhealthy_seen == []
    assert reconnects.calls == 0
    assert quiet.messages == chatty.messages == [b"still there?"]


async def test_reconnect_callback_failure_is_logged_not_fatal(
    private_redis: PrivateRedis, random_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("outbox replay failed")

    good = ReconnectSpy()
    async with running_bus(private_redis.url, random_prefix) as bus:
        bus.on_reconnect(broken)
        bus.on_reconnect(good)
        private_redis.kill()
        await eventually(lambda: not bus.healthy, what="the outage")
        private_redis.start()
        async with asyncio.timeout(10):
            await good.called.wait()
        await eventually(lambda: "outbox replay failed" in caplog.text, what="the logged failure")
        assert bus.healthy
