"""Small async test helpers for the bus and presence tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hub.adapters.bus import EventBus


async def eventually(predicate: Callable[[], bool], *, what: str, within: float = 5.0) -> None:
    """Wait until ``predicate()`` is true, polling every 10 ms; fail the test after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.01)


class Recorder:
    """A bus listener that remembers every ``(channel, message)`` it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []

    def __call__(self, channel: str, message: bytes) -> None:
        self.received.append((channel, message))

    @property
    def messages(self) -> list[bytes]:
        return [message for _, message in self.received]


class FakeClock:
    """A manually advanced clock for typing-expiry tests."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def subscribed(bus: EventBus, within: float = 2.0) -> None:
    """``bus.wait_subscribed()``, failing the test instead of hanging if it takes longer than ``within``."""
    try:
        async with asyncio.timeout(within):
            await bus.wait_subscribed()
    except TimeoutError:
        raise AssertionError(f"wait_subscribed() did not return within {within} s") from None
