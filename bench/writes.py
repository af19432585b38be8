"""Write throughput with fan-out: 16 concurrent writers creating tickets for 10 s, 100 subscribers.

For the hub on SQLite (+ memory bus) and on PostgreSQL + Redis: a fresh server pinned to one core,
100 subscribers of the project's tickets socket (this process, the other core), and the writer process
running `--concurrency` workers that each create tickets back to back through the REST API for
`--duration` seconds. Reported: requests/s (2xx), POST latency p50/p95/p99/max, errors, server CPU per
request, and the fan-out: every subscriber must receive every created ticket exactly once (lost and
duplicated messages are counted) plus the delivery latency.

    .venv/bin/python bench/writes.py
    .venv/bin/python bench/writes.py --targets sqlite --duration 3     # quick check

Results: bench/results/writes-<timestamp>.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from benchlib import report
from benchlib.cases import measure
from benchlib.options import add_case_options
from benchlib.procs import CpuWindow, Profiler, loadavg, pin_self, raise_nofile, set_priority
from benchlib.subscribers import SubscriberPool
from benchlib.targets import target
from benchlib.writing import run_writer

TARGETS = ("sqlite", "postgres")
REQUESTS_TARGET = 400.0
#: Upper bound on tickets per case (subscribers count them in a byte array per socket).
CAPACITY = 50_000

COLUMNS = [
    ("target", "target"),
    ("writers", "writers"),
    ("subscribers", "S"),
    ("requests_ok", "created"),
    ("errors", "errors"),
    ("requests_per_s", "req/s"),
    ("post_p50_ms", "POST p50 ms"),
    ("post_p95_ms", "POST p95 ms"),
    ("post_p99_ms", "POST p99 ms"),
    ("post_max_ms", "POST max ms"),
    ("cpu_per_request_ms", "server CPU/req ms"),
    ("expected", "expected msgs"),
    ("lost", "lost"),
    ("duplicates", "dup"),
    ("delivery_p99_ms", "delivery p99 ms"),
    ("rate_ok", f">= {REQUESTS_TARGET:g} req/s"),
    ("loss_ok", "zero loss"),
    ("services_cpu_pct", "PG+Redis CPU %"),
    ("foreign_cpu_pct", "other CPU %"),
    ("note", "note"),
]


async def run_case(name: str, args: argparse.Namespace) -> dict[str, Any]:
    async with target(name, args.subscribers, cpu=args.server_cpu) as running:
        pool = SubscriberPool("127.0.0.1", running.port, capacity=CAPACITY)
        await pool.connect(args.subscribers, running.ws_path, running.auth)
        ready = pool.ready_count
        await asyncio.sleep(1.0)
        load_before = loadavg()
        profiler = None
        if args.profile:
            profiler = Profiler(running.server.pid, report.profile_path(f"writes-{name}", args.profile))
            await asyncio.sleep(0.5)
        window = CpuWindow(running.server.pid)
        gc.collect()
        gc.freeze()
        window.start()
        writer = await run_writer(
            running,
            *("--mode", "load", "--concurrency", str(args.writers), "--duration", str(args.duration)),
            *("--events", str(CAPACITY)),
        )
        ok = writer.ok_seqs
        await pool.wait_for(ready * len(ok), idle=args.idle, limit=120)
        window.stop()
        gc.unfreeze()
        if profiler is not None:
            profiler.stop()
        load_after = loadavg()
        delivered, lost, duplicates = pool.delivered(ok)
        post = report.percentiles([x * 1000 for x in writer.request_latencies])
        delivery = report.percentiles([x * 1000 for x in pool.stats.latencies])
        client_cpu = window.own + writer.cpu_seconds
        row: dict[str, Any] = {
            "target": name,
            "writers": args.writers,
            "subscribers": args.subscribers,
            "sockets_ready": ready,
            "duration_s": writer.elapsed,
            "requests": len(writer.requests),
            "requests_ok": len(ok),
            "errors": len(writer.requests) - len(ok),
            "writer_errors": writer.errors,
            "requests_per_s": len(ok) / writer.elapsed if writer.elapsed else 0.0,
            "post_p50_ms": post["p50"],
            "post_p95_ms": post["p95"],
            "post_p99_ms": post["p99"],
            "post_max_ms": post["max"],
            "server_cpu_s": window.server,
            "cpu_per_request_ms": window.server / len(ok) * 1e3 if ok else float("nan"),
            "expected": ready * len(ok),
            "delivered": delivered,
            "lost": lost,
            "duplicates": duplicates,
            "out_of_order": pool.stats.out_of_order,
            "close_codes": dict(pool.close_codes()),
            "protocol_errors": dict(pool.stats.protocol_errors),
            "delivery_p50_ms": delivery["p50"],
            "delivery_p99_ms": delivery["p99"],
            "delivery_max_ms": delivery["max"],
            "client_cpu_pct": client_cpu / window.wall * 100 if window.wall else 0.0,
            "writer_cpu_s": writer.cpu_seconds,
            "services_cpu_pct": window.services_pct(),
            "foreign_cpu_pct": window.foreign_pct(writer.cpu_seconds),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        }
        row["rate_ok"] = "yes" if row["requests_per_s"] >= REQUESTS_TARGET else "no"
        row["loss_ok"] = "yes" if lost == 0 and duplicates == 0 and row["expected"] > 0 else "no"
        row["note"] = report.busy_note(row["foreign_cpu_pct"])
        await pool.close()
    return row


def summary(row: dict[str, Any]) -> str:
    return (
        f"   {row['requests_per_s']:.0f} req/s, POST p99 {row['post_p99_ms']:.0f} ms, "
        f"lost {row['lost']}, dup {row['duplicates']}, errors {row['errors']}, "
        f"other CPU {row['foreign_cpu_pct']:.0f} %"
    )


async def main_async(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    environment = report.environment()
    for name in args.targets:
        row = await measure(
            name,
            lambda: run_case(name, args),  # noqa: B023 (awaited at once)
            summary,
            quiet_wait=args.quiet_wait,
            retries=args.retries,
            case_timeout=args.case_timeout,
        )
        rows.append({"target": name, **row})
    markdown = "\n\n".join(
        [
            f"# Writes with fan-out ({environment['when']}, hub at {environment['commit']})",
            f"{args.writers} writers for {args.duration:g} s, {args.subscribers} subscribers; server on CPU "
            f"{args.server_cpu}, writers and subscribers on CPU {args.client_cpu}.",
            report.table(rows, COLUMNS),
        ]
    )
    data = {"environment": environment, "args": vars(args), "rows": rows}
    report.publish("writes", data, markdown)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma list of sqlite,postgres")
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of writing")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--idle", type=float, default=3.0, help="stop waiting after this long without news")
    add_case_options(parser, profile=True)
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
