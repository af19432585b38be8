"""Sign-up, invite links and sign-out through a browser (web/static/js/signup.js, invite.js).

Each flow is checked on the page (what the user reads, where focus goes, Enter submits) and on the hub
through REST (the account exists, the membership exists, the session is over).
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing

import httpx
import pytest

from tests.e2e.browser import require_playwright

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import expect  # noqa: E402

from tests.e2e.axe import assert_accessible  # noqa: E402
from tests.e2e.pages import http_status_logged  # noqa: E402

SIGNUP_OFF = pytest.mark.parametrize("hub_env", [{"ALLOW_SIGNUP": "false"}], indirect=True)
GOOD_PASSWORD = "violet-kettle-harbour-42"
LOAD = 10_000  # ms: first paint of a screen on a busy machine


@pytest.fixture
def hub_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return dict(getattr(request, "param", {}))


def focused_id(page) -> str:
    return str(page.evaluate("() => document.activeElement?.id ?? ''"))


def described_by(locator) -> list[str]:
    return str(locator.get_attribute("aria-describedby") or "").split()


def new_project(owner, key: str, name: str) -> int:
    return int(owner.call("POST", "/api/projects", {"key": key, "name": name}, expect=201)["id"])


def make_invite(owner, project_id: int, **body: object) -> dict:
    return dict(
        owner.call("POST", f"/api/projects/{project_id}/invites", {"role": "member", **body}, expect=201)
    )


def member_emails(owner, project_id: int) -> dict[str, str]:
    members = owner.call("GET", f"/api/projects/{project_id}/members")
    return {m["user"]["email"]: m["role"] for m in members["items"]}  # type: ignore[index]


def login_status(hub, email: str, password: str) -> int:
    return httpx.post(f"{hub.url}/api/auth/login", json={"email": email, "password": password}).status_code


# --- sign-up ---------------------------------------------------------------------------------------


def test_sign_up_shows_field_errors_then_lands_in_the_app(hub, open_page):
    board = open_page().open()
    page = board.page
    page.get_by_role("link", name="Create an account").click()  # from the sign-in page
    public = page.locator("#public-view")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible(timeout=LOAD)
    expect(page.locator("#signup-name")).to_be_focused(timeout=LOAD)
    expect(page.locator("#signup-password-hint")).to_contain_text("At least 8 characters")
    assert "signup-password-hint" in described_by(page.locator("#signup-password"))
    assert_accessible(page, label="sign-up form")

    public.get_by_label("Name").fill("Dana Doe")
    public.get_by_label("Email").fill("dana@example.com")
    public.get_by_label("Password").fill("password123")  # the hub refuses it as too common
    public.get_by_label("Password").press("Enter")
    error = page.locator("#signup-password-error")
    expect(error).to_contain_text("Password is too common")
    expect(page.locator("#signup-password")).to_have_attribute("aria-invalid", "true")
    assert "signup-password-error" in described_by(page.locator("#signup-password"))
    expect(page.locator("#signup-password")).to_be_focused()
    expect(page.locator("#signup-error")).to_have_text("Please correct the fields marked below.")
    assert login_status(hub, "dana@example.com", "password123") == 401  # no account was made

    public.get_by_label("Password").fill(GOOD_PASSWORD)
    public.get_by_label("Password").press("Enter")
    expect(page.locator("#app-view")).to_be_visible()
    expect(page.get_by_role("heading", name="No projects yet")).to_be_visible()
    expect(page.locator("#me-name")).to_have_text("Dana Doe")
    assert login_status(hub, "dana@example.com", GOOD_PASSWORD) == 200
    board.assert_no_console_errors(allow=[http_status_logged(422)])


def test_sign_up_with_a_taken_email_says_so_next_to_the_field(hub, open_page):
    board = open_page(viewport={"width": 390, "height": 844})
    board.page.goto(f"{hub.url}/#/signup")
    page = board.page
    public = page.locator("#public-view")
    expect(page.locator("#signup-name")).to_be_focused(timeout=LOAD)
    public.get_by_label("Name").fill("Alice Again")
    public.get_by_label("Email").fill("alice@example.com")
    public.get_by_label("Password").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signup-email-error")).to_have_text("Email already registered.")
    expect(page.locator("#signup-email")).to_be_focused()
    expect(page.locator("#app-view")).to_be_hidden()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # fits a phone
    board.assert_no_console_errors(allow=[http_status_logged(409)])


@pytest.mark.parametrize("hub_env", [{"REGISTER_RATE_LIMIT": "1/3600"}], indirect=True)
def test_sign_up_rate_limited_says_how_long_to_wait(hub, open_page):
    first = httpx.post(
        f"{hub.url}/api/auth/register",
        json={"email": "first@example.com", "password": GOOD_PASSWORD, "name": "First"},
    )
    assert first.status_code == 201
    board = open_page()
    board.page.goto(f"{hub.url}/#/signup")
    page = board.page
    public = page.locator("#public-view")
    public.get_by_label("Name").fill("Second")
    public.get_by_label("Email").fill("second@example.com")
    public.get_by_label("Password").fill(GOOD_PASSWORD)
    public.get_by_label("Password").press("Enter")
    summary = page.locator("#signup-error")
    expect(summary).to_contain_text(re.compile(r"Too many attempts .* Try again in \d+ (minutes|hour)"))
    expect(summary).to_be_focused()
    assert login_status(hub, "second@example.com", GOOD_PASSWORD) == 401
    board.assert_no_console_errors(allow=[http_status_logged(429)])


@SIGNUP_OFF
def test_sign_up_page_says_when_sign_up_is_off(hub, open_page):
    assert httpx.get(f"{hub.url}/healthz").json()["signup"] is False
    board = open_page()
    board.page.goto(f"{hub.url}/#/signup")
    page = board.page
    expect(page.get_by_role("heading", name="Sign-up is closed")).to_be_visible()
    expect(page.get_by_text("does not take new sign-ups")).to_be_visible()
    expect(page.locator("#signup-name")).to_have_count(0)
    page.get_by_role("link", name="Go to sign in").click()
    expect(page.locator("#login-view")).to_be_visible()
    expect(page.locator("#signup-hint")).to_be_hidden()  # the sign-in page offers no sign-up either
    board.assert_no_console_errors()


# --- invite links ----------------------------------------------------------------------------------


def test_a_signed_in_user_joins_with_an_invite_link(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project_id = new_project(alice, "WEB", "Website")
    invite = make_invite(alice, project_id, role="member")

    ticket = alice.create_ticket("Landing page copy", key="WEB")
    owner = open_page().login("alice@example.com")  # the owner watches the new project's ticket
    owner.page.goto(f"{hub.url}/#/p/{project_id}/t/{ticket['id']}")
    expect(owner.page.locator("#project-picker")).to_have_value(str(project_id))
    owner.wait_live()
    expect(owner.page.locator("#t-assignee option", has_text="Bob Baker")).to_have_count(0)

    bob = open_page().login("bob@example.com")
    page = bob.page
    page.goto(invite["url"])
    expect(page.get_by_role("heading", name="Join Website")).to_be_visible()
    facts = page.locator(".auth-facts")
    expect(facts).to_contain_text("WEB · Website")
    expect(facts).to_contain_text("Alice Archer")
    expect(facts).to_contain_text("Member (can create, edit and comment on tickets)")
    assert_accessible(page, label="invite, signed in")
    page.get_by_role("button", name="Join WEB as member").click()

    expect(page).to_have_url(re.compile(rf"#/p/{project_id}$"))
    expect(page.locator("#project-picker")).to_have_value(str(project_id))
    expect(page.locator("#project-picker option", has_text="WEB · Website")).to_have_count(1)
    assert member_emails(alice, project_id)["bob@example.com"] == "member"  # the owner's members list
    expect(owner.page.locator("#filter-assignee option", has_text="Bob Baker")).to_have_count(1, timeout=LOAD)
    # Without a reload, the owner's open drawer can assign Bob and @-mention him.
    expect(owner.page.locator("#t-assignee option", has_text="Bob Baker")).to_have_count(1)
    box = owner.page.get_by_label("Add a comment")
    box.click()
    box.press_sequentially("Over to @bo")
    expect(
        owner.page.locator("#mention-list").get_by_role("option", name=re.compile("Bob Baker"))
    ).to_have_count(1)

    page.goto(invite["url"])  # the link again: already a member
    expect(page.get_by_text("You are already a member of WEB (as member).")).to_be_visible()
    page.get_by_role("link", name="Open the WEB board").click()
    expect(page).to_have_url(re.compile(rf"#/p/{project_id}$"))
    bob.assert_no_console_errors()
    owner.assert_no_console_errors()


def test_a_member_with_a_lower_role_can_take_the_invites_role(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project_id = alice.project_id("OPS")
    invite = make_invite(alice, project_id, role="member")

    carol = open_page().login("carol@example.com")  # a viewer of OPS
    carol.page.goto(invite["url"])
    expect(carol.page.get_by_text("You are already a member of OPS (as viewer)")).to_be_visible()
    carol.page.get_by_role("button", name="Become member of OPS").click()
    expect(carol.page).to_have_url(re.compile(rf"#/p/{project_id}$"))
    expect(carol.page.locator("#role-badge")).to_be_hidden()  # no longer view-only
    assert member_emails(alice, project_id)["carol@example.com"] == "member"
    carol.assert_no_console_errors()


def test_a_signed_out_user_signs_in_on_the_invite_page_and_joins(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project_id = new_project(alice, "WEB", "Website")
    invite = make_invite(alice, project_id, role="viewer")

    board = open_page()
    page = board.page
    page.goto(invite["url"])
    expect(page.get_by_role("heading", name="Join Website")).to_be_visible()
    expect(page.locator(".auth-facts")).to_contain_text("Viewer (can read")
    page.get_by_role("button", name="I have an account").click()
    expect(page.locator("#invite-login-email")).to_be_focused()
    page.keyboard.type("bob@example.com")
    page.locator("#invite-login-password").fill("not-his-password")
    page.locator("#invite-login-password").press("Enter")
    summary = page.locator("#invite-signin-error")
    expect(summary).to_have_text("That email and password do not match.")
    expect(summary).to_be_focused()
    assert "bob@example.com" not in member_emails(alice, project_id)

    page.locator("#invite-login-password").fill("switchboard-demo")
    page.locator("#invite-login-password").press("Enter")
    expect(page).to_have_url(re.compile(rf"#/p/{project_id}$"))
    expect(page.locator("#app-view")).to_be_visible()
    expect(page.locator("#project-picker")).to_have_value(str(project_id))
    assert member_emails(alice, project_id)["bob@example.com"] == "viewer"
    board.assert_no_console_errors(allow=[http_status_logged(401)])


@SIGNUP_OFF
def test_a_new_person_signs_up_with_an_invite_while_sign_up_is_off(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project_id = alice.project_id("OPS")
    invite = make_invite(alice, project_id, role="member")
    closed = httpx.post(
        f"{hub.url}/api/auth/register",
        json={"email": "erin@example.com", "password": GOOD_PASSWORD, "name": "Erin"},
    )
    assert closed.status_code == 403  # without the invite, sign-up is off

    board = open_page(viewport={"width": 390, "height": 844})
    page = board.page
    page.goto(invite["url"])
    expect(page.get_by_role("heading", name="Join Operations")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert_accessible(page, label="invite, signed out")
    page.get_by_role("button", name="Create an account").click()
    expect(page.locator("#invite-signup-name")).to_be_focused()
    page.keyboard.type("Erin Example")
    page.locator("#invite-signup-email").fill("erin@example.com")
    page.locator("#invite-signup-password").fill(GOOD_PASSWORD)
    page.locator("#invite-signup-password").press("Enter")

    expect(page).to_have_url(re.compile(rf"#/p/{project_id}$"))
    expect(page.locator(".card").first).to_be_visible()
    expect(page.locator("#me-name")).to_have_text("Erin Example")
    assert member_emails(alice, project_id)["erin@example.com"] == "member"
    board.assert_no_console_errors()


def expire(hub, invite_id: int) -> None:
    """Move an invite's expiry into the past (the hub's SQLite database, as time passing would)."""
    path = hub.database_url.split("///", 1)[1]
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE project_invites SET expires_at = '2001-01-01 00:00:00' WHERE id = ?", (invite_id,))


def test_expired_revoked_used_up_and_unknown_links_each_say_what_happened(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project_id = new_project(alice, "WEB", "Website")
    expired = make_invite(alice, project_id)
    expire(hub, expired["id"])
    revoked = make_invite(alice, project_id)
    alice.call("DELETE", f"/api/invites/{revoked['id']}", expect=204)
    used_up = make_invite(alice, project_id, max_uses=1)
    as_user("bob@example.com").call("POST", f"/api/invites/{used_up['token']}/accept")
    cases = [
        (expired["url"], "This invite has expired", "limited time"),
        (revoked["url"], "This invite was withdrawn", "revoked this link"),
        (used_up["url"], "This invite has been used up", "as many times as it allows"),
        (f"{hub.url}/#/invite/no-such-token-at-all", "This invite link is not valid", "No invite matches"),
    ]

    board = open_page()
    page = board.page
    for url, heading, explanation in cases:
        page.goto(url)
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.get_by_role("heading", name=heading)).to_be_focused()
        expect(page.get_by_text(explanation)).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("Join|Create an account"))).to_have_count(0)
    page.get_by_role("link", name="Go to sign in").click()
    expect(page.locator("#login-view")).to_be_visible()

    carol = open_page().login("carol@example.com")  # signed in: the way out is the board
    carol.page.goto(revoked["url"])
    expect(carol.page.get_by_role("heading", name="This invite was withdrawn")).to_be_visible()
    carol.page.get_by_role("link", name="Back to the board").click()
    expect(carol.page.locator(".card").first).to_be_visible()
    assert "carol@example.com" not in member_emails(alice, project_id)
    gone = [http_status_logged(404), http_status_logged(410)]
    board.assert_no_console_errors(allow=gone)
    carol.assert_no_console_errors(allow=gone)


# --- sign-out --------------------------------------------------------------------------------------


def test_sign_out_ends_the_session_on_the_server(hub, open_page):
    board = open_page().login("bob@example.com")
    stored = board.page.evaluate("() => localStorage.getItem('switchboard.session')")
    token = json.loads(stored)["access"]
    me = httpx.get(f"{hub.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200

    board.page.get_by_role("button", name="Sign out").click()
    expect(board.page.locator("#login-view")).to_be_visible()
    assert board.page.evaluate("() => localStorage.getItem('switchboard.session')") is None
    after = httpx.get(f"{hub.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    board.assert_no_console_errors()
