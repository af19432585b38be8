"""In-process event bus for a single hub process (development, tests, small deployments)."""

from __future__ import annotations

import asyncio

from hub.adapters.bus.base import BusUnavailable, EventBus, Listener, ReconnectCallback
from hub.adapters.bus.listeners import ListenerRegistry


class MemoryBus(EventBus):
    """Delivers messages to listeners of the same process.

    Dispatch decision: :meth:`publish` schedules one ``loop.call_soon`` per message instead of calling
    the listeners inline. ``call_soon`` callbacks run in FIFO order, so per-channel (indeed global)
    publish order is preserved, and the cost is one loop handle per message -- not a task per message
    or per listener. Deferring rather than running inline buys three things:

    * the publisher (usually a request handler) is not charged for fanning out to thousands of sockets
      before its ``await`` returns, and cannot be re-entered by a listener that publishes;
    * delivery is asynchronous exactly like with Redis, so code and tests written against this backend
      cannot accidentally depend on "the listener already ran when publish returned";
    * listeners are looked up at delivery time, as with Redis: a listener removed between publish and
      delivery does not receive the message.
    """

    def __init__(self) -> None:
        self._listeners = ListenerRegistry()
        self._reconnect_callbacks: list[ReconnectCallback] = []
        self._running = False

    async def start(self) -> None:
        """Begin accepting publishes. Nothing to connect to."""
        self._running = True

    async def stop(self) -> None:
        """Reject further publishes; messages already scheduled are still delivered."""
        self._running = False

    async def publish(self, channel: str, message: bytes) -> None:
        """Schedule delivery of ``message`` to the listeners of ``channel`` on the next loop iteration.

        :raises BusUnavailable: the bus is not running.
        """
        if not self._running:
            raise BusUnavailable("memory bus is not running")
        asyncio.get_running_loop().call_soon(self._listeners.dispatch, channel, message)

    def add_listener(self, channel: str, callback: Listener) -> None:
        """Register ``callback`` for ``channel``; effective immediately."""
        self._listeners.add(channel, callback)

    def remove_listener(self, channel: str, callback: Listener) -> None:
        """Unregister one registration of ``callback``; effective immediately."""
        self._listeners.remove(channel, callback)

    @property
    def healthy(self) -> bool:
        """True while running: there is no connection that could be down."""
        return self._running

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """Accepted for interface compatibility; an in-process bus never has an outage to recover from."""
        self._reconnect_callbacks.append(callback)
