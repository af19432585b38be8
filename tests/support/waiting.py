"""Waiting on a condition instead of the wall clock.

A fixed `sleep()` before an assertion is either too short on a loaded machine (a flaky test) or longer
than needed everywhere else (a slow one). `wait_until` polls the condition and returns as soon as it
holds, failing with what it waited for once the deadline passes. To show that something did *not*
happen, wait for a later positive marker instead (a message sent after it, which must arrive alone).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, what: str, within: float = 5.0, every: float = 0.01
) -> None:
    """Return once `condition()` (a plain or async callable) is true; AssertionError naming `what`
    after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(every)
