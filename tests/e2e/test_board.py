"""The board through a browser: sign-in, columns, moving, creating, editing, comments, permissions.

These flows need only the REST API; `test_live.py` covers what arrives over the sockets.
"""

from __future__ import annotations

import json
import re
import time

import httpx

from tests.e2e.browser import require_playwright

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import Route, expect  # noqa: E402

from tests.e2e.pages import http_status_logged  # noqa: E402

STATUSES = ["todo", "in_progress", "in_review", "done", "canceled"]


def test_sign_in_with_the_demo_hint_shows_every_ticket_in_its_column(hub, open_page, as_user):
    board = open_page().open()
    hint = board.page.locator("#demo-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("alice@example.com")
    hint.get_by_role("button", name="Use the demo login").click()
    expect(board.page.get_by_label("Email")).to_have_value("alice@example.com")
    board.page.get_by_role("button", name="Sign in").click()
    expect(board.page.locator(".card")).to_have_count(6)

    headings = board.page.locator(".column h2")
    expect(headings).to_have_text(["Todo", "In Progress", "In Review", "Done", "Canceled"])
    for ticket in as_user("alice@example.com").tickets():
        card = board.card(ticket["key"])
        board.expect_in_column(ticket["key"], ticket["status"])
        expect(card.locator(".card-title")).to_have_text(ticket["title"])
        expect(card).to_have_attribute("aria-label", re.compile(f"priority {ticket['priority']}", re.I))
        expect(card.locator(f".prio-{ticket['priority']}")).to_have_count(1)
        if ticket["assignee"]:
            first, *_, last = ticket["assignee"]["name"].split()
            expect(card.locator(".avatar")).to_have_text((first[0] + last[0]).upper())
    expect(board.page.locator("#project-picker")).to_have_value(
        str(as_user("alice@example.com").project_id())
    )
    board.assert_no_console_errors()


def test_no_demo_hint_without_demo_credentials_in_healthz(hub, open_page):
    board = open_page()
    board.page.route(
        "**/healthz",
        lambda route: route.fulfill(status=200, content_type="application/json", body='{"status":"ok"}'),
    )
    board.open()
    expect(board.page.get_by_label("Email")).to_be_visible()
    board.page.wait_for_timeout(300)
    expect(board.page.locator("#demo-hint")).to_be_hidden()
    board.assert_no_console_errors()


def test_a_wrong_password_says_so(hub, open_page):
    board = open_page().open()
    board.page.get_by_label("Email").fill("alice@example.com")
    board.page.get_by_label("Password").fill("not-the-password")
    board.page.get_by_role("button", name="Sign in").click()
    expect(board.page.locator("#login-error")).to_have_text("That email and password do not match.")
    expect(board.page.locator("#app-view")).to_be_hidden()
    board.assert_no_console_errors(allow=[http_status_logged(401)])


def test_the_page_is_served_under_a_strict_csp_and_uses_no_inline_styles(hub, open_page):
    response = httpx.get(hub.url + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    board = open_page().login("alice@example.com")
    board.open_ticket("OPS-6")
    expect(board.page.locator("#comment-list .comment")).to_have_count(1)
    assert board.page.locator("[style]").count() == 0
    assert board.page.locator("script:not([src])").count() == 0
    assert board.page.locator("style").count() == 0
    # every form control has an accessible name
    unnamed = board.page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
              .filter((el) => el.offsetParent !== null)
              .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()
                               || el.getAttribute('aria-labelledby')))
              .map((el) => el.outerHTML)"""
    )
    assert unnamed == []
    board.assert_no_console_errors()


def test_dragging_a_card_changes_its_status_and_it_stays_there(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    board.card("OPS-5").drag_to(board.column("in_progress"))
    board.expect_in_column("OPS-5", "in_progress")
    _wait_for(lambda: as_user("alice@example.com").ticket("OPS-5")["status"] == "in_progress")
    board.page.reload()
    board.expect_in_column("OPS-5", "in_progress")
    board.assert_no_console_errors()


def test_the_keyboard_moves_a_card(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    card = board.card("OPS-3")
    card.focus()
    board.page.keyboard.press("Space")
    expect(card).to_have_class(re.compile(r"\blifted\b"))
    board.page.keyboard.press("ArrowRight")
    board.page.keyboard.press("ArrowRight")
    expect(board.page.locator("#announcer")).to_contain_text("In Review")
    board.page.keyboard.press("Space")
    board.expect_in_column("OPS-3", "in_review")
    _wait_for(lambda: as_user("alice@example.com").ticket("OPS-3")["status"] == "in_review")
    expect(board.card("OPS-3")).to_be_focused()
    # Escape puts a lifted card back where it was.
    board.page.keyboard.press("Space")
    board.page.keyboard.press("ArrowLeft")
    board.page.keyboard.press("Escape")
    board.expect_in_column("OPS-3", "in_review")
    assert as_user("alice@example.com").ticket("OPS-3")["status"] == "in_review"
    board.assert_no_console_errors()


def test_a_stale_move_is_rolled_back_with_a_message(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    board = open_page().login("alice@example.com")
    alice.patch_ticket("OPS-5", title="Upgrade PostgreSQL to 17")  # someone else edits it meanwhile

    def stale(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        body["version"] = 1  # what the page saw before that edit, whether or not sockets told it
        route.continue_(post_data=json.dumps(body))

    board.page.route(
        "**/api/tickets/*",
        lambda route: stale(route) if route.request.method == "PATCH" else route.continue_(),
    )
    board.card("OPS-5").drag_to(board.column("done"))
    toast = board.page.locator(".toast-error")
    expect(toast).to_contain_text("Move undone")
    expect(toast).to_contain_text("OPS-5 was changed by someone else")
    board.expect_in_column("OPS-5", "todo")
    assert alice.ticket("OPS-5")["status"] == "todo"
    expect(board.card("OPS-5").locator(".card-title")).to_have_text("Upgrade PostgreSQL to 17")  # refreshed
    board.assert_no_console_errors(allow=[http_status_logged(409)])


def test_a_refused_move_is_rolled_back_with_the_servers_reason(hub, open_page):
    board = open_page().login("alice@example.com")
    board.page.route(
        "**/api/tickets/*",
        lambda route: (
            route.fulfill(
                status=403,
                content_type="application/json",
                body=json.dumps(
                    {"error": {"code": "forbidden", "message": "your role does not allow this", "fields": {}}}
                ),
            )
            if route.request.method == "PATCH"
            else route.continue_()
        ),
    )
    board.card("OPS-2").drag_to(board.column("done"))
    expect(board.page.locator(".toast-error")).to_contain_text("your role does not allow this")
    board.expect_in_column("OPS-2", "todo")
    board.assert_no_console_errors(allow=[http_status_logged(403)])


def test_a_viewer_cannot_drag_or_edit(hub, open_page, as_user):
    board = open_page().login("carol@example.com")
    expect(board.page.locator("#role-badge")).to_be_visible()
    card = board.card("OPS-5")
    expect(card).to_have_attribute("draggable", "false")
    card.drag_to(board.column("done"))
    board.page.wait_for_timeout(500)
    board.expect_in_column("OPS-5", "todo")
    card.focus()
    board.page.keyboard.press("Space")
    board.page.keyboard.press("ArrowRight")
    board.page.keyboard.press("Space")
    board.expect_in_column("OPS-5", "todo")
    expect(board.page.locator("#announcer")).to_contain_text("not move tickets")
    expect(board.page.get_by_role("button", name="Create ticket in Todo")).to_be_hidden()
    board.page.keyboard.press("Enter")
    expect(board.drawer).to_be_visible()
    expect(board.page.locator("#t-status")).to_be_disabled()
    expect(board.page.locator("#comment-form")).to_be_hidden()
    assert board.patch_requests() == []
    assert as_user("alice@example.com").ticket("OPS-5")["status"] == "todo"
    board.assert_no_console_errors()


def test_quick_create_in_a_column(hub, open_page, as_user):
    board = open_page().login("bob@example.com")
    board.page.get_by_role("button", name="Create ticket in In Review").click()
    field = board.page.get_by_label("Title of a new In Review ticket")
    expect(field).to_be_focused()
    field.fill("Check the backup restore drill")
    field.press("Enter")
    board.expect_in_column("Check the backup restore drill", "in_review")
    expect(field).to_have_value("")
    created = [
        t for t in as_user("bob@example.com").tickets() if t["title"] == "Check the backup restore drill"
    ]
    assert [(t["status"], t["reporter"]["email"]) for t in created] == [("in_review", "bob@example.com")]
    field.press("Escape")
    expect(field).to_be_hidden()
    board.assert_no_console_errors()


def test_the_drawer_edits_title_description_status_priority_and_assignee(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-5")
    expect(board.page).to_have_url(re.compile(r"#/p/\d+/t/\d+$"))
    drawer.get_by_label("Title").fill("Upgrade PostgreSQL to 16.4")
    drawer.get_by_label("Title").press("Enter")
    _wait_for(lambda: alice.ticket("OPS-5")["title"] == "Upgrade PostgreSQL to 16.4")
    drawer.get_by_label("Priority").select_option("high")
    _wait_for(lambda: alice.ticket("OPS-5")["priority"] == "high")
    drawer.get_by_label("Assignee").select_option(label="Bob Baker")
    _wait_for(lambda: (alice.ticket("OPS-5")["assignee"] or {}).get("email") == "bob@example.com")
    drawer.get_by_label("Description").fill("Plan the maintenance window first.")
    drawer.get_by_role("button", name="Save").click()
    _wait_for(lambda: alice.ticket("OPS-5")["description"] == "Plan the maintenance window first.")
    drawer.get_by_label("Status").select_option("in_review")
    board.expect_in_column("OPS-5", "in_review")
    card = board.card("OPS-5")
    expect(card.locator(".card-title")).to_have_text("Upgrade PostgreSQL to 16.4")
    expect(card.locator(".avatar")).to_have_text("BB")
    board.page.keyboard.press("Escape")
    expect(board.drawer).to_be_hidden()
    expect(card).to_be_focused()
    board.assert_no_console_errors()


def test_a_ticket_opened_while_the_first_board_load_is_still_pending_stays_open(hub, open_page):
    # The board loads twice on sign-in: once when the project opens and again when its ticket
    # socket connects. Hold the first load back so the second one draws the cards; a ticket opened
    # from them must stay open when the older load finally answers.
    board = open_page()
    held: list[Route] = []

    def hold_first(route: Route) -> None:
        if not held:
            held.append(route)
        else:
            route.continue_()

    board.page.route(re.compile(r"/api/projects/\d+/tickets(\?|$)"), hold_first)
    board.login("alice@example.com")
    board.open_ticket("OPS-6")
    assert len(held) == 1
    with board.page.expect_response(lambda response: response.request == held[0].request):
        held[0].continue_()
    board.page.wait_for_timeout(300)  # the older load's continuation runs right after its answer
    expect(board.drawer).to_be_visible()
    expect(board.page.locator("#drawer-key")).to_have_text("OPS-6")
    expect(board.page).to_have_url(re.compile(r"#/p/\d+/t/\d+$"))
    board.assert_no_console_errors()


def test_comments_with_mention_completion_and_editing_your_own(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-6")
    existing = drawer.locator("#comment-list .comment")
    expect(existing).to_have_count(1)
    expect(existing.first).to_contain_text("Bob Baker")
    expect(existing.first.get_by_role("button", name="Edit your comment")).to_have_count(0)  # not hers

    box = drawer.get_by_label("Add a comment")
    box.click()
    box.press_sequentially("Thanks @bo")
    options = board.page.locator("#mention-list").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Bob Baker")
    box.press("Enter")
    expect(box).to_have_value("Thanks @bob ")
    box.press_sequentially("for the notes")
    drawer.get_by_role("button", name="Comment").click()
    mine = drawer.locator("#comment-list .comment").nth(1)
    expect(mine).to_contain_text("Thanks @bob for the notes")
    expect(mine.locator(".mention")).to_have_text("@bob")
    expect(box).to_have_value("")

    mine.get_by_role("button", name="Edit your comment").click()
    editor = mine.get_by_label("Edit comment")
    editor.fill("Thanks @bob for the detailed notes")
    mine.get_by_role("button", name="Save").click()
    expect(mine).to_contain_text("for the detailed notes")
    expect(mine).to_contain_text("(edited)")
    comments = as_user("alice@example.com").call("GET", "/api/tickets/OPS-6/comments")["items"]
    assert [(c["body"], c["edited"]) for c in comments][-1] == ("Thanks @bob for the detailed notes", True)
    board.assert_no_console_errors()


def test_usable_at_phone_width(hub, open_page, as_user):
    board = open_page(viewport={"width": 390, "height": 844}).login("alice@example.com")
    width = board.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    todo = board.column("todo").bounding_box()
    assert todo
    assert 250 <= todo["width"] <= 390
    for control in ("#project-picker", "#bell", "#filter-text"):
        box = board.page.locator(control).bounding_box()
        assert box, control
        assert box["x"] >= 0, control
        assert box["x"] + box["width"] <= 390, control
    board.card("OPS-1").click()
    drawer_box = board.drawer.bounding_box()
    assert drawer_box
    assert drawer_box["width"] >= 380
    board.drawer.get_by_label("Status").select_option("done")
    _wait_for(lambda: as_user("alice@example.com").ticket("OPS-1")["status"] == "done")
    board.drawer.get_by_role("button", name="Close ticket").click()
    board.column("done").scroll_into_view_if_needed()
    board.expect_in_column("OPS-1", "done")
    board.assert_no_console_errors()


def test_filters_narrow_the_board(hub, open_page):
    board = open_page().login("alice@example.com")
    board.page.get_by_role("button", name="My tickets").click()
    expect(board.page.locator(".card")).to_have_count(1)  # OPS-2 is Alice's
    expect(board.card("OPS-2")).to_be_visible()
    board.page.get_by_role("button", name="My tickets").click()
    board.page.get_by_label("Assignee").first.select_option("none")
    expect(board.page.locator(".card")).to_have_count(1)
    expect(board.card("OPS-5")).to_be_visible()
    board.page.get_by_role("button", name="Clear filters").click()
    board.page.keyboard.press("/")
    expect(board.page.get_by_label("Search tickets")).to_be_focused()
    board.page.keyboard.type("runbook")
    expect(board.page.locator(".card")).to_have_count(1)
    expect(board.card("OPS-3")).to_be_visible()
    board.assert_no_console_errors()


def test_switching_projects_and_links_to_another_projects_ticket(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    web = alice.call("POST", "/api/projects", {"key": "WEB", "name": "Website"})
    ticket = alice.create_ticket("Fix the pricing page typo", key="WEB")
    ops_id = alice.project_id("OPS")
    board = open_page().login("alice@example.com")
    board.open_ticket("OPS-1")
    board.page.get_by_label("Project").select_option(label="WEB · Website")
    expect(board.page.locator(".card")).to_have_count(1)
    expect(board.card("WEB-1")).to_be_visible()
    expect(board.drawer).to_be_hidden()
    expect(board.page).to_have_url(re.compile(rf"#/p/{web['id']}$"))
    # a link that names the wrong project still lands on the ticket, in its own project
    board.page.goto(f"{hub.url}/#/p/{ops_id}/t/{ticket['id']}")
    expect(board.page.locator("#drawer-key")).to_have_text("WEB-1")
    expect(board.page.locator("#project-picker")).to_have_value(str(web["id"]))
    expect(board.page.locator(".card")).to_have_count(1)
    board.assert_no_console_errors()


def test_signing_out_returns_to_the_sign_in_form_and_someone_else_can_sign_in(hub, open_page):
    board = open_page().login("alice@example.com")
    board.page.get_by_role("button", name="Sign out").click()
    expect(board.page.get_by_label("Email")).to_be_visible()
    expect(board.page.locator("#app-view")).to_be_hidden()
    # someone else signs in on the same tab, without a reload
    board.page.get_by_label("Email").fill("bob@example.com")
    board.page.get_by_label("Password").fill("switchboard-demo")
    board.page.get_by_role("button", name="Sign in").click()
    expect(board.page.locator("#me .avatar")).to_have_text("BB")
    bell = board.page.locator("#bell")
    bell.click()
    expect(bell).to_have_attribute("aria-expanded", "true")
    expect(board.page.locator("#notif-panel")).to_be_visible()
    board.page.keyboard.press("Escape")
    expect(board.page.locator("#notif-panel")).to_be_hidden()
    board.page.get_by_role("button", name="Sign out").click()
    board.page.reload()  # signed out for good: the tokens are gone
    expect(board.page.get_by_label("Email")).to_be_visible()
    expect(board.page.locator("#app-view")).to_be_hidden()
    board.assert_no_console_errors()


def _wait_for(condition, timeout: float = 5.0) -> None:
    """Poll the API until `condition()` holds (the page saves asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_escape_closes_an_empty_notifications_panel(hub, open_page):
    """A user with no notifications: "Mark all read" is disabled and the list empty, so focus goes to
    the panel itself, and Escape still closes it (it used to stay open when nothing could take focus)."""
    email = f"newcomer.{time.time_ns()}@example.com"
    created = httpx.post(
        hub.url + "/api/auth/register",
        json={"email": email, "password": "switchboard-demo", "name": "Nina Newcomer"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    board = open_page()
    board.open()
    board.page.get_by_label("Email").fill(email)
    board.page.get_by_label("Password").fill("switchboard-demo")
    board.page.get_by_role("button", name="Sign in").click()
    expect(board.page.locator("#app-view")).to_be_visible()  # no projects yet, so no cards
    bell = board.page.locator("#bell")
    bell.click()
    panel = board.page.locator("#notif-panel")
    expect(panel).to_be_visible()
    expect(board.page.get_by_role("button", name="Mark all read")).to_be_disabled()
    expect(panel).to_be_focused()
    board.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_be_focused()
    bell.click()
    expect(panel).to_be_visible()
    bell.focus()
    board.page.keyboard.press("Escape")  # with focus back on the bell, Escape closes it too
    expect(panel).to_be_hidden()
    board.assert_no_console_errors()
