"""Run a server with every garbage collection timed: `python gcwatch.py OUT (-m MODULE | SCRIPT) ARGS...`.

Installs a `gc.callbacks` hook, then runs the module or script as `__main__`. On SIGUSR1 it forgets the
pauses seen so far; on SIGUSR2 it writes to OUT (JSON) the count, total, p50 and max pause per
generation, the number of objects the collector tracks, and the thresholds. Used by bench/gc_pauses.py.
"""

from __future__ import annotations

import gc
import json
import runpy
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

_pauses: list[tuple[int, float]] = []
_started = [0.0, 0.0]


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0], _started[1] = time.perf_counter(), float(info["generation"])
    else:
        _pauses.append((int(_started[1]), time.perf_counter() - _started[0]))


def summary() -> dict[str, Any]:
    result: dict[str, Any] = {}
    for generation in (0, 1, 2):
        pauses = sorted(p for g, p in _pauses if g == generation)
        if pauses:
            result[f"gen{generation}"] = {
                "count": len(pauses),
                "total_ms": sum(pauses) * 1e3,
                "p50_ms": pauses[len(pauses) // 2] * 1e3,
                "max_ms": pauses[-1] * 1e3,
            }
    result["tracked_objects"] = len(gc.get_objects())
    result["thresholds"] = gc.get_threshold()
    return result


def main() -> None:
    out = Path(sys.argv[1])

    def reset(_signum: int, _frame: FrameType | None) -> None:
        _pauses.clear()

    def dump(_signum: int, _frame: FrameType | None) -> None:
        out.write_text(json.dumps(summary()))

    signal.signal(signal.SIGUSR1, reset)
    signal.signal(signal.SIGUSR2, dump)
    gc.callbacks.append(_on_gc)
    if sys.argv[2] == "-m":
        sys.argv = [sys.argv[3], *sys.argv[4:]]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[2:]
        sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
        runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
