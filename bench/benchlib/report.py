"""Percentiles, markdown tables and result files (bench/results/, git-ignored)."""

from __future__ import annotations

import json
import math
import platform
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchlib.procs import REPO, loadavg

RESULTS = REPO / "bench" / "results"
#: Above this share of a core used by other work (not the server, the load generator, PostgreSQL or
#: Redis) a measurement was disturbed: re-run it to trust its numbers.
BUSY_FOREIGN_PCT = 15.0


def percentiles(values: Sequence[float], points: Sequence[float] = (50, 95, 99)) -> dict[str, float]:
    """Nearest-rank percentiles plus max, in the unit of `values`; empty input gives NaN."""
    ordered = sorted(values)
    result: dict[str, float] = {}
    for point in points:
        if ordered:
            rank = max(0, min(len(ordered) - 1, math.ceil(point / 100 * len(ordered)) - 1))
            result[f"p{point:g}"] = ordered[rank]
        else:
            result[f"p{point:g}"] = float("nan")
    result["max"] = ordered[-1] if ordered else float("nan")
    return result


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, str):
        return value.splitlines()[0][:120].replace("|", "/") if value else ""
    if isinstance(value, float):
        return "—" if value != value else f"{value:,.{digits}f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]], digits: int = 1) -> str:
    """A markdown table of `rows` with `columns` given as (key, heading)."""
    lines = [
        "| " + " | ".join(heading for _, heading in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(key, ""), digits) for key, _ in columns) + " |")
    return "\n".join(lines)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def environment() -> dict[str, Any]:
    """When and on what: the hub commit measured and whether hub/ had uncommitted changes."""
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "hub_changes": len(_git("status", "--short", "hub").splitlines()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "loadavg": loadavg(),
    }


def save(name: str, data: Mapping[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write `<name>-<timestamp>.json` and `.md` under bench/results/; returns both paths."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    json_path = RESULTS / f"{name}-{stamp}.json"
    md_path = RESULTS / f"{name}-{stamp}.md"
    json_path.write_text(json.dumps(data, indent=2, default=str))
    md_path.write_text(markdown + "\n")
    return json_path, md_path


def profile_path(label: str, fmt: str) -> Path:
    """Where a py-spy profile of `label` goes: raw stacks (`.txt`) or a flame graph (`.svg`)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return RESULTS / f"profile-{label}-{stamp}.{'txt' if fmt == 'raw' else 'svg'}"


def busy_note(foreign_pct: float) -> str:
    """'' when nothing else ran during the measurement, else a warning to re-run it."""
    return (
        f"disturbed: other work used {foreign_pct:.0f} % of a core" if foreign_pct > BUSY_FOREIGN_PCT else ""
    )


def publish(name: str, data: Mapping[str, Any], markdown: str) -> None:
    """Save the results (see `save`) and print the table and where it went."""
    json_path, md_path = save(name, data, markdown)
    print(markdown)
    print(f"\nwritten: {md_path}\n         {json_path}")
