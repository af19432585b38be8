"""What one Redis shard costs per hub event: server CPU per SPUBLISH delivered to H subscribed hubs.

Every hub subscribes the `events` channel, so each committed event is one SPUBLISH in and H messages
out on the shard that owns the channel's slot. This script measures the Redis server's own CPU for
that (INFO cpu, user + sys, before and after), independent of how fast the clients are:

* a private `redis-server --cluster-enabled no` on a free port (sharded pub/sub works the same on a
  single node; cluster routing happens in the client), `client-output-buffer-limit pubsub 0 0 0` so a
  slow reader is never disconnected mid-run;
* H subscriber processes with a raw socket each: `SSUBSCRIBE`, then read and discard until the end
  marker arrives (they play the hubs);
* one publisher that pipelines `--events` SPUBLISHes of a `--size`-byte payload (about one event
  envelope) in batches of 500.

    .venv/bin/python bench/redis_shard.py --hubs 1,2,5,10,20 --events 20000

Prints a markdown table: events/s the shard took, server CPU per event, per delivered message, and
the events/s one shard could take at 100 % of its (single) main thread.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import socket
import subprocess
import tempfile
import time

import redis

MARKER = b"sb-bench-end-marker"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _subscriber(port: int, channel: str, ready: multiprocessing.synchronize.Event) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        name = channel.encode()
        sock.sendall(b"*2\r\n$10\r\nSSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(name), name))
        sock.recv(4096)
        ready.set()
        tail = b""
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                return
            if MARKER in tail + chunk:
                return
            tail = chunk[-64:]


def _cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def run_case(port: int, hubs: int, events: int, size: int) -> dict[str, float]:
    channel = "sb:events"
    readies = [multiprocessing.Event() for _ in range(hubs)]
    procs = [multiprocessing.Process(target=_subscriber, args=(port, channel, r)) for r in readies]
    for proc in procs:
        proc.start()
    for ready in readies:
        ready.wait(10)
    client = redis.Redis(port=port)
    payload = b"x" * size
    cpu_before, started = _cpu(client), time.perf_counter()
    sent = 0
    while sent < events:
        pipe = client.pipeline(transaction=False)
        for _ in range(min(500, events - sent)):
            pipe.execute_command("SPUBLISH", channel, payload)
        pipe.execute()
        sent += 500
    client.execute_command("SPUBLISH", channel, MARKER)
    for proc in procs:
        proc.join(120)
    elapsed, cpu = time.perf_counter() - started, _cpu(client) - cpu_before
    client.close()
    per_event = cpu / events
    return {
        "hubs": hubs,
        "events_per_s": events / elapsed,
        "cpu_us_per_event": per_event * 1e6,
        "cpu_us_per_message": per_event / hubs * 1e6,
        "ceiling_events_per_s": 1 / per_event,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hubs", default="1,2,5,10,20", help="comma-separated subscriber counts")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=800, help="payload bytes (one event envelope)")
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", workdir, "--client-output-buffer-limit", "pubsub 0 0 0"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.02)
            client.close()
            print(
                "| hubs (subscribers) | events/s taken | server CPU/event | CPU/message"
                f" | ceiling events/s ({args.size} B) |"
            )
            print("| --- | --- | --- | --- | --- |")
            for hubs in (int(h) for h in args.hubs.split(",")):
                r = run_case(port, hubs, args.events, args.size)
                print(
                    f"| {hubs} | {r['events_per_s']:,.0f} | {r['cpu_us_per_event']:.1f} µs |"
                    f" {r['cpu_us_per_message']:.2f} µs | {r['ceiling_events_per_s']:,.0f} |"
                )
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
