"""GitHub: pushes and pull requests that mention tickets comment on them; "fixes" closes; once only."""

from __future__ import annotations

import asyncio

from hub.context import HubContext
from tests.integration.integrations.conftest import (
    comments_of,
    commit,
    create_integration,
    github_request,
    log_of,
    owner_project,
    ping,
    pull_request,
    push,
    send,
    stored_deliveries,
)
from tests.support.api import Api


async def test_ping_answers_200_and_changes_nothing(api: Api) -> None:
    owner, pid = await owner_project(api)
    hook = await create_integration(api, owner, pid, "github")
    reply = await send(api, hook, github_request(hook["secret"], "ping", ping()))
    assert reply.status == 200
    assert reply.body["verdict"] == "ignored"


async def test_a_push_mentioning_tickets_comments_with_links(api: Api) -> None:
    owner, pid = await owner_project(api)
    hook = await create_integration(api, owner, pid, "github")
    first = await api.ticket(owner, pid, title="Pager fires twice")
    second = await api.ticket(owner, pid, title="Billing is slow")
    commits = [
        commit(f"Debounce the pager ({first['key'].lower()})"),
        commit(f"Cache invoices, refs {second['key']}\n\nLonger explanation"),
        commit("Unrelated tidy-up"),
    ]
    reply = await send(api, hook, github_request(hook["secret"], "push", push("feature/x", *commits)))
    assert reply.status == 200, reply.body
    assert reply.body["verdict"] == "processed"
    [on_first] = await comments_of(api, owner, first["key"])
    assert on_first["author"]["name"] == "GitHub"
    assert on_first["origin"] == "github"
    assert "pushed 1 commit mentioning OPS-1 to octo/pager@feature/x" in on_first["body"]
    assert commits[0]["url"] in on_first["body"]
    assert commits[0]["id"][:7] in on_first["body"]
    [on_second] = await comments_of(api, owner, second["key"])
    assert commits[1]["url"] in on_second["body"]
    assert "Longer explanation" not in on_second["body"]
    # Not the default branch: "fixes" would not close; nothing moved here anyway.
    ticket = await api.get(f"/api/tickets/{first['key']}", token=owner.token)
    assert ticket.body["status"] == "todo"


async def test_fixes_on_the_default_branch_closes_but_not_on_another(api: Api) -> None:
    owner, pid = await owner_project(api)
    hook = await create_integration(api, owner, pid, "github", options={"close_status": "in_review"})
    ticket = await api.ticket(owner, pid, title="Crash on start")
    fix = commit(f"Fixes {ticket['key']}: guard the config")
    reply = await send(api, hook, github_request(hook["secret"], "push", push("topic", fix)))
    assert reply.status == 200
    assert (await api.get(f"/api/tickets/{ticket['key']}", token=owner.token)).body["status"] == "todo"
    reply = await send(
        api,
        hook,
        github_request(hook["secret"], "push", push("main", commit(f"Merge: fixes {ticket['key']}"))),
    )
    assert reply.status == 200, reply.body
    assert f"moved {ticket['key']} to in_review" in reply.body["summary"]
    shown = await api.get(f"/api/tickets/{ticket['key']}", token=owner.token)
    assert shown.body["status"] == "in_review"


async def test_pull_request_opened_then_merged_comments_and_closes(api: Api) -> None:
    owner, pid = await owner_project(api)
    hook = await create_integration(api, owner, pid, "github")
    ticket = await api.ticket(owner, pid, title="Timeouts")
    other = await api.ticket(owner, pid, title="Mentioned by branch only")
    opened = pull_request(
        "opened",
        title="Raise the timeout",
        body=f"Resolves {ticket['key']}",
        branch=f"{other['key'].lower()}-timeouts",
    )
    reply = await send(api, hook, github_request(hook["secret"], "pull_request", opened))
    assert reply.status == 200, reply.body
    [comment] = await comments_of(api, owner, ticket["key"])
    assert comment["body"] == (
        'Pull request octo/pager#42 "Raise the timeout" opened by mona: https://github.com/octo/pager/pull/42'
    )
    assert len(await comments_of(api, owner, other["key"])) == 1
    assert (await api.get(f"/api/tickets/{ticket['key']}", token=owner.token)).body["status"] == "todo"
    merged = pull_request("closed", title="Raise the timeout", body=f"Resolves {ticket['key']}", merged=True)
    reply = await send(api, hook, github_request(hook["secret"], "pull_request", merged))
    assert reply.status == 200, reply.body
    comments = await comments_of(api, owner, ticket["key"])
    assert comments[-1]["body"].startswith('Pull request octo/pager#42 "Raise the timeout" merged by hubot')
    assert (await api.get(f"/api/tickets/{ticket['key']}", token=owner.token)).body["status"] == "done"
    closed = pull_request(
        "closed", title=f"Try {ticket['key']} again", body=f"fixes {other['key']}", merged=False
    )
    reply = await send(api, hook, github_request(hook["secret"], "pull_request", closed))
    assert "closed without merging" in (await comments_of(api, owner, ticket["key"]))[-1]["body"]
    assert (await api.get(f"/api/tickets/{other['key']}", token=owner.token)).body["status"] == "todo"


