"""Scale-out benchmark: one hub process versus two behind the same PostgreSQL and Redis.

Layouts (hubs on PostgreSQL + Redis, each pinned to its own core with `taskset`):

- `one`: one hub on CPU `--server-cpu` (0) with all S subscribers; both writers write to it.
- `two`: two hubs on CPUs `--server-cpu` and `--second-cpu` (0 and 1) on the same database and Redis
  prefix, S/2 subscribers on each; writer i writes to hub i, so every hub serves requests and relays
  the other's events from Redis to its own sockets, as behind a load balancer.
- `two-core0` (on request): both hubs on CPU 0: the cost of a second process without a second core.

The subscribers (this process) and the `--writers` writer processes (default 2, one request in
flight each in `max` mode, `--rate` split between them in `rate` mode) run on CPU `--client-cpu` (1).
On a two-core machine that means layout `two` puts the second hub on the load generator's core:
the hubs gain a core only as far as the clients leave it idle. The table says how busy each side was.

Reported per case: delivered messages/s (delivered / (last receive - first send)), events/s written,
latency (receive time - the writer's send time) p50/p95/p99/max overall and p99 per hub, POST p50,
lost and duplicated messages, the hubs' CPU and CPU per delivered message, what each hub's `/metrics`
says (commit → hand-off latency, gap fetches), and then two vs one per S and mode.

    .venv/bin/python bench/scaleout.py --nice -10 --retries 1 --quiet-wait 20   # S=500,1000 x max,rate
    .venv/bin/python bench/scaleout.py -s 100 --modes max --events 60          # quick check

Results: bench/results/scaleout-<timestamp>.md and .json.
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
from benchlib.cluster import connect_spread, hub_cluster, write_spread
from benchlib.hubmetrics import counter_deltas, fanout_mean_ms, hub_counters
from benchlib.options import add_case_options
from benchlib.procs import CpuWindow, loadavg, pin_self, raise_nofile, set_priority

LAYOUTS = ("one", "two")
EXTRA_LAYOUTS = ("two-core0",)
MODES = ("max", "rate")

COLUMNS = [
    ("layout", "layout"),
    ("hub_cpus", "hub CPUs"),
    ("subscribers", "S"),
    ("mode", "mode"),
    ("events_ok", "events"),
    ("events_per_s", "events/s"),
    ("delivered", "delivered"),
    ("lost", "lost"),
    ("duplicates", "dup"),
    ("msgs_per_s", "msg/s"),
    ("post_p50_ms", "POST p50 ms"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("p99_ms", "p99 ms"),
    ("max_ms", "max ms"),
    ("p99_by_hub", "p99 ms by hub"),
    ("hub_cpu_pct", "hub CPU % (each)"),
    ("fanout_mean_ms", "commit→socket mean ms (each)"),
    ("gap_fetches", "gap fetches"),
    ("cpu_per_msg_us", "hub CPU/msg µs"),
    ("client_cpu_pct", "client CPU %"),
    ("services_cpu_pct", "PG+Redis CPU %"),
    ("foreign_cpu_pct", "other CPU %"),
    ("note", "note"),
]

COMPARE_COLUMNS = [
    ("subscribers", "S"),
    ("mode", "mode"),
    ("one_msgs", "one hub msg/s"),
    ("two_msgs", "two hubs msg/s"),
    ("speedup", "two / one"),
    ("one_p99", "one hub p99 ms"),
    ("two_p99", "two hubs p99 ms"),
    ("one_cpu", "one hub CPU/msg µs"),
    ("two_cpu", "two hubs CPU/msg µs"),
]


def hub_cpus(layout: str, args: argparse.Namespace) -> list[int]:
    return {
        "one": [args.server_cpu],
        "two": [args.server_cpu, args.second_cpu],
        "two-core0": [args.server_cpu, args.server_cpu],
    }[layout]


async def run_case(layout: str, subscribers: int, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fresh hubs on a fresh database, `subscribers` sockets spread over them, one write run."""
    cpus = hub_cpus(layout, args)
    async with hub_cluster(subscribers, cpus) as hubs:
        pools, connect_s = await connect_spread(hubs, subscribers, args.events)
        ready = [pool.ready_count for pool in pools]
        await asyncio.sleep(1.0)  # let the hubs settle after the connection burst
        load_before = loadavg()
        # The window measures hub 0 as "the server"; the other hubs are added up beside it.
        window = CpuWindow(hubs[0].server.pid)
        others = [hub.server.cpu() for hub in hubs[1:]]
        counters = await hub_counters(hubs)
        gc.collect()
        gc.freeze()
        window.start()
        writers = await write_spread(hubs, mode, args.events, args.writers, args.rate)
        ok = sorted(seq for writer in writers for seq in writer.ok_seqs)
        for pool, count in zip(pools, ready, strict=True):
            await pool.wait_for(count * len(ok), idle=args.idle, limit=120)
        window.stop()
        others = [hub.server.cpu() - before for hub, before in zip(hubs[1:], others, strict=True)]
        gc.unfreeze()
        counters = counter_deltas(counters, await hub_counters(hubs))
        load_after = loadavg()
        hub_cpu = [window.server, *others]
        writer_cpu = sum(writer.cpu_seconds for writer in writers)
        delivered = lost = duplicates = 0
        latencies: list[float] = []
        last_receive = 0.0
        for pool in pools:
            counts = pool.delivered(ok)
            delivered, lost, duplicates = delivered + counts[0], lost + counts[1], duplicates + counts[2]
            latencies += pool.stats.latencies
            last_receive = max(last_receive, pool.stats.last_receive or 0.0)
        first_send = min(writer.first_send for writer in writers)
        span = (last_receive or time.monotonic()) - first_send
        write_span = max(writer.elapsed for writer in writers)
        latency = report.percentiles([x * 1000 for x in latencies])
        post = report.percentiles([x * 1000 for writer in writers for x in writer.request_latencies])
        wall = window.wall
        row: dict[str, Any] = {
            "layout": layout,
            "hub_cpus": ",".join(str(cpu) for cpu in cpus),
            "subscribers": subscribers,
            "mode": mode if mode == "max" else f"{args.rate:g}/s",
            "writer_mode": mode,
            "writers": args.writers,
            "sockets_ready": sum(ready),
            "sockets_per_hub": ready,
            "connect_s": connect_s,
            "connect_errors": [dict(pool.connect_errors) for pool in pools],
            "close_codes": [dict(pool.close_codes()) for pool in pools],
            "protocol_errors": [dict(pool.stats.protocol_errors) for pool in pools],
            "events_sent": sum(len(writer.requests) for writer in writers),
            "events_ok": len(ok),
            "events_per_s": len(ok) / write_span if write_span > 0 else 0.0,
            "writer_errors": [writer.errors for writer in writers],
            "expected": sum(ready) * len(ok),
            "delivered": delivered,
            "lost": lost,
            "duplicates": duplicates,
            "out_of_order": sum(pool.stats.out_of_order for pool in pools),
            "p50_ms": latency["p50"],
            "p95_ms": latency["p95"],
            "p99_ms": latency["p99"],
            "max_ms": latency["max"],
            "p99_by_hub": " / ".join(
                f"{report.percentiles([x * 1000 for x in pool.stats.latencies])['p99']:.0f}" for pool in pools
            ),
            "post_p50_ms": post["p50"],
            "msgs_per_s": delivered / span if span > 0 else 0.0,
            "hub_cpu_s": hub_cpu,
            "hub_counters": counters,
            "gap_fetches": int(sum(c["switchboard_gap_fetches_total"] for c in counters)),
            "events_recovered": int(sum(c["switchboard_events_recovered_total"] for c in counters)),
            "fanout_mean_ms": " / ".join(f"{fanout_mean_ms(c):.0f}" for c in counters),
            "hub_cpu_pct": " / ".join(f"{cpu / wall * 100:.0f}" for cpu in hub_cpu) if wall else "",
            "cpu_per_msg_us": sum(hub_cpu) / delivered * 1e6 if delivered else float("nan"),
            "wall_s": wall,
            "client_cpu_pct": (window.own + writer_cpu) / wall * 100 if wall else 0.0,
            "services_cpu_pct": window.services_pct(),
            "foreign_cpu_pct": window.foreign_pct(writer_cpu + sum(others)),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        }
        row["note"] = report.busy_note(row["foreign_cpu_pct"])
        for pool in pools:
            await pool.close()
    return row


