"""Fan-out benchmark: S subscribers of one project's tickets socket, a writer creating E tickets.

For every target (the hub on SQLite + the in-process bus, the hub on PostgreSQL + Redis, and the bare
Quart baseline), subscriber count and writer mode, a fresh server is started pinned to one core
(`taskset -c 0`); this process (all subscribers) and the writer process run on the other core. The
writer creates tickets through the REST API (or POSTs the same message to the baseline's /publish),
one after the other as fast as the server answers (`max`) or at a fixed rate (`rate`); every
subscriber records when each ticket's `ticket_update` arrives. Reported per case: delivery latency
(receive time - the writer's send time) p50/p95/p99/max, delivered messages/s, lost and duplicated
messages, server CPU seconds and CPU per delivered message, peak RSS, and how busy the rest of the
machine was. Then hub/baseline ratios of CPU per message.

    .venv/bin/python bench/fanout.py                                  # full matrix, ~15 min
    .venv/bin/python bench/fanout.py --targets baseline,sqlite -s 100 --events 50   # quick check
    .venv/bin/python bench/fanout.py --targets postgres -s 1000 --modes max --profile

Results: bench/results/fanout-<timestamp>.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
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

TARGETS = ("baseline", "sqlite", "postgres")
#: Not in the default matrix: the baseline writing through the ASGI callable instead of Quart's send.
EXTRA_TARGETS = ("baseline-asgi",)
#: Issue targets: p99 in ms by writer mode, and the CPU-per-message ratio to the baseline.
P99_TARGET_MS = {"max": 100.0, "rate": 150.0}
CPU_RATIO_TARGET = 1.25

COLUMNS = [
    ("target", "target"),
    ("subscribers", "S"),
    ("mode", "mode"),
    ("events_ok", "events"),
    ("delivered", "delivered"),
    ("lost", "lost"),
    ("duplicates", "dup"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("p99_ms", "p99 ms"),
    ("max_ms", "max ms"),
    ("msgs_per_s", "msg/s"),
    ("server_cpu_s", "server CPU s"),
    ("cpu_per_msg_us", "CPU/msg µs"),
    ("peak_rss_mib", "peak RSS MiB"),
    ("client_cpu_pct", "client CPU %"),
    ("services_cpu_pct", "PG+Redis CPU %"),
    ("foreign_cpu_pct", "other CPU %"),
    ("note", "note"),
]


async def run_case(name: str, subscribers: int, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """One fresh server, `subscribers` sockets, one writer run; returns the measured row."""
    async with target(name, subscribers, cpu=args.server_cpu) as running:
        pool = SubscriberPool("127.0.0.1", running.port, capacity=args.events)
        connect_s = await pool.connect(subscribers, running.ws_path, running.auth, concurrency=500)
        ready = pool.ready_count
        await asyncio.sleep(1.0)  # let the server settle after the connection burst
        load_before = loadavg()
        profiler = None
        if args.profile:
            label = f"fanout-{name}-{subscribers}-{mode}"
            profiler = Profiler(running.server.pid, report.profile_path(label, args.profile))
            await asyncio.sleep(0.5)
        window = CpuWindow(running.server.pid)
        peak_reset = running.server.reset_peak()  # peak RSS of the fan-out, not of argon2 at setup
        gc.collect()
        gc.freeze()
        window.start()
        writer_args = ["--mode", mode, "--events", str(args.events), "--rate", str(args.rate)]
        writer = await run_writer(running, *writer_args)
        ok = writer.ok_seqs
        await pool.wait_for(ready * len(ok), idle=args.idle, limit=120)
        window.stop()
        gc.unfreeze()
        if profiler is not None:
            profiler.stop()
        memory = running.server.memory()
        load_after = loadavg()
        delivered, lost, duplicates = pool.delivered(ok)
        stats = pool.stats
        latency = report.percentiles([x * 1000 for x in stats.latencies])
        span = (stats.last_receive or time.monotonic()) - writer.first_send
        client_cpu = window.own + writer.cpu_seconds
        row: dict[str, Any] = {
            "target": name,
            "subscribers": subscribers,
            "mode": mode if mode == "max" else f"{args.rate:g}/s",
            "writer_mode": mode,
            "sockets_ready": ready,
            "connect_s": connect_s,
            "connect_errors": dict(pool.connect_errors),
            "events_sent": len(writer.requests),
            "events_ok": len(ok),
            "writer_errors": writer.errors,
            "expected": ready * len(ok),
            "delivered": delivered,
            "lost": lost,
            "duplicates": duplicates,
            "out_of_order": stats.out_of_order,
            "foreign_messages": stats.foreign,
            "other_types": dict(stats.other_types),
            "close_codes": dict(pool.close_codes()),
            "protocol_errors": dict(stats.protocol_errors),
            "avg_message_bytes": stats.bench_bytes / stats.bench_messages if stats.bench_messages else 0.0,
            "p50_ms": latency["p50"],
            "p95_ms": latency["p95"],
            "p99_ms": latency["p99"],
            "max_ms": latency["max"],
            "post_p50_ms": report.percentiles([x * 1000 for x in writer.request_latencies])["p50"],
            "writer_seconds": writer.elapsed,
            "msgs_per_s": delivered / span if span > 0 else 0.0,
            "server_cpu_s": window.server,
            "cpu_per_msg_us": window.server / delivered * 1e6 if delivered else float("nan"),
            "cpu_per_event_ms": window.server / len(ok) * 1e3 if ok else float("nan"),
            "peak_rss_mib": memory.get("VmHWM", 0) / 1024,
            "peak_rss_window_only": peak_reset,
            "rss_mib": memory.get("VmRSS", 0) / 1024,
            "wall_s": window.wall,
            "client_cpu_pct": client_cpu / window.wall * 100 if window.wall else 0.0,
            "services_cpu_pct": window.services_pct(),
            "foreign_cpu_pct": window.foreign_pct(writer.cpu_seconds),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "profile": str(profiler.output) if profiler else None,
        }
        row["note"] = report.busy_note(row["foreign_cpu_pct"])
        await pool.close()
    return row


def summary(row: dict[str, Any]) -> str:
    return (
        f"   p50 {row['p50_ms']:.1f} p99 {row['p99_ms']:.1f} ms, {row['cpu_per_msg_us']:.1f} us/msg, "
        f"lost {row['lost']}, dup {row['duplicates']}, {row['msgs_per_s']:.0f} msg/s, "
        f"other CPU {row['foreign_cpu_pct']:.0f} %"
    )


def comparison(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every other row next to the baseline row of the same S and mode, with the CPU ratio and the
    target checks."""
    baseline = {(r["subscribers"], r["mode"]): r for r in rows if r["target"] == "baseline"}
    result = []
    for row in rows:
        if row["target"] == "baseline":
            continue
        base = baseline.get((row["subscribers"], row["mode"]))
        ratio = row["cpu_per_msg_us"] / base["cpu_per_msg_us"] if base and base["cpu_per_msg_us"] else None
        p99_target = P99_TARGET_MS[row["writer_mode"]]
        result.append(
            {
                "target": row["target"],
                "subscribers": row["subscribers"],
                "mode": row["mode"],
                "hub_us": row["cpu_per_msg_us"],
                "base_us": base["cpu_per_msg_us"] if base else float("nan"),
                "ratio": ratio if ratio is not None else float("nan"),
                "ratio_ok": "yes" if ratio is not None and ratio <= CPU_RATIO_TARGET else "no",
                "hub_p99": row["p99_ms"],
                "base_p99": base["p99_ms"] if base else float("nan"),
                "p99_ok": "yes" if row["p99_ms"] <= p99_target else "no",
                "lost": row["lost"],
                "loss_ok": "yes" if row["lost"] == 0 and row["expected"] > 0 else "no",
            }
        )
    return result


