"""The drawer's editing through a browser: labels (a keyboard combobox), priority, deleting a ticket and
comments behind a confirmation, watching, the activity timeline with each change's origin, and the
board's filters kept in the URL (shareable, restored by the back button).

Each flow checks what the user sees and what the hub now holds (REST), and, where it is about other
people, what a second browser context sees live.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

from tests.e2e.browser import require_playwright

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import Route, expect  # noqa: E402

from tests.e2e.pages import http_status_logged  # noqa: E402

LIVE = 10_000


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _hash_query(url: str) -> dict[str, list[str]]:
    fragment = urlsplit(url).fragment
    return parse_qs(fragment.split("?", 1)[1]) if "?" in fragment else {}


def test_labels_with_keyboard_suggestions_and_priority_show_live_elsewhere(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    bob = open_page().login("bob@example.com")
    bob.wait_live()
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-5")  # labels: infra
    chips = drawer.locator(".label-chip .label-name")
    expect(chips).to_have_text(["infra"])

    box = drawer.get_by_role("combobox", name="Add a label")
    box.click()
    box.press_sequentially("onc")
    options = drawer.get_by_role("listbox", name="Label suggestions").get_by_role("option")
    expect(options).to_have_text(["oncall"])  # a label of another ticket of the project
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id") or "missing")
    box.press("Enter")
    expect(chips).to_have_text(["infra", "oncall"])
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    _wait_for(lambda: alice.ticket("OPS-5")["labels"] == ["infra", "oncall"])

    # A new label typed out, then Backspace in the empty input takes the last one off again (the hub
    # keeps labels sorted).
    box.press_sequentially("triage")
    box.press("Enter")
    expect(chips).to_have_text(["infra", "oncall", "triage"])
    _wait_for(lambda: alice.ticket("OPS-5")["labels"] == ["infra", "oncall", "triage"])
    box.press("Backspace")
    expect(chips).to_have_text(["infra", "oncall"])
    _wait_for(lambda: alice.ticket("OPS-5")["labels"] == ["infra", "oncall"])
    drawer.get_by_role("button", name="Remove label infra").click()
    expect(chips).to_have_text(["oncall"])
    _wait_for(lambda: alice.ticket("OPS-5")["labels"] == ["oncall"])
    # ↓ in the empty box lists every other label with the first one chosen; Escape closes only the list.
    expect(box).to_be_focused()
    box.press("ArrowDown")
    expect(options.first).to_have_text("bug")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(options.filter(has_text="security")).to_have_count(1)
    expect(options.filter(has_text=re.compile("^oncall$"))).to_have_count(0)  # already on the ticket
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(board.drawer).to_be_visible()

    drawer.get_by_label("Priority").select_option("urgent")
    _wait_for(lambda: alice.ticket("OPS-5")["priority"] == "urgent")

    # Bob's board shows both changes without a reload.
    card = bob.card("OPS-5")
    expect(card.locator(".label")).to_have_text(["oncall"], timeout=LIVE)
    expect(card.locator(".prio-urgent")).to_have_count(1, timeout=LIVE)
    board.assert_no_console_errors()
    bob.assert_no_console_errors()


def test_a_label_edit_on_a_stale_copy_reloads_and_says_so(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-4")
    expect(drawer.locator(".label-chip .label-name")).to_have_text(["bug"])
    # Someone else changes the labels; the page then saves with the version it had before that.
    old = alice.ticket("OPS-4")["version"]
    alice.patch_ticket("OPS-4", labels=["bug", "ui"])

    def stale(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        body["version"] = old
        route.continue_(post_data=json.dumps(body))

    board.page.route(
        "**/api/tickets/*",
        lambda route: stale(route) if route.request.method == "PATCH" else route.continue_(),
    )
    box = drawer.get_by_role("combobox", name="Add a label")
    box.fill("frontend")
    box.press("Enter")
    toast = board.page.locator(".toast-error")
    expect(toast).to_contain_text("OPS-4 changed while you were editing")
    expect(drawer.locator(".label-chip .label-name")).to_have_text(["bug", "ui"])  # reloaded
    assert alice.ticket("OPS-4")["labels"] == ["bug", "ui"]
    board.assert_no_console_errors(allow=[http_status_logged(409)])


def test_deleting_a_ticket_asks_first_and_the_card_goes_everywhere(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    bob = open_page().login("bob@example.com")
    bob.wait_live()
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-5")
    drawer.get_by_role("button", name="Delete ticket").click()
    dialog = board.page.get_by_role("dialog", name="Delete OPS-5?")
    expect(dialog).to_be_visible()
    cancel = dialog.get_by_role("button", name="Cancel")
    confirm = dialog.get_by_role("button", name="Delete ticket")
    expect(cancel).to_be_focused()
    board.page.keyboard.press("Tab")
    expect(confirm).to_be_focused()
    board.page.keyboard.press("Tab")  # focus stays in the dialog
    expect(cancel).to_be_focused()
    board.page.keyboard.press("Escape")  # cancels; the drawer stays open
    expect(dialog).to_have_count(0)
    expect(board.drawer).to_be_visible()
    expect(drawer.get_by_role("button", name="Delete ticket")).to_be_focused()
    assert alice.ticket("OPS-5")["key"] == "OPS-5"

    drawer.get_by_role("button", name="Delete ticket").click()
    board.page.get_by_role("dialog", name="Delete OPS-5?").get_by_role("button", name="Delete ticket").click()
    expect(board.drawer).to_be_hidden()
    expect(board.card("OPS-5")).to_have_count(0)
    expect(board.page.get_by_role("heading", name="Board", level=1)).to_be_focused()  # not lost to <body>
    alice.call("GET", "/api/tickets/OPS-5", expect=404)
    expect(bob.card("OPS-5")).to_have_count(0, timeout=LIVE)
    board.assert_no_console_errors()
    bob.assert_no_console_errors()


def test_members_delete_only_what_they_reported_and_viewers_get_no_edit_controls(hub, open_page):
    bob = open_page().login("bob@example.com")
    drawer = bob.open_ticket("OPS-5")  # Alice reported it
    expect(drawer.get_by_role("combobox", name="Add a label")).to_be_visible()
    expect(drawer.get_by_role("button", name="Delete ticket")).to_be_hidden()
    own = drawer.locator("#comment-list .comment")
    expect(own).to_have_count(0)

    carol = open_page().login("carol@example.com")
    drawer = carol.open_ticket("OPS-6")
    expect(drawer.locator("#comment-list .comment")).to_have_count(1)
    expect(drawer.get_by_role("combobox", name="Add a label")).to_be_hidden()
    expect(drawer.get_by_role("button", name=re.compile("^Remove label"))).to_have_count(0)
    expect(drawer.get_by_role("button", name="Delete ticket")).to_be_hidden()
    expect(drawer.locator("#comment-list").get_by_role("button")).to_have_count(0)
    expect(drawer.get_by_role("button", name="Watch")).to_be_visible()  # viewers may follow
    expect(drawer.locator(".label-chip .label-name")).to_have_text(["docs"])
    carol.assert_no_console_errors()
    bob.assert_no_console_errors()


def test_editing_and_deleting_your_own_comment_shows_live_for_others(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    bob = open_page().login("bob@example.com")
    bob.wait_live()
    bob_drawer = bob.open_ticket("OPS-2")
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-2")
    drawer.get_by_label("Add a comment").fill("Rotating it tonight")
    drawer.get_by_role("button", name="Comment", exact=True).click()
    posted = drawer.locator("#comment-list .comment").filter(has_text="Rotating it tonight")
    expect(posted).to_have_count(1)
    mine = drawer.locator(f'#comment-list .comment[data-id="{posted.get_attribute("data-id")}"]')
    expect(bob_drawer.locator("#comment-list")).to_contain_text("Rotating it tonight", timeout=LIVE)

    # Escape cancels an edit and keeps the drawer open.
    mine.get_by_role("button", name="Edit your comment").click()
    mine.get_by_label("Edit comment").fill("Something else")
    board.page.keyboard.press("Escape")
    expect(board.drawer).to_be_visible()
    expect(mine.locator(".comment-body")).to_have_text("Rotating it tonight")

    mine.get_by_role("button", name="Edit your comment").click()
    mine.get_by_label("Edit comment").fill("Rotating it tomorrow morning")
    mine.get_by_role("button", name="Save").click()
    edited = mine
    expect(edited).to_contain_text("Rotating it tomorrow morning")
    expect(edited).to_contain_text("(edited)")
    expect(bob_drawer.locator("#comment-list")).to_contain_text("Rotating it tomorrow morning", timeout=LIVE)
    # Bob (a member) may neither edit nor delete Alice's comment.
    theirs = bob_drawer.locator("#comment-list .comment").filter(has_text="Rotating it tomorrow morning")
    expect(theirs.get_by_role("button")).to_have_count(0)

    edited.get_by_role("button", name="Delete", exact=True).click()
    dialog = board.page.get_by_role("dialog", name="Delete your comment?")
    dialog.get_by_role("button", name="Delete comment").click()
    expect(edited).to_have_count(0)
    expect(bob_drawer.locator("#comment-list")).not_to_contain_text("Rotating it", timeout=LIVE)
    comments = alice.call("GET", "/api/tickets/OPS-2/comments")["items"]
    assert [c["body"] for c in comments] == []
    board.assert_no_console_errors()
    bob.assert_no_console_errors()


def test_an_owner_deletes_someone_elses_comment(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-6")
    bobs = drawer.locator("#comment-list .comment").filter(has_text="Bob Baker")
    expect(bobs.get_by_role("button", name="Edit your comment")).to_have_count(0)
    bobs.get_by_role("button", name="Delete", exact=True).click()
    board.page.get_by_role("dialog", name="Delete Bob Baker's comment?").get_by_role(
        "button", name="Delete comment"
    ).click()
    expect(drawer.locator("#comment-list .comment")).to_have_count(0)
    assert as_user("bob@example.com").call("GET", "/api/tickets/OPS-6/comments")["items"] == []
    board.assert_no_console_errors()


def test_watching_a_ticket(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    bob_id = alice.user_id("bob@example.com")
    board = open_page().login("bob@example.com")
    drawer = board.open_ticket("OPS-5")  # reported by Alice, unassigned: Bob is not watching
    watch = drawer.get_by_role("button", name="Watch")
    before = len(alice.ticket("OPS-5")["watchers"])
    expect(watch).to_have_attribute("aria-pressed", "false")
    expect(drawer.locator("#t-watchers")).to_have_text(f"{before} watcher" + ("" if before == 1 else "s"))
    watch.click()
    expect(watch).to_have_attribute("aria-pressed", "true")
    expect(drawer.locator("#t-watchers")).to_have_text(f"{before + 1} watchers")
    assert bob_id in alice.ticket("OPS-5")["watchers"]
    watch.click()
    expect(watch).to_have_attribute("aria-pressed", "false")
    _wait_for(lambda: bob_id not in alice.ticket("OPS-5")["watchers"])
    # Someone else following the ticket (no new version) shows in the open drawer at once.
    as_user("carol@example.com").call("PUT", "/api/tickets/OPS-5/watchers/me", expect=200)
    expect(drawer.locator("#t-watchers")).to_have_text(f"{before + 1} watchers", timeout=LIVE)
    board.assert_no_console_errors()


def test_the_timeline_names_who_changed_what_and_from_where(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    alice.patch_ticket("OPS-3", status="in_progress")  # through the API
    board = open_page().login("alice@example.com")
    drawer = board.open_ticket("OPS-3")
    drawer.get_by_role("tab", name="Activity").click()
    expect(drawer.get_by_role("tab", name="Activity")).to_have_attribute("aria-selected", "true")
    events = drawer.locator("#activity-list .timeline-event")
    api_change = events.filter(has_text="changed status Todo → In Progress")
    expect(api_change).to_contain_text("Alice Archer")
    expect(api_change).to_contain_text("via API")

    drawer.get_by_label("Status").select_option("in_review")  # through the page
    web_change = events.filter(has_text="changed status In Progress → In Review")
    expect(web_change).to_contain_text("via web", timeout=LIVE)
    expect(events.first).to_contain_text("In Progress → In Review")  # newest first

    # A change made elsewhere while the tab is open shows up live.
    alice.patch_ticket("OPS-3", priority="high")
    expect(events.filter(has_text="changed priority Medium → High")).to_contain_text("via API", timeout=LIVE)

    # Older events page in with "Load older".
    for i in range(22):
        alice.patch_ticket("OPS-3", title=f"Write the runbook, take {i}")
    board.page.reload()
    drawer = board.drawer
    drawer.get_by_role("tab", name="Activity").click()
    events = drawer.locator("#activity-list .timeline-event")
    expect(events.first).to_contain_text("take 21")
    shown = events.count()
    older = drawer.get_by_role("button", name="Load older")
    expect(older).to_be_visible()
    older.click()
    expect(events.filter(has_text="created the ticket")).to_have_count(1, timeout=LIVE)
    assert events.count() > shown
    board.assert_no_console_errors()


def test_filters_live_in_the_url_can_be_shared_and_the_back_button_restores_them(hub, open_page):
    board = open_page().login("alice@example.com")
    page = board.page
    page.locator("#filter-label").select_option("bug")
    expect(page.locator(".card")).to_have_count(2)  # OPS-1, OPS-4
    page.locator("#filter-priority").select_option("high")
    expect(page.locator(".card")).to_have_count(1)
    expect(board.card("OPS-1")).to_be_visible()
    page.get_by_label("Search tickets").fill("pager")
    expect(page).to_have_url(re.compile(r"q=pager"))
    query = _hash_query(page.url)
    assert query == {"label": ["bug"], "priority": ["high"], "q": ["pager"]}, page.url

    shared = open_page()
    shared.page.goto(page.url)
    shared.page.get_by_label("Email").fill("alice@example.com")
    shared.page.get_by_label("Password").fill("switchboard-demo")
    shared.page.get_by_role("button", name="Sign in").click()
    expect(shared.page.locator(".card")).to_have_count(1)
    expect(shared.card("OPS-1")).to_be_visible()
    expect(shared.page.locator("#filter-label")).to_have_value("bug")
    expect(shared.page.locator("#filter-priority")).to_have_value("high")
    expect(shared.page.get_by_label("Search tickets")).to_have_value("pager")

    page.go_back()  # before the search
    expect(page).not_to_have_url(re.compile(r"q=pager"))
    expect(page.get_by_label("Search tickets")).to_have_value("")
    expect(page.locator(".card")).to_have_count(1)
    page.go_back()  # before the priority
    expect(page.locator("#filter-priority")).to_have_value("")
    expect(page.locator(".card")).to_have_count(2)
    assert _hash_query(page.url) == {"label": ["bug"]}
    page.go_forward()
    expect(page.locator(".card")).to_have_count(1)

    # Opening a ticket keeps the filters in the URL; "My tickets" is assignee=me.
    board.card("OPS-1").click()
    expect(page).to_have_url(re.compile(r"/t/\d+\?label=bug&priority=high$"))
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator(".card")).to_have_count(6)
    page.get_by_role("button", name="My tickets").click()
    expect(page).to_have_url(re.compile(r"\?assignee=me$"))
    expect(page.locator(".card")).to_have_count(1)  # OPS-2 is Alice's
    board.assert_no_console_errors()
    shared.assert_no_console_errors()


def test_the_label_and_priority_pickers_fit_a_phone(hub, open_page):
    board = open_page(viewport={"width": 390, "height": 844}).login("alice@example.com")
    page = board.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for control in ("#filter-mine", "#filter-assignee", "#filter-label", "#filter-priority", "#filter-text"):
        box = page.locator(control).bounding_box()
        assert box, control
        assert box["x"] >= 0, (control, box)
        assert box["x"] + box["width"] <= 390, (control, box)
        assert box["height"] >= 28, (control, box)
    page.locator("#filter-priority").select_option("low")
    expect(page.locator(".card")).to_have_count(2)
    page.locator("#filter-label").select_option("docs")
    expect(page.locator(".card")).to_have_count(1)
    expect(board.card("OPS-6")).to_be_visible()
    board.card("OPS-6").click()
    drawer = board.drawer
    # Measure where the drawer comes to rest, not a frame of its slide-in (a loaded machine is slow).
    drawer.evaluate("el => Promise.all(el.getAnimations({subtree: true}).map((a) => a.finished))")
    box = drawer.get_by_role("combobox", name="Add a label").bounding_box()
    assert box, "no label input"
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= 390, box
    board.assert_no_console_errors()
