"""The live board: two people in two browsers, a hub restart, filters and token refresh.

Each test drives real WebSockets (`/ws/...`) of a real hub subprocess; nothing is mocked.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.browser import require_playwright
from tests.e2e.hub import HubApi

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import expect  # noqa: E402

from tests.e2e.pages import WHILE_HUB_DOWN  # noqa: E402

LIVE = 5_000  # "within a blink", with room for a slow CI machine


def test_two_people_see_each_others_work_live(hub, open_page, as_user):
    alice = open_page().login("alice@example.com")
    bob = open_page().login("bob@example.com")
    alice.wait_live()
    bob.wait_live()
    bob_api = as_user("bob@example.com")
    alice_id, bob_id = bob_api.user_id("alice@example.com"), bob_api.user_id("bob@example.com")

    # presence: each sees the other online
    expect(alice.page.locator(f'#presence [data-user-id="{bob_id}"]')).to_be_visible(timeout=LIVE)
    expect(bob.page.locator(f'#presence [data-user-id="{alice_id}"]')).to_be_visible(timeout=LIVE)
    expect(alice.page.locator("#presence")).to_have_attribute("aria-label", "Online now: Bob Baker")

    # Alice creates a ticket; Bob's board shows it without a reload
    alice.page.get_by_role("button", name="Create ticket in Todo").click()
    alice.page.get_by_label("Title of a new Todo ticket").fill("Page the database team")
    alice.page.get_by_label("Title of a new Todo ticket").press("Enter")
    bob.expect_in_column("Page the database team", "todo", timeout=LIVE)
    key = bob.card("Page the database team").locator(".card-key").inner_text()

    # Bob drags it; Alice sees it move
    bob.card(key).drag_to(bob.column("in_progress"))
    alice.expect_in_column(key, "in_progress", timeout=LIVE)
    expect(alice.card(key)).to_have_count(1)

    # both open it: each sees the other viewing, Bob sees Alice typing
    alice.open_ticket(key)
    bob.open_ticket(key)
    expect(alice.page.locator(f"#drawer-viewers li:has(.av-c{bob_id % 8})")).to_have_count(1, timeout=LIVE)
    expect(alice.page.locator("#drawer-viewers")).to_have_attribute("aria-label", "Also viewing: Bob Baker")
    expect(bob.page.locator("#drawer-viewers")).to_have_attribute(
        "aria-label", "Also viewing: Alice Archer", timeout=LIVE
    )
    alice.drawer.get_by_label("Add a comment").press_sequentially("On it, paging now")
    expect(bob.page.locator("#typing")).to_have_text("Alice Archer is typing…", timeout=LIVE)
    alice.drawer.get_by_role("button", name="Comment").click()
    expect(bob.drawer.locator("#comment-list")).to_contain_text("On it, paging now", timeout=LIVE)
    expect(bob.page.locator("#typing")).to_have_text("", timeout=LIVE)

    # Alice assigns Bob: a toast and the bell's count for Bob
    unread_before = int(bob_api.call("GET", "/api/notifications")["unread_count"])
    alice.drawer.get_by_label("Assignee").select_option(label="Bob Baker")
    toast = bob.page.locator(".toast", has_text=f"Assigned to you: {key}")
    expect(toast).to_be_visible(timeout=LIVE)
    expect(bob.page.locator("#bell-count")).to_have_text(str(unread_before + 1), timeout=LIVE)
    expect(bob.drawer.get_by_label("Assignee")).to_have_value(str(bob_id), timeout=LIVE)
    bob.page.locator("#bell").click()
    expect(bob.page.locator("#notif-list")).to_contain_text(f"Assigned to you: {key}")
    bob.page.keyboard.press("Escape")

    # Alice closes the drawer: Bob no longer sees her viewing
    alice.page.keyboard.press("Escape")
    expect(bob.page.locator("#drawer-viewers")).to_have_attribute(
        "aria-label", "Nobody else is viewing", timeout=LIVE
    )

    # tokens travel in the protocol header, never in the URL
    assert all("token" not in url for url in alice.socket_urls + bob.socket_urls)
    alice.assert_no_console_errors()
    bob.assert_no_console_errors()


def test_a_ticket_made_while_the_hub_restarts_appears_once(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    board.wait_live()
    api = as_user("alice@example.com")
    api.create_ticket("Before the restart")
    board.expect_in_column("Before the restart", "todo", timeout=LIVE)

    hub.stop()
    expect(board.connection).to_have_attribute("data-state", re.compile("reconnecting|offline"), timeout=LIVE)
    retry = board.page.get_by_role("button", name="Retry now")
    expect(retry).to_be_visible()

    # Write through another hub on the same database while this page's hub is down, so the page
    # cannot possibly have reconnected before the ticket exists.
    sibling = hub.sibling()
    sibling.start()
    try:
        HubApi(sibling.url, "bob@example.com").create_ticket("Made while the hub was down", priority="high")
    finally:
        sibling.stop()
    expect(board.card("Made while the hub was down")).to_have_count(0)

    hub.start()
    retry.click()
    board.wait_live(timeout=15_000)
    board.expect_in_column("Made while the hub was down", "todo", timeout=LIVE)
    board.page.wait_for_timeout(1_000)  # a duplicate would arrive by now
    expect(board.card("Made while the hub was down")).to_have_count(1)
    expect(board.card("Before the restart")).to_have_count(1)
    resumed = [url for url in board.socket_urls if "/tickets/" in url and "last_event_id=" in url]
    assert resumed, f"the ticket socket did not resume: {board.socket_urls}"
    board.assert_no_console_errors(allow=WHILE_HUB_DOWN)


def test_reconnects_with_backoff_until_the_hub_is_back(hub, open_page, as_user):
    board = open_page().login("bob@example.com")
    board.wait_live()
    hub.stop()
    expect(board.connection).to_have_attribute("data-state", "offline", timeout=20_000)
    expect(board.page.locator("#connection-text")).to_contain_text(re.compile(r"Offline · retry in \d+s"))
    expect(board.page.get_by_role("button", name="Retry now")).to_be_visible()
    hub.start()
    board.wait_live(timeout=40_000)  # the capped backoff brings it back without a click
    expect(board.page.get_by_role("button", name="Retry now")).to_be_hidden()
    as_user("alice@example.com").create_ticket("After the outage")
    board.expect_in_column("After the outage", "todo", timeout=LIVE)
    board.assert_no_console_errors(allow=WHILE_HUB_DOWN)


def test_filters_keep_working_live(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    board.wait_live()
    board.page.get_by_role("button", name="My tickets").click()
    expect(board.page.locator(".card")).to_have_count(1)
    bob = as_user("bob@example.com")
    alice_id, bob_id = bob.user_id("alice@example.com"), bob.user_id("bob@example.com")

    bob.create_ticket("For Bob himself", assignee_id=bob_id)
    mine = bob.create_ticket("For Alice", assignee_id=alice_id)
    board.expect_in_column("For Alice", "todo", timeout=LIVE)
    expect(board.card("For Bob himself")).to_have_count(0)

    bob.patch_ticket(mine["key"], assignee_id=bob_id, version=mine["version"])
    expect(board.card("For Alice")).to_have_count(0, timeout=LIVE)

    board.page.get_by_role("button", name="My tickets").click()
    board.page.get_by_label("Search tickets").fill("himself")
    expect(board.page.locator(".card")).to_have_count(1)
    doomed = bob.create_ticket("Also himself, in review", status="in_review")
    board.expect_in_column("Also himself, in review", "in_review", timeout=LIVE)
    bob.call("DELETE", f"/api/tickets/{doomed['key']}", expect=204)
    expect(board.card("Also himself, in review")).to_have_count(0, timeout=LIVE)
    board.assert_no_console_errors()


@pytest.mark.parametrize("hub_env", [{"ACCESS_TOKEN_TTL": "30"}])
def test_access_tokens_are_refreshed_before_they_expire(hub, open_page, as_user):
    board = open_page().login("bob@example.com")
    second_tab = board.new_tab()  # tabs share one rotating refresh token and must not spend it twice
    board.wait_live()
    second_tab.wait_live()
    board.page.wait_for_timeout(36_000)  # past the 30 s token lifetime (and lets Playwright deliver events)
    refreshes = [
        url
        for method, url in board.requests + second_tab.requests
        if method == "POST" and url.endswith("/api/auth/refresh")
    ]
    assert refreshes, "the page never refreshed its access token"
    auth_frames = [json.loads(p) for _url, p in board.frames_sent if '"auth"' in p]
    assert auth_frames
    assert all(f["type"] == "auth" and f["token"] for f in auth_frames)
    for tab in (board, second_tab):
        expect(tab.connection).to_have_attribute("data-state", "live")
        ticket_sockets = [u for u in tab.socket_urls if "/tickets/" in u]
        assert len(ticket_sockets) == 1, f"the socket was closed and reopened: {ticket_sockets}"
    as_user("alice@example.com").create_ticket("Still live after the refresh")
    for tab in (board, second_tab):
        tab.expect_in_column("Still live after the refresh", "todo", timeout=LIVE)
        tab.page.reload()  # the rotated refresh token was stored: still signed in after a reload
        expect(tab.card("Still live after the refresh")).to_be_visible()
        tab.assert_no_console_errors()


def test_a_notification_arriving_while_the_panel_is_open_keeps_focus_in_it(hub, open_page, as_user):
    """The list re-renders when a notification arrives (or the list loads); the focused notification
    used to be replaced and focus dropped to the page, where Escape no longer closed the panel."""
    bob = open_page().login("bob@example.com")
    bob.wait_live()
    alice_api, bob_api = as_user("alice@example.com"), as_user("bob@example.com")
    bob_id = bob_api.user_id("bob@example.com")
    alice_api.create_ticket("First for Bob", assignee_id=bob_id)
    bell, panel = bob.page.locator("#bell"), bob.page.locator("#notif-panel")
    expect(bob.page.locator("#bell-count")).not_to_have_text("0", timeout=LIVE)
    bell.click()
    first = panel.locator("button.notif").first
    expect(first).to_be_focused()
    focused_id = first.get_attribute("data-id")
    alice_api.create_ticket("Second for Bob", assignee_id=bob_id)
    expect(panel.locator("button.notif", has_text="Second for Bob")).to_have_count(1, timeout=LIVE)
    expect(panel.locator(f'button.notif[data-id="{focused_id}"]')).to_be_focused()
    bob.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_be_focused()
    bob.assert_no_console_errors()
