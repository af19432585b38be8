"""@mentions: which project members a text names."""

from __future__ import annotations

from hub.domain.mentions import Mentionable, mention_tokens, resolve_mentions

PEOPLE = [
    Mentionable(1, "Alice Archer", "alice@example.com"),
    Mentionable(2, "Bob Baker", "bob@example.com"),
    Mentionable(3, "Bob Brown", "bbrown@example.com"),
]


def test_tokens_skip_emails_in_running_text() -> None:
    assert mention_tokens("mail a@b.example, cc @alice.") == ["alice"]


def test_names_emails_and_local_parts_resolve() -> None:
    text = "@alice see this, @bbrown@example.com too; and @BobBaker?"
    assert resolve_mentions(text, PEOPLE) == [1, 3, 2]


def test_ambiguous_first_name_mentions_nobody() -> None:
    assert resolve_mentions("@bob please", PEOPLE) == []


def test_duplicates_and_strangers_are_dropped() -> None:
    assert resolve_mentions("@alice @alice @mallory", PEOPLE) == [1]


def test_dotted_and_underscored_full_names() -> None:
    assert resolve_mentions("@alice.archer and @bob_brown", PEOPLE) == [1, 3]
