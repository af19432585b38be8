"""Endpoints that are gone or keep failing get disabled, and the project's admins hear about it."""

from __future__ import annotations

import random

from sqlalchemy import select

from hub.adapters.db.models import Event, Notification
from hub.context import HubContext
from tests.integration.webhooks.conftest import (
    Clock,
    WorkerFactory,
    admin_and_project,
    create_hook,
    deliveries,
    endpoint,
)
from tests.integration.webhooks.receiver import Receiver, Reply
from tests.support.api import Api, User

LONG = [3600.0] * 10  # retries an hour apart: only the controllable clock moves time here


async def _team(api: Api) -> tuple[User, int, User, User, User]:
    owner, pid = await admin_and_project(api)
    admin, member, viewer = [await api.user(n) for n in ("Ada Admin", "Mo Member", "Val Viewer")]
    for user, role in ((admin, "admin"), (member, "member"), (viewer, "viewer")):
        await api.add(owner, pid, user, role)
    return owner, pid, admin, member, viewer


async def _notifications(context: HubContext) -> list[Notification]:
    async with context.uow() as uow:
        return list(
            await uow.session.scalars(
                select(Notification)
                .where(Notification.notification_type == "webhook_disabled")
                .order_by(Notification.user_id)
            )
        )


async def _events(context: HubContext, type_: str) -> list[Event]:
    async with context.uow() as uow:
        return list(await uow.session.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))


async def test_410_gone_disables_at_once(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid, admin, _member, _viewer = await _team(api)
    hook = await create_hook(api, owner, pid, receiver.url("/gone"))
    healthy = await create_hook(api, owner, pid, receiver.url("/fine"))
    receiver.default("/gone", Reply(410, b"no such hook"))
    for n in range(3):
        await api.ticket(owner, pid, title=f"T{n}")

    await make_worker(schedule=LONG).run_once()

    assert len(receiver.to("/gone")) == 1  # the lane stopped there; the rest was dropped, not sent
    assert len(receiver.to("/fine")) == 3
    gone = await endpoint(context, hook["id"])
    assert gone.enabled is False
    assert gone.disabled_reason == "the receiver answered 410 Gone"
    assert {d.status for d in await deliveries(context, hook["id"])} == {"dead"}
    assert (await endpoint(context, healthy["id"])).enabled is True
    shown = await api.get(f"/api/webhooks/{hook['id']}", token=owner.token)
    assert shown.body["enabled"] is False
    assert shown.body["disabled_reason"] == "the receiver answered 410 Gone"
    notified = await _notifications(context)
    assert sorted(n.user_id for n in notified) == sorted([owner.id, admin.id])
    assert all(n.project_id == pid and n.event_id is not None for n in notified)
    assert "webhook #" in notified[0].title
    [event] = await _events(context, "webhook.disabled")
    assert event.payload == {"webhook_id": hook["id"], "reason": "the receiver answered 410 Gone"}
    assert "/gone" not in str(event.payload)
    # The owner sees it in their notification list too.
    listed = await api.get("/api/notifications", token=owner.token)
    assert "webhook_disabled" in [n["notification_type"] for n in listed.body["items"]]

    # Disabled: new events are not queued for it any more.
    await api.ticket(owner, pid, title="after")
    await make_worker(schedule=LONG).run_once()
    assert len(receiver.to("/gone")) == 1
    assert len(await deliveries(context, hook["id"])) == 3


async def test_five_days_of_failures_disable_and_notify_admins(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid, admin, member, _viewer = await _team(api)
    hook = await create_hook(api, owner, pid, receiver.url("/down"))
    receiver.default("/down", Reply(500, b"down"))
    clock = Clock()
    worker = make_worker(schedule=LONG, clock=clock, rng=random.Random(1))

    await api.ticket(owner, pid)
    await worker.run_once()
    started = (await endpoint(context, hook["id"])).failing_since
    assert started == clock.now

    clock.advance(days=4, hours=23)
    await api.ticket(owner, pid)
    await worker.run_once()
    still = await endpoint(context, hook["id"])
    assert still.enabled is True
    assert still.failing_since == started
    assert await _notifications(context) == []

    clock.advance(hours=1, minutes=1)
    await api.ticket(owner, pid)
    await worker.run_once()
    off = await endpoint(context, hook["id"])
    assert off.enabled is False
    assert off.disabled_reason == "every attempt failed for 5 days"
    assert {d.status for d in await deliveries(context, hook["id"])} == {"dead"}
    notified = await _notifications(context)
    assert [n.user_id for n in notified] == sorted([owner.id, admin.id])
    assert member.id not in [n.user_id for n in notified]
    assert len(await _events(context, "webhook.disabled")) == 1


async def test_a_success_resets_the_five_days(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url("/flaky"))
    clock = Clock()
    worker = make_worker(schedule=LONG, clock=clock)
    receiver.default("/flaky", Reply(500))

    await api.ticket(owner, pid)
    await worker.run_once()
    clock.advance(days=3)
    receiver.script("/flaky", Reply(200), Reply(200))  # the retry and the new one get through
    await api.ticket(owner, pid)
    await worker.run_once()
    assert (await endpoint(context, hook["id"])).failing_since is None

    clock.advance(days=1)
    await api.ticket(owner, pid)
    await worker.run_once()
    since = (await endpoint(context, hook["id"])).failing_since
    assert since == clock.now
    clock.advance(days=3)
    await api.ticket(owner, pid)
    await worker.run_once()
    # Seven days after the first failure, but only three since the last success.
    assert (await endpoint(context, hook["id"])).enabled is True


async def test_enabling_again_starts_afresh(
    api: Api, context: HubContext, receiver: Receiver, make_worker: WorkerFactory
) -> None:
    owner, pid = await admin_and_project(api)
    hook = await create_hook(api, owner, pid, receiver.url("/gone"))
    receiver.script("/gone", Reply(410))
    await api.ticket(owner, pid, title="lost")
    await make_worker(schedule=LONG).run_once()
    await api.ticket(owner, pid, title="while disabled")
    reply = await api.patch(f"/api/webhooks/{hook['id']}", json={"enabled": True}, token=owner.token)
    assert reply.body["enabled"] is True
    assert reply.body["failing_since"] is None
    await api.ticket(owner, pid, title="after")
    await make_worker(schedule=LONG).run_once()
    titles = [h.body for h in receiver.to("/gone")]
    assert len(titles) == 2
    assert b'"after"' in titles[1]
