"""Garbage-collector pauses during fan-out: how often each generation runs and how long it stops the
server, next to the delivery latency they show up in.

The server (hub or baseline) runs under `benchlib/gcwatch.py`, which times every collection with
`gc.callbacks`. With S subscribers connected, a writer creates E tickets at a fixed rate; then the
pauses per generation, the objects the collector tracks (with the sockets open) and the latency
percentiles are reported. A full (generation 2) collection scans every tracked object, so its pause
grows with the startup objects (ORM mappers, schemas, modules) and with the per-socket objects.

    .venv/bin/python bench/gc_pauses.py                           # sqlite, postgres, baseline at S=1000
    .venv/bin/python bench/gc_pauses.py --targets sqlite -s 500 --events 100

Results: bench/results/gc-<timestamp>.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from benchlib import report
from benchlib.cases import measure
from benchlib.options import add_case_options
from benchlib.procs import CpuWindow, pin_self, raise_nofile, set_priority
from benchlib.subscribers import SubscriberPool
from benchlib.targets import target
from benchlib.writing import run_writer

TARGETS = ("sqlite", "postgres", "baseline")
GCWATCH = str(Path(__file__).resolve().parent / "benchlib" / "gcwatch.py")

COLUMNS = [
    ("target", "target"),
    ("subscribers", "S"),
    ("tracked_idle", "tracked objects (idle)"),
    ("tracked_sockets", "tracked objects (S sockets)"),
    ("gen0_count", "gen0 runs"),
    ("gen0_max_ms", "gen0 max ms"),
    ("gen2_count", "full runs"),
    ("gen2_max_ms", "full max ms"),
    ("gc_total_ms", "GC total ms"),
    ("gc_pct", "GC % of server CPU"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("max_ms", "max ms"),
    ("foreign_cpu_pct", "other CPU %"),
    ("note", "note"),
]


def _forget(out: Path) -> None:
    out.unlink(missing_ok=True)


def _read_summary(out: Path) -> dict[str, Any] | None:
    if out.exists() and out.stat().st_size:
        data: dict[str, Any] = json.loads(out.read_text())
        return data
    return None


async def snapshot(pid: int, out: Path) -> dict[str, Any]:
    """Ask the server for its GC summary (SIGUSR2) and read it once written."""
    _forget(out)
    os.kill(pid, signal.SIGUSR2)
    for _ in range(300):
        await asyncio.sleep(0.1)
        data = _read_summary(out)
        if data is not None:
            return data
    raise TimeoutError("the server wrote no GC summary")


async def run_case(name: str, args: argparse.Namespace) -> dict[str, Any]:
    out = report.RESULTS / f".gc-{os.getpid()}.json"
    report.RESULTS.mkdir(parents=True, exist_ok=True)
    async with target(name, args.subscribers, cpu=args.server_cpu, wrapper=[GCWATCH, str(out)]) as running:
        idle = await snapshot(running.server.pid, out)
        pool = SubscriberPool("127.0.0.1", running.port, capacity=args.events)
        await pool.connect(args.subscribers, running.ws_path, running.auth)
        await asyncio.sleep(1.0)
        with_sockets = await snapshot(running.server.pid, out)
        os.kill(running.server.pid, signal.SIGUSR1)
        await asyncio.sleep(0.2)
        window = CpuWindow(running.server.pid)
        window.start()
        writer = await run_writer(
            running, "--mode", "rate", "--rate", str(args.rate), "--events", str(args.events)
        )
        await pool.wait_for(pool.ready_count * len(writer.ok_seqs), idle=3.0, limit=120)
        window.stop()
        pauses = await snapshot(running.server.pid, out)
        out.unlink(missing_ok=True)
        latency = report.percentiles([x * 1000 for x in pool.stats.latencies])
        total_ms = sum(pauses.get(f"gen{g}", {}).get("total_ms", 0.0) for g in (0, 1, 2))
        row: dict[str, Any] = {
            "target": name,
            "subscribers": args.subscribers,
            "tracked_idle": idle["tracked_objects"],
            "tracked_sockets": with_sockets["tracked_objects"],
            "pauses": pauses,
            "gc_total_ms": total_ms,
            "gc_pct": total_ms / 1e3 / window.server * 100 if window.server else float("nan"),
            "p50_ms": latency["p50"],
            "p99_ms": latency["p99"],
            "max_ms": latency["max"],
            "foreign_cpu_pct": window.foreign_pct(writer.cpu_seconds),
        }
        for generation in (0, 2):
            stats = pauses.get(f"gen{generation}", {})
            row[f"gen{generation}_count"] = stats.get("count", 0)
            row[f"gen{generation}_max_ms"] = stats.get("max_ms", 0.0)
        row["note"] = report.busy_note(row["foreign_cpu_pct"])
        await pool.close()
    return row


def summary(row: dict[str, Any]) -> str:
    return (
        f"   {row['tracked_sockets']:,} tracked objects, {row['gen2_count']} full collections "
        f"(max {row['gen2_max_ms']:.0f} ms), p99 {row['p99_ms']:.0f} ms"
    )


async def main_async(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    environment = report.environment()
    for name in args.targets:
        row = await measure(
            f"{name} S={args.subscribers}",
            lambda: run_case(name, args),  # noqa: B023 (awaited at once)
            summary,
            quiet_wait=args.quiet_wait,
            retries=args.retries,
            case_timeout=args.case_timeout,
        )
        rows.append({"target": name, **row})
    markdown = "\n\n".join(
        [
            f"# GC pauses during fan-out ({environment['when']}, hub at {environment['commit']})",
            f"{args.subscribers} subscribers, {args.events} events at {args.rate:g}/s; thresholds "
            "are CPython's defaults unless the server changes them.",
            report.table(rows, COLUMNS),
        ]
    )
    data = {"environment": environment, "args": vars(args), "rows": rows}
    report.publish("gc", data, markdown)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma list of sqlite,postgres,baseline")
    parser.add_argument("-s", "--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    add_case_options(parser, retries=0)
    args = parser.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    if set(args.targets) - set(TARGETS):
        parser.error(f"unknown target in {args.targets}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_priority(args.nice)  # first: it may re-execute this script in a session of its own
    pin_self(args.client_cpu)
    raise_nofile()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
