"""The settings screens through a browser: the user's own settings (web/static/js/settings.js) and a
project's webhooks, chat channels and integrations (webhooks.js, chatsubs.js, integrations.js).

What the user sees is checked on the page; what it did is checked on the hub through REST, and, where
the hub talks to the outside, on the outside: a webhook receiver on 127.0.0.1 run by the test, a fake
Slack (tests/fakes/slack.py) that the hub's real Slack code talks to, and signed requests to
`/hooks/{id}` sent by the test as a generic sender would.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.e2e.browser import require_playwright

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.axe import assert_accessible  # noqa: E402
from tests.e2e.hub import DEMO_PASSWORD  # noqa: E402
from tests.e2e.pages import http_status_logged  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.fakes.slack_requests import SIGNING_SECRET, sign, trigger_id  # noqa: E402

NEW_PASSWORD = "violet-kettle-harbour-42"
SLACK = pytest.mark.parametrize("hub_env", ["slack"], indirect=True)


# --- fixtures: the outside world -------------------------------------------------------------------


class ThreadedFakeSlack:
    """FakeSlack (aiohttp) on its own event loop in a thread, for a test that is not async."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = FakeSlack()
        self.run(self.fake.start())

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def close(self) -> None:
        self.run(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def add_user(self, user_id: str, name: str, email: str) -> None:
        self.loop.call_soon_threadsafe(self.fake.add_user, user_id, name, email)

    def command(self, hub_url: str, user: str, text: str, channel: str = "C111") -> dict[str, Any]:
        """`/ticket TEXT` as Slack sends it (signed); returns the reply posted to its response_url."""
        key = f"r{uuid.uuid4().hex[:8]}"
        body = urlencode({
            "token": "legacy", "team_id": self.fake.team_id, "team_domain": "fake", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/ticket",
            "text": text, "api_app_id": "A111", "is_enterprise_install": "false",
            "response_url": f"{self.fake.url}/response/{key}", "trigger_id": trigger_id(),
        })  # fmt: skip
        ts = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts),
        }
        reply = httpx.post(f"{hub_url}/slack/events", content=body.encode(), headers=headers, timeout=30)
        assert reply.status_code == 200, reply.text
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = next((r for r in list(self.fake.responses) if r["key"] == key), None)
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no reply to /ticket {text}")


@pytest.fixture
def fake_slack() -> Iterator[ThreadedFakeSlack]:
    slack = ThreadedFakeSlack()
    yield slack
    slack.close()


@pytest.fixture
def hub_env(request: pytest.FixtureRequest) -> dict[str, str]:
    # Webhooks go to the test's receiver on 127.0.0.1; one retry after a second, then a delivery fails.
    env = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_SCHEDULE": "1"}
    if getattr(request, "param", None) == "slack":
        slack: ThreadedFakeSlack = request.getfixturevalue("fake_slack")
        env.update(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.fake.api_url,
        )
    return env


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST, answers `status` with `reply`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.reply = b"thanks from the receiver"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 15) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return list(self.requests)
            time.sleep(0.1)
        raise AssertionError(f"the receiver got {len(self.requests)} requests, expected {count}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


# --- helpers ---------------------------------------------------------------------------------------


def go(page: Page, hash_: str) -> None:
    page.evaluate("(h) => { location.hash = h; }", hash_)


def login_status(hub: Any, email: str, password: str) -> int:
    return httpx.post(f"{hub.url}/api/auth/login", json={"email": email, "password": password}).status_code


def signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def assert_signed(secret: str, headers: dict[str, str], body: bytes) -> None:
    expected = signature(secret, headers["webhook-id"], headers["webhook-timestamp"], body)
    assert f"v1,{expected}" in headers["webhook-signature"].split(" ")


def wait_until(check: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError("the condition never held")


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"))


# --- the user's settings ---------------------------------------------------------------------------


def test_change_password_signs_out_other_sessions_and_the_old_password_stops_working(hub, open_page, as_user):
    other_session = as_user("alice@example.com")  # another device, signed in before the change
    board = open_page().login("alice@example.com")
    page = board.page
    go(page, "#/settings")
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Account", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator(".st-me-name")).to_have_text("Alice Archer")
    expect(page.locator(".st-me-email")).to_have_text("alice@example.com")
    assert_accessible(page, label="account settings")

    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    current = page.get_by_label("Current password")
    expect(current).to_have_attribute("aria-invalid", "true")
    error_id = str(current.get_attribute("id")) + "-error"
    expect(page.locator(f"#{error_id}")).to_have_text("is not correct")
    expect(current).to_be_focused()
    assert login_status(hub, "alice@example.com", DEMO_PASSWORD) == 200  # nothing changed

    current.fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="Password changed")).to_contain_text(
        "other sessions were signed out"
    )
    expect(current).to_have_value("")
    assert login_status(hub, "alice@example.com", DEMO_PASSWORD) == 401
    assert login_status(hub, "alice@example.com", NEW_PASSWORD) == 200
    other_session.call("GET", "/api/me", expect=401)  # the other session is over
    # This tab stays signed in.
    go(page, "#/settings/notifications")
    expect(page.get_by_role("button", name="Save preferences")).to_be_visible()
    board.assert_no_console_errors(allow=[http_status_logged(422)])


def test_notification_preferences_are_saved_and_shown_again(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    board = open_page().login("alice@example.com")
    page = board.page
    go(page, "#/settings/notifications")
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_label("Mentions: Slack")).to_have_value("immediate")
    assert_accessible(page, label="notification settings")
    page.get_by_label("Mentions: Slack").select_option("digest")
    page.get_by_label("Comments: Web").select_option("off")
    page.get_by_label("Hold notifications during quiet hours").check()
    page.get_by_label("From").fill("21:30")
    page.get_by_label("Until").fill("07:15")
    zone = page.get_by_label("Time zone")
    zone.fill("Mars/Olympus")
    page.get_by_role("button", name="Save preferences").click()
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(zone).to_be_focused()
    assert alice.call("GET", "/api/me/preferences")["quiet_hours"]["enabled"] is False  # type: ignore[index]

    zone.fill("Europe/Berlin")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status").filter(has_text="Preferences saved.")).to_be_visible()
    expect(zone).not_to_have_attribute("aria-invalid", "true")
    prefs: Any = alice.call("GET", "/api/me/preferences")
    assert prefs["types"]["mention"]["slack"] == "digest"
    assert prefs["types"]["comment_added"]["web"] == "off"
    assert prefs["types"]["comment_added"]["slack"] == "immediate"
    assert prefs["quiet_hours"] == {
        "enabled": True,
        "start": "21:30",
        "end": "07:15",
        "timezone": "Europe/Berlin",
    }

    page.reload()  # what the hub has, shown again
    expect(page.get_by_label("Mentions: Slack")).to_have_value("digest")
    expect(page.get_by_label("Comments: Web")).to_have_value("off")
    expect(page.get_by_label("Hold notifications during quiet hours")).to_be_checked()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    board.assert_no_console_errors(allow=[http_status_logged(422)])


