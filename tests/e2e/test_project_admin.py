"""Projects in the browser: creating one, its settings (general, members, invites), live role changes
and removal seen by the person concerned, the last-owner rule, and a whole flow by keyboard only.

Every change made in the page is checked through REST as well; two browser contexts stand for two
people, each with their own login and sockets.
"""

from __future__ import annotations

import re

from tests.e2e.browser import require_playwright
from tests.e2e.hub import HubApi

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it

from playwright.sync_api import Locator, Page, expect  # noqa: E402

from tests.e2e.axe import assert_accessible  # noqa: E402
from tests.e2e.pages import BoardPage, http_status_logged  # noqa: E402

LIVE = 10_000
LAST_OWNER_NOTE = "A project needs at least one owner: make someone else owner first."


def members_of(api: HubApi, project_id: int) -> dict[str, str]:
    """email → role, as the hub has it."""
    items = api.call("GET", f"/api/projects/{project_id}/members")["items"]  # type: ignore[index]
    return {m["user"]["email"]: m["role"] for m in items}


def open_settings(board: BoardPage, section: str = "general") -> Page:
    """Project settings of the open project through the top bar, then the section's tab."""
    page = board.page
    page.locator("#nav-project-settings").click()
    expect(page.get_by_role("heading", level=1, name="Project settings")).to_be_visible()
    if section != "general":
        page.get_by_role("tab", name=section.capitalize()).click()
    expect(page.get_by_role("tab", selected=True)).to_have_text(section.capitalize())
    return page


def member_row(page: Page, name: str) -> Locator:
    return page.locator("table.ps-members tbody tr").filter(has_text=name)


