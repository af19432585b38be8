"""The board as a test sees it: a Playwright page with helpers and a console-error collector."""

from __future__ import annotations

import re
from collections.abc import Iterable

from playwright.sync_api import Locator, Page, WebSocket, expect

from tests.e2e.hub import DEMO_PASSWORD

# Chromium logs these itself while the hub is down (restart tests allow them explicitly).
WHILE_HUB_DOWN = (
    re.compile(r"WebSocket connection to .* failed"),
    re.compile(r"Failed to load resource: net::ERR_CONNECTION_REFUSED"),
)


def http_status_logged(status: int) -> re.Pattern[str]:
    """Chromium's own console line for a fetch answered with `status` (expected in some tests)."""
    return re.compile(rf"Failed to load resource: the server responded with a status of {status}\b")


class BoardPage:
    """One signed-in (or signing-in) browser tab on the hub."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.console_errors: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.socket_urls: list[str] = []
        page.on(
            "console", lambda message: message.type == "error" and self.console_errors.append(message.text)
        )
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        page.on("request", lambda request: self.requests.append((request.method, request.url)))
        self.frames_sent: list[tuple[str, str]] = []
        page.on("websocket", self._watch_socket)

    def _watch_socket(self, socket: WebSocket) -> None:
        self.socket_urls.append(socket.url)
        socket.on("framesent", lambda payload: self.frames_sent.append((socket.url, str(payload))))

    # --- navigation ------------------------------------------------------------------------------
    def new_tab(self) -> BoardPage:
        """Another tab of the same browser profile (same login, same localStorage)."""
        tab = BoardPage(self.page.context.new_page(), self.base_url)
        tab.open()
        expect(tab.page.locator(".card").first).to_be_visible()
        return tab

    def open(self) -> BoardPage:
        self.page.goto(self.base_url + "/")
        return self

    def login(self, email: str, password: str = DEMO_PASSWORD) -> BoardPage:
        self.open()
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#app-view")).to_be_visible()
        expect(self.page.locator(".card").first).to_be_visible()
        return self

    def wait_live(self, timeout: float = 10_000) -> None:
        expect(self.connection).to_have_attribute("data-state", "live", timeout=timeout)

    # --- locators --------------------------------------------------------------------------------
    @property
    def connection(self) -> Locator:
        return self.page.locator("#connection")

    def column(self, status: str) -> Locator:
        return self.page.locator(f'section.column[data-status="{status}"]')

    def card(self, key_or_title: str, within: Locator | None = None) -> Locator:
        """A card by its key (`OPS-3`) or its exact title, on the board or `within` a column."""
        scope = within if within is not None else self.page
        if re.fullmatch(r"[A-Z0-9]+-\d+", key_or_title):
            inner = self.page.locator(".card-key", has_text=re.compile(rf"^{key_or_title}$"))
        else:
            inner = self.page.locator(".card-title", has_text=re.compile(rf"^{re.escape(key_or_title)}$"))
        return scope.locator(".card").filter(has=inner)

    def expect_in_column(self, key_or_title: str, status: str, timeout: float = 5_000) -> None:
        expect(self.card(key_or_title, within=self.column(status))).to_have_count(1, timeout=timeout)

    @property
    def drawer(self) -> Locator:
        return self.page.locator("#drawer")

    def open_ticket(self, key: str) -> Locator:
        self.card(key).click()
        expect(self.drawer).to_be_visible()
        expect(self.page.locator("#drawer-key")).to_have_text(key)
        return self.drawer

    # --- checks ----------------------------------------------------------------------------------
    def patch_requests(self) -> list[str]:
        return [url for method, url in self.requests if method == "PATCH"]

    def assert_no_console_errors(self, allow: Iterable[re.Pattern[str]] = ()) -> None:
        allowed = list(allow)
        unexpected = [e for e in self.console_errors if not any(p.search(e) for p in allowed)]
        assert not unexpected, "console errors:\n" + "\n".join(unexpected)
