"""Inbound integrations benchmark: sustained signed deliveries per second into `POST /hooks/{id}`.

    .venv/bin/python bench/inbound.py                                # 16 senders, 10 s, PostgreSQL + Redis
    .venv/bin/python bench/inbound.py --senders 32 --duration 30 --tickets 50

`switchboard serve` runs on a fresh PostgreSQL database with Redis as the bus (as `benchlib.targets`
sets it up; `INTEGRATION_RATE_LIMIT=off`, which is what a deployment expecting this load would set),
pinned to CPU 0; this process (the senders) runs on CPU 1. Setup goes through the REST API: an owner,
project `BENCH`, `--tickets` tickets, one generic (Standard Webhooks) and one GitHub integration.

N senders post back to back for `--duration` seconds, alternating a generic `comment` action signed
with the `standardwebhooks` reference library and a GitHub `push` (one commit on a feature branch,
HMAC-SHA256 signed as GitHub signs) whose commit message mentions one ticket key: each delivery adds
exactly one comment. Each carries a unique marker (`inb-<sender>-<seq>`) in the comment text.

Afterwards the database is read directly: every accepted delivery (200, verdict `processed`) must
have produced exactly one comment and one `comment.created` event carrying its marker, and no comment
may exist for a delivery that was not accepted (zero loss, zero duplicates; the script exits non-zero
otherwise). Reported: accepted deliveries/s over the window, request latency p50/p99/max (client side,
send to full response), and the server's CPU seconds per delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
from benchlib import report
from benchlib.procs import PYTHON, ServerProcess, free_port, pin_self
from benchlib.targets import database, setup_hub, workspace
from standardwebhooks.webhooks import Webhook

MARKER = re.compile(r"inb-\d+-\d+")


def generic_request(secret: str, key: str, marker: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"action": "comment", "ticket": key, "body": f"{marker} deployed"})
    msg_id = f"msg_{uuid.uuid4().hex}"
    moment = datetime.fromtimestamp(int(time.time()), UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
    }
    return body.encode(), headers


def github_request(secret: str, key: str, marker: str) -> tuple[bytes, dict[str, str]]:
    sha = hashlib.sha1(marker.encode()).hexdigest()
    commit = {
        "id": sha,
        "tree_id": sha,
        "distinct": True,
        "message": f"{marker} touches {key}",
        "timestamp": "2026-12-03T14:00:00+01:00",
        "url": f"https://github.com/octo/pager/commit/{sha}",
        "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
        "committer": {"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
        "added": [],
        "removed": [],
        "modified": ["pager.py"],
    }
    repo = {"id": 1, "name": "pager", "full_name": "octo/pager", "default_branch": "main",
            "html_url": "https://github.com/octo/pager", "owner": {"login": "octo", "id": 1}}  # fmt: skip
    payload = {
        "ref": "refs/heads/feature",
        "before": "0" * 40,
        "after": sha,
        "created": False,
        "deleted": False,
        "forced": False,
        "compare": "https://github.com/octo/pager/compare/000000...abcdef",
        "commits": [commit],
        "head_commit": commit,
        "repository": repo,
        "pusher": {"name": "mona", "email": "mona@example.com"},
        "sender": {"login": "mona", "id": 2, "type": "User"},
    }
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc1234",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    return body, headers


async def setup(url: str, tickets: int) -> tuple[list[str], dict[str, dict[str, Any]]]:
    project_id, token, _members = await setup_hub(url, 1)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
        keys = []
        for n in range(tickets):
            reply = await client.post(f"/api/projects/{project_id}/tickets", json={"title": f"inbound {n}"})
            reply.raise_for_status()
            keys.append(str(reply.json()["key"]))
        integrations = {}
        for kind in ("generic", "github"):
            reply = await client.post(
                f"/api/projects/{project_id}/integrations", json={"kind": kind, "name": f"bench {kind}"}
            )
            reply.raise_for_status()
            integrations[kind] = reply.json()
    return keys, integrations


async def sender(
    index: int,
    url: str,
    keys: list[str],
    integrations: dict[str, dict[str, Any]],
    until: float,
    results: list[dict[str, Any]],
    request_timeout: float,
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=request_timeout, limits=limits) as client:
        for seq in itertools.count():
            if time.monotonic() >= until:
                return
            kind = "generic" if (index + seq) % 2 == 0 else "github"
            integration = integrations[kind]
            marker = f"inb-{index}-{seq}"
            key = keys[(index * 7919 + seq) % len(keys)]
            build = generic_request if kind == "generic" else github_request
            body, headers = build(integration["secret"], key, marker)
            started = time.monotonic()
            row: dict[str, Any] = {"marker": marker, "kind": kind, "sent": started}
            try:
                reply = await client.post(f"/hooks/{integration['id']}", content=body, headers=headers)
                row["status"] = reply.status_code
                row["verdict"] = reply.json().get("verdict") if reply.status_code == 200 else None
            except httpx.HTTPError as exc:
                row["status"], row["verdict"] = 0, type(exc).__name__
            row["latency"] = time.monotonic() - started
            results.append(row)


async def verify(dsn: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Count each marker's comments and `comment.created` events in the database."""
    conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
    try:
        comment_rows = await conn.fetch("SELECT body FROM comments")
        event_rows = await conn.fetch(
            "SELECT payload::text AS payload FROM events WHERE type = 'comment.created'"
        )
        logged = await conn.fetch(
            "SELECT verdict, count(*) AS n FROM integration_deliveries GROUP BY verdict"
        )
    finally:
        await conn.close()

    def counts(texts: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for value in texts:
            for marker in set(MARKER.findall(value)):
                found[marker] = found.get(marker, 0) + 1
        return found

    comments = counts([r["body"] for r in comment_rows])
    events = counts([r["payload"] for r in event_rows])
    accepted = {r["marker"] for r in results if r["status"] == 200 and r["verdict"] == "processed"}
    unanswered = {r["marker"] for r in results if r["status"] == 0}
    missing = sorted(m for m in accepted if comments.get(m, 0) == 0)
    duplicated = sorted(m for m, n in comments.items() if n > 1)
    event_mismatch = sorted(m for m in accepted if events.get(m, 0) != 1)
    # A comment for a delivery that was refused is an error; one for a request that timed out on the
    # client side may legitimately have been committed.
    unexpected = sorted(m for m in comments if m not in accepted and m not in unanswered)
    return {
        "accepted": len(accepted),
        "comments_with_marker": len(comments),
        "missing": missing[:20],
        "missing_count": len(missing),
        "duplicated_count": len(duplicated),
        "event_mismatch_count": len(event_mismatch),
        "unexpected_count": len(unexpected),
        "delivery_log": {r["verdict"]: int(r["n"]) for r in logged},
        "ok": not (missing or duplicated or event_mismatch or unexpected),
    }


async def main(args: argparse.Namespace) -> int:
    pin_self(args.client_cpu)
    async with workspace() as workdir, database("postgres", workdir) as env:
        env.update(INTEGRATION_RATE_LIMIT="off", LOG_LEVEL="WARNING")
        port = free_port()
        cmd = [PYTHON, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = ServerProcess(cmd, env=env, cwd=workdir, port=port, cpu=args.server_cpu)
        try:
            await server.wait_ready()
            keys, integrations = await setup(server.url, args.tickets)
            results: list[dict[str, Any]] = []
            cpu0, t0 = server.cpu(), time.monotonic()
            until = t0 + args.duration
            await asyncio.gather(
                *(
                    sender(i, server.url, keys, integrations, until, results, args.timeout)
                    for i in range(args.senders)
                )
            )
            wall, cpu = time.monotonic() - t0, server.cpu() - cpu0
            checked = await verify(env["DATABASE_URL"], results)
        finally:
            server.stop()
    statuses: dict[str, int] = {}
    for row in results:
        label = f"{row['status']} {row['verdict'] or ''}".strip()
        statuses[label] = statuses.get(label, 0) + 1
    ok_latencies = [1000 * r["latency"] for r in results if r["status"] == 200]
    pct = report.percentiles(ok_latencies, (50, 99))
    row = {
        "senders": args.senders,
        "duration_s": round(wall, 1),
        "tickets": args.tickets,
        "sent": len(results),
        "accepted": checked["accepted"],
        "per_s": checked["accepted"] / wall,
        "p50_ms": pct["p50"],
        "p99_ms": pct["p99"],
        "max_ms": pct["max"],
        "cpu_ms_per_delivery": 1000 * cpu / max(1, checked["accepted"]),
        "loss": checked["missing_count"],
        "duplicates": checked["duplicated_count"],
    }
    columns = [
        ("senders", "senders"), ("duration_s", "window s"), ("tickets", "tickets"), ("sent", "sent"),
        ("accepted", "accepted"), ("per_s", "deliveries/s"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
        ("max_ms", "max ms"), ("cpu_ms_per_delivery", "server CPU ms/delivery"), ("loss", "lost"),
        ("duplicates", "duplicated"),
    ]  # fmt: skip
    markdown = (
        "# Inbound integrations - PostgreSQL + Redis, one hub process\n\n"
        + report.table([row], columns)
        + f"\n\nresponses: {statuses}; delivery log: {checked['delivery_log']}; "
        + f"verification: {'ok' if checked['ok'] else 'FAILED'}"
    )
    report.publish(
        "inbound",
        {"environment": report.environment(), "args": vars(args), "result": row, "check": checked,
         "statuses": statuses},
        markdown,
    )  # fmt: skip
    return 0 if checked["ok"] else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--senders", type=int, default=16, help="concurrent senders, one request in flight each"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    parser.add_argument("--tickets", type=int, default=20, help="tickets the deliveries spread over")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
