"""Broadcast and notify from anywhere (the seed's `send_to_channel_layer` and `send_notification`):
the REST route, `hub.broadcast`/`hub.notify` in a separate Python process, and the CLI, reaching live
sockets on two running hubs (PostgreSQL + Redis)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

import hub
from hub.adapters.db.models import Event
from hub.adapters.db.types import utcnow
from hub.adapters.db.webhook_models import WebhookDelivery
from hub.context import HubContext
from hub.domain.errors import NotFound, ValidationFailed
from hub.services.webhooks import outbox as webhook_outbox
from tests.support.api import Api, HttpApi, User
from tests.support.database import exec_autocommit
from tests.support.live import ws_connect
from tests.support.process import HubProcess, cli_env, run_cli
from tests.support.services import require_postgres, require_redis

# --- REST, in process (SQLite and PostgreSQL) ---------------------------------------------------------


async def _team(api: Api) -> tuple[int, dict[str, User]]:
    people = {
        role: await api.user(role.title()) for role in ("owner", "admin", "member", "viewer", "outsider")
    }
    pid = (await api.project(people["owner"]))["id"]
    for role in ("admin", "member", "viewer"):
        await api.add(people["owner"], pid, people[role], role)
    return pid, people


async def test_admins_and_owners_broadcast_members_get_403_outsiders_404(api: Api) -> None:
    pid, people = await _team(api)
    body = {"type": "deploy.finished", "data": {"version": "2.0"}}
    statuses = {
        role: await api.post(f"/api/projects/{pid}/broadcast", json=body, token=user.token)
        for role, user in people.items()
    }
    assert {role: reply.status for role, reply in statuses.items()} == {
        "owner": 202,
        "admin": 202,
        "member": 403,
        "viewer": 403,
        "outsider": 404,
    }
    assert statuses["admin"].body["event_id"] > statuses["owner"].body["event_id"] > 0
    missing = await api.post("/api/projects/999999/broadcast", json=body, token=people["owner"].token)
    assert missing.status == 404


BAD = [
    ({"data": {}}, "type"),
    ({"type": "", "data": {}}, "type"),
    ({"type": "x" * 65, "data": {}}, "type"),
    ({"type": "has space", "data": {}}, "type"),
    ({"type": "<script>", "data": {}}, "type"),
    ({"type": ".starts-with-dot", "data": {}}, "type"),
    ({"type": "ok", "data": [1, 2]}, "data"),
    ({"type": "ok", "data": "text"}, "data"),
    ({"type": "ok", "data": {"big": "x" * 16_384}}, "data"),
    ({"type": "ok", "data": {"nul": "a\u0000b"}}, "data"),
    ({"type": "ok", "data": {}, "extra": 1}, "extra"),
]


async def test_a_bad_broadcast_is_422_naming_the_field(api: Api) -> None:
    owner = await api.user()
    pid = (await api.project(owner))["id"]
    for body, field in BAD:
        reply = await api.post(f"/api/projects/{pid}/broadcast", json=body, token=owner.token)
        assert reply.status == 422, (body, reply.body)
        assert field in reply.error_fields(), (body, reply.body)


async def test_openapi_declares_what_the_route_answers(api: Api) -> None:
    spec = (await api.get("/openapi.json")).body
    operation = spec["paths"]["/api/projects/{project_id}/broadcast"]["post"]
    assert set(operation["responses"]) == {"202", "400", "401", "403", "404", "413", "422"}
    assert operation["responses"]["202"]["content"]["application/json"]["schema"]


async def test_the_size_limit_is_the_setting(api: Api, context: HubContext) -> None:
    owner = await api.user()
    pid = (await api.project(owner))["id"]
    body = {"type": "ok", "data": {"text": "x" * 1000}}
    assert (await api.post(f"/api/projects/{pid}/broadcast", json=body, token=owner.token)).status == 202
    context.settings = context.settings.model_copy(update={"broadcast_max_bytes": 512})
    reply = await api.post(f"/api/projects/{pid}/broadcast", json=body, token=owner.token)
    assert reply.status == 422
    assert "512" in reply.error_fields()["data"]


async def test_every_member_sees_a_broadcast_in_the_activity_and_no_webhook_sends_it(
    api: Api, context: HubContext
) -> None:
    pid, people = await _team(api)
    context.settings = context.settings.model_copy(update={"webhook_allow_private": True})
    hook = await api.post(
        f"/api/projects/{pid}/webhooks", json={"url": "http://127.0.0.1:9/in"}, token=people["owner"].token
    )
    assert hook.status == 201, hook.body
    sent = await api.post(
        f"/api/projects/{pid}/broadcast",
        json={"type": "maintenance", "data": {"in": 5}},
        token=people["admin"].token,
    )
    assert sent.status == 202
    feed = await api.get(f"/api/projects/{pid}/events", query={"after": 0}, token=people["viewer"].token)
    [item] = [item for item in feed.body["items"] if item["type"] == "project.broadcast"]
    assert (item["id"], item["payload"]) == (
        sent.body["event_id"],
        {"event": "maintenance", "data": {"in": 5}},
    )
    result = await webhook_outbox.fan_out(context.uow(), utcnow())
    assert result.position == sent.body["event_id"]  # read past ...
    async with context.uow() as uow:
        assert sent.body["event_id"] not in set(await uow.session.scalars(select(WebhookDelivery.event_id)))


async def test_python_api_checks_and_normalises_what_it_sends(api: Api, context: HubContext) -> None:
    owner = await api.user()
    pid = (await api.project(owner))["id"]
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event_id = await hub.broadcast(pid, "deploy", {"at": when, "n": [1, 2]}, context=context)
    async with context.uow() as uow:
        event = await uow.session.get(Event, event_id)
        assert event is not None
        assert (event.type, event.project_id, event.actor_id) == ("project.broadcast", pid, None)
        assert event.payload == {"event": "deploy", "data": {"at": "2026-01-02T03:04:05+00:00", "n": [1, 2]}}
    with pytest.raises(ValidationFailed) as bad:
        await hub.broadcast(pid, "bad type", {1: "non-string key"}, context=context)
    assert set(bad.value.fields) == {"type", "data"}
    with pytest.raises(NotFound):
        await hub.broadcast(999_999, "deploy", {}, context=context)


# --- from other processes, to two running hubs (PostgreSQL + Redis) ------------------------------------


@dataclass
class Hubs:
    a: HubProcess
    b: HubProcess
    env: dict[str, str]
    workdir: Path

    def address(self, which: HubProcess) -> str:
        return f"127.0.0.1:{which.port}"


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hubs]:
    """Two `switchboard serve` processes on one PostgreSQL database and one Redis, for this module."""
    base = require_postgres()
    redis_url = require_redis()
    workdir = tmp_path_factory.mktemp("broadcast")
    name = f"sbcast_{uuid.uuid4().hex[:8]}"
    asyncio.run(exec_autocommit(base, f'CREATE DATABASE "{name}"'))
    env = cli_env(
        workdir,
        DATABASE_URL=base.rsplit("/", 1)[0] + f"/{name}",
        REDIS_URL=redis_url,
        REDIS_PREFIX=uuid.uuid4().hex[:8],
    )
    try:
        migrated = run_cli(workdir, "migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
        a, b = HubProcess(workdir, env), HubProcess(workdir, env)
        try:
            a.wait_ready()
            b.wait_ready()
            yield Hubs(a, b, env, workdir)
        finally:
            a.stop()
            b.stop()
    finally:
        asyncio.run(exec_autocommit(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _project(api: HttpApi, key: str) -> tuple[int, User, User]:
    """A project with its owner and a viewer."""
    owner, viewer = await api.user("Owner"), await api.user("Viewer")
    pid = (await api.project(owner, key=key))["id"]
    await api.add(owner, pid, viewer, "viewer")
    return pid, owner, viewer


SCRIPT = """
import asyncio, sys
import hub

