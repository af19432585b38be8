"""`@name` / `@email` mentions in comment bodies and descriptions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# An email, or a name token (letters, digits, dot, dash, underscore), after an @ that does not follow
# a word character (so "a@b.c" inside text is an email, not a mention of "b.c").
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w][\w.-]*)")


@dataclass(frozen=True)
class Mentionable:
    user_id: int
    name: str
    email: str


def mention_tokens(text: str) -> list[str]:
    """The raw tokens after each `@`, lower-cased, in order, without trailing punctuation."""
    return [match.group(1).rstrip(".-").lower() for match in _MENTION.finditer(text or "")]


def _handles(person: Mentionable) -> set[str]:
    name = person.name.lower()
    return {
        person.email.lower(),
        person.email.split("@", 1)[0].lower(),
        name.replace(" ", ""),
        name.replace(" ", "."),
        name.replace(" ", "_"),
        name.split(" ", 1)[0],
    }


def resolve_mentions(text: str, people: Iterable[Mentionable]) -> list[int]:
    """User ids of the project members mentioned in `text`, de-duplicated, in order of appearance.

    A token matches a member's email, the local part of the email, the name without spaces (or with
    `.`/`_` for spaces) or the first name. A first name shared by two members mentions nobody:
    guessing would notify the wrong person.
    """
    tokens = mention_tokens(text)
    if not tokens:
        return []
    index: dict[str, set[int]] = {}
    for person in people:
        for handle in _handles(person):
            index.setdefault(handle, set()).add(person.user_id)
    found: list[int] = []
    for token in tokens:
        ids = index.get(token, set())
        if len(ids) == 1:
            (user_id,) = ids
            if user_id not in found:
                found.append(user_id)
    return found
