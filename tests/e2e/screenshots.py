"""Take the README's screenshots of the board: `python -m tests.e2e.screenshots [OUT_DIR]`.

Starts a demo hub in a temporary directory, signs three people in (so presence shows), has Bob assign
Alice a ticket (so a toast and the bell show), and saves `board.png` (desktop) and `board-mobile.png`
(phone width) into OUT_DIR (default `docs/`), then the other screens into OUT_DIR/screenshots/:
`sign-in.png`, `ticket-activity.png` (the drawer's timeline), `settings.png`, `project-members.png`
and `invite.png`. Uses Debian's Chromium like the tests.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.hub import HubApi, HubProcess
from tests.e2e.pages import BoardPage

EXTRA_TICKETS = (
    ("Alert on certificate expiry 14 days ahead", "todo", "high", ["security", "oncall"]),
    ("Move cron jobs to the scheduler", "in_progress", "medium", ["infra"]),
    ("Document the paging escalation policy", "in_review", "low", ["docs"]),
    ("Retire the old VPN gateway", "canceled", "low", ["infra"]),
)


def take(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp))
        hub.start()
        try:
            bob_api = HubApi(hub.url, "bob@example.com")
            for title, status, priority, labels in EXTRA_TICKETS:
                bob_api.create_ticket(title, status=status, priority=priority, labels=labels)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )

                def board(email: str, viewport: dict[str, int]) -> BoardPage:
                    context = browser.new_context(viewport=viewport, device_scale_factor=2)
                    page = BoardPage(context.new_page(), hub.url).login(email)
                    page.wait_live()
                    return page

                alice = board("alice@example.com", {"width": 1440, "height": 860})
                board("bob@example.com", {"width": 1200, "height": 800})
                board("carol@example.com", {"width": 1200, "height": 800})
                expect(alice.page.locator("#presence li")).to_have_count(2)
                target = next(t for t in bob_api.tickets() if t["title"].startswith("Alert on certificate"))
                bob_api.patch_ticket(target["key"], assignee_id=bob_api.user_id("alice@example.com"))
                expect(alice.page.locator(".toast")).to_be_visible()
                alice.page.mouse.move(0, 0)
                alice.page.wait_for_timeout(1300)  # let the card's highlight fade
                alice.page.screenshot(path=str(out / "board.png"))

                phone = board("alice@example.com", {"width": 390, "height": 844})
                phone.page.mouse.move(0, 0)
                phone.page.wait_for_timeout(500)
                phone.page.screenshot(path=str(out / "board-mobile.png"))
                screens(browser, hub.url, out / "screenshots")
                browser.close()
        finally:
            hub.stop()
    print(f"wrote {out / 'board.png'}, {out / 'board-mobile.png'} and {out / 'screenshots'}/*.png")


def screens(browser: Browser, url: str, out: Path) -> None:
    """The screens around the board, one PNG each, at a laptop size."""
    admin = HubApi(url, "alice@example.com")  # the owner: she may make invite links
    out.mkdir(parents=True, exist_ok=True)
    viewport = {"width": 1280, "height": 800}

    def shot(page: BoardPage, name: str) -> None:
        page.page.mouse.move(0, 0)
        page.page.evaluate("document.activeElement?.blur()")  # no focus ring on the heading a screen focused
        page.page.wait_for_timeout(400)  # let transitions settle
        page.page.screenshot(path=str(out / name))

    signed_out = BoardPage(browser.new_context(viewport=viewport, device_scale_factor=2).new_page(), url)
    signed_out.open()
    expect(signed_out.page.get_by_role("link", name="Create an account")).to_be_visible()
    shot(signed_out, "sign-in.png")

    invite = admin.call("POST", f"/api/projects/{admin.project_id()}/invites", {"role": "member"})
    signed_out.page.goto(f"{url}/#/invite/{invite['token']}")  # type: ignore[index]
    expect(signed_out.page.get_by_role("heading", level=1)).to_contain_text("Operations")
    shot(signed_out, "invite.png")

    alice = BoardPage(browser.new_context(viewport=viewport, device_scale_factor=2).new_page(), url)
    alice.login("alice@example.com")
    alice.wait_live()
    alice.open_ticket("OPS-6")
    alice.page.get_by_role("tab", name="Activity").click()
    expect(alice.page.locator("#activity-list > li").first).to_be_visible()
    shot(alice, "ticket-activity.png")
    alice.page.keyboard.press("Escape")

    alice.page.goto(f"{url}/#/settings/account")
    expect(alice.page.get_by_role("heading", level=1)).to_have_text("Settings")
    shot(alice, "settings.png")

    alice.page.goto(f"{url}/#/p/{admin.project_id()}/settings/members")
    expect(alice.page.get_by_role("heading", level=1)).to_contain_text("Project settings")
    expect(alice.page.get_by_text("Carol", exact=False).first).to_be_visible()
    shot(alice, "project-members.png")


if __name__ == "__main__":
    take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
