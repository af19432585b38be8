"""Take the README's screenshots of the board: `python -m tests.e2e.screenshots [OUT_DIR]`.

Starts a demo hub in a temporary directory, signs three people in (so presence shows), has Bob assign
Alice a ticket (so a toast and the bell show), and saves `board.png` (desktop) and `board-mobile.png`
(phone width) into OUT_DIR (default `docs/`). Uses Debian's Chromium like the tests.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

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
                browser.close()
        finally:
            hub.stop()
    print(f"wrote {out / 'board.png'} and {out / 'board-mobile.png'}")


if __name__ == "__main__":
    take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