async def test_bad_or_missing_signatures_do_nothing_and_are_logged(api: Api) -> None:
    owner, pid = await owner_project(api)
    hook = await create_integration(api, owner, pid, "github")
    ticket = await api.ticket(owner, pid)
    request = github_request("not-the-secret", "push", push("main", commit(f"fixes {ticket['key']}")))
    reply = await send(api, hook, request)
    assert reply.status == 401
    assert reply.body["error"]["code"] == "unauthenticated"
    del request["headers"]["X-Hub-Signature-256"]
    assert (await send(api, hook, request)).status == 401
    # A valid signature of another body does not pass either.
    good = github_request(hook["secret"], "push", push("main"))
    tampered = {"data": request["data"], "headers": good["headers"]}
    assert (await send(api, hook, tampered)).status == 401
    assert await comments_of(api, owner, ticket["key"]) == []
    assert (await api.get(f"/api/tickets/{ticket['key']}", token=owner.token)).body["status"] == "todo"
    log = await log_of(api, owner, hook)
    assert [d["verdict"] for d in log] == ["rejected"] * 3
    assert {d["summary"] for d in log} == {
        "missing X-Hub-Signature-256",
        "X-Hub-Signature-256 does not match",
    }


async def test_a_redelivery_runs_once_even_when_sent_concurrently(api: Api, context: HubContext) -> None:
    owner, pid = await owner_project(api)
    hook = await create_integration(api, owner, pid, "github")
    ticket = await api.ticket(owner, pid)
    request = github_request(hook["secret"], "push", push("feature", commit(f"work on {ticket['key']}")))
    replies = await asyncio.gather(*(send(api, hook, request) for _ in range(5)))
    assert sorted(r.status for r in replies) == [200] * 5
    assert sorted(r.body["verdict"] for r in replies) == ["duplicate"] * 4 + ["processed"]
    assert len(await comments_of(api, owner, ticket["key"])) == 1
    # Later, GitHub's "Redeliver" button sends the same X-GitHub-Delivery again.
    again = await send(api, hook, request)
    assert again.body["verdict"] == "duplicate"
    assert len(await comments_of(api, owner, ticket["key"])) == 1
    rows = await stored_deliveries(context)
    assert [r.verdict for r in rows].count("processed") == 1
    assert [r.verdict for r in rows].count("duplicate") == 5


async def test_unknown_tickets_and_events_are_noted_not_failed(api: Api) -> None:
    owner, pid = await owner_project(api)
    hook = await create_integration(api, owner, pid, "github")
    reply = await send(
        api, hook, github_request(hook["secret"], "push", push("main", commit("fixes OPS-999")))
    )
    assert reply.status == 200, reply.body
    assert reply.body["verdict"] == "ignored"
    assert "no ticket OPS-999" in reply.body["summary"]
    ticket = await api.ticket(owner, pid)
    nul = commit(f"binary\u0000junk for {ticket['key']}")
    reply = await send(api, hook, github_request(hook["secret"], "push", push("topic", nul)))
    assert reply.status == 200, reply.body
    [comment] = await comments_of(api, owner, ticket["key"])
    assert "binary\ufffdjunk" in comment["body"]
    reply = await send(api, hook, github_request(hook["secret"], "issues", {"action": "opened"}))
    assert reply.status == 200
    assert reply.body["verdict"] == "ignored"
    reply = await send(
        api, hook, {"data": b"[1, 2", "headers": github_request(hook["secret"], "push", {})["headers"]}
    )
    assert reply.status == 401  # the signature covers the exact bytes
