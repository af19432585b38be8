"""Fixtures for the browser tests: Chromium, a hub subprocess per test, and signed-in board pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, require_playwright
from tests.e2e.hub import HubApi, HubProcess


# Package scope: the sync Playwright API runs its own event loop in this thread while it is open, so it
# must be closed before any asyncio test runs (testpaths also puts tests/e2e last).
@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    require_playwright()
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (10 s): a loaded CI machine (parallel workers, 2 cores)
    # paints later, and a wait that ends early only turns slowness into a false failure.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def hub_env() -> dict[str, str]:
    """Extra environment for the hub; override in a test module to change settings."""
    return {}


@pytest.fixture
def hub(tmp_path: Path, hub_env: dict[str, str], browser: object) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path, env=hub_env)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def as_user(hub: HubProcess) -> Callable[[str], HubApi]:
    """`as_user("bob@example.com")` → the REST API as that demo user."""
    return lambda email: HubApi(hub.url, email)


@pytest.fixture
def open_page(browser: object, hub: HubProcess) -> Iterator[Callable[..., object]]:
    """`open_page(viewport=...)` → a `BoardPage` in a fresh browser context (its own login)."""
    from tests.e2e.pages import BoardPage

    contexts = []

    def factory(viewport: dict[str, int] | None = None) -> BoardPage:
        context = browser.new_context(viewport=viewport or {"width": 1400, "height": 860})  # type: ignore[attr-defined]
        context.set_default_timeout(10_000)
        contexts.append(context)
        return BoardPage(context.new_page(), hub.url)

    yield factory
    for context in contexts:
        context.close()
