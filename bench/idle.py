"""Idle sockets: memory per authenticated, subscribed, idle socket and how fast N of them connect.

For each target (hub on SQLite, hub on PostgreSQL + Redis, the bare Quart baseline) and each N, a
fresh server (pinned to one core, file limit raised) gets a warm-up of a few sockets, then N sockets
connect at once with at most `--concurrency` handshakes in flight, each spread over the project's
members (the hub allows 32 per user) and each waited for until it announced `ready`. Reported: time
to connect all N, server CPU used by connecting, and RSS growth per socket,
(VmRSS after - VmRSS before) / N, measured after the sockets sat idle for `--settle` seconds.

    .venv/bin/python bench/idle.py                         # 1000 and 5000, all targets
    .venv/bin/python bench/idle.py --targets sqlite -n 200 # quick check

Results: bench/results/idle-<timestamp>.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
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

TARGETS = ("baseline", "sqlite", "postgres")
#: Not in the default matrix: the baseline writing through the ASGI callable instead of Quart's send.
EXTRA_TARGETS = ("baseline-asgi",)
KIB_PER_SOCKET_TARGET = 48.0
CONNECT_TARGET = (5000, 5.0)  # 5,000 sockets in under 5 s
WARMUP_SOCKETS = 20

COLUMNS = [
    ("target", "target"),
    ("sockets", "N"),
    ("ready", "ready"),
    ("errors", "refused"),
    ("connect_s", "connect all s"),
    ("connects_per_s", "connects/s"),
    ("cpu_per_connect_ms", "server CPU/connect ms"),
    ("rss_before_mib", "RSS before MiB"),
    ("rss_after_mib", "RSS after MiB"),
    ("kib_per_socket", "KiB/socket"),
    ("memory_ok", f"<= {KIB_PER_SOCKET_TARGET:g} KiB"),
    ("connect_ok", "5k < 5 s"),
    ("foreign_cpu_pct", "other CPU %"),
    ("note", "note"),
]


async def run_case(name: str, sockets: int, args: argparse.Namespace) -> dict[str, Any]:
    async with target(name, sockets + WARMUP_SOCKETS, cpu=args.server_cpu) as running:
        warm = SubscriberPool("127.0.0.1", running.port, capacity=1)
        await warm.connect(WARMUP_SOCKETS, running.ws_path, running.auth, concurrency=WARMUP_SOCKETS)
        await warm.close()
        await asyncio.sleep(args.settle)
        load_before = loadavg()
        before = running.server.memory()["VmRSS"]
        pool = SubscriberPool("127.0.0.1", running.port, capacity=1)
        profiler = None
        if args.profile:
            label = f"idle-{name}-{sockets}"
            profiler = Profiler(running.server.pid, report.profile_path(label, args.profile))
            await asyncio.sleep(0.5)
        window = CpuWindow(running.server.pid)
        window.start()
        connect_s = await pool.connect(sockets, running.ws_path, running.auth, concurrency=args.concurrency)
        window.stop()
        if profiler is not None:
            profiler.stop()
        await asyncio.sleep(args.settle)
        after = running.server.memory()["VmRSS"]
        ready = pool.ready_count
        load_after = loadavg()
        row: dict[str, Any] = {
            "target": name,
            "sockets": sockets,
            "ready": ready,
            "errors": sum(pool.connect_errors.values()),
            "connect_errors": dict(pool.connect_errors),
            "connect_s": connect_s,
            "connects_per_s": ready / connect_s if connect_s else 0.0,
            "server_cpu_s": window.server,
            "cpu_per_connect_ms": window.server / ready * 1e3 if ready else float("nan"),
            "client_cpu_s": window.own,
            "rss_before_mib": before / 1024,
            "rss_after_mib": after / 1024,
            "kib_per_socket": (after - before) / ready if ready else float("nan"),
            "services_cpu_pct": window.services_pct(),
            "foreign_cpu_pct": window.foreign_pct(),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "server_nofile": running.server.nofile,
        }
        row["memory_ok"] = "yes" if row["kib_per_socket"] <= KIB_PER_SOCKET_TARGET else "no"
        if sockets >= CONNECT_TARGET[0]:
            row["connect_ok"] = "yes" if ready >= sockets and connect_s < CONNECT_TARGET[1] else "no"
        else:
            row["connect_ok"] = "n/a"
        row["note"] = report.busy_note(row["foreign_cpu_pct"])
        await pool.close()
    return row


def summary(row: dict[str, Any]) -> str:
    return (
        f"   {row['ready']}/{row['sockets']} in {row['connect_s']:.2f} s, "
        f"{row['kib_per_socket']:.1f} KiB/socket, {row['cpu_per_connect_ms']:.2f} ms CPU/connect, "
        f"other CPU {row['foreign_cpu_pct']:.0f} %"
    )


async def main_async(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    environment = report.environment()
    for sockets in args.sockets:
        for name in args.targets:
            row = await measure(
                f"{name} N={sockets}",
                lambda: run_case(name, sockets, args),  # noqa: B023 (awaited at once)
                summary,
                quiet_wait=args.quiet_wait,
                retries=args.retries,
                case_timeout=args.case_timeout,
            )
            rows.append({"target": name, "sockets": sockets, **row})
    markdown = "\n\n".join(
        [
            f"# Idle sockets ({environment['when']}, hub at {environment['commit']})",
            f"Concurrency {args.concurrency} handshakes; RSS read {args.settle:g} s after the last socket "
            f"was ready; server on CPU {args.server_cpu}, clients on CPU {args.client_cpu}.",
            report.table(rows, COLUMNS),
        ]
    )
    data = {"environment": environment, "args": vars(args), "rows": rows}
    report.publish("idle", data, markdown)
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
    parser.add_argument("-n", "--sockets", default="1000,5000", help="comma list of socket counts")
    parser.add_argument("--concurrency", type=int, default=500, help="handshakes in flight")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before reading RSS")
    add_case_options(parser, profile=True)
    args = parser.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    args.sockets = [int(s) for s in args.sockets.split(",") if s]
    if set(args.targets) - set(TARGETS + EXTRA_TARGETS):
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
