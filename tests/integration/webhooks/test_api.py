"""The webhook endpoints API: CRUD, validation, secrets shown once, SSRF refusal, permissions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from quart import Quart

from hub.adapters.db.engine import Database
from hub.app import create_app
from hub.config import Settings
from hub.context import HubContext, build_context
from tests.conftest import make_settings
from tests.integration.webhooks.conftest import admin_and_project, create_hook, with_webhook_api
from tests.integration.webhooks.receiver import Receiver
from tests.support.api import Api, User


async def test_create_list_get_update_delete(api: Api, receiver: Receiver) -> None:
    owner, pid = await admin_and_project(api)
    created = await create_hook(
        api, owner, pid, receiver.url(), description="CI", event_types=["ticket.created", "comment.created"]
    )
    assert created["secret"].startswith("whsec_")
    assert created["project_id"] == pid
    assert created["event_types"] == ["ticket.created", "comment.created"]
    assert created["enabled"] is True
    hook_id = created["id"]

    listed = await api.get(f"/api/projects/{pid}/webhooks", token=owner.token)
    assert listed.status == 200
    assert [h["id"] for h in listed.body["items"]] == [hook_id]
    got = await api.get(f"/api/webhooks/{hook_id}", token=owner.token)
    assert got.status == 200
    # The secret is shown on creation only.
    assert "secret" not in got.body
    assert all("secret" not in h for h in listed.body["items"])

    patched = await api.patch(
        f"/api/webhooks/{hook_id}", json={"event_types": None, "description": "all"}, token=owner.token
    )
    assert patched.status == 200, patched.body
    assert patched.body["event_types"] is None
    assert patched.body["description"] == "all"
    assert "secret" not in patched.body
    off = await api.patch(f"/api/webhooks/{hook_id}", json={"enabled": False}, token=owner.token)
    assert off.body["enabled"] is False
    assert off.body["disabled_reason"] == "disabled by a project admin"
    on = await api.patch(f"/api/webhooks/{hook_id}", json={"enabled": True}, token=owner.token)
    assert on.body["enabled"] is True
    assert on.body["disabled_reason"] is None

    assert (await api.delete(f"/api/webhooks/{hook_id}", token=owner.token)).status == 204
    assert (await api.get(f"/api/webhooks/{hook_id}", token=owner.token)).status == 404
    assert (await api.get(f"/api/projects/{pid}/webhooks", token=owner.token)).body["items"] == []


async def test_rotate_secret_returns_a_new_secret_once(api: Api, receiver: Receiver) -> None:
    owner, pid = await admin_and_project(api)
    created = await create_hook(api, owner, pid, receiver.url())
    rotated = await api.post(f"/api/webhooks/{created['id']}/rotate-secret", token=owner.token)
    assert rotated.status == 200
    assert rotated.body["secret"].startswith("whsec_")
    assert rotated.body["secret"] != created["secret"]
    assert rotated.body["previous_secret_expires_at"] is not None
    assert "secret" not in (await api.get(f"/api/webhooks/{created['id']}", token=owner.token)).body


async def test_validation_names_the_fields(api: Api, receiver: Receiver) -> None:
    owner, pid = await admin_and_project(api)
    bad = await api.post(
        f"/api/projects/{pid}/webhooks",
        json={"url": receiver.url(), "event_types": ["ticket.created", "project.created"]},
        token=owner.token,
    )
    assert bad.status == 422
    assert set(bad.error_fields()) == {"event_types"}
    assert bad.body["error"]["code"] == "validation_error"
    empty = await api.post(
        f"/api/projects/{pid}/webhooks", json={"url": receiver.url(), "event_types": []}, token=owner.token
    )
    assert empty.status == 422
    assert set(empty.error_fields()) == {"event_types"}
    for url in ("ftp://example.com/hook", "http://user:pw@example.com/", "not a url", "file:///etc/passwd"):
        reply = await api.post(f"/api/projects/{pid}/webhooks", json={"url": url}, token=owner.token)
        assert reply.status == 422, url
        assert set(reply.error_fields()) == {"url"}, url
    unknown = await api.post(
        f"/api/projects/{pid}/webhooks", json={"url": receiver.url(), "secret": "mine"}, token=owner.token
    )
    assert unknown.status == 422
    assert unknown.error_fields() == {"secret": "unknown field"}
    hook = await create_hook(api, owner, pid, receiver.url())
    patch = await api.patch(f"/api/webhooks/{hook['id']}", json={"url": "gopher://x"}, token=owner.token)
    assert patch.status == 422
    assert set(patch.error_fields()) == {"url"}


@pytest.fixture
async def strict_api(database: tuple[str, str | None]) -> AsyncIterator[Api]:
    """The hub as in production: private destinations refused."""
    settings: Settings = make_settings(database[0], WEBHOOK_ALLOW_PRIVATE="false")
    context: HubContext = build_context(settings)
    await context.db.dispose()
    context.db = Database(settings.database_url, schema=database[1])
    app: Quart = with_webhook_api(create_app(settings, context))
    async with app.test_app():
        yield Api(app.test_client())
    await context.db.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://192.168.1.10/",
    ],
)
async def test_private_destinations_are_refused(strict_api: Api, url: str) -> None:
    owner, pid = await admin_and_project(strict_api)
    reply = await strict_api.post(f"/api/projects/{pid}/webhooks", json={"url": url}, token=owner.token)
    assert reply.status == 422, reply.body
    assert set(reply.error_fields()) == {"url"}
    assert "private or reserved" in reply.error_fields()["url"]
    assert (await strict_api.get(f"/api/projects/{pid}/webhooks", token=owner.token)).body["items"] == []


async def test_private_destination_refused_on_update_too(strict_api: Api) -> None:
    owner, pid = await admin_and_project(strict_api)
    created = await strict_api.post(
        f"/api/projects/{pid}/webhooks", json={"url": "http://93.184.215.14/hook"}, token=owner.token
    )
    assert created.status == 201, created.body
    reply = await strict_api.patch(
        f"/api/webhooks/{created.body['id']}", json={"url": "http://10.0.0.1/"}, token=owner.token
    )
    assert reply.status == 422
    assert set(reply.error_fields()) == {"url"}


async def test_permissions(api: Api, receiver: Receiver) -> None:
    owner, pid = await admin_and_project(api)
    admin, member, viewer, outsider = [await api.user(n) for n in ("Ada", "Mel", "Vic", "Otto")]
    for user, role in ((admin, "admin"), (member, "member"), (viewer, "viewer")):
        await api.add(owner, pid, user, role)
    hook = await create_hook(api, owner, pid, receiver.url())
    delivery_id = await _a_delivery(api, owner, hook["id"])
    calls = [
        ("GET", f"/api/projects/{pid}/webhooks", None),
        ("POST", f"/api/projects/{pid}/webhooks", {"url": receiver.url()}),
        ("GET", f"/api/webhooks/{hook['id']}", None),
        ("PATCH", f"/api/webhooks/{hook['id']}", {"description": "x"}),
        ("POST", f"/api/webhooks/{hook['id']}/rotate-secret", None),
        ("POST", f"/api/webhooks/{hook['id']}/test", None),
        ("GET", f"/api/webhooks/{hook['id']}/deliveries", None),
        ("POST", f"/api/webhooks/{hook['id']}/replay", {"since": "2020-01-01T00:00:00Z"}),
        ("GET", f"/api/deliveries/{delivery_id}", None),
        ("POST", f"/api/deliveries/{delivery_id}/redeliver", None),
        ("DELETE", f"/api/webhooks/{hook['id']}", None),
    ]
    for method, path, body in calls:
        assert (await api.call(method, path, json=body)).status == 401, path
        assert (await api.call(method, path, json=body, token=outsider.token)).status == 404, path
        assert (await api.call(method, path, json=body, token=viewer.token)).status == 403, path
        assert (await api.call(method, path, json=body, token=member.token)).status == 403, path
    for method, path, body in calls:
        reply = await api.call(method, path, json=body, token=admin.token)
        assert reply.status in (200, 201, 202, 204), (path, reply.body)


async def _a_delivery(api: Api, owner: User, hook_id: int) -> int:
    reply = await api.post(f"/api/webhooks/{hook_id}/test", token=owner.token)
    assert reply.status == 200, reply.body
    return int(reply.body["delivery_id"])


async def test_missing_webhook_is_404(api: Api) -> None:
    owner, _pid = await admin_and_project(api)
    for method, path in (
        ("GET", "/api/webhooks/999"),
        ("DELETE", "/api/webhooks/999"),
        ("POST", "/api/webhooks/999/rotate-secret"),
        ("GET", "/api/deliveries/999"),
        ("POST", "/api/deliveries/999/redeliver"),
    ):
        reply = await api.call(method, path, token=owner.token)
        assert reply.status == 404, path
        assert reply.body["error"]["code"] == "not_found"


async def test_openapi_documents_the_webhook_api(api: Api) -> None:
    spec = (await api.get("/openapi.json")).body
    for path in (
        "/api/projects/{project_id}/webhooks",
        "/api/webhooks/{webhook_id}",
        "/api/webhooks/{webhook_id}/rotate-secret",
        "/api/webhooks/{webhook_id}/test",
        "/api/webhooks/{webhook_id}/deliveries",
        "/api/webhooks/{webhook_id}/replay",
        "/api/deliveries/{delivery_id}/redeliver",
    ):
        assert path in spec["paths"], path
    create = spec["paths"]["/api/projects/{project_id}/webhooks"]["post"]
    assert "201" in create["responses"]
    assert "WebhookIn" in json.dumps(create["requestBody"])
