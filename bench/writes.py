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

`--ceiling` runs the deployment's write ceiling instead (issue 20), PostgreSQL + Redis only: for each
outbox ordering (`OUTBOX_ORDERING=lock`, the advisory lock every write used to take until commit, and
`snapshot`, parallel commits with readers stopping at the safe horizon), 16 and 64 writers, one hub
and two hubs on one fresh database, with no injected commit latency and with `--commit-delay`
microseconds of it. Latency is injected with PostgreSQL's own `commit_delay` (with
`commit_siblings = 0`), set on the run's database only (`ALTER DATABASE ... SET`): every WAL flush
at commit waits that long first, as on a disk whose flush takes that much longer; transactions that
commit meanwhile share the flush (group commit), exactly as on such a disk. Cases of the two
orderings alternate, so both sets of figures come from one session.

    .venv/bin/python bench/writes.py --ceiling                       # 16 cases, ~5 min
    .venv/bin/python bench/writes.py --ceiling --duration 3 --commit-delay 2000
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import math
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
from benchlib import report
from benchlib.cases import measure
from benchlib.cluster import connect_spread, split
from benchlib.options import add_case_options
from benchlib.procs import (
    PYTHON,
    CpuWindow,
    Profiler,
    ServerProcess,
    free_port,
    loadavg,
    pin_self,
    raise_nofile,
    set_priority,
)
from benchlib.subscribers import SubscriberPool
from benchlib.targets import PG_ADMIN_DSN, SOCKETS_PER_USER, Target, database, setup_hub, target, workspace
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


# -- the deployment's write ceiling (--ceiling) ------------------------------------------------------

ORDERINGS = ("lock", "snapshot")
CEILING_COLUMNS = [
    ("commit_delay_us", "commit delay µs"),
    ("hubs", "hubs"),
    ("writers", "writers"),
    ("ordering", "ordering"),
    ("requests_ok", "created"),
    ("errors", "errors"),
    ("requests_per_s", "req/s"),
    ("post_p50_ms", "POST p50 ms"),
    ("post_p99_ms", "POST p99 ms"),
    ("expected", "expected msgs"),
    ("lost", "lost"),
    ("duplicates", "dup"),
    ("delivery_p99_ms", "delivery p99 ms"),
    ("hub_cpu_pct", "hub CPU %"),
    ("services_cpu_pct", "PG+Redis CPU %"),
    ("foreign_cpu_pct", "other CPU %"),
    ("note", "note"),
]


