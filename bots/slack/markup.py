"""Slack's message markup → the plain text a hub comment holds.

`<@U123|bob>` → `@bob`; `<@U123>` → `@<email>` of the linked hub user (so @mentions notify them) or
`@U123`; `<#C1|general>` → `#general`; `<https://x|label>` → `label (https://x)`; `<mailto:a@b|a@b>`
→ `a@b`; `&amp; &lt; &gt;` unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

_TOKEN = re.compile(r"<([^<>]+)>")
Lookup = Callable[[str], Awaitable[str | None]]


async def to_plain(text: str, email_of: Lookup | None = None) -> str:
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(text[last : match.start()])
        parts.append(await _token(match.group(1), email_of))
        last = match.end()
    parts.append(text[last:])
    return "".join(parts).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def _token(inner: str, email_of: Lookup | None) -> str:
    target, _sep, label = inner.partition("|")
    if target.startswith("@"):
        if label:
            return "@" + label
        email = await email_of(target[1:]) if email_of else None
        return "@" + (email or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^")[0])
    if target.startswith("mailto:"):
        return label or target[len("mailto:") :]
    return f"{label} ({target})" if label and label != target else target
