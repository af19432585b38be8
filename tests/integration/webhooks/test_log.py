"""The delivery log API, redeliver, replay, the test message, and pruning old attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from hub.adapters.db.types import utcnow
from hub.adapters.db.webhook_models import WebhookAttempt, WebhookDelivery
from hub.context import HubContext
from tests.integration.webhooks.conftest import (
    Clock,
    WorkerFactory,
    admin_and_project,
    all_with_status,
    attempts,
    create_hook,
    deliveries,
    eventually,
    verify,
)
from tests.integration.webhooks.receiver import Receiver, Reply
from tests.support.api import Api


async def test_the_log_shows_every_attempt(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    receiver.script("/hook", Reply(500, b"x" * 5000), Reply(200, b"thanks"))
    ticket = await api.ticket(owner, pid)
    worker = make_worker()
    await worker.start()
    await eventually(lambda: all_with_status(context, "succeeded"))
    await worker.stop()

    log = await api.get(f"/api/webhooks/{hook['id']}/deliveries", token=owner.token)
    assert log.status == 200
    [item] = log.body["items"]
    assert item["status"] == "succeeded"
    assert item["event_type"] == "ticket.created"
    assert item["attempt_count"] == 2
    assert item["payload"]["data"]["id"] == ticket["id"]
    assert item["msg_id"] == receiver.hits[0].msg_id == receiver.hits[1].msg_id
    first, second = item["attempts"]
    assert first["status_code"] == 500
    assert first["response_body"] == "x" * 2048  # the first 2 KiB only
    assert first["error"] is None
    assert second["status_code"] == 200
    assert second["response_body"] == "thanks"
    assert datetime.fromisoformat(first["attempted_at"]) < datetime.fromisoformat(second["attempted_at"])
    assert all(isinstance(a["duration_ms"], int) for a in item["attempts"])
    assert log.body["next_before"] is None


async def test_the_log_filters_and_pages(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    for n in range(5):
        await api.ticket(owner, pid, title=f"T{n}")
    await make_worker().run_once()
    path = f"/api/webhooks/{hook['id']}/deliveries"

    first = await api.get(path, query={"limit": 2}, token=owner.token)
    assert [i["payload"]["data"]["title"] for i in first.body["items"]] == ["T4", "T3"]
    rest = await api.get(path, query={"limit": 10, "before": first.body["next_before"]}, token=owner.token)
    assert [i["payload"]["data"]["title"] for i in rest.body["items"]] == ["T2", "T1", "T0"]
    assert rest.body["next_before"] is None
    done = await api.get(path, query={"status": "succeeded"}, token=owner.token)
    assert len(done.body["items"]) == 5
    assert (await api.get(path, query={"status": "failed"}, token=owner.token)).body["items"] == []
    bad = await api.get(path, query={"status": "nope", "limit": 0}, token=owner.token)
    assert bad.status == 422
    assert set(bad.error_fields()) == {"status", "limit"}


async def test_redeliver_sends_the_same_message_again(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    await api.ticket(owner, pid)
    await make_worker().run_once()
    [delivery] = await deliveries(context)

    reply = await api.post(f"/api/deliveries/{delivery.id}/redeliver", token=owner.token)
    assert reply.status == 202
    assert reply.body["status"] == "pending"
    assert await make_worker().run_once() == 1
    first, second = receiver.hits
    assert first.msg_id == second.msg_id == delivery.msg_id
    assert verify(first, hook["secret"]) == verify(second, hook["secret"])
    assert len(await attempts(context, delivery.id)) == 2
    shown = await api.get(f"/api/deliveries/{delivery.id}", token=owner.token)
    assert shown.body["status"] == "succeeded"
    assert shown.body["attempt_count"] == 2


async def test_redeliver_refuses_while_in_flight_or_disabled(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    await api.ticket(owner, pid)
    await make_worker().fan_out()
    [delivery] = await deliveries(context)
    async with context.uow() as uow:
        row = await uow.session.get(WebhookDelivery, delivery.id)
        assert row is not None
        row.lease_until, row.locked_by = utcnow() + timedelta(seconds=30), "someone"
        await uow.commit()
    busy = await api.post(f"/api/deliveries/{delivery.id}/redeliver", token=owner.token)
    assert busy.status == 409
    await api.patch(f"/api/webhooks/{hook['id']}", json={"enabled": False}, token=owner.token)
    off = await api.post(f"/api/deliveries/{delivery.id}/redeliver", token=owner.token)
    assert off.status == 409
    assert off.body["error"]["code"] == "conflict"


async def test_replay_queues_what_failed_since_a_time(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    receiver.default("/hook", Reply(500))
    await api.ticket(owner, pid, title="old failure")
    clock = Clock()
    worker = make_worker(clock=clock)
    for _ in range(3):  # the schedule "0.05,0.1" has 3 attempts in all
        await worker.run_once()
        clock.advance(seconds=1)
    cutoff = datetime.now(UTC)
    await api.ticket(owner, pid, title="recent failure")
    for _ in range(3):
        await worker.run_once()
        clock.advance(seconds=1)
    assert [d.status for d in await deliveries(context)] == ["failed", "failed"]
    assert len(receiver.hits) == 6

    receiver.default("/hook", Reply(200))
    path = f"/api/webhooks/{hook['id']}/replay"
    future = await api.post(
        path, json={"since": (cutoff + timedelta(hours=1)).isoformat()}, token=owner.token
    )
    assert future.status == 202
    assert future.body == {"requeued": 0}
    replayed = await api.post(path, json={"since": cutoff.isoformat()}, token=owner.token)
    assert replayed.body == {"requeued": 1}
    assert await make_worker().run_once() == 1
    assert [d.status for d in await deliveries(context)] == ["failed", "succeeded"]
    assert b"recent failure" in receiver.hits[-1].body
    bad = await api.post(path, json={"since": "yesterday"}, token=owner.token)
    assert bad.status == 422
    assert set(bad.error_fields()) == {"since"}


async def test_replay_brings_back_what_a_disabled_endpoint_dropped(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    receiver.script("/hook", Reply(410))
    since = datetime.now(UTC)
    for n in range(3):
        await api.ticket(owner, pid, title=f"T{n}")
    await make_worker().run_once()
    assert {d.status for d in await deliveries(context)} == {"dead"}
    path = f"/api/webhooks/{hook['id']}/replay"
    refused = await api.post(path, json={"since": since.isoformat()}, token=owner.token)
    assert refused.status == 409
    await api.patch(f"/api/webhooks/{hook['id']}", json={"enabled": True}, token=owner.token)
    assert (await api.post(path, json={"since": since.isoformat()}, token=owner.token)).body == {
        "requeued": 3
    }
    await make_worker().run_once()
    titles = [verify(h, hook["secret"])["data"]["title"] for h in receiver.hits[1:]]
    assert titles == ["T0", "T1", "T2"]


async def test_the_test_message_reports_the_answer(api: Api, context: HubContext, receiver: Receiver) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    reply = await api.post(f"/api/webhooks/{hook['id']}/test", token=owner.token)
    assert reply.status == 200
    assert reply.body["success"] is True
    assert reply.body["status_code"] == 200
    assert reply.body["response_body"] == "ok"
    assert reply.body["error"] is None
    [hit] = receiver.hits
    body = verify(hit, hook["secret"])
    assert body["type"] == "webhook.test"
    assert body["data"]["webhook_id"] == hook["id"]
    assert hit.msg_id == reply.body["msg_id"]

    receiver.script("/hook", Reply(503, b"maintenance"))
    failed = await api.post(f"/api/webhooks/{hook['id']}/test", token=owner.token)
    assert failed.body["success"] is False
    assert (failed.body["status_code"], failed.body["response_body"]) == (503, "maintenance")
    await receiver.close()
    down = await api.post(f"/api/webhooks/{hook['id']}/test", token=owner.token)
    assert down.body["success"] is False
    assert down.body["status_code"] is None
    assert "ConnectError" in down.body["error"]

    log = await api.get(f"/api/webhooks/{hook['id']}/deliveries", token=owner.token)
    assert [i["event_type"] for i in log.body["items"]] == ["webhook.test"] * 3
    assert [i["status"] for i in log.body["items"]] == ["failed", "failed", "succeeded"]
    # A test never counts against the endpoint.
    assert (await api.get(f"/api/webhooks/{hook['id']}", token=owner.token)).body["failing_since"] is None


async def test_attempts_are_kept_30_days(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    for _ in range(2):
        await api.ticket(owner, pid)
    await make_worker().run_once()
    old, recent = await deliveries(context)
    long_ago = utcnow() - timedelta(days=31)
    async with context.uow() as uow:
        await uow.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == old.id).values(updated_at=long_ago)
        )
        await uow.session.execute(
            update(WebhookAttempt).where(WebhookAttempt.delivery_id == old.id).values(attempted_at=long_ago)
        )
        await uow.commit()

    assert await make_worker().prune() == 2  # one attempt, one finished delivery
    assert [d.id for d in await deliveries(context)] == [recent.id]
    assert len(await attempts(context, recent.id)) == 1
    assert await make_worker().prune() == 0