@SLACK
def test_a_link_code_links_a_slack_account_which_can_then_be_unlinked(hub, open_page, as_user, fake_slack):
    alice = as_user("alice@example.com")
    fake_slack.add_user("UOTHER", "Alice At Work", "alice@work.example")  # another email: no auto-link
    board = open_page().login("alice@example.com")
    page = board.page
    go(page, "#/settings/chat")
    expect(page.get_by_text("No chat account is linked yet.")).to_be_visible()
    page.get_by_role("button", name="Generate a link code").click()
    code = page.locator(".st-code-value")
    expect(code).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    value = code.inner_text()
    expect(page.locator(".st-command-slack")).to_have_text(f"/ticket link {value}")
    expect(page.locator(".st-command-discord")).to_have_text(f"/ticket link code:{value}")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=hub.url)
    page.get_by_role("button", name="Copy the Slack link command").click()
    expect(page.get_by_role("button", name="Copy the Slack link command")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == f"/ticket link {value}"
    expect(page.locator(".st-code time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    assert_accessible(page, label="chat accounts")

    reply = fake_slack.command(hub.url, "UOTHER", f"link {value}")
    assert "Linked" in reply["text"], reply
    (link,) = alice.call("GET", "/api/me/chat-links")["items"]  # type: ignore[index]
    assert (link["platform"], link["external_id"], link["linked_via"]) == ("slack", "UOTHER", "code")

    page.reload()
    item = page.locator(".st-link")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Slack")
    expect(item).to_contain_text("UOTHER")
    expect(item).to_contain_text("with a code")
    item.get_by_role("button", name=re.compile("^Unlink Slack account")).click()
    confirm = item.get_by_role("group")
    expect(confirm).to_contain_text("Unlink Slack account")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    confirm.get_by_role("button", name="Unlink").click()
    expect(page.get_by_text("No chat account is linked yet.")).to_be_visible()
    assert alice.call("GET", "/api/me/chat-links")["items"] == []  # type: ignore[index]
    after = fake_slack.command(hub.url, "UOTHER", "list OPS")  # the account no longer acts as Alice
    assert "OPS-1" not in after["text"]
    board.assert_no_console_errors()


@SLACK
def test_chat_subscriptions_are_listed_and_an_owner_deletes_one(hub, open_page, as_user, fake_slack):
    alice = as_user("alice@example.com")
    project = alice.project_id()
    fake_slack.add_user("UALICE", "Alice Archer", "alice@example.com")  # links by verified email
    reply = fake_slack.command(hub.url, "UALICE", "subscribe OPS", channel="C777")
    assert "now gets OPS updates" in reply["text"], reply
    # Bob (a member) subscribes another channel, then leaves the project: his subscription pauses.
    fake_slack.add_user("UBOB", "Bob Baker", "bob@example.com")
    reply = fake_slack.command(hub.url, "UBOB", "subscribe OPS", channel="C888")
    assert "now gets OPS updates" in reply["text"], reply
    bob_id = alice.user_id("bob@example.com")
    alice.call("DELETE", f"/api/projects/{project}/members/{bob_id}", expect=204)
    subs: Any = alice.call("GET", f"/api/projects/{project}/chat-subscriptions")
    assert {s["channel"]: s["state"] for s in subs["items"]} == {"C777": "active", "C888": "paused"}

    board = open_page().login("alice@example.com")
    page = board.page
    go(page, f"#/p/{project}/settings/chat")
    rows = page.locator(".st-subs-table tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has=page.locator(".st-channel", has_text="C777"))
    expect(row).to_contain_text("Slack")
    expect(row).to_contain_text("Alice Archer")
    expect(row.locator(".st-state")).to_contain_text("Active")
    paused = rows.filter(has=page.locator(".st-channel", has_text="C888"))
    expect(paused.locator(".st-state")).to_contain_text("Paused")
    expect(paused).to_contain_text(f"user {bob_id}")  # no longer a member: shown by id
    reason = next(s["state_reason"] for s in subs["items"] if s["channel"] == "C888")
    if reason:
        expect(paused.locator(".st-state")).to_contain_text(reason)
    assert_accessible(page, label="chat subscriptions")
    row.get_by_role("button", name="Delete the subscription of Slack channel C777").click()
    page.get_by_role("group").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(1)
    expect(rows.locator(".st-channel")).to_have_text("C888")
    left: Any = alice.call("GET", f"/api/projects/{project}/chat-subscriptions")
    assert [s["channel"] for s in left["items"]] == ["C888"]
    board.assert_no_console_errors()


# --- webhooks --------------------------------------------------------------------------------------


def test_webhook_create_test_log_redeliver_replay_disable_and_rotate(hub, open_page, as_user, receiver):
    alice = as_user("alice@example.com")
    project = alice.project_id()
    board = open_page().login("alice@example.com")
    page = board.page
    go(page, f"#/p/{project}/settings/webhooks")
    form = page.locator("form.st-create")
    form.get_by_label("Payload URL").fill(receiver.url)
    for label in ("Ticket updated", "Ticket assigned", "Ticket deleted", "Comment edited", "Comment deleted"):
        form.get_by_label(label).uncheck()
    form.get_by_role("button", name="Add webhook").click()

    once = page.locator(".st-once")
    secret = once.locator("code.st-secret")
    expect(secret).to_have_text(re.compile(r"^whsec_"))
    first_secret = secret.inner_text()
    (hook,) = alice.call("GET", f"/api/projects/{project}/webhooks")["items"]  # type: ignore[index]
    assert hook["url"] == receiver.url
    assert hook["event_types"] == ["ticket.created", "ticket.status_changed", "comment.created"]
    item = page.locator(f'.st-hook[data-id="{hook["id"]}"]')
    expect(item.locator(".st-events")).to_have_text("ticket.created, ticket.status_changed, comment.created")
    once.get_by_role("button", name="Done, I have copied it").click()
    expect(page.locator(".st-once")).to_have_count(0)
    page.reload()  # shown once: not again
    expect(item.locator(".st-url")).to_have_text(receiver.url)
    expect(page.get_by_text(first_secret)).to_have_count(0)

    # Send a test: the receiver gets it signed with that secret, the log shows it.
    item.get_by_role("button", name=re.compile("^Send test")).click()
    expect(item.get_by_role("status")).to_have_text(re.compile(r"Test delivered: the receiver answered 200"))
    headers, body = receiver.wait_for(1)[0]
    assert json.loads(body)["type"] == "webhook.test"
    assert_signed(first_secret, headers, body)
    item.get_by_role("button", name=re.compile("^Deliveries")).click()
    row = item.locator(".st-log-table tbody tr").first
    expect(row).to_contain_text("webhook.test")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("HTTP 200")
    expect(row).to_contain_text("thanks from the receiver")
    expect(item.locator(".st-last")).to_contain_text("Delivered")
    assert_accessible(page, label="webhooks with a delivery log")

    # Redeliver: the same message (same webhook-id) again.
    row.get_by_role("button", name=re.compile("^Redeliver")).click()
    again_headers, _ = receiver.wait_for(2)[1]
    assert again_headers["webhook-id"] == headers["webhook-id"]

    # A failing delivery, then "replay failed since": the receiver gets it once it is fixed.
    receiver.status, receiver.reply = 500, b"receiver broken"
    alice.create_ticket("Replay me")
    receiver.wait_for(4)  # the first attempt and its one retry
    wait_until(lambda: alice.call("GET", f"/api/webhooks/{hook['id']}/deliveries?status=failed")["items"])  # type: ignore[index]
    item.get_by_role("button", name="Refresh").click()
    failed = item.locator(".st-log-table tbody tr", has_text="ticket.created")
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text("HTTP 500")
    expect(failed.locator("td").nth(5)).to_have_text("2")  # attempts
    expect(failed).to_contain_text("receiver broken")
    receiver.status, receiver.reply = 200, b"fixed"
    item.get_by_role("button", name="Replay failed").click()
    expect(item.locator(".st-replay [role=status]")).to_have_text("1 delivery queued again.")
    replayed = receiver.wait_for(5)[4]
    assert json.loads(replayed[1])["type"] == "ticket.created"

    # Change the event filter.
    item.get_by_role("button", name=re.compile("^Edit events")).click()
    editor = item.locator("form.st-events-form")
    editor.get_by_label("Ticket deleted").check()
    editor.get_by_label("Comment added").uncheck()
    editor.get_by_role("button", name="Save events").click()
    expect(item.locator(".st-events")).to_have_text("ticket.created, ticket.status_changed, ticket.deleted")
    expect(editor).to_have_count(0)
    assert alice.call("GET", f"/api/webhooks/{hook['id']}")["event_types"] == [  # type: ignore[index]
        "ticket.created",
        "ticket.status_changed",
        "ticket.deleted",
    ]

    # Disable, then rotate the secret (shown once, different).
    item.get_by_role("button", name=re.compile("^Disable")).click()
    expect(item.locator(".chip.st-off")).to_have_text("Disabled")
    assert alice.call("GET", f"/api/webhooks/{hook['id']}")["enabled"] is False  # type: ignore[index]
    expect(item.get_by_role("button", name=re.compile("^Enable"))).to_be_focused()
    item.get_by_role("button", name=re.compile("^Rotate secret")).click()
    item.get_by_role("group").get_by_role("button", name="Rotate").click()
    expect(page.locator(".st-once h3")).to_have_text(f"New secret for {receiver.url}")
    expect(page.locator(".st-once code.st-secret")).to_have_text(re.compile(r"^whsec_"))
    assert page.locator(".st-once code.st-secret").inner_text() != first_secret
    rotated: Any = alice.call("GET", f"/api/webhooks/{hook['id']}")
    assert rotated["previous_secret_expires_at"] is not None
    expect(item).to_contain_text("The previous secret still signs until")
    board.assert_no_console_errors()


# --- integrations ----------------------------------------------------------------------------------


def send_generic(url: str, secret: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    msg_id, ts = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": f"v1,{signature(secret, msg_id, ts, body)}",
    }
    return httpx.post(url, content=body, headers=headers, timeout=15)


def test_integration_create_then_a_signed_delivery_shows_in_the_log_and_disable_refuses(
    hub, open_page, as_user
):
    alice = as_user("alice@example.com")
    project = alice.project_id()
    board = open_page().login("alice@example.com")
    page = board.page
    go(page, f"#/p/{project}/settings/integrations")
    form = page.locator("form.st-create")
    form.get_by_label("Kind").select_option("generic")
    form.get_by_role("button", name="Add integration").click()  # a generic one needs a name
    expect(form.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Name").fill("Deploy bot")
    form.get_by_role("button", name="Add integration").click()

    once = page.locator(".st-once")
    expect(once.locator("h3")).to_have_text("Deploy bot integration created")
    url = once.locator('code[data-once="URL"]')
    secret = once.locator('code[data-once="Secret"]')
    expect(secret).to_have_text(re.compile(r"^whsec_"))
    (created,) = alice.call("GET", f"/api/projects/{project}/integrations")["items"]  # type: ignore[index]
    assert (created["kind"], created["name"], created["enabled"]) == ("generic", "Deploy bot", True)
    expect(url).to_have_text(created["url"])
    hook_url, hook_secret = url.inner_text(), secret.inner_text()

    answer = send_generic(hook_url, hook_secret, {"action": "create", "title": "Deploy 981 failed"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["verdict"] == "processed"
    item = page.locator(f'.st-integration[data-id="{created["id"]}"]')
    item.get_by_role("button", name=re.compile("^Deliveries")).click()
    row = item.locator(".st-log-table tbody tr").first
    expect(row).to_contain_text("processed")
    expect(row).to_contain_text("200")
    expect(row.locator(".st-summary")).to_contain_text(re.compile(r"OPS-\d+"))
    expect(row.locator(".st-body summary")).to_contain_text("Deploy 981 failed")
    assert_accessible(page, label="integrations with a delivery log")

    item.get_by_role("button", name=re.compile("^Disable")).click()
    expect(item.locator(".chip.st-off")).to_have_text("Off")
    assert alice.call("GET", f"/api/integrations/{created['id']}")["enabled"] is False  # type: ignore[index]
    refused = send_generic(hook_url, hook_secret, {"action": "create", "title": "Not now"})
    assert refused.status_code == 410
    item.get_by_role("button", name="Refresh").click()
    expect(item.locator(".st-log-table tbody tr").first).to_contain_text("disabled")
    assert not [t for t in alice.tickets() if t["title"] == "Not now"]

    # A new secret, shown once; the old one still verifies for a day (docs/integrations.md).
    item.get_by_role("button", name=re.compile("^Enable")).click()
    expect(item.locator(".chip.st-on")).to_have_text("On")
    item.get_by_role("button", name=re.compile("^Rotate secret")).click()
    item.get_by_role("group").get_by_role("button", name="Rotate").click()
    expect(page.locator(".st-once h3")).to_have_text("New secret for Deploy bot")
    new_secret = page.locator('.st-once code[data-once="Secret"]')
    expect(new_secret).to_have_text(re.compile(r"^whsec_"))
    assert new_secret.inner_text() != hook_secret
    signed_new = send_generic(
        hook_url, new_secret.inner_text(), {"action": "create", "title": "After rotation"}
    )
    assert signed_new.status_code == 200, signed_new.text

    # A GitHub one with its option, then the option changed.
    form.get_by_label("Kind").select_option("github")
    form.get_by_role("button", name="Add integration").click()
    expect(page.locator(".st-once h3")).to_have_text("GitHub integration created")
    expect(page.locator('.st-once code[data-once="Secret"]')).to_have_text(re.compile(r"^whsec_"))
    github = next(
        i
        for i in alice.call("GET", f"/api/projects/{project}/integrations")["items"]
        if i["kind"] == "github"  # type: ignore[index]
    )
    assert (github["name"], github["options"]["close_status"]) == ("GitHub", "done")
    gh_item = page.locator(f'.st-integration[data-id="{github["id"]}"]')
    gh_item.get_by_role("button", name=re.compile("^Edit options")).click()
    gh_item.get_by_label('Status for "fixes KEY-N"').select_option("in_review")
    gh_item.get_by_role("button", name="Save options").click()
    expect(gh_item).to_contain_text("fixes → in_review")
    changed: Any = alice.call("GET", f"/api/integrations/{github['id']}")
    assert changed["options"]["close_status"] == "in_review"
    board.assert_no_console_errors()


# --- who may see what ------------------------------------------------------------------------------


def test_a_member_sees_no_admin_tabs_and_the_hub_refuses_anyway(hub, open_page, as_user):
    bob = as_user("bob@example.com")
    project = bob.project_id()
    board = open_page().login("bob@example.com")
    page = board.page
    go(page, f"#/p/{project}/settings")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for tab in ("Webhooks", "Chat", "Integrations"):
        expect(page.locator(".tabs").get_by_role("link", name=tab, exact=True)).to_have_count(0)
        expect(page.locator(".tabs").get_by_role("tab", name=tab, exact=True)).to_have_count(0)
    go(page, f"#/p/{project}/settings/webhooks")
    expect(page.get_by_text(re.compile("for the project.s admins and owners"))).to_be_visible()
    expect(page.get_by_role("button", name="Add webhook")).to_have_count(0)
    bob.call("GET", f"/api/projects/{project}/webhooks", expect=403)
    bob.call("POST", f"/api/projects/{project}/webhooks", {"url": "https://example.com/x"}, expect=403)
    bob.call("GET", f"/api/projects/{project}/integrations", expect=403)
    bob.call("DELETE", f"/api/projects/{project}/chat-subscriptions/1", expect=403)
    board.assert_no_console_errors()


def test_settings_fit_a_phone_screen(hub, open_page, as_user):
    project = as_user("alice@example.com").project_id()
    board = open_page(viewport={"width": 390, "height": 800}).login("alice@example.com")
    page = board.page
    for hash_ in ("#/settings/account", "#/settings/notifications", "#/settings/chat"):
        go(page, hash_)
        expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
        expect(page.locator(".st-panel h2")).to_be_visible()
        assert no_horizontal_scroll(page), hash_
    go(page, f"#/p/{project}/settings/webhooks")
    expect(page.get_by_role("button", name="Add webhook")).to_be_visible()
    assert no_horizontal_scroll(page)
    board.assert_no_console_errors()
