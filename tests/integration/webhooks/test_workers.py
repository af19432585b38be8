"""Several workers, killed workers, graceful stops and slow receivers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.adapters.db.engine import Database
from hub.adapters.db.types import utcnow
from hub.adapters.db.webhook_models import WebhookEndpoint
from hub.context import HubContext
from hub.services.webhooks import claims as webhook_claims
from tests.integration.webhooks.conftest import (
    Clock,
    WorkerFactory,
    admin_and_project,
    all_with_status,
    create_hook,
    deliveries,
    eventually,
    verify,
)
from tests.integration.webhooks.receiver import Receiver, Reply
from tests.support.api import Api

ENDPOINTS = 8
EVENTS = 25


async def test_two_workers_never_send_a_delivery_twice(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hooks = [await create_hook(api, owner, pid, receiver.url(f"/h{n}")) for n in range(ENDPOINTS)]
    for n in range(EVENTS):
        await api.ticket(owner, pid, title=f"T{n}")
    total = ENDPOINTS * EVENTS
    # Small lanes and few slots: many claim rounds, so the workers keep racing for the same rows.
    workers = [make_worker(own_db=True, lane_size=2, max_in_flight=3) for _ in range(2)]
    await asyncio.gather(*(w.start() for w in workers))
    await receiver.wait_for(total, within=60)
    await eventually(lambda: all_with_status(context, "succeeded"), within=30)
    # A late duplicate would come from a lane still holding an endpoint. A marker event sent to every
    # endpoint cannot be claimed while any lane holds that endpoint (endpoint_concurrency=1 across
    # workers, see hub.services.webhooks.claims), so once each endpoint has its marker, no earlier
    # lane is left to send a duplicate there: it would have arrived before the marker.
    await api.ticket(owner, pid, title="marker")
    await receiver.wait_for(total + ENDPOINTS, within=30)
    await asyncio.gather(*(w.stop() for w in workers))

    counts = receiver.counts()
    assert len(counts) == total + ENDPOINTS
    assert set(counts.values()) == {1}
    assert all(w.attempts > 0 for w in workers), [w.attempts for w in workers]
    assert sum(w.attempts for w in workers) == total + ENDPOINTS
    for n, hook in enumerate(hooks):
        hits = receiver.to(f"/h{n}")
        titles = [verify(h, hook["secret"])["data"]["title"] for h in hits]
        assert titles == [*(f"T{i}" for i in range(EVENTS)), "marker"]  # order per endpoint kept
        assert receiver.max_in_flight[f"path:/h{n}"] == 1  # one in flight per endpoint, across workers


async def test_a_killed_worker_leaves_nothing_stuck(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    stall = asyncio.Event()
    receiver.script("/hook", Reply(hold=stall))
    await api.ticket(owner, pid)

    doomed = make_worker(lease_seconds=30, timeout=10)
    run = asyncio.create_task(doomed.run_once())
    await receiver.wait_for(1)
    run.cancel()  # killed mid-delivery: no chance to record or release anything
    with pytest.raises(asyncio.CancelledError):
        await run
    [delivery] = await deliveries(context)
    assert delivery.status == "pending"
    assert delivery.locked_by is not None
    assert delivery.lease_until is not None
    assert delivery.lease_until > utcnow()

    # While the lease holds, nobody else sends it.
    assert await make_worker().run_once() == 0
    # Once it has run out, another worker does.
    later = Clock(utcnow() + timedelta(seconds=31))
    assert await make_worker(clock=later).run_once() == 1
    first, second = receiver.hits
    assert first.msg_id == second.msg_id == delivery.msg_id
    verify(second, hook["secret"])
    [done] = await deliveries(context)
    assert done.status == "succeeded"
    assert done.lease_until is None
    stall.set()


async def test_graceful_stop_finishes_in_flight_and_releases_the_rest(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    receiver.default("/hook", Reply(delay=0.3))
    for n in range(5):
        await api.ticket(owner, pid, title=f"T{n}")
    worker = make_worker(lane_size=5)
    await worker.start()
    await receiver.wait_for(1)
    await worker.stop()

    rows = await deliveries(context)
    assert [d.status for d in rows] == ["succeeded", "pending", "pending", "pending", "pending"]
    assert all(d.lease_until is None and d.locked_by is None for d in rows)
    assert len(receiver.hits) == 1
    # Released, not leased: the next worker sends them at once.
    assert await make_worker().run_once() == 4
    assert len(receiver.counts()) == 5


async def test_a_slow_receiver_does_not_starve_the_others(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url("/slow"))
    await create_hook(api, owner, pid, receiver.url("/fast"))
    receiver.default("/slow", Reply(delay=0.5))
    for n in range(6):
        await api.ticket(owner, pid, title=f"T{n}")
    worker = make_worker(max_in_flight=4)
    await worker.start()
    await receiver.wait_for(6, path="/fast", within=5)
    slow_so_far = len(receiver.to("/slow"))
    await worker.stop()
    assert slow_so_far <= 2
    assert receiver.max_in_flight["path:/slow"] == 1


async def test_endpoint_concurrency_can_be_raised(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    await create_hook(api, owner, pid, receiver.url())
    receiver.default("/hook", Reply(delay=0.2))
    for n in range(6):
        await api.ticket(owner, pid, title=f"T{n}")
    worker = make_worker(lane_size=2, endpoint_concurrency=3)
    await worker.start()
    await receiver.wait_for(6)
    await worker.stop()
    assert receiver.max_in_flight["path:/hook"] == 3
    assert set(receiver.counts().values()) == {1}


async def test_a_claim_skips_an_endpoint_another_worker_is_claiming(
    api: Api,
    context: HubContext,
    receiver: Receiver,
    make_worker: WorkerFactory,
    database: tuple[str, str | None],
) -> None:
    if database[1] is None:
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole write transactions instead")
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url())
    for _ in range(3):
        await api.ticket(owner, pid)
    await make_worker().fan_out()

    async def claim(owner_name: str) -> webhook_claims.Claim:
        return await webhook_claims.claim(
            context.uow(), now=utcnow(), owner=owner_name, slots=4, lane_size=10, lease_seconds=60
        )

    other = Database(context.settings.database_url, schema=database[1])
    try:
        async with other.session() as session, session.begin():
            # Another worker in the middle of its claim holds the endpoint row.
            await session.execute(
                select(WebhookEndpoint.id)
                .where(WebhookEndpoint.id == hook["id"])
                .with_for_update(key_share=True)
            )
            blocked = await claim("w1:1")
            assert blocked.lanes == []
            assert blocked.contended
    finally:
        await other.dispose()
    [lane] = (await claim("w1:2")).lanes
    assert len(lane.deliveries) == 3
    busy = await claim("w2:1")
    assert busy.lanes == []
    assert not busy.contended
    assert busy.next_due == lane.lease_until
