"""The benchmarks' writer: creates tickets through the hub's REST API (or POSTs the same message to the
baseline's /publish), stamping each title with its sequence number and send time.

Run by fanout.py and writes.py as a separate process (on the load generator's core) so that its
requests go out on time while the subscriber process is busy receiving; usable on its own too:

    .venv/bin/python bench/writer.py --url http://127.0.0.1:8000 --target hub --project 1 \
        --token "$(switchboard token owner@example.com)" --mode max --events 200

Modes: `max` sends one request after the other (one in flight) as fast as the server answers;
`rate` sends at a fixed rate (open loop: a slow answer does not delay the next request); `load` runs
`--concurrency` workers back to back for `--duration` seconds. Prints one JSON object:
`{"requests": [[seq, t_send, t_done, status], ...], "cpu_seconds": ..., "errors": {...}}`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.titles import DESCRIPTION, baseline_message, title

MAX_IN_FLIGHT = 64


class Writer:
    """Sends numbered requests and records `[seq, t_send, t_done, status]` for each."""

    def __init__(self, client: httpx.AsyncClient, args: argparse.Namespace) -> None:
        self.client = client
        self.args = args
        self.records: list[list[float]] = []
        self.errors: Counter[str] = Counter()
        headers = {"Content-Type": "application/json"}
        if args.token:
            headers["Authorization"] = f"Bearer {args.token}"
        self.headers = headers
        if args.target == "hub":
            self.path = f"/api/projects/{args.project}/tickets"
        else:
            self.path = "/publish"

    def body(self, seq: int, t_send: float) -> bytes:
        if self.args.target == "hub":
            return json.dumps({"title": title(seq, t_send), "description": DESCRIPTION}).encode()
        return baseline_message(seq, t_send)

    async def send(self, seq: int) -> None:
        t_send = time.monotonic()
        try:
            response = await self.client.post(self.path, content=self.body(seq, t_send), headers=self.headers)
            status = response.status_code
            if status >= 300:
                self.errors[f"HTTP {status}: {response.text[:100]}"] += 1
        except httpx.HTTPError as exc:
            status = 0
            self.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
        self.records.append([seq, t_send, time.monotonic(), status])

    async def run_max(self) -> None:
        for seq in range(self.args.first, self.args.first + self.args.events):
            await self.send(seq)

    async def run_rate(self) -> None:
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        start = time.monotonic() + 0.05
        tasks: list[asyncio.Task[None]] = []

        async def gated(seq: int) -> None:
            async with gate:
                await self.send(seq)

        for index in range(self.args.events):
            delay = start + index / self.args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(gated(self.args.first + index)))
        await asyncio.gather(*tasks)

    async def run_load(self) -> None:
        counter = itertools.count(self.args.first)
        limit = self.args.first + self.args.events
        deadline = time.monotonic() + self.args.duration

        async def worker() -> None:
            while time.monotonic() < deadline:
                seq = next(counter)
                if seq >= limit:
                    return
                await self.send(seq)

        await asyncio.gather(*(worker() for _ in range(self.args.concurrency)))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(
        max_connections=max(args.concurrency, MAX_IN_FLIGHT), max_keepalive_connections=None
    )
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=args.timeout) as client:
        writer = Writer(client, args)
        run = {"max": writer.run_max, "rate": writer.run_rate, "load": writer.run_load}[args.mode]
        started = time.monotonic()
        await asyncio.wait_for(run(), args.timeout_total)
        elapsed = time.monotonic() - started
    cpu = time.process_time()
    return {"requests": writer.records, "elapsed": elapsed, "cpu_seconds": cpu, "errors": dict(writer.errors)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="server base URL (127.0.0.1 only)")
    parser.add_argument("--target", choices=("hub", "baseline"), default="hub")
    parser.add_argument("--project", type=int, default=1, help="hub project id")
    parser.add_argument("--token", default="", help="hub access token (a project member)")
    parser.add_argument("--mode", choices=("max", "rate", "load"), default="max")
    parser.add_argument("--events", type=int, default=200, help="requests to send (a cap in load mode)")
    parser.add_argument("--first", type=int, default=0, help="first sequence number")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second in rate mode")
    parser.add_argument("--concurrency", type=int, default=1, help="workers in load mode")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load mode")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    parser.add_argument("--timeout-total", type=float, default=300.0, help="whole-run timeout, seconds")
    args = parser.parse_args(argv)
    if not args.url.startswith(("http://127.0.0.1:", "http://localhost:")):
        parser.error("--url must point at 127.0.0.1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(main_async(args))
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
