"""Alertmanager: one ticket per alert group, updated by re-sends, resolved and reopened."""

from __future__ import annotations

from tests.integration.integrations.conftest import (
    alert,
    alertmanager_request,
    comments_of,
    create_integration,
    log_of,
    notification,
    owner_project,
    send,
)
from tests.support.api import Api


async def _tickets(api: Api, token: str, pid: int) -> list[dict]:  # type: ignore[type-arg]
    reply = await api.get(f"/api/projects/{pid}/tickets", token=token)
    return list(reply.body["items"])


async def test_a_firing_group_opens_one_ticket_and_resends_do_not_duplicate(api: Api) -> None:
    owner, pid = await owner_project(api)
    am = await create_integration(
        api, owner, pid, "alertmanager", options={"labels": ["service", "severity"]}
    )
    db1 = alert("InstanceDown", instance="db1:9100")
    firing = notification("firing", db1, summary="Database instances are down")
    reply = await send(api, am, alertmanager_request(am["secret"], firing))
    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "opened OPS-1"
    [ticket] = await _tickets(api, owner.token, pid)
    assert ticket["title"] == "Database instances are down"
    assert ticket["priority"] == "urgent"
    assert ticket["labels"] == ["billing", "critical"]
    assert ticket["reporter"]["name"] == "Alertmanager"
    assert "db1:9100 has been down for 5m" in ticket["description"]
    assert db1["generatorURL"] in ticket["description"]
    # Alertmanager re-sends the same notification (repeat_interval, or a retry).
    again = await send(api, am, alertmanager_request(am["secret"], firing))
    assert again.body["verdict"] == "duplicate"
    assert len(await _tickets(api, owner.token, pid)) == 1
    # A second alert joins the group: one comment, still one ticket.
    db2 = alert("InstanceDown", instance="db2:9100", starts="2026-12-03T14:05:00Z")
    reply = await send(api, am, alertmanager_request(am["secret"], notification("firing", db1, db2)))
    assert reply.body["summary"] == "commented: 1 new alert", reply.body
    [comment] = await comments_of(api, owner, "OPS-1")
    assert "db2:9100" in comment["body"]
    assert "db1:9100" not in comment["body"]
    assert comment["origin"] == "alertmanager"
    assert len(await _tickets(api, owner.token, pid)) == 1


async def test_resolved_moves_it_and_a_refire_reopens_it(api: Api) -> None:
    owner, pid = await owner_project(api)
    am = await create_integration(api, owner, pid, "alertmanager", options={"resolved_status": "in_review"})
    db1 = alert("HighLatency", severity="warning")
    await send(api, am, alertmanager_request(am["secret"], notification("firing", db1, group="HighLatency")))
    [ticket] = await _tickets(api, owner.token, pid)
    assert ticket["title"] == "HighLatency on db1:9100"  # the summary the group's alerts share
    assert ticket["priority"] == "high"
    done = alert("HighLatency", severity="warning", status="resolved", ends="2026-12-03T14:30:00Z")
    reply = await send(
        api, am, alertmanager_request(am["secret"], notification("resolved", done, group="HighLatency"))
    )
    assert reply.status == 200, reply.body
    shown = await api.get("/api/tickets/OPS-1", token=owner.token)
    assert shown.body["status"] == "in_review"
    assert (await comments_of(api, owner, "OPS-1"))[-1]["body"].startswith("Resolved:")
    refire = alert("HighLatency", severity="warning", starts="2026-12-03T15:00:00Z")
    reply = await send(
        api, am, alertmanager_request(am["secret"], notification("firing", refire, group="HighLatency"))
    )
    assert reply.status == 200, reply.body
    shown = await api.get("/api/tickets/OPS-1", token=owner.token)
    assert shown.body["status"] == "todo"
    assert (await comments_of(api, owner, "OPS-1"))[-1]["body"].startswith("Firing again:")
    assert len(await _tickets(api, owner.token, pid)) == 1


async def test_severity_map_default_and_unknown_severity(api: Api) -> None:
    owner, pid = await owner_project(api)
    am = await create_integration(
        api, owner, pid, "alertmanager", options={"severity_map": {"page": "urgent"}}
    )
    payload = notification("firing", alert("DiskFull", severity="page"), group="DiskFull")
    await send(api, am, alertmanager_request(am["secret"], payload))
    payload = notification("firing", alert("Other", severity="whatever"), group="Other")
    await send(api, am, alertmanager_request(am["secret"], payload))
    two = notification(
        "firing",
        alert("Mixed", severity="info"),
        alert("Mixed", instance="db2:9100", severity="info"),
        group="Mixed",
    )
    await send(api, am, alertmanager_request(am["secret"], two))
    tickets = {t["title"]: t["priority"] for t in await _tickets(api, owner.token, pid)}
    # Without a shared summary the title is the alertname and the group labels; `info` is not in
    # this integration's map (it replaced the default one), so it is medium too.
    assert tickets == {"DiskFull on db1:9100": "urgent", "Other on db1:9100": "medium", "Mixed": "medium"}


async def test_wrong_bearer_and_bad_payloads(api: Api) -> None:
    owner, pid = await owner_project(api)
    am = await create_integration(api, owner, pid, "alertmanager")
    payload = notification("firing", alert("InstanceDown"))
    assert (await send(api, am, alertmanager_request("whsec_nope", payload))).status == 401
    request = alertmanager_request(am["secret"], payload)
    del request["headers"]["Authorization"]
    assert (await send(api, am, request)).status == 401
    assert await _tickets(api, owner.token, pid) == []
    reply = await send(api, am, alertmanager_request(am["secret"], {"version": "3", "status": "firing"}))
    assert reply.status == 422
    assert set(reply.error_fields()) == {"version", "groupKey", "alerts"}
    reply = await send(
        api, am, {"data": b"not json", "headers": alertmanager_request(am["secret"], {})["headers"]}
    )
    assert reply.status == 400
    log = await log_of(api, owner, am)
    assert [d["verdict"] for d in log] == ["invalid", "invalid", "rejected", "rejected"]
    resolved_first = notification("resolved", alert("Never", status="resolved"), group="Never")
    reply = await send(api, am, alertmanager_request(am["secret"], resolved_first))
    assert reply.status == 200
    assert reply.body["summary"] == "no ticket for this group"
