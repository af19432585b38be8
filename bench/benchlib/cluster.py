"""Several hub processes behind one PostgreSQL database and one Redis, as in a scaled-out deployment.

`hub_cluster(sockets, cpus)` starts one `switchboard serve` per entry of `cpus`, each pinned to that
core, all on the same fresh database (`targets.database("postgres")`, created, migrated and dropped)
and the same REDIS_PREFIX, so an event committed through any of them reaches the sockets of all of
them through Redis. The project and its members are set up once, through the first hub, exactly as
`targets.hub_target` does; every hub's `Target` carries the same project, writer token and member
tokens, so subscribers can be spread over the hubs as a load balancer would spread browsers
(`connect_spread`), and so can writers (`write_spread`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from benchlib.procs import PYTHON, ServerProcess, free_port
from benchlib.subscribers import SubscriberPool
from benchlib.targets import SOCKETS_PER_USER, Target, database, setup_hub, workspace
from benchlib.writing import WriterReport, run_writer


def _ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@asynccontextmanager
async def hub_cluster(
    sockets: int, cpus: Sequence[int], *, log_level: str = "INFO"
) -> AsyncIterator[list[Target]]:
    """`len(cpus)` hubs on PostgreSQL + Redis, hub i pinned to `cpus[i]`, set up for `sockets`
    subscribers of one project; all stopped (and the database dropped) afterwards."""
    async with workspace() as workdir, database("postgres", workdir) as env:
        env["LOG_LEVEL"] = log_level
        servers: list[ServerProcess] = []
        try:
            for cpu, port in zip(cpus, _ports(len(cpus)), strict=True):
                cmd = [PYTHON, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
                servers.append(ServerProcess(cmd, env=env, cwd=workdir, port=port, cpu=cpu))
            await asyncio.gather(*(server.wait_ready() for server in servers))
            members = max(1, math.ceil(sockets / SOCKETS_PER_USER))
            project_id, owner_token, tokens = await setup_hub(servers[0].url, members)
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
                    info={"members": members, "cpu": cpu},
                )
                for index, (server, cpu) in enumerate(zip(servers, cpus, strict=True))
            ]
        finally:
            for server in servers:
                server.stop()


def split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal shares."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


async def connect_spread(
    hubs: list[Target], subscribers: int, capacity: int
) -> tuple[list[SubscriberPool], float]:
    """One pool per hub with an equal share of the subscribers (socket i keeps member token i wherever
    it lands); `capacity` bounds the sequence numbers each pool counts. Returns the pools and the
    seconds it took to connect them all."""
    pools: list[SubscriberPool] = []
    started, offset = time.monotonic(), 0
    for hub, count in zip(hubs, split(subscribers, len(hubs)), strict=True):
        pool = SubscriberPool("127.0.0.1", hub.port, capacity=capacity)
        await pool.connect(count, hub.ws_path, lambda i, o=offset, h=hub: h.auth(i + o), concurrency=500)
        pools.append(pool)
        offset += count
    return pools, time.monotonic() - started


async def write_spread(
    hubs: list[Target], mode: str, events: int, writers: int, rate: float
) -> list[WriterReport]:
    """`writers` writer processes at once, writer i against hub i (mod the hub count), each with its
    own range of sequence numbers, its share of the `events` and of the `rate` (in `rate` mode)."""
    runs, first = [], 0
    for index, share in enumerate(split(events, writers)):
        extra = ["--mode", mode, "--events", str(share), "--first", str(first), "--rate", str(rate / writers)]
        runs.append(run_writer(hubs[index % len(hubs)], *extra))
        first += share
    return list(await asyncio.gather(*runs))
