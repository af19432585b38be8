"""Headers every answer carries, answers that must never be cached, who may read `/metrics`, and an
OpenAPI document that says what the API really answers."""

from __future__ import annotations

from typing import Any

from hub.api.openapi import OUTCOMES, PUBLIC
from hub.app import create_app
from hub.context import HubContext, build_context
from hub.domain.limits import BIGINT_MAX, INT_MAX
from tests.conftest import make_settings
from tests.support.api import Api

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def _no_store(reply: Any) -> bool:
    return all(reply.headers.get(name) == value for name, value in NO_STORE.items())


async def test_permissions_policy_denies_powerful_features_everywhere(api: Api) -> None:
    for path in ("/healthz", "/", "/api/nothing-here"):
        policy = (await api.get(path)).headers["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in policy


async def test_answers_carrying_tokens_or_secrets_are_never_cached(api: Api) -> None:
    owner = await api.user()
    login = await api.post(
        "/api/auth/login", json={"email": owner.email, "password": "correct-horse-battery"}
    )
    assert login.status == 200
    assert _no_store(login)
    refreshed = await api.post("/api/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert refreshed.status == 200
    assert _no_store(refreshed)
    registered = await api.post(
        "/api/auth/register",
        json={"email": "new@example.com", "password": "correct-horse-battery", "name": "N"},
    )
    assert _no_store(registered)
    project = await api.project(owner)
    created = await api.post(
        f"/api/projects/{project['id']}/webhooks", json={"url": "https://example.com/hook"}, token=owner.token
    )
    assert _no_store(created)
    if created.status == 201:  # the host may not resolve where the tests run
        rotated = await api.post(f"/api/webhooks/{created.body['id']}/rotate-secret", token=owner.token)
        assert rotated.status == 200
        assert _no_store(rotated)
    link = await api.post("/api/me/chat-links", token=owner.token)
    assert link.status == 201
    assert _no_store(link)
    assert _no_store(
        await api.post("/api/auth/login", json={"email": owner.email, "password": "wrong-password"})
    )
    assert "cache-control" not in (await api.get("/healthz")).headers


async def test_a_405_names_the_allowed_methods(api: Api) -> None:
    reply = await api.call("PUT", "/api/projects")
    assert reply.status == 405
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


async def test_metrics_answer_local_requests_only_when_no_token_is_set(api: Api) -> None:
    local = await api.client.get("/metrics")  # in-process: no peer address
    assert local.status_code == 200
    loopback = await api.client.get("/metrics", scope_base={"client": ("127.0.0.1", 5000)})
    assert loopback.status_code == 200
    remote = await api.client.get("/metrics", scope_base={"client": ("203.0.113.7", 5000)})
    assert remote.status_code == 403
    assert (await remote.get_json())["error"]["code"] == "forbidden"
    proxied = await api.client.get(
        "/metrics", scope_base={"client": ("127.0.0.1", 5000)}, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert proxied.status_code == 403  # a reverse proxy on this host forwards everyone from loopback


async def test_metrics_want_the_metrics_token_when_it_is_set(context: HubContext) -> None:
    settings = make_settings(context.settings.database_url, METRICS_TOKEN="scrape-me-0123456789")
    own = build_context(settings)
    await own.db.dispose()
    own.db = context.db  # the test's database (schema) for this context too
    app = create_app(settings, own)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert (await client.get("/metrics")).status_code == 401  # even from this machine
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await client.get(
            "/metrics",
            headers={"Authorization": "Bearer scrape-me-0123456789"},
            scope_base={"client": ("203.0.113.7", 5000)},
        )
        assert right.status_code == 200
        assert b"switchboard_http_requests_total" in await right.get_data()


async def test_openapi_declares_auth_errors_and_bounds_per_operation(api: Api) -> None:
    spec = (await api.get("/openapi.json")).body
    assert "security" not in spec  # per operation, not global
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]
    operations = {(m.upper(), p): op for p, ops in spec["paths"].items() for m, op in ops.items()}
    assert operations[("POST", "/api/auth/login")]["security"] == []
    assert operations[("POST", "/api/auth/register")]["security"] == []
    assert operations[("POST", "/api/auth/refresh")]["security"] == []
    for (method, path), operation in operations.items():
        responses = operation["responses"]
        assert any(status.startswith("2") for status in responses), (method, path)
        errors = [status for status in responses if status.startswith("4")]
        assert errors, (method, path)
        for status in errors:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
        if operation["security"]:
            assert operation["security"] == [{"bearer": []}]
            assert "401" in responses
        if "requestBody" in operation:
            assert operation["requestBody"]["required"] is True
            assert {"400", "413", "422"} <= set(responses)
        for parameter in operation["parameters"]:
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                assert parameter["schema"]["minimum"] == 1
                assert parameter["schema"]["maximum"] in (INT_MAX, BIGINT_MAX)
                assert "404" in responses
    assert "429" in operations[("POST", "/api/auth/login")]["responses"]
    assert "429" in operations[("POST", "/api/projects/{project_id}/members")]["responses"]
    assert "Retry-After" in operations[("POST", "/api/auth/login")]["responses"]["429"]["headers"]
    assert "403" in operations[("PATCH", "/api/projects/{project_id}")]["responses"]
    assert "409" in operations[("PATCH", "/api/tickets/{ref}")]["responses"]
    read = operations[("POST", "/api/notifications/{notification_id}/read")]["parameters"][0]
    assert read["schema"]["maximum"] == BIGINT_MAX


async def test_openapi_schemas_carry_the_validation_rules(api: Api) -> None:
    spec = (await api.get("/openapi.json")).body
    paths = spec["paths"]

    def body(path: str, method: str) -> dict[str, Any]:
        return dict(paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["properties"])

    project = body("/api/projects", "post")
    assert project["key"]["pattern"] == "^[A-Za-z][A-Za-z0-9]{1,9}$"
    assert (project["key"]["minLength"], project["key"]["maxLength"]) == (2, 10)
    webhook = body("/api/projects/{project_id}/webhooks", "post")
    assert webhook["url"]["pattern"].startswith("^\\s*[Hh][Tt][Tt][Pp][Ss]?://")
    assert webhook["url"]["maxLength"] == 2048
    ticket = body("/api/projects/{project_id}/tickets", "post")
    assignee = next(s for s in ticket["assignee_id"]["anyOf"] if s.get("type") == "integer")
    assert (assignee["minimum"], assignee["maximum"]) == (1, INT_MAX)
    assert ticket["title"]["maxLength"] == 200
    query = {p["name"]: p["schema"] for p in paths["/api/projects/{project_id}/events"]["get"]["parameters"]}
    assert query["after"]["maximum"] == BIGINT_MAX


def test_every_endpoint_named_in_the_openapi_tables_exists(app: Any) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(OUTCOMES) - endpoints == set()
    assert set(PUBLIC) - endpoints == set()