def decompose(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split CPU per event into a fixed part (the request that made the event, publishing) and a part
    per subscriber (the fan-out itself): a least-squares line through (S, CPU per event) over the
    subscriber counts measured for each target and mode."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row in rows:
        if row.get("events_ok") and row.get("sockets_ready"):
            point = (float(row["sockets_ready"]), row["server_cpu_s"] / row["events_ok"])
            groups.setdefault((row["target"], row["mode"]), []).append(point)
    result: list[dict[str, Any]] = []
    for (name, mode), points in groups.items():
        if len({x for x, _ in points}) < 2:
            continue
        n = len(points)
        mean_x = sum(x for x, _ in points) / n
        mean_y = sum(y for _, y in points) / n
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
            (x - mean_x) ** 2 for x, _ in points
        )
        result.append(
            {
                "target": name,
                "mode": mode,
                "per_event_ms": (mean_y - slope * mean_x) * 1e3,
                "per_message_us": slope * 1e6,
            }
        )
    baseline = {r["mode"]: r for r in result if r["target"] == "baseline"}
    for row in result:
        base = baseline.get(row["mode"])
        base_us = base["per_message_us"] if base is not None else 0.0
        row["message_ratio"] = row["per_message_us"] / base_us if base_us > 0 else float("nan")
    return result


