"""Slack's size limits, and the one way our text is made to fit them.

Slack parses `&`, `<` and `>` as markup in every mrkdwn field (a message's `text`, section and context
text, `response_url` answers): `<!channel>` in a ticket title would ping a whole channel. So user text
reaches Slack only through `fit`, which escapes it and then cuts it to the room it has, counting the
escaped length (an `&` costs five characters) and never cutting an escape sequence in half.

Limits (Block Kit reference; `msg_blocks_too_long` is Slack's undocumented cap on the sum of a
message's block text, reported rejecting from about 11,300 characters):

    message `text`          40,000   beyond: truncated by Slack, or `msg_too_long`
    blocks per message          50   beyond: `invalid_blocks`
    section text             3,000   header text 150, button text 75, option text 75
    all text in the blocks  10,000   our own budget, under `msg_blocks_too_long`

Lengths are counted in characters (code points), as Slack's error messages ("must be less than 3001
characters") do.
"""

from __future__ import annotations

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_SECTION = 3_000
MAX_HEADER = 150
MAX_BUTTON = 75
#: What we allow ourselves in all of one message's block text together.
BLOCKS_BUDGET = 10_000
ELLIPSIS = "…"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """User text as mrkdwn that shows it literally: `&`, `<`, `>` as entities (all Slack asks for)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int, tail: str = ELLIPSIS) -> str:
    """`text` escaped, in at most `limit` characters: whole when it fits, else cut and followed by
    `tail` (markup of ours, e.g. `… <url|read it on the board>`, not escaped)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    if len(tail) > limit:
        raise ValueError(f"the tail alone is longer than {limit} characters")
    budget = limit - len(tail)
    kept: list[str] = []
    used = 0
    for char in text:
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > budget:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept).rstrip() + tail


def pack(lines: list[str], limit: int = MAX_SECTION) -> list[str]:
    """Lines of markup (each already fitted) joined into as few texts of at most `limit` characters as
    keep every line whole: one section each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]  # a line is fitted by its maker; this only keeps the promise
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks
