"""The integrations API: who may manage them, the secret shown once, changes, rotation, the log."""

from __future__ import annotations

from tests.integration.integrations.conftest import (
    create_integration,
    github_request,
    log_of,
    owner_project,
    ping,
    send,
)
from tests.support.api import Api


async def test_create_shows_the_secret_once_and_fills_in_defaults(api: Api) -> None:
    owner, pid = await owner_project(api)
    made = await create_integration(api, owner, pid, "alertmanager", options={"labels": ["service"]})
    assert made["secret"].startswith("whsec_")
    assert made["url"] == f"http://127.0.0.1:8000/hooks/{made['id']}"
    assert made["name"] == "Alertmanager"
    assert made["enabled"] is True
    assert made["options"] == {
        "severity_map": {"critical": "urgent", "warning": "high", "info": "low"},
        "labels": ["service"],
        "resolved_status": "done",
        "reopen_status": "todo",
    }
    shown = await api.get(f"/api/integrations/{made['id']}", token=owner.token)
    assert shown.status == 200
    assert "secret" not in shown.body
    listed = await api.get(f"/api/projects/{pid}/integrations", token=owner.token)
    assert [i["id"] for i in listed.body["items"]] == [made["id"]]
    assert "secret" not in listed.body["items"][0]
    # The integration acts as a member of the project named after the sender.
    members = await api.get(f"/api/projects/{pid}/members", token=owner.token)
    body = members.body if isinstance(members.body, list) else members.body["items"]
    bot = [m for m in body if m["user_id"] == made["user_id"]]
    assert bot
    assert bot[0]["role"] == "member"
    assert bot[0]["user"]["name"] == "Alertmanager"


async def test_outsiders_get_404_members_403_and_anonymous_401(api: Api) -> None:
    owner, pid = await owner_project(api)
    member, stranger = await api.user("Mia Member"), await api.user("Sam Stranger")
    await api.add(owner, pid, member, "member")
    made = await create_integration(api, owner, pid, "github")
    iid = made["id"]
    for user, status in ((stranger, 404), (member, 403)):
        assert (await api.get(f"/api/projects/{pid}/integrations", token=user.token)).status == status
        reply = await api.post(f"/api/projects/{pid}/integrations", json={"kind": "github"}, token=user.token)
        assert reply.status == status
        for method, path in (
            ("GET", f"/api/integrations/{iid}"),
            ("PATCH", f"/api/integrations/{iid}"),
            ("DELETE", f"/api/integrations/{iid}"),
            ("POST", f"/api/integrations/{iid}/rotate-secret"),
            ("GET", f"/api/integrations/{iid}/deliveries"),
        ):
            json = {"name": "x"} if method == "PATCH" else None
            reply = await api.call(method, path, json=json, token=user.token)
            expected = 404 if user is stranger else 403
            assert reply.status == expected, (method, path, reply.body)
            assert reply.body["error"]["code"] == ("not_found" if expected == 404 else "forbidden")
    assert (await api.get(f"/api/integrations/{iid}")).status == 401
    assert (await api.get("/api/integrations/999999", token=owner.token)).status == 404


async def test_bad_input_names_the_field(api: Api) -> None:
    owner, pid = await owner_project(api)
    reply = await api.post(f"/api/projects/{pid}/integrations", json={"kind": "jira"}, token=owner.token)
    assert reply.status == 422
    assert "kind" in reply.error_fields()
    reply = await api.post(
        f"/api/projects/{pid}/integrations",
        json={"kind": "alertmanager", "options": {"severity_map": {"critical": "asap"}, "bogus": 1}},
        token=owner.token,
    )
    assert reply.status == 422
    assert set(reply.error_fields()) == {"options.severity_map", "options.bogus"}
    reply = await api.post(
        f"/api/projects/{pid}/integrations",
        json={"kind": "github", "options": {"close_status": "shipped"}},
        token=owner.token,
    )
    assert reply.status == 422
    assert "options.close_status" in reply.error_fields()
    reply = await api.post(f"/api/projects/{pid}/integrations", json={"kind": "generic"}, token=owner.token)
    assert reply.status == 422
    assert "name" in reply.error_fields()


async def test_patch_rename_disable_and_delete(api: Api) -> None:
    owner, pid = await owner_project(api)
    made = await create_integration(api, owner, pid, "generic", name="Deploy bot")
    iid = made["id"]
    reply = await api.patch(
        f"/api/integrations/{iid}", json={"name": "Release bot", "enabled": False}, token=owner.token
    )
    assert reply.status == 200, reply.body
    assert (reply.body["name"], reply.body["enabled"]) == ("Release bot", False)
    reply = await api.patch(f"/api/integrations/{iid}", json={"kind": "github"}, token=owner.token)
    assert reply.status == 422
    members = await api.get(f"/api/projects/{pid}/members", token=owner.token)
    body = members.body if isinstance(members.body, list) else members.body["items"]
    assert [m["user"]["name"] for m in body if m["user_id"] == made["user_id"]] == ["Release bot"]
    assert (await api.delete(f"/api/integrations/{iid}", token=owner.token)).status == 204
    assert (await api.get(f"/api/integrations/{iid}", token=owner.token)).status == 404
    members = await api.get(f"/api/projects/{pid}/members", token=owner.token)
    body = members.body if isinstance(members.body, list) else members.body["items"]
    assert made["user_id"] not in [m["user_id"] for m in body]


async def test_rotation_keeps_the_previous_secret_verifying_and_logs_every_request(api: Api) -> None:
    owner, pid = await owner_project(api)
    made = await create_integration(api, owner, pid, "github")
    rotated = await api.post(f"/api/integrations/{made['id']}/rotate-secret", token=owner.token)
    assert rotated.status == 200
    new = rotated.body["secret"]
    assert new != made["secret"]
    assert rotated.body["previous_secret_expires_at"]
    assert (await send(api, made, github_request(made["secret"], "ping", ping()))).status == 200
    assert (await send(api, made, github_request(new, "ping", ping()))).status == 200
    assert (await send(api, made, github_request("whsec_wrong", "ping", ping()))).status == 401
    log = await log_of(api, owner, made)
    assert [d["verdict"] for d in log] == ["rejected", "ignored", "ignored"]
    assert log[0]["status_code"] == 401
    assert "does not match" in log[0]["summary"]
    assert log[1]["event"] == "ping"
    assert log[1]["summary"].startswith("ping: ")
    assert log[1]["body"].startswith('{"zen"')
    page = await api.get(f"/api/integrations/{made['id']}/deliveries", token=owner.token, query={"limit": 1})
    assert len(page.body["items"]) == 1
    assert page.body["next_before"] == log[0]["id"]
    page = await api.get(
        f"/api/integrations/{made['id']}/deliveries",
        token=owner.token,
        query={"verdict": "rejected"},
    )
    assert [d["id"] for d in page.body["items"]] == [log[0]["id"]]
