"""A relay sink that dies right after the platform accepted a post, before the relay could record it:
the crash window the relays' write-ahead markers exist for."""

from __future__ import annotations

from typing import Any


class CrashAfter:
    """Wraps a real sink; `method` does its real work, then raises as a dying process would."""

    def __init__(self, sink: Any, method: str) -> None:
        self._sink = sink
        self._method = method
        self.platform = sink.platform

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._sink, name)
        if name != self._method:
            return real

        async def crash(*args: Any, **kwargs: Any) -> Any:
            await real(*args, **kwargs)
            raise RuntimeError("the process died here")

        return crash
