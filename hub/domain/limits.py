"""What the database can hold, checked at the edges so a hostile value is a 4xx, never a driver error.

Ids of the `INTEGER` columns (users, projects, tickets, comments, webhooks, chat links) go up to
2^31 - 1 on PostgreSQL; those of the `BIGINT` ones (events, notifications, deliveries) to 2^63 - 1.
SQLite holds 64-bit integers, so the PostgreSQL bounds are the ones that count: the hub answers the
same on both. PostgreSQL refuses NUL (U+0000) in text and neither driver can encode a lone UTF-16
surrogate, so text carrying either is refused on input, on both databases alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The largest value of an `INTEGER` column (PostgreSQL `int4`).
INT_MAX = 2**31 - 1
#: The largest value of a `BIGINT` column (`int8`).
BIGINT_MAX = 2**63 - 1

#: Path parameters naming rows of `BIGINT` tables; every other integer in a path is an `INTEGER` id.
BIG_ID_PARAMETERS = frozenset({"notification_id", "delivery_id", "event_id", "attempt_id"})


def id_bound(parameter: str) -> int:
    """The largest id the column behind the path parameter `parameter` can hold."""
    return BIGINT_MAX if parameter in BIG_ID_PARAMETERS else INT_MAX


def parse_id(text: str | None, maximum: int = INT_MAX) -> int | None:
    """`text` as an id when it is 1 to `maximum` written in ASCII digits, else None.

    `str.isdigit` alone is not enough: it accepts `²` and other digits `int()` refuses."""
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def parse_position(text: str | None, maximum: int = BIGINT_MAX) -> int | None:
    """A non-negative position such as `last_event_id` (0 allowed), or None when it is not one."""
    if text == "0":
        return 0
    return parse_id(text, maximum)


def digits_up_to(maximum: int) -> str:
    """A regular expression (no anchors, no capturing group) for the integers 1 to `maximum` in ASCII digits
    without leading zeros: what `parse_id` accepts, for the `pattern` of a documented parameter."""
    top = str(maximum)
    options = []
    if len(top) > 1:
        options.append(f"[1-9][0-9]{{0,{len(top) - 2}}}" if len(top) > 2 else "[1-9]")
    for i, digit in enumerate(top):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(top) - i - 1
            below = str(low) if int(digit) - 1 == low else f"[{low}-{int(digit) - 1}]"
            options.append(top[:i] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(top)
    return "(?:" + "|".join(options) + ")"


def text_problem(value: str) -> str | None:
    """Why the database cannot store `value` as text, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (no lone surrogates)"
    return None


def find_text_problem(value: Any) -> str | None:
    """`text_problem` of the first bad string anywhere in `value` (strings, lists, dict keys and values).
    Walks with a stack, not recursion, so no nesting depth can make it fail."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                return problem
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
    return None
