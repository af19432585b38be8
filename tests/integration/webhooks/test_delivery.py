"""Delivering outbox events: payloads, signatures, filters, retries, Retry-After, and durability."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import WebhookVerificationError

from hub.adapters.db.models import Event
from hub.adapters.webhooks.sender import WebhookSender
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
    tried,
    verify,
)
from tests.integration.webhooks.receiver import Receiver, Reply
from tests.support.api import Api
from tests.support.process import free_port
from tests.support.waiting import wait_until


async def test_ticket_created_is_delivered_signed(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    ticket = await api.ticket(owner, pid, title="Printer on fire", labels=["hw"])

    assert await make_worker().run_once() == 1

    [hit] = receiver.hits
    body = verify(hit, hook["secret"])
    assert body["type"] == "ticket.created"
    assert body["data"] == ticket
    assert body["actor_id"] == owner.id
    assert body["timestamp"].endswith("Z")
    assert hit.headers["content-type"] == "application/json"
    assert abs(int(hit.headers["webhook-timestamp"]) - time.time()) < 60
    [delivery] = await deliveries(context)
    assert body["event_id"] == delivery.event_id
    assert hit.msg_id == delivery.msg_id == f"msg_{delivery.event_id}_{hook['id']}"
    assert delivery.status == "succeeded"
    assert delivery.attempt_count == 1
    assert delivery.lease_until is None
    [attempt] = await attempts(context, delivery.id)
    assert (attempt.status_code, attempt.response_body, attempt.error) == (200, "ok", None)
    assert attempt.duration_ms >= 0


async def test_each_event_type_has_its_data(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    bob = await api.user("Bob")
    hook = await create_hook(api, owner, pid, receiver.url())
    # Internal events (project.*, member.*, watchers) are not sent.
    await api.add(owner, pid, bob, "member")
    ticket = await api.ticket(owner, pid)
    tid = ticket["id"]
    await api.patch(f"/api/tickets/{tid}", json={"status": "done", "title": "Renamed"}, token=owner.token)
    await api.patch(f"/api/tickets/{tid}", json={"assignee_id": bob.id}, token=owner.token)
    await api.put(f"/api/tickets/{tid}/watchers/me", token=bob.token)
    comment = (await api.post(f"/api/tickets/{tid}/comments", json={"body": "hi"}, token=owner.token)).body
    await api.patch(f"/api/comments/{comment['id']}", json={"body": "hello"}, token=owner.token)
    await api.delete(f"/api/comments/{comment['id']}", token=owner.token)
    await api.delete(f"/api/tickets/{tid}", token=owner.token)

    await make_worker().run_once()

    bodies = [verify(hit, hook["secret"]) for hit in receiver.hits]
    assert [b["type"] for b in bodies] == [
        "ticket.created",
        "ticket.status_changed",
        "ticket.updated",
        "ticket.assigned",
        "comment.created",
        "comment.updated",
        "comment.deleted",
        "ticket.deleted",
    ]
    event_ids = [b["event_id"] for b in bodies]
    assert event_ids == sorted(event_ids)
    assert bodies[1]["data"]["changes"] == {"status": ["todo", "done"]}
    assert bodies[2]["data"]["changes"] == {"title": ["A ticket", "Renamed"]}
    assert bodies[3]["data"]["assignee"]["id"] == bob.id
    assert bodies[4]["data"]["comment"]["body"] == "hi"
    assert bodies[4]["data"]["ticket"]["key"] == ticket["key"]
    assert set(bodies[4]["data"]) == {"ticket", "comment"}
    assert bodies[5]["data"]["comment"]["body"] == "hello"
    assert bodies[7]["data"]["id"] == tid
    assert "changes" not in bodies[0]["data"]


async def test_event_filter_and_disabled_endpoints(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    other_owner, other_pid = await admin_and_project(api, "ZED")
    comments_only = await create_hook(
        api, owner, pid, receiver.url("/comments"), event_types=["comment.created"]
    )
    everything = await create_hook(api, owner, pid, receiver.url("/all"))
    off = await create_hook(api, owner, pid, receiver.url("/off"), enabled=False)
    elsewhere = await create_hook(api, other_owner, other_pid, receiver.url("/other"))
    ticket = await api.ticket(owner, pid)
    await api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "x"}, token=owner.token)

    await make_worker().run_once()

    assert [verify(h, comments_only["secret"])["type"] for h in receiver.to("/comments")] == [
        "comment.created"
    ]
    assert [verify(h, everything["secret"])["type"] for h in receiver.to("/all")] == [
        "ticket.created",
        "comment.created",
    ]
    assert receiver.to("/off") == []
    assert receiver.to("/other") == []
    assert await deliveries(context, off["id"]) == []
    assert await deliveries(context, elsewhere["id"]) == []


async def test_events_written_while_no_worker_ran_are_delivered_in_order(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    old = await api.ticket(owner, pid, title="before the webhook")
    hook = await create_hook(api, owner, pid, receiver.url())
    titles = [f"T{n}" for n in range(12)]
    for title in titles:
        await api.ticket(owner, pid, title=title)

    worker = make_worker(lane_size=5)
    await worker.start()
    hits = await receiver.wait_for(len(titles))
    await worker.stop()

    assert [verify(h, hook["secret"])["data"]["title"] for h in hits] == titles
    assert old["title"] not in [verify(h, hook["secret"])["data"]["title"] for h in receiver.hits]
    assert len(receiver.hits) == len(titles)


async def test_a_commit_wakes_the_worker_at_once(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    worker = make_worker(poll_interval=3600)
    context.publisher = worker.notify_new_events
    await worker.start()
    # Settled into its hour-long sleep: from here only the commit's wake-up can make it deliver
    # within the test's minute (no wall-clock threshold: a loaded machine only makes it slower).
    await wait_until(lambda: worker.asleep, what="the worker to settle into its sleep")
    await api.ticket(owner, pid)
    await receiver.wait_for(1, within=60)
    await worker.stop()


async def test_receiver_down_then_up_gets_the_message_once_after_backoff(
    api: Api, context: HubContext, make_worker: WorkerFactory
) -> None:
    port = free_port()
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, f"http://127.0.0.1:{port}/hook")
    await api.ticket(owner, pid)
    worker = make_worker(schedule=[0.4] * 20)
    await worker.start()
    [delivery] = await eventually(lambda: tried(context, 1))
    receiver = Receiver()
    await receiver.start(port)
    try:
        [hit] = await receiver.wait_for(1)
        await eventually(lambda: all_with_status(context, "succeeded"))
    finally:
        await worker.stop()
        await receiver.close()
    verify(hit, hook["secret"])
    assert hit.msg_id == delivery.msg_id
    assert receiver.counts() == {delivery.msg_id: 1}
    tries = await attempts(context, delivery.id)
    assert len(tries) >= 2
    assert tries[0].status_code is None
    assert "ConnectError" in (tries[0].error or "")
    assert tries[-1].status_code == 200
    gaps = [(b.attempted_at - a.attempted_at).total_seconds() for a, b in itertools.pairwise(tries)]
    assert min(gaps) >= 0.4 * 0.8


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_pauses_the_endpoint(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory, status: int
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    receiver.script("/hook", Reply(status, b"slow down", (("Retry-After", "1"),)))
    first_ticket = await api.ticket(owner, pid, title="first")
    await api.ticket(owner, pid, title="second")
    worker = make_worker()  # schedule 0.05 s, 0.1 s: only Retry-After explains a 1 s wait
    await worker.start()
    refused, retried, second = await receiver.wait_for(3)
    await eventually(lambda: all_with_status(context, "succeeded"))
    await worker.stop()
    assert retried.at - refused.at >= 0.95
    assert refused.msg_id == retried.msg_id
    # The other message waited too, and came after the refused one: order kept.
    assert verify(retried, hook["secret"])["data"]["id"] == first_ticket["id"]
    assert verify(second, hook["secret"])["data"]["title"] == "second"
    first, _ = await deliveries(context)
    assert [a.status_code for a in await attempts(context, first.id)] == [status, 200]


async def test_redirects_fail_and_are_not_followed_until_the_schedule_ends(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url("/moved"))
    receiver.default("/moved", Reply(301, b"", (("Location", receiver.url("/hook")),)))
    await api.ticket(owner, pid)
    worker = make_worker()
    await worker.start()
    [delivery] = await eventually(lambda: all_with_status(context, "failed"))
    await worker.stop()
    # 1 attempt + 2 retries (schedule "0.05,0.1"), all with the same webhook-id, none followed.
    assert [a.status_code for a in await attempts(context, delivery.id)] == [301, 301, 301]
    assert receiver.counts() == {delivery.msg_id: 3}
    assert receiver.to("/hook") == []
    assert delivery.next_attempt_at is None


async def test_rotation_signs_with_both_secrets_for_24_hours(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    rotated = await api.post(f"/api/webhooks/{hook['id']}/rotate-secret", token=owner.token)
    old, new = hook["secret"], rotated.body["secret"]
    await api.ticket(owner, pid)
    await make_worker().run_once()
    [hit] = receiver.hits
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    verify(hit, old, new)

    clock = Clock()
    clock.advance(hours=24, minutes=1)
    await api.ticket(owner, pid)
    await make_worker(clock=clock).run_once()
    later = receiver.hits[1]
    verify(later, new)
    with pytest.raises(WebhookVerificationError):
        verify(later, old)


async def test_destination_is_checked_again_at_send_time(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())  # accepted: this hub allows private addresses
    await api.ticket(owner, pid)
    async with WebhookSender(allow_private=False) as strict:
        await make_worker(sender=strict, schedule=[60.0]).run_once()
    assert receiver.hits == []
    [delivery] = await deliveries(context)
    [attempt] = await attempts(context, delivery.id)
    assert attempt.status_code is None
    assert "unsafe destination" in (attempt.error or "")
    assert delivery.status == "pending"


async def test_internal_events_reach_no_receiver(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    await api.patch(f"/api/projects/{pid}", json={"name": "Renamed"}, token=owner.token)
    async with context.uow() as uow:
        types = set(await uow.session.scalars(select(Event.type)))
    assert "project.updated" in types
    assert await make_worker().run_once() == 0
    assert receiver.hits == []


async def test_a_worker_with_no_enabled_endpoint_does_no_outbox_work_until_woken(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    from sqlalchemy import event as sa_event

    owner, pid = await admin_and_project(api)
    worker = make_worker()
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = context.db.engine.sync_engine
    await worker.start()
    # Its first round runs the retention prune (which reads every consumer's position); it is asleep
    # after that round, and only then do the ten wake-ups begin.
    await wait_until(lambda: worker.asleep, what="the worker's first round")
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        for n in range(10):
            ticket = await api.ticket(owner, pid, title=f"quiet {n}")
            await worker.notify_new_events()
        # `asleep` holds again only after a round begun after the last notification has ended, so
        # every one of the ten wake-ups has been handled (and its statements recorded) by then.
        await wait_until(lambda: worker.asleep, what="the worker to handle the last wake-up")
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    # No fan-out (it moves the consumer position) and no claims (they look for due deliveries).
    assert [s for s in statements if "consumer_positions" in s or "next_attempt_at" in s] == []
    hook = await create_hook(api, owner, pid, receiver.url())
    worker.wake()  # what the API does after creating an endpoint
    ticket = await api.ticket(owner, pid, title="heard")
    await worker.notify_new_events()
    await eventually(lambda: asyncio.sleep(0, receiver.hits or None))
    body = verify(receiver.hits[0], hook["secret"])
    assert body["data"]["id"] == ticket["id"]
