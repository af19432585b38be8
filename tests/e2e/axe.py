"""Accessibility checks for the browser tests: axe-core runs and keyboard-walking helpers.

`assert_accessible(page)` injects the axe-core build bundled with the `axe-playwright-python` package
(nothing is fetched from a CDN, so it works offline with Debian's Chromium) and fails with every
serious or critical violation spelled out: rule id, what it asks for, the offending elements' selectors
and a snippet of their HTML. Minor and moderate findings are reported by `violations()` but do not fail.

`tab_until(page, predicate)` presses Tab until the focused element matches (a keyboard user's path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

FAILING_IMPACTS = ("serious", "critical")
# WCAG 2.x A and AA plus axe's best practices (landmarks, one <main>, headings, regions).
RUN_OPTIONS: dict[str, Any] = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
}


def violations(page: Page, *, context: str | dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (optionally only inside `context`, a selector)."""
    # Colours sampled mid-animation (the drawer sliding in at half opacity) are not what anyone reads.
    page.evaluate(
        """() => Promise.all(document.getAnimations()
              .filter((a) => a.effect?.getComputedTiming().iterations !== Infinity)
              .map((a) => a.finished.catch(() => null)))"""
    )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    result = page.evaluate(
        "([context, options]) => axe.run(context ?? document, options)", [context, RUN_OPTIONS]
    )
    return list(result["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    """A readable list: one block per rule, one line per offending element."""
    lines = []
    for violation in found:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            snippet = " ".join(node["html"].split())[:160]
            lines.append(f"    {target}\n        {snippet}")
            summary = (node.get("failureSummary") or "").strip().replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:240]}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, context: str | dict[str, Any] | None = None, label: str = "") -> None:
    """Fail listing every serious or critical axe violation on the page (or inside `context`)."""
    found = [v for v in violations(page, context=context) if v["impact"] in FAILING_IMPACTS]
    where = f" ({label})" if label else ""
    assert not found, f"axe found {len(found)} serious/critical violation(s){where}:\n" + describe(found)


def focused_description(page: Page) -> str:
    """The focused element as `tag#id.class "accessible-ish name"`, for failure messages."""
    return str(
        page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return '<body>';
                const name = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40);
                const cls = typeof el.className === 'string' && el.className.trim()
                    ? '.' + el.className.trim().split(/ +/).join('.') : '';
                return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} "${name}"`;
            }"""
        )
    )


def tab_until(
    page: Page, predicate: str | Callable[[Page], bool], max_steps: int = 40, *, key: str = "Tab"
) -> int:
    """Press `key` (Tab, or Shift+Tab) until `predicate` holds; return how many presses it took.

    `predicate` is a CSS selector the focused element must match, or a function of the page.
    Fails with the path focus took when it never gets there (a keyboard trap or an unreachable control).
    """
    if isinstance(predicate, str):
        selector = predicate

        def check(p: Page) -> bool:
            return bool(p.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector))
    else:
        check = predicate
    path: list[str] = []
    for step in range(1, max_steps + 1):
        page.keyboard.press(key)
        if check(page):
            return step
        path.append(focused_description(page))
    raise AssertionError(
        f"{predicate!r} not reached in {max_steps} {key} presses; focus went:\n  " + "\n  ".join(path)
    )


def focus_visible_box(page: Page) -> dict[str, float]:
    """The focused element's bounding box (x, y, width, height) in CSS pixels."""
    return dict(
        page.evaluate(
            """() => { const r = document.activeElement.getBoundingClientRect();
                       return {x: r.x, y: r.y, width: r.width, height: r.height}; }"""
        )
    )
