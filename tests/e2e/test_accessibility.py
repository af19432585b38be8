"""Accessibility of the board and its screens: axe-core (no serious or critical violation, in the light
and the dark colour scheme), keyboard paths through every board action, and phone-width details.

axe runs from the copy bundled with `axe-playwright-python` (see tests/e2e/axe.py); nothing is fetched.
"""

from __future__ import annotations

import re
import sqlite3
import time

import pytest

from tests.e2e.browser import require_playwright

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import Locator, Page, expect  # noqa: E402

from tests.e2e.axe import assert_accessible, focused_description, tab_until  # noqa: E402
from tests.e2e.pages import http_status_logged  # noqa: E402

PHONE = {"width": 390, "height": 844}
SCHEMES = ("light", "dark")


def assert_accessible_in_both_schemes(page: Page, label: str) -> None:
    """axe in the light and the dark colour scheme (the CSS follows `prefers-color-scheme`)."""
    backgrounds = set()
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        backgrounds.add(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert_accessible(page, label=f"{label}, {scheme}")
    assert len(backgrounds) == 2, "the dark scheme did not change the page's colours"
    page.emulate_media(color_scheme="light")


# --- axe -------------------------------------------------------------------------------------------


def test_sign_in_page_passes_axe(hub, open_page):
    board = open_page().open()
    expect(board.page.get_by_label("Email")).to_be_visible()
    expect(board.page.locator("#demo-hint")).to_be_visible()
    assert_accessible_in_both_schemes(board.page, "sign-in")
    board.assert_no_console_errors()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_board_drawer_and_notifications_pass_axe(hub, open_page, scheme):
    board = open_page()
    board.page.emulate_media(color_scheme=scheme)
    board.login("alice@example.com")
    board.wait_live()
    expect(board.page.locator(".card")).to_have_count(6)
    assert_accessible(board.page, label=f"board, {scheme}")

    board.open_ticket("OPS-6")
    expect(board.page.locator("#comment-list .comment")).to_have_count(1)
    assert_accessible(board.page, label=f"drawer, {scheme}")
    board.page.keyboard.press("Escape")
    expect(board.drawer).to_be_hidden()

    board.page.locator("#bell").click()
    expect(board.page.locator("#notif-list .notif")).not_to_have_count(0)
    assert_accessible(board.page, label=f"notifications panel, {scheme}")
    board.assert_no_console_errors()


def test_phone_width_passes_axe(hub, open_page):
    board = open_page(viewport=PHONE).login("alice@example.com")
    board.wait_live()
    assert_accessible_in_both_schemes(board.page, "board at 390 px")
    board.open_ticket("OPS-6")
    expect(board.page.locator("#comment-list .comment")).to_have_count(1)
    assert_accessible_in_both_schemes(board.page, "drawer at 390 px")
    board.assert_no_console_errors()


def assert_focus_ring_hugs(heading: Locator, *, by_keyboard: bool = True) -> None:
    """A focused heading's focus indicator is about the size of its text, not of the whole row; after a
    keyboard action the indicator shows (after a click Chromium rightly shows none)."""
    expect(heading).to_be_focused()
    ring = heading.evaluate(
        """(el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            return {width: el.getBoundingClientRect().width, text: range.getBoundingClientRect().width,
                    visible: el.matches(':focus-visible'),
                    shadow: getComputedStyle(el).boxShadow, outline: getComputedStyle(el).outlineStyle};
        }"""
    )
    if by_keyboard:
        assert ring["visible"], f"no :focus-visible after a keyboard action: {ring}"
        assert ring["shadow"] != "none" or ring["outline"] != "none", f"no visible focus indicator: {ring}"
    assert ring["width"] <= ring["text"] + 16, f"the focus ring spans more than the heading: {ring}"


def _expire_invite(hub, invite_id: int) -> None:
    """Arrange an expired invite directly in the hub's SQLite database (the API's minimum is 5 minutes)."""
    db = sqlite3.connect(hub.workdir / "hub.db")
    try:
        with db:
            db.execute(
                "UPDATE project_invites SET expires_at = '2020-01-01 00:00:00.000000' WHERE id = ?",
                (invite_id,),
            )
    finally:
        db.close()


def test_signed_out_screens_pass_axe(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project = alice.project_id()
    valid = alice.call("POST", f"/api/projects/{project}/invites", {"role": "member"})
    expired = alice.call("POST", f"/api/projects/{project}/invites", {"role": "viewer"})
    _expire_invite(hub, expired["id"])
    board = open_page()
    page, url = board.page, hub.url + "/"

    page.goto(url)
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("account", re.I))
    assert_accessible_in_both_schemes(page, "sign-up")

    page.goto(f"{url}#/invite/{valid['token']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Operations")
    assert_focus_ring_hugs(page.get_by_role("heading", level=1), by_keyboard=False)
    assert_accessible_in_both_schemes(page, "invite (valid, signed out)")

    page.goto(f"{url}#/invite/{expired['token']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("expired", re.I))
    assert_accessible_in_both_schemes(page, "invite (expired)")
    board.assert_no_console_errors(allow=[http_status_logged(410)])


def _settled(page: Page) -> None:
    """The screen has drawn its data: nothing says it is loading any more."""
    expect(page.locator("[aria-busy='true']:visible")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^Loading", re.I))).to_have_count(0)


def test_signed_in_screens_pass_axe(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project = alice.project_id()
    alice.call("POST", f"/api/projects/{project}/invites", {"role": "member"})  # the invites tab lists one
    board = open_page().login("alice@example.com")
    page, url = board.page, hub.url + "/"
    own_invite = alice.call("POST", f"/api/projects/{project}/invites", {"role": "viewer"})
    settings_tabs = ("account", "notifications", "chat")
    project_tabs = ("general", "members", "invites", "webhooks", "chat", "integrations")
    screens = [
        *((f"#/settings/{tab}", "Settings", f"settings: {tab}") for tab in settings_tabs),
        ("#/new-project", "New project", "new project"),
        *((f"#/p/{project}/settings/{tab}", "Project settings", f"settings: {tab}") for tab in project_tabs),
        (f"#/invite/{own_invite['token']}", "Operations", "invite (signed in, already a member)"),
    ]
    for hash_, heading, label in screens:
        page.goto(url + hash_)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        _settled(page)
        assert_accessible_in_both_schemes(page, label)
    board.assert_no_console_errors()


# --- keyboard --------------------------------------------------------------------------------------


def test_the_skip_link_jumps_to_the_board_without_changing_the_route(hub, open_page):
    board = open_page().login("alice@example.com")
    page = board.page
    page.reload()  # nothing focused yet: the first Tab of a fresh page
    expect(page.locator(".card")).to_have_count(6)
    hash_before = page.evaluate("location.hash")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box
    assert box["y"] >= 0, "the focused skip link is off screen"
    page.keyboard.press("Enter")
    expect(page.locator("main#board")).to_be_focused()
    assert page.evaluate("location.hash") == hash_before
    page.keyboard.press("Tab")  # the next stop is inside the board, past the top bar and filters
    assert page.evaluate("document.getElementById('board').contains(document.activeElement)")

    # On another screen it lands on that screen's content, and the route stays put there too.
    page.goto(f"{hub.url}/#/settings/notifications")
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    tab_until(page, ".skip-link", max_steps=40, key="Shift+Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#/settings/notifications"
    assert page.evaluate(
        "document.getElementById('screen').contains(document.activeElement)"
        " && document.activeElement.matches('main, h1')"
    ), focused_description(page)
    board.assert_no_console_errors()


def test_a_card_opens_with_enter_and_escape_returns_focus_to_it(hub, open_page):
    board = open_page().login("alice@example.com")
    page = board.page
    page.locator("body").focus()
    tab_until(page, ".card", max_steps=40)
    key = page.evaluate("document.activeElement.querySelector('.card-key').textContent")
    page.keyboard.press("Enter")
    expect(board.drawer).to_be_visible()
    expect(page.locator("#drawer-key")).to_have_text(key)
    expect(page.locator("#drawer-key")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#/p/\d+/t/\d+$"))
    page.keyboard.press("Tab")  # onward into the drawer, not back to the board
    assert page.evaluate("document.getElementById('drawer').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(board.drawer).to_be_hidden()
    expect(board.card(key)).to_be_focused()
    expect(page).to_have_url(re.compile(r"#/p/\d+$"))
    board.assert_no_console_errors()


def test_creating_a_ticket_by_keyboard(hub, open_page, as_user):
    board = open_page().login("bob@example.com")
    page = board.page
    page.reload()
    expect(page.locator(".card")).to_have_count(6)
    tab_until(page, '[aria-label="Create ticket in In Progress"]', max_steps=60)
    page.keyboard.press("Enter")
    field = page.get_by_label("Title of a new In Progress ticket")
    expect(field).to_be_focused()
    page.keyboard.type("Rotate the TLS certificates")
    page.keyboard.press("Enter")
    board.expect_in_column("Rotate the TLS certificates", "in_progress")
    titles = {t["title"]: t["status"] for t in as_user("bob@example.com").tickets()}
    assert titles.get("Rotate the TLS certificates") == "in_progress"
    page.keyboard.press("Escape")
    expect(field).to_be_hidden()
    expect(page.get_by_role("button", name="Create ticket in In Progress")).to_be_focused()
    board.assert_no_console_errors()


def test_the_notifications_panel_by_keyboard(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    assert alice.call("GET", "/api/notifications")["unread_count"] >= 1
    board = open_page().login("alice@example.com")
    page = board.page
    board.wait_live()
    page.locator("body").focus()
    tab_until(page, "#bell", max_steps=30)
    page.keyboard.press("Enter")
    panel = page.locator("#notif-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#bell")).to_have_attribute("aria-expanded", "true")
    first = panel.locator(".notif").first
    expect(first).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.locator("#bell")).to_be_focused()
    page.keyboard.press("Enter")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")  # opens the notification's ticket
    expect(panel).to_be_hidden()
    expect(board.drawer).to_be_visible()
    deadline = time.monotonic() + 10
    while alice.call("GET", "/api/notifications")["unread_count"] != 0:
        assert time.monotonic() < deadline, "opening the notification did not mark it read"
        time.sleep(0.2)
    board.assert_no_console_errors()


def test_the_project_picker_by_keyboard(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    web = alice.call("POST", "/api/projects", {"key": "WEB", "name": "Website"})
    alice.create_ticket("Fix the pricing page typo", key="WEB")
    board = open_page().login("alice@example.com")
    page = board.page
    page.locator("body").focus()
    tab_until(page, "#project-picker", max_steps=10)
    picker = page.locator("#project-picker")
    expect(picker).to_have_value(str(alice.project_id("OPS")))
    page.keyboard.press("ArrowDown")  # a closed <select> changes its value with the arrow keys
    expect(picker).to_have_value(str(web["id"]))
    expect(board.card("WEB-1")).to_be_visible()
    expect(page.locator(".card")).to_have_count(1)
    expect(page).to_have_url(re.compile(rf"#/p/{web['id']}$"))
    board.assert_no_console_errors()


# --- phone width -----------------------------------------------------------------------------------


def test_phone_width_shows_who_is_online_a_readable_search_and_a_snug_focus_ring(hub, open_page):
    bob = open_page().login("bob@example.com")
    board = open_page(viewport=PHONE).login("alice@example.com")
    board.wait_live()
    page = board.page

    online = page.locator("#presence li")
    expect(online).to_have_count(1)
    expect(online.first).to_be_visible()
    box = online.first.bounding_box()
    assert box
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    expect(page.locator("#presence")).to_have_attribute("aria-label", re.compile("Bob Baker"))

    search = page.get_by_label("Search tickets")
    expect(search).to_be_visible()
    room = page.evaluate(
        """(el) => {
            const style = getComputedStyle(el);
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return {text: ctx.measureText(el.placeholder).width, inner};
        }""",
        search.element_handle(),
    )
    assert room["text"] <= room["inner"], f"the search placeholder is cut off: {room}"

    card = board.card("OPS-6")
    card.focus()
    page.keyboard.press("Enter")
    heading = page.locator("#drawer-key")
    expect(heading).to_be_focused()
    assert_focus_ring_hugs(heading)
    page.keyboard.press("Escape")
    expect(card).to_be_focused()
    bob.assert_no_console_errors()
    board.assert_no_console_errors()
