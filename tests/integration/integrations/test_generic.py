"""The generic kind: Standard Webhooks signatures, the documented actions, limits and switches."""

from __future__ import annotations

import time

from tests.integration.integrations.conftest import (
    MAX_BODY,
    RATE,
    comments_of,
    create_integration,
    generic_request,
    log_of,
    owner_project,
    send,
)
from tests.support.api import Api


async def test_create_is_an_upsert_by_external_id(api: Api) -> None:
    owner, pid = await owner_project(api)
    tool = await create_integration(api, owner, pid, "generic", name="Deploy bot")
    body = {
        "action": "create",
        "external_id": "deploy-981",
        "title": "Deploy 981 failed",
        "priority": "high",
        "labels": ["deploy"],
    }
    reply = await send(api, tool, generic_request(tool["secret"], body))
    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "opened OPS-1"
    ticket = (await api.get("/api/tickets/OPS-1", token=owner.token)).body
    assert (ticket["title"], ticket["priority"], ticket["labels"]) == (
        "Deploy 981 failed",
        "high",
        ["deploy"],
    )
    assert ticket["reporter"]["name"] == "Deploy bot"
    # The same external id again (a new webhook-id): the same ticket, changed where it differs.
    reply = await send(
        api, tool, generic_request(tool["secret"], {**body, "title": "Deploy 981 failed twice"})
    )
    assert reply.body["summary"] == "OPS-1 updated", reply.body
    reply = await send(
        api, tool, generic_request(tool["secret"], {**body, "title": "Deploy 981 failed twice"})
    )
    assert reply.body == {**reply.body, "verdict": "ignored", "summary": "OPS-1 unchanged"}
    listed = await api.get(f"/api/projects/{pid}/tickets", token=owner.token)
    assert [t["title"] for t in listed.body["items"]] == ["Deploy 981 failed twice"]


async def test_comment_status_and_assign_by_key_or_external_id(api: Api) -> None:
    owner, pid = await owner_project(api)
    bob = await api.user("Bob Baker")
    await api.add(owner, pid, bob, "member")
    tool = await create_integration(api, owner, pid, "generic", name="CI")
    ticket = await api.ticket(owner, pid)
    secret = tool["secret"]
    reply = await send(
        api,
        tool,
        generic_request(
            secret, {"action": "comment", "ticket": ticket["key"].lower(), "body": "Build 12 green"}
        ),
    )
    assert reply.status == 200, reply.body
    [comment] = await comments_of(api, owner, ticket["key"])
    assert (comment["body"], comment["origin"], comment["author"]["name"]) == (
        "Build 12 green",
        "integration",
        "CI",
    )
    reply = await send(
        api,
        tool,
        generic_request(secret, {"action": "status", "ticket": ticket["key"], "status": "in_progress"}),
    )
    assert reply.status == 200
    assert reply.body["verdict"] == "processed"
    reply = await send(
        api,
        tool,
        generic_request(secret, {"action": "assign", "ticket": ticket["key"], "assignee": bob.email.upper()}),
    )
    assert reply.status == 200, reply.body
    shown = (await api.get(f"/api/tickets/{ticket['key']}", token=owner.token)).body
    assert shown["status"] == "in_progress"
    assert shown["assignee"]["id"] == bob.id
    reply = await send(
        api, tool, generic_request(secret, {"action": "assign", "ticket": ticket["key"], "assignee": None})
    )
    assert (await api.get(f"/api/tickets/{ticket['key']}", token=owner.token)).body["assignee"] is None
    await send(
        api, tool, generic_request(secret, {"action": "create", "external_id": "x-1", "title": "From CI"})
    )
    reply = await send(
        api, tool, generic_request(secret, {"action": "status", "external_id": "x-1", "status": "done"})
    )
    assert reply.status == 200
    assert "status of OPS-2 changed" in reply.body["summary"]


