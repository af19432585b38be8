"""Webhook delivery benchmark: signed deliveries per second, and commit-to-receiver latency.

    .venv/bin/python bench/webhooks.py                      # PostgreSQL at TEST_POSTGRES_URL
    .venv/bin/python bench/webhooks.py --sqlite             # a temporary SQLite file
    .venv/bin/python bench/webhooks.py --endpoints 1,10 --deliveries 5000

For 1, 10 and 100 endpoints of one project it writes tickets through the services (one event each),
then runs one `WebhookWorker` in this process (one core: asyncio, one thread) until every delivery has
succeeded. A fast keep-alive HTTP receiver runs in a child process on 127.0.0.1 and checks the
signature of every 50th request with the `standardwebhooks` reference library when it is installed.
Reported per scenario: fan-out (delivery rows created per second from the outbox), sending (signed
deliveries per second, from the first claim to the last recorded success), end to end (fan-out
included), and the worker's CPU time: deliveries per worker CPU-second is what one core would do
if the worker had it to itself (on a busy machine the wall-clock rates are lower).
A last scenario writes tickets at a steady rate while a woken worker runs, and reports how long each
message took from its commit to the receiver (p50/p95/max).

PostgreSQL runs in a fresh schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.adapters.db.engine import Database  # noqa: E402
from hub.adapters.db.migrate import upgrade_sync  # noqa: E402
from hub.adapters.db.models import Event  # noqa: E402
from hub.adapters.db.uow import UnitOfWork  # noqa: E402
from hub.adapters.db.webhook_models import WebhookDelivery  # noqa: E402
from hub.config import Settings, load_settings  # noqa: E402
from hub.domain.identity import Actor  # noqa: E402
from hub.services.accounts import auth  # noqa: E402
from hub.services.projects import projects  # noqa: E402
from hub.services.tickets import tickets  # noqa: E402
from hub.services.webhooks import endpoints as webhooks  # noqa: E402
from hub.webhooks.worker import WebhookWorker  # noqa: E402

DEFAULT_PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
VERIFY_EVERY = 50


# --- the receiver (child process) -------------------------------------------------------------------
def _receiver_main(port: int, secrets: dict[str, str], ready: Any) -> None:
    asyncio.run(_receiver(port, secrets, ready))


async def _receiver(port: int, secrets: dict[str, str], ready: Any) -> None:
    verifiers: dict[str, Any] = {}
    try:
        from standardwebhooks.webhooks import Webhook

        verifiers = {path: Webhook(secret) for path, secret in secrets.items()}
    except ImportError:  # pragma: no cover - the test extra is not installed
        pass
    stats: dict[str, Any] = {"count": 0, "verified": 0, "bad": 0, "arrivals": {}}
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "GET" and path == "/stats":
                    data = orjson.dumps(stats)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
                    await writer.drain()
                    continue
                stats["count"] += 1
                stats["arrivals"][headers["webhook-id"]] = time.time()
                if stats["count"] % VERIFY_EVERY == 1 and path in verifiers:
                    try:
                        verifiers[path].verify(body, headers)
                        stats["verified"] += 1
                    except Exception:
                        stats["bad"] += 1
                writer.write(ok)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    ready.set()
    async with server:
        await server.serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ReceiverProcess:
    def __init__(self, secrets: dict[str, str], port: int) -> None:
        self.port = port
        ready = multiprocessing.Event()
        self.proc = multiprocessing.Process(target=_receiver_main, args=(port, secrets, ready), daemon=True)
        self.proc.start()
        if not ready.wait(10):
            raise RuntimeError("receiver did not start")

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"http://127.0.0.1:{self.port}/stats", timeout=30)
            return dict(reply.json())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(5)


# --- the database -------------------------------------------------------------------------------------
async def _exec(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def open_database(args: argparse.Namespace) -> tuple[Settings, Database, Any]:
    if args.sqlite:
        directory = tempfile.mkdtemp(prefix="sbbench_")
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        schema = None
        await asyncio.to_thread(upgrade_sync, url)
    else:
        url = args.database_url
        schema = f"sbbench_{uuid.uuid4().hex[:8]}"
        await _exec(url, f'CREATE SCHEMA "{schema}"')
        await asyncio.to_thread(lambda: upgrade_sync(url, schema=schema))
    settings = load_settings(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "WEBHOOK_ALLOW_PRIVATE": "true",
            "SWITCHBOARD_ENV": "test",
        }
    )

    async def cleanup() -> None:
        if schema:
            await _exec(url, f'DROP SCHEMA "{schema}" CASCADE')

    return settings, Database(url, schema=schema, pool_size=10), cleanup


# --- scenarios ----------------------------------------------------------------------------------------
async def make_project(
    db: Database, actor: Actor, key: str, endpoints: int, port: int
) -> tuple[int, dict[str, str]]:
    project = await projects.create_project(UnitOfWork(db), actor, key, f"Bench {key}")
    secrets: dict[str, str] = {}
    for n in range(endpoints):
        path = f"/{key}/{n}"
        hook = await webhooks.create_webhook(
            UnitOfWork(db), actor, project["id"], url=f"http://127.0.0.1:{port}{path}", allow_private=True
        )
        secrets[path] = hook["secret"]
    return int(project["id"]), secrets


async def write_tickets(db: Database, actor: Actor, project_id: int, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        await tickets.create_ticket(
            UnitOfWork(db),
            actor,
            project_id,
            title=f"Bench ticket {n}",
            description="x" * 200,
            labels=["bench"],
        )
    return count / (time.perf_counter() - started)


async def until_succeeded(worker: WebhookWorker, count: int) -> None:
    while worker.succeeded < count:  # noqa: ASYNC110 - polling a counter the worker bumps
        await asyncio.sleep(0.05)


async def succeeded(db: Database) -> int:
    async with db.session() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "succeeded")
            )
            or 0
        )


async def throughput(
    db: Database, settings: Settings, actor: Actor, endpoints: int, events: int, args: argparse.Namespace
) -> dict[str, Any]:
    port = _free_port()
    key = f"B{endpoints}X{uuid.uuid4().hex[:3].upper()}"[:10]
    project_id, secrets = await make_project(db, actor, key, endpoints, port)
    receiver = ReceiverProcess(secrets, port)
    try:
        before = await succeeded(db)
        write_rate = await write_tickets(db, actor, project_id, events)
        total = endpoints * events
        worker = WebhookWorker(
            db, settings, max_in_flight=args.in_flight, lane_size=args.lane_size, poll_interval=0.2
        )
        cpu0, t0 = time.process_time(), time.perf_counter()
        created = await worker.fan_out()
        t1 = time.perf_counter()
        await worker.start()
        await until_succeeded(worker, total)
        await worker.stop()
        t2, cpu = time.perf_counter(), time.process_time() - cpu0
        stats = await receiver.stats()
        done = await succeeded(db) - before
    finally:
        receiver.stop()
    assert created == total, (created, total)
    assert done == total, (done, total)
    assert stats["count"] == total, (stats["count"], total)
    assert stats["bad"] == 0
    return {
        "endpoints": endpoints,
        "events": events,
        "deliveries": total,
        "write_events_per_s": write_rate,
        "fanout_rows_per_s": total / (t1 - t0),
        "send_per_s": total / (t2 - t1),
        "end_to_end_per_s": total / (t2 - t0),
        "cpu_s": cpu,
        "wall_s": t2 - t0,
        "verified": stats["verified"],
    }


async def latency(db: Database, settings: Settings, actor: Actor, args: argparse.Namespace) -> dict[str, Any]:
    endpoints, events, rate = 10, args.latency_events, args.latency_rate
    port = _free_port()
    key = f"L{uuid.uuid4().hex[:4].upper()}"
    project_id, secrets = await make_project(db, actor, key, endpoints, port)
    receiver = ReceiverProcess(secrets, port)
    worker = WebhookWorker(db, settings, poll_interval=1.0)

    async def publish(events_: Any, notifications: Any = ()) -> None:
        await worker.notify_new_events(events_, notifications)

    try:
        await worker.fan_out()
        await worker.start()
        for n in range(events):
            tick = time.perf_counter()
            await tickets.create_ticket(UnitOfWork(db, publish), actor, project_id, title=f"Latency {n}")
            await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - tick)))
        await until_succeeded(worker, endpoints * events)
        await worker.stop()
        stats = await receiver.stats()
    finally:
        receiver.stop()
    # msg ids are msg_<event id>_<endpoint id>; the event's created_at is its commit time.
    arrivals = {msg: at for msg, at in stats["arrivals"].items() if msg.startswith("msg_")}
    event_ids = {int(msg.split("_")[1]) for msg in arrivals}
    async with db.session() as session:
        rows = await session.execute(select(Event.id, Event.created_at).where(Event.id.in_(event_ids)))
        committed = {event_id: when.timestamp() for event_id, when in rows}
    delays = sorted(at - committed[int(msg.split("_")[1])] for msg, at in arrivals.items())
    return {
        "deliveries": len(delays),
        "rate_events_per_s": rate,
        "p50_ms": 1000 * statistics.median(delays),
        "p95_ms": 1000 * delays[int(0.95 * (len(delays) - 1))],
        "max_ms": 1000 * delays[-1],
    }


async def main(args: argparse.Namespace) -> None:
    settings, db, cleanup = await open_database(args)
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    try:
        async with UnitOfWork(db) as uow:
            user = await auth.create_user(uow, "bench@example.com", "bench-password-1", "Bench")
            await uow.commit()
        actor = Actor.of(user)
        print(
            f"# Switchboard webhook benchmark - {backend}, {datetime.now():%Y-%m-%d %H:%M}, "
            f"{os.cpu_count()} CPUs, worker in one process (lane {args.lane_size}, "
            f"{args.in_flight} in flight)"
        )
        print(
            "| endpoints | events | deliveries | fan-out rows/s | signed deliveries/s | end-to-end/s "
            "| deliveries per worker CPU-second | worker CPU s | wall s | signatures checked |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for endpoints in [int(e) for e in args.endpoints.split(",")]:
            events = max(args.min_events, args.deliveries // endpoints)
            r = await throughput(db, settings, actor, endpoints, events, args)
            print(
                f"| {r['endpoints']} | {r['events']} | {r['deliveries']} | {r['fanout_rows_per_s']:,.0f} "
                f"| {r['send_per_s']:,.0f} | {r['end_to_end_per_s']:,.0f} "
                f"| {r['deliveries'] / r['cpu_s']:,.0f} | {r['cpu_s']:.1f} "
                f"| {r['wall_s']:.1f} | {r['verified']} |",
                flush=True,
            )
        if args.latency_events:
            r = await latency(db, settings, actor, args)
            print(
                f"\nCommit → receiver, {r['deliveries']} deliveries (10 endpoints, "
                f"{r['rate_events_per_s']} events/s, worker woken by the publisher): "
                f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms"
            )
    finally:
        await db.dispose()
        await cleanup()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file")
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--endpoints", default="1,10,100")
    parser.add_argument("--deliveries", type=int, default=10_000, help="deliveries per scenario (about)")
    parser.add_argument("--min-events", type=int, default=100)
    parser.add_argument("--lane-size", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--latency-events", type=int, default=200, help="0 skips the latency scenario")
    parser.add_argument("--latency-rate", type=float, default=20.0, help="tickets per second")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
