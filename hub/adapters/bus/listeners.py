"""Per-channel listener bookkeeping and fault-isolated dispatch, shared by the bus backends.

Both backends need the same three things: reference counting (a backend subscribes a channel when its
first listener arrives and unsubscribes after the last one leaves), a dispatch loop that survives a
broken listener, and safety when a listener adds or removes listeners while being called.
"""

from __future__ import annotations

import logging

from hub.adapters.bus.base import Listener

logger = logging.getLogger(__name__)


class ListenerRegistry:
    """Listeners by channel, stored as immutable tuples.

    Dispatch is far more frequent than (un)registration, so each change copies the channel's tuple
    (copy-on-write) and dispatch iterates it without copying or locking. A listener removed during a
    dispatch therefore still receives the message being dispatched, never the following ones.
    """

    def __init__(self) -> None:
        self._by_channel: dict[str, tuple[Listener, ...]] = {}

    def add(self, channel: str, callback: Listener) -> bool:
        """Register ``callback``; return True if it is the channel's first listener."""
        current = self._by_channel.get(channel, ())
        self._by_channel[channel] = (*current, callback)
        return not current

    def remove(self, channel: str, callback: Listener) -> bool:
        """Unregister one registration of ``callback``; return True if the channel has no listener left
        because of this call. Unknown callbacks are ignored (returns False)."""
        current = self._by_channel.get(channel, ())
        for index, registered in enumerate(current):
            if registered == callback:
                remaining = current[:index] + current[index + 1 :]
                if remaining:
                    self._by_channel[channel] = remaining
                    return False
                del self._by_channel[channel]
                return True
        return False

    def channels(self) -> frozenset[str]:
        """Channels with at least one listener."""
        return frozenset(self._by_channel)

    def __contains__(self, channel: object) -> bool:
        return channel in self._by_channel

    def dispatch(self, channel: str, message: bytes) -> None:
        """Call every listener of ``channel``; a listener that raises is logged and skipped."""
        for callback in self._by_channel.get(channel, ()):
            try:
                callback(channel, message)
            except Exception:
                logger.exception("bus listener %r failed on channel %s", callback, channel)