async def main():
    user_id, project_id = int(sys.argv[1]), int(sys.argv[2])
    notified = await hub.notify(user_id, "deploy", "Deployed", "v2 is live")
    sent = await hub.broadcast(project_id, "deploy.finished", {"version": "2.0"})
    print(notified, sent)

asyncio.run(main())
"""


@pytest.mark.postgres
@pytest.mark.redis
async def test_python_api_in_a_separate_process_reaches_sockets_on_every_hub(hubs: Hubs) -> None:
    api = HttpApi(hubs.a.url)
    try:
        pid, _owner, viewer = await _project(api, "PYAPI")
    finally:
        await api.aclose()
    async with (
        ws_connect(hubs.address(hubs.a), f"/ws/projects/{pid}/tickets/", token=viewer.token) as on_a,
        ws_connect(hubs.address(hubs.b), f"/ws/projects/{pid}/tickets/", token=viewer.token) as on_b,
        ws_connect(hubs.address(hubs.b), "/ws/notifications/", token=viewer.token) as notes_on_b,
    ):
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", SCRIPT, str(viewer.id), str(pid)],
            cwd=hubs.workdir,
            env=hubs.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        notified, sent = (int(part) for part in done.stdout.split())
        note = await notes_on_b.recv_type("notification")
        assert note["event_id"] == notified
        assert (note["data"]["notification_type"], note["data"]["title"]) == ("deploy", "Deployed")
        for sock in (on_a, on_b):
            assert await sock.recv_type("broadcast") == {
                "type": "broadcast",
                "event": "deploy.finished",
                "data": {"version": "2.0"},
                "event_id": sent,
                "project_id": pid,
            }


@pytest.mark.postgres
@pytest.mark.redis
async def test_cli_notify_and_broadcast_reach_live_sockets(hubs: Hubs) -> None:
    api = HttpApi(hubs.a.url)
    try:
        pid, _owner, viewer = await _project(api, "CLI")
    finally:
        await api.aclose()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(hubs.workdir, *args, env=hubs.env)

    async with (
        ws_connect(hubs.address(hubs.b), f"/ws/projects/{pid}/tickets/", token=viewer.token) as tickets,
        ws_connect(hubs.address(hubs.a), "/ws/notifications/", token=viewer.token) as notes,
    ):
        notified = await asyncio.to_thread(
            cli, "notify", viewer.email, "--title", "Backup done", "--message", "3 GB", "--type", "backup",
            "--project", "cli",
        )  # fmt: skip
        assert notified.returncode == 0, notified.stderr
        note = await notes.recv_type("notification")
        assert (note["data"]["notification_type"], note["data"]["title"]) == ("backup", "Backup done")
        assert (note["data"]["message"], note["data"]["project_id"]) == ("3 GB", pid)
        sent = await asyncio.to_thread(
            cli, "broadcast", "CLI", "--type", "banner", "--data", '{"text": "hi"}'
        )
        assert sent.returncode == 0, sent.stderr
        message = await tickets.recv_type("broadcast")
        assert (message["event"], message["data"], message["project_id"]) == ("banner", {"text": "hi"}, pid)
        assert f"(event {message['event_id']})" in sent.stdout

    for args, expected in [
        (("broadcast", "CLI", "--type", "banner", "--data", "{nope"), "data: not JSON"),
        (("broadcast", "CLI", "--type", "bad type"), "type:"),
        (("broadcast", "NOPE", "--type", "banner"), "no project NOPE"),
        (("notify", "nobody@example.com", "--title", "x"), "no user"),
    ]:
        failed = await asyncio.to_thread(cli, *args)
        assert failed.returncode == 1, (args, failed.stdout)
        assert expected in failed.stderr
        assert "Traceback" not in failed.stderr


@pytest.mark.postgres
@pytest.mark.redis
async def test_rest_broadcast_reaches_tickets_sockets_on_both_instances_and_resumes_replay_it(
    hubs: Hubs,
) -> None:
    api_a = HttpApi(hubs.a.url)
    try:
        pid, owner, viewer = await _project(api_a, "REST")
        async with (
            ws_connect(hubs.address(hubs.a), f"/ws/projects/{pid}/tickets/", token=viewer.token) as on_a,
            ws_connect(hubs.address(hubs.b), f"/ws/projects/{pid}/tickets/", token=owner.token) as on_b,
            ws_connect(hubs.address(hubs.b), "/ws/notifications/", token=viewer.token) as notes,
        ):
            before = on_b.ready["last_event_id"] if on_b.ready else 0
            sent = await api_a.post(
                f"/api/projects/{pid}/broadcast",
                json={"type": "maintenance", "data": {"minutes": 5}},
                token=owner.token,
            )
            assert sent.status == 202, sent.body
            expected = {
                "type": "broadcast",
                "event": "maintenance",
                "data": {"minutes": 5},
                "event_id": sent.body["event_id"],
                "project_id": pid,
            }
            assert await on_a.recv() == expected
            assert await on_b.recv() == expected
            assert await notes.silent(0.3) == []  # a broadcast is no notification
        resume = {"last_event_id": before}
        async with ws_connect(
            hubs.address(hubs.b), f"/ws/projects/{pid}/tickets/", token=viewer.token, params=resume
        ) as resumed:
            assert resumed.pending == [expected]
    finally:
        await api_a.aclose()
