"""Hostile input gets a 4xx in the error shape, never a 500, and the same answer on SQLite and PostgreSQL.

Each test is one class of input schemathesis found answering 500: integers beyond the column type, bodies
that are not UTF-8 or nest too deep, NUL characters and lone surrogates in text, digits `str.isdigit`
takes but `int` refuses, unsigned junk to Slack, an oversized body to the standalone Slack process.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
from quart import Quart
from slack_bolt.async_app import AsyncApp

from bots.slack.routes import standalone_app
from hub.app import create_app
from hub.config import Settings
from hub.context import HubContext
from hub.domain.limits import BIGINT_MAX, INT_MAX
from tests.support.api import Api, HttpApi, User
from tests.support.live import served, ws_connect

BEYOND_INT = INT_MAX + 1  # 2^31: past PostgreSQL's INTEGER
BEYOND_BIGINT = BIGINT_MAX + 1  # 2^63: past BIGINT, and past SQLite's integers


async def _owner_with_ticket(api: Api) -> tuple[User, dict[str, Any], dict[str, Any]]:
    owner = await api.user()
    project = await api.project(owner)
    ticket = await api.ticket(owner, project["id"])
    return owner, project, ticket


def _is_error(reply: Any, status: int, code: str | None = None) -> None:
    assert reply.status == status, (reply.status, reply.body)
    assert set(reply.body["error"]) == {"code", "message", "fields"}
    if code is not None:
        assert reply.body["error"]["code"] == code


PATH_IDS = [
    ("GET", "/api/projects/{big}"),
    ("PATCH", "/api/projects/{big}"),
    ("GET", "/api/projects/{big}/tickets"),
    ("POST", "/api/projects/{big}/members"),
    ("DELETE", "/api/projects/1/members/{big}"),
    ("GET", "/api/tickets/{big}"),
    ("GET", "/api/tickets/OPS-{big}"),
    ("PATCH", "/api/comments/{big}"),
    ("GET", "/api/webhooks/{big}"),
    ("DELETE", "/api/me/chat-links/{big}"),
    ("POST", "/api/notifications/{bigger}/read"),
    ("GET", "/api/deliveries/{bigger}"),
    ("GET", "/api/projects/0"),
]


async def test_path_ids_beyond_their_column_are_404(api: Api) -> None:
    owner, _project, _ticket = await _owner_with_ticket(api)
    for method, path in PATH_IDS:
        url = path.format(big=BEYOND_INT, bigger=BEYOND_BIGINT)
        body = {} if method in ("PATCH", "POST") else None
        reply = await api.call(method, url, json=body, token=owner.token)
        _is_error(reply, 404, "not_found")  # never 500, nor 405 because another method exists there


async def test_ids_at_the_bounds_route_and_find_nothing(api: Api) -> None:
    owner, _project, _ticket = await _owner_with_ticket(api)
    for url in (f"/api/projects/{INT_MAX}", f"/api/tickets/{INT_MAX}", f"/api/deliveries/{BIGINT_MAX}"):
        _is_error(await api.get(url, token=owner.token), 404, "not_found")


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/projects/{pid}/events", {"after": str(BEYOND_BIGINT)}, "after"),
        ("/api/projects/{pid}/tickets", {"assignee": str(BEYOND_INT)}, "assignee"),
        ("/api/projects/{pid}/tickets", {"assignee": "²"}, "assignee"),  # isdigit() but not int()
        ("/api/projects/{pid}/tickets", {"assignee": "١٢"}, "assignee"),  # digits, not ASCII ones
        ("/api/projects/{pid}/tickets", {"cursor": "eyJpZCI6IDk5OTk5OTk5OTk5OTl9"}, "cursor"),  # id 10^13
        ("/api/projects/{pid}/tickets", {"q": "a\x00b"}, "q"),
        ("/api/projects/{pid}/tickets", {"label": "\x00"}, "label"),
        ("/api/notifications", {"before": str(BEYOND_BIGINT)}, "before"),
    ],
)
async def test_query_values_beyond_range_or_unstorable_are_422_naming_the_field(
    api: Api, path: str, query: dict[str, str], field: str
) -> None:
    owner, project, _ticket = await _owner_with_ticket(api)
    reply = await api.get(path.format(pid=project["id"]), query=query, token=owner.token)
    _is_error(reply, 422, "validation_error")
    assert field in reply.error_fields()


async def test_query_bounds_still_accept_the_largest_value(api: Api) -> None:
    owner, project, _ticket = await _owner_with_ticket(api)
    events = await api.get(
        f"/api/projects/{project['id']}/events", query={"after": str(BIGINT_MAX)}, token=owner.token
    )
    assert events.status == 200
    assert events.body["items"] == []
    tickets = await api.get(
        f"/api/projects/{project['id']}/tickets", query={"assignee": str(INT_MAX)}, token=owner.token
    )
    assert tickets.status == 200
    assert tickets.body["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/projects/{pid}/tickets", {"title": "t", "assignee_id": BEYOND_INT}, "assignee_id"),
        ("PATCH", "/api/tickets/{tid}", {"assignee_id": BEYOND_BIGINT}, "assignee_id"),
        ("PATCH", "/api/tickets/{tid}", {"title": "t", "version": BEYOND_INT}, "version"),
        ("POST", "/api/projects/{pid}/members", {"user_id": BEYOND_INT, "role": "member"}, "user_id"),
    ],
)
async def test_body_integers_beyond_their_column_are_422_naming_the_field(
    api: Api, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    owner, project, ticket = await _owner_with_ticket(api)
    reply = await api.call(
        method, path.format(pid=project["id"], tid=ticket["id"]), json=body, token=owner.token
    )
    _is_error(reply, 422, "validation_error")
    assert field in reply.error_fields()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"key": "OPS", "name": "\xff\xfe"}',  # not UTF-8
        b"[" * 400_000 + b"]" * 400_000,  # 400,000 levels deep, inside MAX_BODY_BYTES
        b'{"key": ' * 100_000 + b"1" + b"}" * 100_000,
    ],
    ids=["not-utf8", "deep-array", "deep-object"],
)
async def test_bodies_that_are_not_json_are_400_before_authentication(api: Api, raw: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    anonymous = await api.call("POST", "/api/auth/login", data=raw, headers=headers)
    _is_error(anonymous, 400, "bad_request")
    assert anonymous.body["error"]["message"] == "the request body is not valid JSON"
    user = await api.user()
    authenticated = await api.call("POST", "/api/projects", data=raw, headers=headers, token=user.token)
    _is_error(authenticated, 400, "bad_request")


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800"], ids=["nul", "lone-surrogate"])
async def test_text_the_database_cannot_store_is_422_naming_the_field(api: Api, bad: str) -> None:
    owner, project, ticket = await _owner_with_ticket(api)
    pid, tid = project["id"], ticket["id"]
    cases = [
        ("POST", "/api/projects", {"key": "NUL", "name": bad}, "name"),
        ("PATCH", f"/api/projects/{pid}", {"description": bad}, "description"),
        ("POST", f"/api/projects/{pid}/tickets", {"title": bad}, "title"),
        ("POST", f"/api/projects/{pid}/tickets", {"title": "t", "labels": ["ok", bad]}, "labels"),
        ("PATCH", f"/api/tickets/{tid}", {"description": bad}, "description"),
        ("POST", f"/api/tickets/{tid}/comments", {"body": bad}, "body"),
        ("PUT", "/api/me/preferences", {"quiet_hours": {"timezone": bad}}, "quiet_hours.timezone"),
        ("POST", f"/api/projects/{pid}/webhooks", {"url": "https://example.com/" + bad}, "url"),
        ("POST", "/api/auth/login", {"email": bad, "password": "whatever-it-is"}, "email"),
    ]
    for method, path, body, field in cases:
        reply = await api.call(method, path, json=body, token=owner.token)
        _is_error(reply, 422, "validation_error")
        named = reply.error_fields()
        assert any(name == field or name.startswith(f"{field}.") for name in named), (path, named)
    # Nothing was written, and what was there still reads back.
    assert (await api.get(f"/api/tickets/{tid}", token=owner.token)).status == 200


@pytest.mark.parametrize("ref", ["²", "¹²", "١٢", f"OPS-{BEYOND_INT}", "OPS-99999999999999999999", "OPS-²"])
async def test_ticket_refs_that_name_no_ticket_are_404(api: Api, ref: str) -> None:
    owner, _project, _ticket = await _owner_with_ticket(api)
    _is_error(await api.get(f"/api/tickets/{ref}", token=owner.token), 404, "not_found")


async def test_socket_last_event_id_beyond_bigint_or_not_ascii_is_an_error_message(
    settings: Settings, context: HubContext
) -> None:
    app = create_app(settings, context)
    async with served(app, context) as address:
        api = HttpApi(f"http://{address}")
        try:
            owner, project, _ticket = await _owner_with_ticket(api)
            path = f"/ws/projects/{project['id']}/tickets/"
            for bad in (str(BEYOND_BIGINT), "%C2%B2"):  # 2^63, and `²`
                async with ws_connect(address, path, token=owner.token, params={"last_event_id": bad}) as ws:
                    error = ws.pending[0] if ws.pending else await ws.recv()
                    assert (error["type"], error["code"]) == ("error", "invalid_last_event_id")
                    await ws.send({"type": "ping"})
                    assert (await ws.recv_type("pong"))["type"] == "pong"
            async with ws_connect(
                address, path, token=owner.token, params={"last_event_id": BIGINT_MAX}
            ) as ws:
                assert ws.ready is not None  # the largest id is a position like any other
        finally:
            await api.aclose()


# --- Slack: the signature before the body, and the body limit in the standalone process ----------------
SLACK_SECRET = "hostile-input-signing-secret"


@pytest.fixture
async def slack_web() -> Any:
    bolt = AsyncApp(signing_secret=SLACK_SECRET, token="xoxb-test")  # never reached: no network
    web: Quart = standalone_app(bolt, SLACK_SECRET, max_body_bytes=4096)
    async with web.test_app() as test_app:
        yield test_app.test_client()


def _slack_headers(body: bytes, *, signed: bool) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if signed:
        ts = int(time.time())
        headers["X-Slack-Request-Timestamp"] = str(ts)
        base = f"v0:{ts}:".encode() + body  # Slack signs the bytes it sends
        headers["X-Slack-Signature"] = (
            "v0=" + hmac.new(SLACK_SECRET.encode(), base, hashlib.sha256).hexdigest()
        )
    return headers


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        (b"\xff\xfe not utf-8", {}),
        (b"{" * 4000, {}),
        (b"payload=%7B", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"{}", {"X-Slack-Request-Timestamp": "\u00b2", "X-Slack-Signature": "v0=00"}),
        (b"{}", {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"}),
    ],
    ids=["not-utf8", "deep-json", "bad-form", "superscript-timestamp", "text-timestamp"],
)
async def test_unsigned_junk_to_slack_is_401_before_parsing(
    slack_web: Any, body: bytes, extra: dict[str, str]
) -> None:
    headers = {**_slack_headers(body, signed=False), **extra}
    response = await slack_web.post("/slack/events", data=body, headers=headers)
    assert response.status_code == 401
    assert (await response.get_json())["error"]["code"] == "unauthenticated"


async def test_signed_but_unreadable_slack_body_is_400(slack_web: Any) -> None:
    body = b"\xff\xfe not utf-8"
    response = await slack_web.post("/slack/events", data=body, headers=_slack_headers(body, signed=True))
    assert response.status_code == 400


async def test_the_standalone_slack_process_refuses_bodies_over_max_body_bytes(slack_web: Any) -> None:
    body = b'{"type": "url_verification", "challenge": "' + b"x" * 8192 + b'"}'
    response = await slack_web.post("/slack/events", data=body, headers=_slack_headers(body, signed=True))
    assert response.status_code == 413
    assert (await response.get_json())["error"]["code"] == "payload_too_large"
