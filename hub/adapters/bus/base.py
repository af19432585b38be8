"""The event bus contract shared by every backend.

The hub fans each domain event out to every socket that watches a channel (``project:12``, ``user:7``,
``presence:12``). Inside one process that is a dictionary lookup; across several hub processes the
message has to travel through a broker. :class:`EventBus` is the seam between the two: the rest of the
hub publishes and listens through it and never learns whether the other side is a dict or Redis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

#: A listener receives ``(channel, message)``. It is a plain function on purpose: the hub registers one
#: listener per socket, and all it does is append the pre-serialized bytes to that socket's bounded
#: queue. Scheduling a task per message and per socket would cost far more than the work itself.
Listener = Callable[[str, bytes], None]

#: Called after the backend came back from an outage, so the app can replay what was published
#: meanwhile (e.g. from its outbox) -- pub/sub never buffers for absent subscribers.
ReconnectCallback = Callable[[], Awaitable[None]]


class BusUnavailable(Exception):
    """The backend cannot accept a message right now (broker down, or the bus is not started).

    Callers decide what to do with the message (keep it in the outbox, answer 503, ...); the bus itself
    never queues or retries a publish, because a silently delayed real-time event is worse than a
    visible failure.
    """


class EventBus(ABC):
    """Channel-based publish/subscribe with local, synchronous listeners.

    Guarantees every backend provides:

    * listeners run in the event loop thread, one call per message, in publish order per channel
      (order across channels is not guaranteed);
    * a listener that raises is logged and does not prevent delivery to the other listeners;
    * delivery is at-most-once: a message published while a subscriber is disconnected is lost for it,
      which is what :meth:`on_reconnect` exists for.
    """

    @abstractmethod
    async def start(self) -> None:
        """Connect to the backend and begin delivering messages to listeners.

        Listeners may be added before :meth:`start`; they become active once the bus is running.
        """

    @abstractmethod
    async def stop(self) -> None:
        """Stop delivering, release every connection and background task. Safe to call twice."""

    @abstractmethod
    async def publish(self, channel: str, message: bytes) -> None:
        """Send ``message`` to every listener of ``channel`` in every process sharing the backend.

        :raises BusUnavailable: the backend is unreachable or the bus is not running.
        """

    @abstractmethod
    def add_listener(self, channel: str, callback: Listener) -> None:
        """Call ``callback(channel, message)`` for each message on ``channel``.

        Registering the same callback twice makes it run twice per message (each registration must be
        removed separately). Takes effect asynchronously for remote backends; await
        :meth:`wait_subscribed` when the caller needs to know the subscription is live.
        """

    @abstractmethod
    def remove_listener(self, channel: str, callback: Listener) -> None:
        """Undo one :meth:`add_listener`. Removing a listener that is not registered is a no-op, so
        socket teardown code can be idempotent."""

    @property
    @abstractmethod
    def healthy(self) -> bool:
        """Whether messages are currently being received (False before start, after stop, and while
        the backend connection is down)."""

    @abstractmethod
    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """Register ``callback`` to be awaited after the subscriptions were re-established following an
        outage (not after the initial connect). It runs in its own task, so it may publish or await
        :meth:`wait_subscribed`; exceptions are logged."""

    async def wait_subscribed(self) -> None:
        """Return once every listener change made before this call is in effect at the backend.

        Useful right after :meth:`add_listener` when the caller is about to publish (or send a snapshot)
        and must not miss the messages that follow. Waits through an outage; wrap it in
        :func:`asyncio.timeout` to bound it. The default is a no-op for backends whose subscriptions are
        immediate.
        """
        return None