def confirm(page: Page, button: str) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button, exact=True).click()
    expect(dialog).to_be_hidden()


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until `target` has the focus: proves it is reachable by keyboard, in order."""
    handle = target.element_handle()
    for _ in range(limit):
        if page.evaluate("(el) => document.activeElement === el", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} not reached with {limit} Tab presses")


def test_creating_a_project_in_the_page_opens_its_board(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    page = board.page
    page.get_by_role("link", name="New project").click()
    expect(page.get_by_role("heading", level=1, name="New project")).to_be_visible()
    assert_accessible(page, label="new project")
    key = page.get_by_label("Key")
    key.fill("ops")
    expect(key).to_have_value("OPS")  # upper-cased as typed, as the hub stores it
    page.get_by_label("Name", exact=True).fill("Another ops")
    page.get_by_role("button", name="Create project").click()
    # the hub's refusal is shown at the field it names
    expect(page.locator(f"#{key.get_attribute('id')}-error")).to_have_text("already in use")
    expect(key).to_have_attribute("aria-invalid", "true")
    expect(key).to_be_focused()

    key.fill("1x")
    page.get_by_role("button", name="Create project").click()  # checked before it is sent
    expect(page.locator(f"#{key.get_attribute('id')}-error")).to_have_text(
        re.compile(r"^Use 2.10 letters or digits, starting with a letter\.$")
    )

    key.fill("web2")
    page.get_by_label("Name", exact=True).fill("Website")
    page.get_by_label("Description (optional)").fill("The public site")
    page.get_by_role("button", name="Create project").click()

    alice = as_user("alice@example.com")
    created = next(p for p in alice.call("GET", "/api/projects")["items"] if p["key"] == "WEB2")
    assert (created["name"], created["description"], created["role"]) == (
        "Website",
        "The public site",
        "owner",
    )
    expect(page).to_have_url(re.compile(rf"#/p/{created['id']}$"))
    expect(page.locator("#project-picker")).to_have_value(str(created["id"]))
    expect(page.locator("#project-picker option", has_text="WEB2 · Website")).to_have_count(1)
    expect(board.column("todo")).to_be_visible()
    expect(page.locator(".card")).to_have_count(0)
    board.assert_no_console_errors(allow=[http_status_logged(409)])


def test_rename_add_change_and_remove_members(hub, open_page, as_user):
    alice = as_user("alice@example.com")
    project = alice.call("POST", "/api/projects", {"key": "WEB", "name": "Website", "description": "Old"})
    board = open_page().login("alice@example.com")
    board.page.locator("#project-picker").select_option(label="WEB · Website")
    nav = board.page.locator("#nav-project-settings")
    expect(nav).to_have_attribute("href", f"#/p/{project['id']}/settings")  # the board has switched
    page = open_settings(board)

    # General: rename
    description = page.locator(".ps-panel").get_by_label("Description", exact=True)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Website")
    expect(description).to_have_value("Old")
    page.get_by_label("Name", exact=True).fill("Public website")
    description.fill("Marketing pages")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    fresh = alice.call("GET", f"/api/projects/{project['id']}")
    assert (fresh["name"], fresh["description"]) == ("Public website", "Marketing pages")
    expect(page.locator(".ps-project")).to_have_text("WEB · Public website")
    expect(page.locator("#project-picker option", has_text="WEB · Public website")).to_have_count(1)

    # Members: add by email (an unknown one first)
    page.get_by_role("tab", name="Members").click()
    expect(page).to_have_url(re.compile(rf"#/p/{project['id']}/settings/members$"))
    expect(member_row(page, "Alice Archer (you)")).to_contain_text("alice@example.com")
    email = page.locator("form.ps-add").get_by_label("Email")
    email.fill("nobody@example.com")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(f"#{email.get_attribute('id')}-error")).to_have_text("no user has this email")
    email.fill("bob@example.com")
    page.locator("form.ps-add").get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("Added Bob Baker as viewer.")).to_be_visible()
    expect(member_row(page, "Bob Baker")).to_contain_text("bob@example.com")
    assert members_of(alice, project["id"])["bob@example.com"] == "viewer"
    email.fill("carol@example.com")
    page.get_by_role("button", name="Add member").click()
    expect(member_row(page, "Carol Chen")).to_be_visible()

    # change a role
    page.get_by_label("Role of Bob Baker").select_option("admin")
    expect(page.locator("#announcer")).to_have_text("Bob Baker is now admin.")
    assert members_of(alice, project["id"])["bob@example.com"] == "admin"

    # remove, after confirming (cancel first: nothing happens)
    page.get_by_role("button", name="Remove Carol Chen").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Remove Carol Chen")).to_be_focused()
    assert "carol@example.com" in members_of(alice, project["id"])
    page.get_by_role("button", name="Remove Carol Chen").click()
    confirm(page, "Remove")
    expect(member_row(page, "Carol Chen")).to_have_count(0)
    assert members_of(alice, project["id"]) == {"alice@example.com": "owner", "bob@example.com": "admin"}

    # the back link leads to the board
    page.get_by_role("link", name="Back to the board").click()
    expect(page).to_have_url(re.compile(rf"#/p/{project['id']}$"))
    board.assert_no_console_errors(allow=[http_status_logged(422)])


def test_a_role_change_and_a_removal_reach_the_member_at_once(hub, open_page, as_user):
    owner = open_page().login("alice@example.com")
    bob = open_page().login("bob@example.com")
    bob.wait_live()
    alice = as_user("alice@example.com")
    ops = alice.project_id()
    bob.page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    expect(bob.page.get_by_role("button", name="Create ticket in Todo")).to_be_visible()
    expect(bob.page.locator("#role-badge")).to_be_hidden()

    page = open_settings(owner, "members")
    page.get_by_label("Role of Bob Baker").select_option("viewer")
    expect(page.locator("#announcer")).to_have_text("Bob Baker is now viewer.")
    assert members_of(alice, ops)["bob@example.com"] == "viewer"

    # Bob's board: view only, at once
    expect(bob.page.locator("#role-badge")).to_be_visible(timeout=LIVE)
    expect(bob.page.locator("#role-badge")).to_have_text("View only")
    expect(bob.page.get_by_role("button", name="Create ticket in Todo")).to_be_hidden(timeout=LIVE)
    expect(bob.card("OPS-1")).to_have_attribute("draggable", "false", timeout=LIVE)

    # removed: Bob's board says so
    page.get_by_role("button", name="Remove Bob Baker").click()
    confirm(page, "Remove")
    expect(member_row(page, "Bob Baker")).to_have_count(0)
    assert "bob@example.com" not in members_of(alice, ops)
    expect(bob.page.locator("#lost-access")).to_contain_text("You no longer have access to OPS", timeout=LIVE)
    expect(bob.page.locator("#project-picker option", has_text="OPS")).to_have_count(0, timeout=LIVE)
    assert bob.page.evaluate("window.__sameDocument") is True
    owner.assert_no_console_errors()
    bob.assert_no_console_errors()


def test_the_members_page_follows_live_and_says_when_access_is_lost(hub, open_page, as_user):
    owner = open_page().login("alice@example.com")
    bob = open_page().login("bob@example.com")
    bob.wait_live()
    alice = as_user("alice@example.com")
    ops = alice.project_id()
    mine = open_settings(bob, "members")
    expect(member_row(mine, "Carol Chen")).to_contain_text("viewer")
    # a member sees roles, cannot change them, and may leave
    expect(mine.get_by_label("Role of Carol Chen")).to_have_count(0)
    expect(mine.get_by_role("button", name="Leave project")).to_be_enabled()
    expect(mine.get_by_role("tab")).to_have_text(["General", "Members", "Invites"])

    page = open_settings(owner, "members")
    page.get_by_label("Role of Carol Chen").select_option("member")
    expect(member_row(mine, "Carol Chen")).to_contain_text("member", timeout=LIVE)

    # Bob is made admin: his page grows the admin controls without a reload
    page.get_by_label("Role of Bob Baker").select_option("admin")
    expect(mine.get_by_label("Role of Carol Chen")).to_be_visible(timeout=LIVE)
    expect(mine.get_by_role("tab", name="Webhooks")).to_be_visible(timeout=LIVE)

    page.get_by_role("button", name="Remove Bob Baker").click()
    confirm(page, "Remove")
    assert "bob@example.com" not in members_of(alice, ops)
    lost = mine.locator(".ps-lost")
    expect(lost).to_contain_text("You no longer have access to OPS · Operations.", timeout=LIVE)
    expect(lost).to_have_attribute("role", "alert")
    expect(mine.locator("table.ps-members")).to_have_count(0)
    owner.assert_no_console_errors()
    bob.assert_no_console_errors()


def test_the_last_owner_rule_is_explained_and_the_hubs_refusal_shown(hub, open_page, as_user):
    board = open_page(viewport={"width": 390, "height": 800}).login("alice@example.com")
    alice, bob = as_user("alice@example.com"), as_user("bob@example.com")
    ops = alice.project_id()
    page = open_settings(board, "members")
    mine = page.get_by_label("Role of Alice Archer")
    expect(mine).to_be_disabled()
    expect(member_row(page, "Alice Archer")).to_contain_text(LAST_OWNER_NOTE)
    leave = page.get_by_role("button", name="Leave project")
    expect(leave).to_be_disabled()
    expect(page.locator(".ps-leave")).to_contain_text(f"You are the only owner. {LAST_OWNER_NOTE}")
    width = page.evaluate("document.querySelector('.project-settings').scrollWidth")
    assert width <= 390, f"the settings page is {width}px wide at phone width"
    assert_accessible(page, label="members, phone width")

    # a second owner: the rule no longer binds
    page.get_by_label("Role of Bob Baker").select_option("owner")
    expect(mine).to_be_enabled()
    expect(leave).to_be_enabled()
    expect(page.get_by_text(LAST_OWNER_NOTE)).to_have_count(0)

    # Alice asks to leave; while she confirms, Bob leaves first: the hub refuses her, the page says why
    leave.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    bob.call("DELETE", f"/api/projects/{ops}/members/me", expect=204)
    expect(member_row(page, "Bob Baker")).to_have_count(0, timeout=LIVE)
    confirm(page, "Leave project")
    expect(page.locator(".ps-alert")).to_have_text(
        f"You are still a member: the last owner cannot be removed. {LAST_OWNER_NOTE}"
    )
    assert members_of(alice, ops)["alice@example.com"] == "owner"
    expect(page.get_by_role("button", name="Leave project")).to_be_disabled()
    board.assert_no_console_errors(allow=[http_status_logged(409)])


def test_invites_are_created_copied_listed_and_revoked(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    board.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=hub.url)
    alice = as_user("alice@example.com")
    ops = alice.project_id()
    page = open_settings(board, "invites")
    form = page.locator("form.ps-invite-form")
    expect(page.get_by_text("No invites yet.")).to_be_visible()
    form.get_by_label("Role").select_option("viewer")
    form.get_by_label("Expires after").select_option(label="1 day")
    form.get_by_label("Maximum uses").fill("0")
    form.get_by_role("button", name="Create invite link").click()
    expect(form.get_by_label("Maximum uses")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Maximum uses").fill("2")
    form.get_by_role("button", name="Create invite link").click()

    link = page.get_by_role("textbox", name="Invite link")
    expect(link).to_be_focused()
    expect(link).to_have_value(re.compile(r"#/invite/[A-Za-z0-9_-]+$"))
    url = link.input_value()
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url

    invites = alice.call("GET", f"/api/projects/{ops}/invites")["items"]
    assert [(i["role"], i["state"], i["uses"], i["max_uses"]) for i in invites] == [
        ("viewer", "active", 0, 2)
    ]
    assert "token" not in invites[0]
    row = page.locator(f'table.ps-invites tr[data-invite-id="{invites[0]["id"]}"]')
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("0 of 2")
    assert_accessible(page, label="invites with a new link")
    token = url.rsplit("/", 1)[1]
    assert alice.call("GET", f"/api/invites/{token}")["role"] == "viewer"

    page.get_by_role("button", name="Done").click()
    expect(link).to_have_count(0)  # shown once: gone for good
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    confirm(page, "Revoke")
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    invites = alice.call("GET", f"/api/projects/{ops}/invites")["items"]
    assert [i["state"] for i in invites] == ["revoked"]
    board.assert_no_console_errors()


def test_a_member_sees_no_invite_controls(hub, open_page):
    board = open_page().login("bob@example.com")
    page = board.page
    page.locator("#nav-project-settings").click()
    page.get_by_role("tab", name="Invites").click()
    expect(page.get_by_text(re.compile("admins and owners can invite people"))).to_be_visible()
    expect(page.get_by_role("button", name="Create invite link")).to_have_count(0)
    page.get_by_role("tab", name="General").click()
    expect(page.get_by_label("Name", exact=True)).to_have_count(0)
    expect(page.locator(".ps-facts")).to_contain_text("Operations")
    # an admin section by its address: explained, not shown
    page.goto(page.url.replace("/settings/general", "/settings/webhooks"))
    expect(
        page.get_by_text(re.compile("This section is for the project.s admins and owners"))
    ).to_be_visible()
    board.assert_no_console_errors()


def test_a_whole_project_flow_by_keyboard_only(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    page = board.page
    alice = as_user("alice@example.com")
    keys = page.keyboard

    # create a project
    tab_to(page, page.get_by_role("link", name="New project"))
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name="New project")).to_be_visible()
    tab_to(page, page.locator(".new-project").get_by_label("Key"))
    keys.type("kb")
    keys.press("Tab")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    keys.type("Keyboard")
    keys.press("Enter")
    expect(page.locator("#project-picker option", has_text="KB · Keyboard")).to_have_count(1)
    project_id = next(p["id"] for p in alice.call("GET", "/api/projects")["items"] if p["key"] == "KB")
    expect(page).to_have_url(re.compile(rf"#/p/{project_id}$"))
    expect(page.locator("#nav-project-settings")).to_have_attribute("href", f"#/p/{project_id}/settings")

    # its settings; the tab list by arrow keys
    tab_to(page, page.get_by_role("link", name="Project settings"))
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Project settings")).to_be_visible()
    tab_to(page, page.get_by_role("tab", name="General"))
    keys.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"#/p/{project_id}/settings/members$"))
    expect(page.get_by_role("tab", name="Members")).to_be_focused()
    expect(page.get_by_role("tab", name="Members")).to_have_attribute("aria-selected", "true")

    # add Bob, make him admin, remove him
    tab_to(page, page.locator("form.ps-add").get_by_label("Email"))
    keys.type("bob@example.com")
    keys.press("Enter")
    expect(member_row(page, "Bob Baker")).to_be_visible()
    assert members_of(alice, project_id)["bob@example.com"] == "member"
    tab_to(page, page.get_by_label("Role of Bob Baker"))
    keys.press("ArrowUp")  # member → admin
    expect(page.locator("#announcer")).to_have_text("Bob Baker is now admin.")
    assert members_of(alice, project_id)["bob@example.com"] == "admin"
    tab_to(page, page.get_by_role("button", name="Remove Bob Baker"))
    keys.press("Enter")
    expect(page.get_by_role("dialog").get_by_role("button", name="Cancel")).to_be_focused()
    keys.press("Tab")
    keys.press("Enter")
    expect(member_row(page, "Bob Baker")).to_have_count(0)
    assert "bob@example.com" not in members_of(alice, project_id)

    # an invite link
    tab_to(page, page.get_by_role("tab", name="Members"))
    keys.press("ArrowRight")
    expect(page.get_by_role("tab", name="Invites")).to_be_focused()
    tab_to(page, page.get_by_role("button", name="Create invite link"))
    keys.press("Enter")
    expect(page.get_by_role("textbox", name="Invite link")).to_be_focused()
    invites = alice.call("GET", f"/api/projects/{project_id}/invites")["items"]
    assert [(i["role"], i["state"]) for i in invites] == [("member", "active")]
    tab_to(page, page.get_by_role("button", name=re.compile("^Revoke")))
    keys.press("Enter")
    keys.press("Tab")
    keys.press("Enter")
    expect(page.locator("table.ps-invites")).to_contain_text("Revoked")

    # End and Home in the tab list; back to the board
    tab_to(page, page.get_by_role("tab", name="Invites"))
    keys.press("End")
    expect(page.get_by_role("tab", name="Integrations")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/settings/integrations$"))
    keys.press("Home")
    expect(page.get_by_role("tab", name="General")).to_be_focused()
    tab_to(page, page.get_by_role("link", name="Back to the board"))
    keys.press("Enter")
    expect(page).to_have_url(re.compile(rf"#/p/{project_id}$"))
    board.assert_no_console_errors()


def test_a_member_leaves_after_confirming(hub, open_page, as_user):
    board = open_page().login("carol@example.com")
    alice = as_user("alice@example.com")
    ops = alice.project_id()
    page = open_settings(board, "members")
    leave = page.get_by_role("button", name="Leave project")
    leave.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(leave).to_be_focused()
    assert "carol@example.com" in members_of(alice, ops)
    leave.click()
    confirm(page, "Leave project")
    expect(page.locator(".toast", has_text="You left OPS")).to_be_visible()
    expect(page.locator("#no-projects")).to_be_visible()
    expect(page.locator("#project-picker option")).to_have_count(0)
    assert "carol@example.com" not in members_of(alice, ops)
    board.assert_no_console_errors()


def test_demoting_yourself_asks_first_and_the_page_follows_your_new_role(hub, open_page, as_user):
    board = open_page().login("alice@example.com")
    alice = as_user("alice@example.com")
    ops = alice.project_id()
    page = open_settings(board, "members")
    page.get_by_label("Role of Bob Baker").select_option("owner")
    expect(page.get_by_label("Role of Alice Archer")).to_be_enabled()
    page.get_by_label("Role of Alice Archer").select_option("member")
    expect(page.get_by_role("dialog")).to_contain_text("You will no longer manage OPS")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_label("Role of Alice Archer")).to_have_value("owner")
    assert members_of(alice, ops)["alice@example.com"] == "owner"

    page.get_by_label("Role of Alice Archer").select_option("member")
    confirm(page, "Become member")
    expect(page.locator(".ps-role")).to_have_text("You: member")
    assert members_of(alice, ops)["alice@example.com"] == "member"
    expect(page.get_by_label("Role of Bob Baker")).to_have_count(0)
    expect(page.get_by_role("tab")).to_have_text(["General", "Members", "Invites"])
    expect(page.get_by_role("heading", level=1, name="Project settings")).to_be_focused()
    expect(page.locator("#role-badge")).to_be_hidden()  # a member still writes on the board
    board.assert_no_console_errors()
