"""Running one benchmark case: wait for a quiet machine, run it, re-run it if it was disturbed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from benchlib.procs import loadavg, wait_quiet
from benchlib.report import BUSY_FOREIGN_PCT

Row = dict[str, Any]


async def measure(
    label: str,
    run: Callable[[], Awaitable[Row]],
    show: Callable[[Row], str],
    *,
    quiet_wait: float,
    retries: int,
    case_timeout: float,
) -> Row:
    """Run `run()` up to `1 + retries` times until other work used at most BUSY_FOREIGN_PCT of a
    core during the measurement; keep the least disturbed result. A failure is a row with a note."""
    best: Row | None = None
    for attempt in range(1, retries + 2):
        busy = f", busy {await wait_quiet(quiet_wait):.2f} cores" if quiet_wait else ""
        print(f"== {label} (try {attempt}, load {loadavg()[0]:.2f}{busy})", flush=True)
        try:
            row = await asyncio.wait_for(run(), case_timeout)
        except Exception as exc:
            print(f"   failed: {type(exc).__name__}: {exc}", flush=True)
            if best is None:
                best = {"note": f"failed: {type(exc).__name__}: {exc}"}
            continue
        row["attempt"] = attempt
        print(show(row), flush=True)
        if best is None or row.get("foreign_cpu_pct", 0.0) < best.get("foreign_cpu_pct", float("inf")):
            best = row
        if row.get("foreign_cpu_pct", 0.0) <= BUSY_FOREIGN_PCT:
            break
    assert best is not None
    return best
