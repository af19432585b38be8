"""The screen shell (web/static/js/router.js + main.js): screens open from anywhere on the board,
including with a ticket open, and the back button returns to what was there."""

from __future__ import annotations

import re

from tests.e2e.browser import require_playwright

require_playwright()

from playwright.sync_api import expect  # noqa: E402

LOAD = 10_000


def test_settings_open_over_an_open_ticket_and_back_returns_to_it(hub, open_page):
    board = open_page().login("alice@example.com")
    board.open_ticket("OPS-3")
    page = board.page
    ticket_url = page.url
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page).to_have_url(re.compile(r"#/settings$"))
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible(timeout=LOAD)
    expect(board.drawer).to_be_hidden()
    expect(page.locator("#board-area")).to_be_hidden()

    page.get_by_role("link", name="Project settings").click()
    expect(page).to_have_url(re.compile(r"#/p/\d+/settings$"))
    expect(page.get_by_role("heading", name="Project settings", level=1)).to_be_visible(timeout=LOAD)

    page.go_back()
    page.go_back()
    expect(page).to_have_url(ticket_url)
    expect(board.drawer).to_be_visible(timeout=LOAD)
    expect(page.locator("#screen")).to_be_hidden()
    board.assert_no_console_errors()


def test_an_unknown_project_in_the_url_falls_back_to_one_the_user_has(hub, open_page):
    board = open_page().login("alice@example.com")
    board.page.goto(f"{hub.url}/#/p/999999")
    expect(board.page.locator(".card").first).to_be_visible(timeout=LOAD)
    expect(board.page.locator("#project-picker")).not_to_have_value("999999")
    board.assert_no_console_errors()
