"""HTTP edges: error shape for malformed input, body limit, unknown routes, service endpoints, OpenAPI."""

from __future__ import annotations

from hub.app import create_app
from hub.context import HubContext
from tests.conftest import make_settings
from tests.support.api import Api


async def test_malformed_json_is_a_400_in_the_error_shape(api: Api) -> None:
    user = await api.user()
    reply = await api.call(
        "POST",
        "/api/projects",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        token=user.token,
    )
    assert reply.status == 400
    assert reply.body["error"]["code"] == "bad_request"


async def test_a_json_array_is_not_an_object(api: Api) -> None:
    user = await api.user()
    reply = await api.post("/api/projects", json=[1, 2], token=user.token)
    assert reply.status in (400, 422)
    assert "error" in reply.body


async def test_oversized_bodies_get_413(api: Api) -> None:
    user = await api.user()
    project = await api.project(user)
    huge = {"title": "t", "description": "x" * 1_100_000}
    reply = await api.post(f"/api/projects/{project['id']}/tickets", json=huge, token=user.token)
    assert reply.status == 413
    assert reply.body["error"]["code"] == "payload_too_large"


async def test_unknown_routes_and_methods_answer_json(api: Api) -> None:
    missing = await api.get("/api/nothing-here")
    assert missing.status == 404
    assert missing.body["error"]["code"] == "not_found"
    wrong = await api.call("PUT", "/api/projects")
    assert wrong.status == 405
    assert wrong.body["error"]["code"] == "method_not_allowed"


async def test_health_readiness_and_security_headers(api: Api) -> None:
    health = await api.get("/healthz")
    assert health.status == 200
    assert health.body["status"] == "ok"
    ready = await api.get("/readyz")
    assert ready.status == 200
    assert ready.body["checks"] == {"database": "ok"}
    assert "default-src 'self'" in health.headers["Content-Security-Policy"]
    assert health.headers["X-Content-Type-Options"] == "nosniff"


async def test_openapi_documents_every_api_route(api: Api) -> None:
    spec = (await api.get("/openapi.json")).body
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    app = api.client.app
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []
    create = spec["paths"]["/api/projects/{project_id}/tickets"]["post"]
    assert "requestBody" in create
    assert "201" in create["responses"]
    docs = await api.get("/docs")
    assert docs.status == 200
    assert b"/static/js/docs.js" in docs.body


async def test_cors_allows_only_configured_origins(context: HubContext) -> None:
    settings = make_settings(context.settings.database_url, CORS_ALLOWED_ORIGINS="https://board.example")
    app = create_app(settings, context)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        good = await client.options(
            "/api/projects",
            headers={"Origin": "https://board.example", "Access-Control-Request-Method": "POST"},
        )
        assert good.status_code == 204
        assert good.headers["Access-Control-Allow-Origin"] == "https://board.example"
        assert "Authorization" in good.headers["Access-Control-Allow-Headers"]
        evil = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in evil.headers