DECOMPOSE_COLUMNS = [
    ("target", "target"),
    ("mode", "mode"),
    ("per_event_ms", "fixed CPU per event ms"),
    ("per_message_us", "CPU per extra subscriber µs"),
    ("message_ratio", "per-subscriber ratio to baseline"),
]

COMPARE_COLUMNS = [
    ("target", "target"),
    ("subscribers", "S"),
    ("mode", "mode"),
    ("hub_us", "hub CPU/msg µs"),
    ("base_us", "baseline CPU/msg µs"),
    ("ratio", "ratio"),
    ("ratio_ok", f"<= {CPU_RATIO_TARGET}x"),
    ("hub_p99", "hub p99 ms"),
    ("base_p99", "baseline p99 ms"),
    ("p99_ok", "p99 target"),
    ("lost", "lost"),
    ("loss_ok", "zero loss"),
]


async def main_async(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    environment = report.environment()
    for subscribers in args.subscribers:
        for mode in args.modes:
            for name in args.targets:
                row = await measure(
                    f"{name} S={subscribers} mode={mode}",
                    lambda: run_case(name, subscribers, mode, args),  # noqa: B023 (awaited at once)
                    summary,
                    quiet_wait=args.quiet_wait,
                    retries=args.retries,
                    case_timeout=args.case_timeout,
                )
                rows.append({"target": name, "subscribers": subscribers, "mode": mode, **row})
    measured = [r for r in rows if "cpu_per_msg_us" in r]
    compared = comparison(measured)
    parts = decompose(measured)
    markdown = "\n\n".join(
        [
            f"# Fan-out benchmark ({environment['when']}, hub at {environment['commit']})",
            f"{args.events} events per case; rate mode at {args.rate:g} events/s; server on CPU "
            f"{args.server_cpu}, subscribers and writer on CPU {args.client_cpu}.",
            report.table(rows, COLUMNS),
            "## Hub vs baseline",
            report.table(compared, COMPARE_COLUMNS, digits=2) if compared else "(no hub/baseline pairs)",
            "## Fixed and per-subscriber CPU (least squares over S)",
            report.table(parts, DECOMPOSE_COLUMNS, digits=2) if parts else "(needs two or more S)",
        ]
    )
    data = {
        "environment": environment,
        "args": vars(args),
        "rows": rows,
        "comparison": compared,
        "decomposition": parts,
    }
    report.publish("fanout", data, markdown)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma list of baseline,sqlite,postgres (or baseline-asgi)",
    )
    parser.add_argument("-s", "--subscribers", default="100,500,1000", help="comma list of socket counts")
    parser.add_argument("--modes", default="max,rate", help="comma list of max,rate")
    parser.add_argument("--events", type=int, default=200, help="tickets per case")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second in rate mode")
    parser.add_argument("--idle", type=float, default=3.0, help="stop waiting after this long without news")
    add_case_options(parser)
    parser.add_argument(
        "--profile",
        nargs="?",
        const="raw",
        choices=("raw", "svg"),
        help="py-spy record the server during each measured window (raw stacks or a flame graph)",
    )
    args = parser.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    args.subscribers = [int(s) for s in args.subscribers.split(",") if s]
    args.modes = [m for m in args.modes.split(",") if m]
    unknown = set(args.targets) - set(TARGETS + EXTRA_TARGETS) or set(args.modes) - set(P99_TARGET_MS)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_priority(args.nice)  # first: it may re-execute this script in a session of its own
    pin_self(args.client_cpu)
    raise_nofile()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
