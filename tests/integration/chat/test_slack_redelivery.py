"""Slack redelivers requests (`X-Slack-Retry-Num`, the same `event_id`): each is processed once, on
SQLite and PostgreSQL, whether the copies come one after another or at the same time."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from bots.slack.dedupe import delivery_key
from hub.adapters.db.types import utcnow
from hub.services.chat.deliveries import (
    DELIVERY_TTL,
    RECLAIM_AFTER,
    claim_delivery,
    finish_delivery,
    prune_deliveries,
)
from tests.integration.chat.conftest import CHANNEL, SlackHub, link_directly
from tests.support.api import User


async def _setup(hub: SlackHub) -> tuple[User, dict[str, object]]:
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UALICE", "subscribe OPS")
    return alice, project


async def _bodies(hub: SlackHub, user: User, ticket_id: int, expected: int) -> list[str]:
    """The ticket's comment bodies once `expected` of them exist (or after waiting ~2 s), after the
    stragglers had time to add more."""
    url = f"/api/tickets/{ticket_id}/comments"
    for _ in range(40):
        if len((await hub.api.get(url, token=user.token)).body["items"]) >= expected:
            break
        await hub.settle(0.05)
    await hub.settle()
    return [c["body"] for c in (await hub.api.get(url, token=user.token)).body["items"]]


async def test_a_redelivered_thread_reply_becomes_one_comment(hub: SlackHub) -> None:
    alice, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Database is slow")
    root = await hub.root(ticket["key"])

    def reply(text: str, ts: str) -> dict[str, str]:
        return {"type": "message", "channel": CHANNEL, "user": "UBOB", "text": text, "ts": ts,
                "thread_ts": root.ts, "channel_type": "channel"}  # fmt: skip

    # Slack's schedule: the delivery, then retries 1 and 2 of the same event_id.
    first = reply("looking into it", "1800000000.000100")
    answers = [await hub.slack.event(first, event_id="EvREPLY1")]
    for retry in (1, 2):
        answers.append(await hub.slack.event(first, event_id="EvREPLY1", retry=retry))
    assert [a.status_code for a in answers] == [200, 200, 200]
    # Three copies at once (a slow hub: the retries overlap the first delivery).
    second = reply("found it", "1800000000.000200")
    at_once = await asyncio.gather(
        hub.slack.event(second, event_id="EvREPLY2"),
        hub.slack.event(second, event_id="EvREPLY2", retry=1),
        hub.slack.event(second, event_id="EvREPLY2", retry=2, retry_reason="http_error"),
    )
    assert [a.status_code for a in at_once] == [200, 200, 200]
    assert await _bodies(hub, alice, ticket["id"], 2) == ["looking into it", "found it"]
    # A new event (another event_id) with the same text is a new reply, not a duplicate.
    await hub.slack.event(reply("found it", "1800000000.000300"), event_id="EvREPLY3")
    assert await _bodies(hub, alice, ticket["id"], 3) == ["looking into it", "found it", "found it"]


async def test_a_redelivered_command_runs_once(hub: SlackHub) -> None:
    alice, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Login loops")
    key, _url = hub.slack.response_url()
    body = hub.slack.command_body("UBOB", f"comment {ticket['key']} retried?", CHANNEL, key)
    sent = await asyncio.gather(
        *(hub.slack.send(body, "application/x-www-form-urlencoded") for _ in range(3))
    )
    assert [r.status_code for r in sent] == [200, 200, 200]
    assert await _bodies(hub, alice, ticket["id"], 1) == ["retried?"]
    assert len([r for r in hub.fake.responses if r["key"] == key]) == 1  # one answer too
    # The same command typed again is a new request (a new trigger_id) and runs.
    await hub.command("UBOB", f"comment {ticket['key']} retried?")
    assert await _bodies(hub, alice, ticket["id"], 2) == ["retried?", "retried?"]


async def test_a_redelivered_button_click_runs_once(hub: SlackHub) -> None:
    alice, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Click me")
    key, url = hub.slack.response_url()
    payload = {
        "type": "block_actions", "team": {"id": "T111", "domain": "fake"},
        "user": {"id": "UBOB", "username": "ubob", "team_id": "T111"}, "api_app_id": "A111",
        "token": "legacy", "trigger_id": "777.888.abc", "channel": {"id": CHANNEL, "name": "general"},
        "container": {"type": "message", "message_ts": "1.0001", "channel_id": CHANNEL},
        "response_url": url,
        "actions": [{"action_id": "sb_assign_me", "value": str(ticket["id"]), "action_ts": "1800000000.5"}],
    }  # fmt: skip
    sent = await asyncio.gather(*(hub.slack.interactive(payload) for _ in range(3)))
    assert [r.status_code for r in sent] == [200, 200, 200]
    await hub.answer(key)
    await hub.settle()
    assert len([r for r in hub.fake.responses if r["key"] == key]) == 1
    url = f"/api/projects/{project['id']}/events"
    events = (await hub.api.get(url, token=alice.token, query={"after": 0, "limit": 500})).body
    assigned = [e for e in events["items"] if e["type"] == "ticket.assigned"]
    assert len(assigned) == 1


async def test_claims_are_unique_across_concurrent_callers_and_expire(hub: SlackHub) -> None:
    """The service under the middleware: one winner among concurrent claims; pruning removes only
    records older than DELIVERY_TTL, after which the key could be claimed again."""
    uow = hub.context.uow
    results = await asyncio.gather(*(claim_delivery(uow(), "slack", "T1/event:EvX") for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert await claim_delivery(uow(), "discord", "T1/event:EvX")  # another platform's ids are apart
    old = utcnow() - DELIVERY_TTL - timedelta(minutes=1)
    assert await claim_delivery(uow(), "slack", "T1/event:EvOld", now=old)
    assert await prune_deliveries(uow()) == 1
    assert not await claim_delivery(uow(), "slack", "T1/event:EvX")  # still remembered
    assert await claim_delivery(uow(), "slack", "T1/event:EvOld")  # forgotten after it expired


async def test_a_request_whose_processing_died_is_redone_by_the_retry(hub: SlackHub) -> None:
    """A hub that claimed an event and died before finishing must not lose it: Slack's retry a minute
    later takes the stale claim over and the reply becomes its comment (once)."""
    alice, project = await _setup(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Queue is stuck")
    root = await hub.root(ticket["key"])
    event = {"type": "message", "channel": CHANNEL, "user": "UBOB", "text": "restarting the consumer",
             "ts": "1800000000.000400", "thread_ts": root.ts, "channel_type": "channel"}  # fmt: skip
    key = delivery_key(json.loads(hub.slack.event_body(event, "EvDIED")))
    assert key is not None
    # The claim a dead process left behind, taken when Slack first delivered (a minute ago).
    assert await claim_delivery(hub.context.uow(), "slack", key, now=utcnow() - timedelta(minutes=1))
    answers = [await hub.slack.event(event, event_id="EvDIED", retry=1) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert await _bodies(hub, alice, ticket["id"], 1) == ["restarting the consumer"]


async def test_only_stale_unfinished_claims_are_taken_over(hub: SlackHub) -> None:
    uow = hub.context.uow
    now = utcnow()
    assert await claim_delivery(uow(), "slack", "T1/event:EvBusy", now=now)
    # Still being worked on: a redelivery inside RECLAIM_AFTER is dropped.
    assert not await claim_delivery(uow(), "slack", "T1/event:EvBusy", now=now + RECLAIM_AFTER / 2)
    # Left unfinished past RECLAIM_AFTER: exactly one of several concurrent redeliveries takes it.
    later = now + RECLAIM_AFTER + timedelta(seconds=1)
    results = await asyncio.gather(
        *(claim_delivery(uow(), "slack", "T1/event:EvBusy", now=later) for _ in range(4))
    )
    assert sorted(results) == [False, False, False, True]
    # Finished: never taken again, however late the redelivery.
    await finish_delivery(uow(), "slack", "T1/event:EvBusy", now=later)
    assert not await claim_delivery(uow(), "slack", "T1/event:EvBusy", now=later + timedelta(minutes=10))