@asynccontextmanager
async def deployment(
    hubs: int,
    ordering: str,
    commit_delay_us: int,
    sockets: int,
    cpus: list[int],
    projects: int = 1,
    extra_projects: list[int] | None = None,
) -> AsyncIterator[list[Target]]:
    """`hubs` hub processes (hub i on `cpus[i]`) with `OUTBOX_ORDERING=ordering` on one fresh
    PostgreSQL database (with `commit_delay` set on it) and Redis, set up for `sockets` subscribers
    of the first project; the ids of `projects - 1` more projects go into `extra_projects`."""
    extra_projects = [] if extra_projects is None else extra_projects
    async with workspace() as workdir, database("postgres", workdir) as env:
        env["OUTBOX_ORDERING"] = ordering
        name = env["DATABASE_URL"].rsplit("/", 1)[1]
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" SET commit_delay = {int(commit_delay_us)}')
            await admin.execute(f'ALTER DATABASE "{name}" SET commit_siblings = 0')
        finally:
            await admin.close()
        servers: list[ServerProcess] = []
        try:
            for index in range(hubs):
                port = free_port()
                cmd = [PYTHON, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
                servers.append(
                    ServerProcess(cmd, env=env, cwd=workdir, port=port, cpu=cpus[index % len(cpus)])
                )
            await asyncio.gather(*(server.wait_ready() for server in servers))
            members = max(1, math.ceil(sockets / SOCKETS_PER_USER))
            project_id, owner_token, tokens = await setup_hub(servers[0].url, members)
            extra_projects.clear()
            async with httpx.AsyncClient(base_url=servers[0].url, timeout=60) as client:
                for index in range(1, projects):
                    reply = await client.post(
                        "/api/projects",
                        json={"key": f"BW{index}", "name": f"Writes {index}"},
                        headers={"Authorization": f"Bearer {owner_token}"},
                    )
                    reply.raise_for_status()
                    extra_projects.append(int(reply.json()["id"]))
            yield [
                Target(
                    name=f"hub{index}",
                    kind="hub",
                    server=server,
                    ws_path=f"/ws/projects/{project_id}/tickets/",
                    project_id=project_id,
                    writer_token=owner_token,
                    socket_tokens=tokens,
                    workdir=workdir,
                )
                for index, server in enumerate(servers)
            ]
        finally:
            for server in servers:
                server.stop()


async def run_ceiling_case(
    hubs: int, writers: int, ordering: str, delay: int, args: argparse.Namespace
) -> dict[str, Any]:
    cpus = [args.server_cpu, args.client_cpu]
    extra_projects: list[int] = []
    async with deployment(
        hubs, ordering, delay, args.subscribers, cpus, args.projects, extra_projects
    ) as running:
        pools, _ = await connect_spread(running, args.subscribers, CAPACITY)
        ready = [pool.ready_count for pool in pools]
        await asyncio.sleep(1.0)
        window = CpuWindow(running[0].server.pid)
        others = [hub.server.cpu() for hub in running[1:]]
        window.start()
        # One writer process per project (the subscribers' project first), on the hubs in turn: a
        # project's tickets take numbers one at a time (its row is locked to the commit), so one
        # project alone would measure that instead of the deployment's ceiling.
        project_ids = [running[0].project_id, *extra_projects]
        runs, first = [], 0
        shares = split(writers, len(project_ids))
        for index, (project, share, cap) in enumerate(
            zip(project_ids, shares, split(CAPACITY, len(project_ids)), strict=True)
        ):
            hub = dataclasses.replace(running[index % hubs], project_id=project)
            extra = ["--mode", "load", "--concurrency", str(share), "--duration", str(args.duration)]
            runs.append(run_writer(hub, *extra, "--events", str(cap), "--first", str(first)))
            first += cap
        reports = list(await asyncio.gather(*runs))
        total_ok = sum(len(writer.ok_seqs) for writer in reports)
        ok = sorted(reports[0].ok_seqs)  # the subscribers' project: every socket must get each once
        for pool, count in zip(pools, ready, strict=True):
            await pool.wait_for(count * len(ok), idle=args.idle, limit=120)
        window.stop()
        others = [hub.server.cpu() - before for hub, before in zip(running[1:], others, strict=True)]
        delivered = lost = duplicates = 0
        latencies: list[float] = []
        for pool in pools:
            counts = pool.delivered(ok)
            delivered, lost, duplicates = delivered + counts[0], lost + counts[1], duplicates + counts[2]
            latencies += pool.stats.latencies
        elapsed = max(writer.elapsed for writer in reports)
        requests = sum(len(writer.requests) for writer in reports)
        writer_cpu = sum(writer.cpu_seconds for writer in reports)
        post = report.percentiles([x * 1000 for writer in reports for x in writer.request_latencies])
        delivery = report.percentiles([x * 1000 for x in latencies])
        hub_cpu = [window.server, *others]
        row: dict[str, Any] = {
            "commit_delay_us": delay,
            "hubs": hubs,
            "writers": writers,
            "ordering": ordering,
            "subscribers": sum(ready),
            "duration_s": elapsed,
            "requests": requests,
            "projects": len(project_ids),
            "requests_ok": total_ok,
            "errors": requests - total_ok,
            "requests_per_s": total_ok / elapsed if elapsed else 0.0,
            "post_p50_ms": post["p50"],
            "post_p99_ms": post["p99"],
            "expected": sum(ready) * len(ok),
            "delivered": delivered,
            "lost": lost,
            "duplicates": duplicates,
            "out_of_order": sum(pool.stats.out_of_order for pool in pools),
            "delivery_p99_ms": delivery["p99"],
            "hub_cpu_pct": " / ".join(f"{cpu / window.wall * 100:.0f}" for cpu in hub_cpu)
            if window.wall
            else "",
            "services_cpu_pct": window.services_pct(),
            "foreign_cpu_pct": window.foreign_pct(writer_cpu + sum(others)),
        }
        row["note"] = report.busy_note(row["foreign_cpu_pct"])
        for pool in pools:
            await pool.close()
    return row


def ceiling_summary(row: dict[str, Any]) -> str:
    return (
        f"   {row['requests_per_s']:.0f} req/s, POST p99 {row['post_p99_ms']:.0f} ms, "
        f"lost {row['lost']}, dup {row['duplicates']}, errors {row['errors']}"
    )


def ceiling_ratios(rows: list[dict[str, Any]]) -> str:
    """snapshot / lock requests per second for each (delay, hubs, writers)."""
    lines = [
        "| commit delay µs | hubs | writers | lock req/s | snapshot req/s | snapshot / lock |",
        "|---" * 6 + "|",
    ]
    by_key: dict[tuple[int, int, int], dict[str, float]] = {}
    for row in rows:
        key = (row.get("commit_delay_us", 0), row.get("hubs", 0), row.get("writers", 0))
        by_key.setdefault(key, {})[str(row.get("ordering"))] = float(row.get("requests_per_s") or 0.0)
    for (delay, hubs, writers), rates in by_key.items():
        lock, snap = rates.get("lock", 0.0), rates.get("snapshot", 0.0)
        ratio = f"{snap / lock:.2f}" if lock else "n/a"
        lines.append(f"| {delay} | {hubs} | {writers} | {lock:.0f} | {snap:.0f} | {ratio} |")
    return "\n".join(lines)


async def ceiling_async(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    environment = report.environment()
    started = time.monotonic()
    for delay in args.delays:
        for hubs in args.hubs:
            for writers in args.writer_counts:
                for ordering in ORDERINGS:
                    label = f"delay={delay}us hubs={hubs} writers={writers} {ordering}"
                    row = await measure(
                        label,
                        lambda: run_ceiling_case(hubs, writers, ordering, delay, args),  # noqa: B023
                        ceiling_summary,
                        quiet_wait=args.quiet_wait,
                        retries=args.retries,
                        case_timeout=args.case_timeout,
                    )
                    rows.append(
                        {
                            "commit_delay_us": delay,
                            "hubs": hubs,
                            "writers": writers,
                            "ordering": ordering,
                            **row,
                        }
                    )
    markdown = "\n\n".join(
        [
            f"# Write ceiling, lock vs snapshot ({environment['when']}, hub at {environment['commit']})",
            f"PostgreSQL + Redis, fresh database per case; writers create tickets for {args.duration:g} s "
            f"(one writer process per project, {args.projects} projects, on the hubs in turn); "
            f"{args.subscribers} subscribers of the first project spread over the hubs; hub 0 on CPU "
            f"{args.server_cpu}, hub 1 and the clients on CPU {args.client_cpu}; commit latency injected "
            f"with commit_delay (commit_siblings = 0) on the run's database. Session: "
            f"{time.monotonic() - started:.0f} s.",
            report.table(rows, CEILING_COLUMNS),
            "## snapshot / lock",
            ceiling_ratios(rows),
        ]
    )
    report.publish("writes-ceiling", {"environment": environment, "args": vars(args), "rows": rows}, markdown)
    return 0


async def direct_case(url: str, writers: int, ordering: str, duration: float) -> dict[str, Any]:
    """`writers` tasks committing units of work of one event each (the hub's real write path:
    `UnitOfWork.commit` → `outbox.write_events`, its notification hook left out) for `duration` s."""
    from hub.adapters.db.engine import Database
    from hub.adapters.db.horizon import set_ordering
    from hub.adapters.db.uow import UnitOfWork
    from hub.domain.events import ProjectBroadcast

    db = Database(url, pool_size=writers + 2)
    set_ordering(db, "lock" if ordering == "lock" else "snapshot")
    commits = 0
    stop = time.monotonic() + duration

    async def writer() -> None:
        nonlocal commits
        while time.monotonic() < stop:
            async with UnitOfWork(db) as uow:
                uow.emit(ProjectBroadcast(event="bench", data={}), project_id=None, actor_id=None)
                await uow.commit()
            commits += 1

    try:
        started = time.monotonic()
        await asyncio.gather(*(writer() for _ in range(writers)))
        elapsed = time.monotonic() - started
    finally:
        await db.dispose()
    return {"commits": commits, "commits_per_s": commits / elapsed}


async def direct_async(args: argparse.Namespace) -> int:
    """The deployment's write ceiling without the hub's CPU in the way: per delay, writer count and
    ordering, one run on a fresh database (migrated by `switchboard migrate`)."""
    rows: list[dict[str, Any]] = []
    environment = report.environment()
    async with workspace() as workdir, database("postgres", workdir) as env:
        url, name = env["DATABASE_URL"], env["DATABASE_URL"].rsplit("/", 1)[1]
        for delay in args.delays:
            admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
            try:
                await admin.execute(f'ALTER DATABASE "{name}" SET commit_delay = {int(delay)}')
                await admin.execute(f'ALTER DATABASE "{name}" SET commit_siblings = 0')
            finally:
                await admin.close()
            for writers in args.writer_counts:
                for ordering in ORDERINGS:
                    row = await direct_case(url, writers, ordering, args.duration)
                    row.update(commit_delay_us=delay, writers=writers, ordering=ordering)
                    print(
                        f"delay={delay}us writers={writers} {ordering}: {row['commits_per_s']:.0f} commits/s"
                    )
                    rows.append(row)
    columns = [
        ("commit_delay_us", "commit delay µs"),
        ("writers", "writers"),
        ("ordering", "ordering"),
        ("commits", "commits"),
        ("commits_per_s", "commits/s"),
    ]
    markdown = "\n\n".join(
        [
            f"# Write path alone, lock vs snapshot ({environment['when']}, hub at {environment['commit']})",
            f"{args.duration:g} s per case, one fresh database, cases alternating.",
            report.table(rows, columns),
        ]
    )
    report.publish("writes-direct", {"environment": environment, "args": vars(args), "rows": rows}, markdown)
    return 0


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
    parser.add_argument("--ceiling", action="store_true", help="the lock vs snapshot matrix (see above)")
    parser.add_argument(
        "--commit-delays",
        default="0,2000",
        help="--ceiling, --direct: comma list of injected µs per WAL flush",
    )
    parser.add_argument("--direct", action="store_true", help="the write path alone, no hub (see above)")
    parser.add_argument("--hub-counts", default="1,2", help="--ceiling: comma list of hub counts")
    parser.add_argument("--projects", type=int, default=8, help="--ceiling: projects written to at once")
    parser.add_argument("--writer-counts", default="16,64", help="--ceiling: comma list of writer counts")
    add_case_options(parser, profile=True)
    args = parser.parse_args(argv)
    args.hubs = [int(n) for n in args.hub_counts.split(",") if n]
    args.delays = [int(n) for n in args.commit_delays.split(",") if n]
    args.writer_counts = [int(n) for n in args.writer_counts.split(",") if n]
    args.targets = [t for t in args.targets.split(",") if t]
    if set(args.targets) - set(TARGETS):
        parser.error(f"unknown target in {args.targets}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_priority(args.nice)  # first: it may re-execute this script in a session of its own
    pin_self(args.client_cpu)
    raise_nofile()
    if args.direct:
        return asyncio.run(direct_async(args))
    return asyncio.run(ceiling_async(args) if args.ceiling else main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