async def test_invalid_requests_name_fields_and_are_logged(api: Api) -> None:
    owner, pid = await owner_project(api)
    stranger = await api.user("Sam")
    tool = await create_integration(api, owner, pid, "generic", name="CI")
    secret = tool["secret"]
    reply = await send(api, tool, generic_request(secret, {"action": "explode", "extra": 1}))
    assert reply.status == 422
    assert set(reply.error_fields()) == {"action", "extra"}
    reply = await send(
        api, tool, generic_request(secret, {"action": "create", "title": "x", "priority": "asap"})
    )
    assert reply.status == 422
    assert "priority" in reply.error_fields()
    reply = await send(
        api, tool, generic_request(secret, {"action": "comment", "ticket": "OPS-77", "body": "hi"})
    )
    assert reply.status == 404
    reply = await send(
        api, tool, generic_request(secret, {"action": "comment", "ticket": "ZZZ-1", "body": "hi"})
    )
    assert reply.status == 404
    ticket = await api.ticket(owner, pid)
    reply = await send(
        api,
        tool,
        generic_request(secret, {"action": "assign", "ticket": ticket["key"], "assignee": stranger.email}),
    )
    assert reply.status == 422
    assert reply.error_fields() == {"assignee": "not a member of this project"}
    log = await log_of(api, owner, tool)
    assert [d["verdict"] for d in log] == ["invalid"] * 5


async def test_signatures_timestamps_and_replays(api: Api) -> None:
    owner, pid = await owner_project(api)
    tool = await create_integration(api, owner, pid, "generic", name="CI")
    body = {"action": "create", "title": "Once"}
    stale = generic_request(tool["secret"], body, at=time.time() - 301)
    assert (await send(api, tool, stale)).status == 401
    future = generic_request(tool["secret"], body, at=time.time() + 301)
    assert (await send(api, tool, future)).status == 401
    other = await create_integration(api, owner, pid, "generic", name="Other")
    assert (await send(api, tool, generic_request(other["secret"], body))).status == 401
    request = generic_request(tool["secret"], body, msg_id="msg_fixed")
    assert (await send(api, tool, request)).body["verdict"] == "processed"
    assert (await send(api, tool, request)).body["verdict"] == "duplicate"
    listed = await api.get(f"/api/projects/{pid}/tickets", token=owner.token)
    assert len(listed.body["items"]) == 1
    log = await log_of(api, owner, tool)
    assert [d["verdict"] for d in log] == ["duplicate", "processed", "rejected", "rejected", "rejected"]
    assert "more than 300 s" in log[-1]["summary"]


async def test_disabled_410_deleted_404_too_large_413(api: Api) -> None:
    owner, pid = await owner_project(api)
    tool = await create_integration(api, owner, pid, "generic", name="CI")
    body = {"action": "create", "title": "x"}
    await api.patch(f"/api/integrations/{tool['id']}", json={"enabled": False}, token=owner.token)
    reply = await send(api, tool, generic_request(tool["secret"], body))
    assert reply.status == 410
    assert reply.body["error"]["code"] == "gone"
    assert (await log_of(api, owner, tool))[0]["verdict"] == "disabled"
    await api.patch(f"/api/integrations/{tool['id']}", json={"enabled": True}, token=owner.token)
    big = {**body, "description": "x" * MAX_BODY}  # the rest of the API would take it
    reply = await send(api, tool, generic_request(tool["secret"], big))
    assert reply.status == 413
    assert reply.body["error"]["code"] == "payload_too_large"
    fits = {**body, "description": "x" * (MAX_BODY - 200)}
    assert (await send(api, tool, generic_request(tool["secret"], fits))).status == 200
    await api.delete(f"/api/integrations/{tool['id']}", token=owner.token)
    reply = await send(api, tool, generic_request(tool["secret"], body))
    assert reply.status == 404
    assert reply.body["error"]["code"] == "not_found"
    assert (await api.post("/hooks/99999999999999999999", data=b"{}")).status == 404
    listed = await api.get(f"/api/projects/{pid}/tickets", token=owner.token)
    assert len(listed.body["items"]) == 1  # the one that fitted


async def test_rate_limit_per_integration_answers_429_with_retry_after(api: Api) -> None:
    owner, pid = await owner_project(api)
    tool = await create_integration(api, owner, pid, "generic", name="CI")
    other = await create_integration(api, owner, pid, "generic", name="Other")
    noise = generic_request("whsec_bm90IHRoZSBzZWNyZXQgb2YgYW55b25lIGF0IGFsbA==", {"action": "create"})
    for _ in range(RATE):
        assert (await send(api, tool, noise)).status == 401
    reply = await send(api, tool, generic_request(tool["secret"], {"action": "create", "title": "x"}))
    assert reply.status == 429
    assert reply.body["error"]["code"] == "rate_limited"
    assert int(reply.headers["Retry-After"]) >= 1
    reply = await send(api, other, generic_request(other["secret"], {"action": "create", "title": "x"}))
    assert reply.status == 200  # the limit is per integration