def summary(row: dict[str, Any]) -> str:
    return (
        f"   {row['msgs_per_s']:.0f} msg/s ({row['events_per_s']:.1f} events/s), p50 {row['p50_ms']:.1f} "
        f"p99 {row['p99_ms']:.1f} ms, lost {row['lost']}, dup {row['duplicates']}, hub CPU % "
        f"{row['hub_cpu_pct']}, commit→socket ms {row['fanout_mean_ms']}, gap fetches {row['gap_fetches']}, "
        f"client {row['client_cpu_pct']:.0f} %, other {row['foreign_cpu_pct']:.0f} %"
    )


def comparison(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Layout `two` next to layout `one` for each S and mode."""
    by_key = {(r["layout"], r["subscribers"], r["mode"]): r for r in rows}
    result = []
    for (layout, subscribers, mode), two in by_key.items():
        one = by_key.get(("one", subscribers, mode))
        if layout != "two" or one is None:
            continue
        result.append(
            {
                "subscribers": subscribers,
                "mode": mode,
                "one_msgs": one["msgs_per_s"],
                "two_msgs": two["msgs_per_s"],
                "speedup": two["msgs_per_s"] / one["msgs_per_s"] if one["msgs_per_s"] else float("nan"),
                "one_p99": one["p99_ms"],
                "two_p99": two["p99_ms"],
                "one_cpu": one["cpu_per_msg_us"],
                "two_cpu": two["cpu_per_msg_us"],
            }
        )
    return result


async def main_async(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    environment = report.environment()
    for subscribers in args.subscribers:
        for mode in args.modes:
            for layout in args.layouts:
                row = await measure(
                    f"{layout} S={subscribers} mode={mode}",
                    lambda: run_case(layout, subscribers, mode, args),  # noqa: B023 (awaited at once)
                    summary,
                    quiet_wait=args.quiet_wait,
                    retries=args.retries,
                    case_timeout=args.case_timeout,
                )
                rows.append({"layout": layout, "subscribers": subscribers, "mode": mode, **row})
    measured = [r for r in rows if "msgs_per_s" in r]
    compared = comparison(measured)
    markdown = "\n\n".join(
        [
            f"# Scale-out benchmark ({environment['when']}, hub at {environment['commit']})",
            f"{args.events} events per case from {args.writers} writers (rate mode: {args.rate:g} events/s "
            f"in total); hubs on PostgreSQL + Redis pinned as listed; subscribers and writers on CPU "
            f"{args.client_cpu}, which layout `two` shares with its second hub.",
            report.table(rows, COLUMNS),
            "## Two hubs vs one",
            report.table(compared, COMPARE_COLUMNS, digits=2) if compared else "(no one/two pairs)",
        ]
    )
    data = {"environment": environment, "args": vars(args), "rows": rows, "comparison": compared}
    report.publish("scaleout", data, markdown)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="comma list of one,two (or two-core0)")
    parser.add_argument("-s", "--subscribers", default="500,1000", help="comma list of socket counts")
    parser.add_argument("--modes", default="max,rate", help="comma list of max,rate")
    parser.add_argument("--events", type=int, default=300, help="tickets per case, over all writers")
    parser.add_argument("--writers", type=int, default=2, help="writer processes, one request in flight each")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second in rate mode, in total")
    parser.add_argument("--second-cpu", type=int, default=1, help="the second hub's core in layout `two`")
    parser.add_argument("--idle", type=float, default=3.0, help="stop waiting after this long without news")
    add_case_options(parser, retries=1)
    args = parser.parse_args(argv)
    args.layouts = [x for x in args.layouts.split(",") if x]
    args.subscribers = [int(s) for s in args.subscribers.split(",") if s]
    args.modes = [m for m in args.modes.split(",") if m]
    unknown = set(args.layouts) - set(LAYOUTS + EXTRA_LAYOUTS) or set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if args.writers < 1:
        parser.error("--writers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_priority(args.nice)  # first: it may re-execute this script in a session of its own
    pin_self(args.client_cpu)
    raise_nofile()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
