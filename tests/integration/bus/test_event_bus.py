"""Behaviour every event bus backend must provide (run against MemoryBus and RedisBus)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from hub.adapters.bus import BusUnavailable, EventBus, MemoryBus
from tests.integration.bus.support import Recorder, eventually, subscribed


async def test_round_trip(bus: EventBus) -> None:
    listener = Recorder()
    bus.add_listener("project:12", listener)
    await subscribed(bus)

    await bus.publish("project:12", b'{"type":"ticket_created"}')

    await eventually(lambda: bool(listener.received), what="the published message")
    assert listener.received == [("project:12", b'{"type":"ticket_created"}')]
    assert bus.healthy


async def test_thousand_messages_keep_publish_order(bus: EventBus) -> None:
    listener = Recorder()
    bus.add_listener("project:1", listener)
    await subscribed(bus)
    expected = [f"event-{i}".encode() for i in range(1000)]

    for message in expected:
        await bus.publish("project:1", message)

    await eventually(lambda: len(listener.received) >= 1000, what="1000 messages")
    assert listener.messages == expected


async def test_channels_are_isolated(bus: EventBus) -> None:
    project, user = Recorder(), Recorder()
    bus.add_listener("project:1", project)
    bus.add_listener("user:1", user)
    await subscribed(bus)

    await bus.publish("project:1", b"p")
    await bus.publish("user:1", b"u")
    await bus.publish("project:2", b"elsewhere")  # nobody listens

    await eventually(lambda: bool(project.received and user.received), what="one message per channel")
    await bus.publish("project:1", b"barrier")
    await eventually(lambda: len(project.received) == 2, what="the barrier message")
    assert project.received == [("project:1", b"p"), ("project:1", b"barrier")]
    assert user.received == [("user:1", b"u")]


async def test_many_listeners_on_one_channel_all_receive(bus: EventBus) -> None:
    listeners = [Recorder() for _ in range(50)]
    for listener in listeners:
        bus.add_listener("project:3", listener)
    await subscribed(bus)

    await bus.publish("project:3", b"fan-out")

    await eventually(lambda: all(lst.received for lst in listeners), what="all 50 listeners")
    assert all(lst.messages == [b"fan-out"] for lst in listeners)


async def test_removed_listener_receives_nothing_more(bus: EventBus) -> None:
    removed, kept = Recorder(), Recorder()
    bus.add_listener("project:1", removed)
    bus.add_listener("project:1", kept)
    await subscribed(bus)
    await bus.publish("project:1", b"first")
    await eventually(lambda: len(kept.received) == 1, what="the first message")

    bus.remove_listener("project:1", removed)
    bus.remove_listener("project:1", removed)  # removing twice is a no-op
    await subscribed(bus)
    await bus.publish("project:1", b"second")

    await eventually(lambda: len(kept.received) == 2, what="the second message")
    assert removed.messages == [b"first"]
    assert kept.messages == [b"first", b"second"]


async def test_removing_last_listener_stops_delivery(bus: EventBus) -> None:
    gone, barrier = Recorder(), Recorder()
    bus.add_listener("project:1", gone)
    bus.add_listener("project:2", barrier)
    await subscribed(bus)

    bus.remove_listener("project:1", gone)
    await subscribed(bus)
    await bus.publish("project:1", b"nobody hears this")
    await bus.publish("project:2", b"barrier")  # delivered after the message above would have been

    await eventually(lambda: bool(barrier.received), what="the barrier message")
    assert gone.received == []


async def test_listener_registered_twice_runs_twice(bus: EventBus) -> None:
    listener = Recorder()
    bus.add_listener("project:1", listener)
    bus.add_listener("project:1", listener)
    await subscribed(bus)

    await bus.publish("project:1", b"x")
    await eventually(lambda: len(listener.received) == 2, what="two deliveries")

    bus.remove_listener("project:1", listener)  # one registration remains
    await subscribed(bus)
    await bus.publish("project:1", b"y")
    await eventually(lambda: len(listener.received) == 3, what="one more delivery")
    assert listener.messages == [b"x", b"x", b"y"]


async def test_raising_listener_does_not_break_others(
    bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(channel: str, message: bytes) -> None:
        raise RuntimeError("socket queue exploded")

    before, after = Recorder(), Recorder()
    bus.add_listener("project:1", before)
    bus.add_listener("project:1", broken)
    bus.add_listener("project:1", after)
    await subscribed(bus)

    with caplog.at_level(logging.ERROR, logger="hub.adapters.bus"):
        await bus.publish("project:1", b"one")
        await bus.publish("project:1", b"two")
        await eventually(lambda: len(after.received) == 2, what="both messages after the broken listener")

    assert before.messages == [b"one", b"two"]
    assert after.messages == [b"one", b"two"]
    failures = [r for r in caplog.records if "failed on channel project:1" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)


async def test_listener_may_change_listeners_while_being_called(bus: EventBus) -> None:
    calls: list[bytes] = []
    late = Recorder()

    def one_shot(channel: str, message: bytes) -> None:
        calls.append(message)
        bus.remove_listener(channel, one_shot)
        bus.add_listener(channel, late)  # must not receive the message being dispatched

    bus.add_listener("project:1", one_shot)
    await subscribed(bus)
    await bus.publish("project:1", b"first")
    await eventually(lambda: bool(calls), what="the first message")
    await subscribed(bus)
    await bus.publish("project:1", b"second")

    await eventually(lambda: bool(late.received), what="the second message")
    assert calls == [b"first"]
    assert late.messages == [b"second"]


async def test_publish_requires_a_running_bus(make_bus: Callable[..., Awaitable[EventBus]]) -> None:
    bus = await make_bus()
    assert bus.healthy
    await bus.stop()

    assert not bus.healthy
    with pytest.raises(BusUnavailable):
        await bus.publish("project:1", b"after stop")
    await bus.stop()  # idempotent


async def test_memory_bus_delivers_after_publish_returns() -> None:
    """MemoryBus defers dispatch with call_soon: publish never runs listeners inline."""
    bus = MemoryBus()
    listener = Recorder()
    bus.add_listener("project:1", listener)
    await bus.start()

    await bus.publish("project:1", b"a")
    await bus.publish("project:1", b"b")
    assert listener.received == []  # not yet: delivery happens on the next loop iteration

    await asyncio.sleep(0)
    assert listener.messages == [b"a", b"b"]
    await bus.stop()
