"""Which browser the tests drive, and what happens when it (or Playwright) is missing.

Debian's Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH) driven by the `playwright` package;
nothing is downloaded. Missing either skips the browser tests with a reason, except under CI=true,
where a skip would hide that the board was never tested: there it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str, *, module_level: bool = False) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)


def require_playwright() -> None:
    """Call at the top of a test module, before importing playwright."""
    if importlib.util.find_spec("playwright") is None:
        unavailable("the playwright package is not installed (pip install playwright)", module_level=True)


def require_chromium() -> None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
