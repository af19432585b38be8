"""`/ticket …` parsing: every subcommand once, the spellings people type, and helpful errors."""

from __future__ import annotations

import pytest

from bots.commands import (
    HELP_TEXT,
    Assign,
    Comment,
    Create,
    Help,
    Link,
    ListTickets,
    ParseError,
    Prefs,
    SetStatus,
    Show,
    Subscribe,
    Unsubscribe,
    UserRef,
    Who,
    parse,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("help assign", Help("assign")),
        ("create OPS Pager fires twice", Create("Pager fires twice", "OPS", "OPS Pager fires twice")),
        ("create Pager fires", Create("Pager fires", None, "Pager fires")),
        ("create", Create("", None, "")),
        ("create OPS", Create("", "OPS", "OPS")),
        ("list", ListTickets()),
        ("list mine", ListTickets(mine=True)),
        ("list ops", ListTickets("OPS")),
        ("show ops-12", Show("OPS-12")),
        ("assign OPS-1 me", Assign("OPS-1", UserRef("me"))),
        ("assign OPS-1 <@U123|bob>", Assign("OPS-1", UserRef("chat", "U123", "bob"))),
        ("assign OPS-1 <@U123>", Assign("OPS-1", UserRef("chat", "U123"))),
        ("assign OPS-1 <@!4242>", Assign("OPS-1", UserRef("chat", "4242"))),
        ("assign OPS-1 @alice", Assign("OPS-1", UserRef("text", "alice"))),
        ("assign OPS-1 Alice Archer", Assign("OPS-1", UserRef("text", "Alice Archer"))),
        ("assign OPS-1 <mailto:a@b.co|a@b.co>", Assign("OPS-1", UserRef("text", "a@b.co"))),
        ("assign OPS-1 nobody", Assign("OPS-1", UserRef("nobody"))),
        ("status OPS-2 in progress", SetStatus("OPS-2", "in_progress")),
        ("status OPS-2 in-progress", SetStatus("OPS-2", "in_progress")),
        ("status OPS-2 in_progress", SetStatus("OPS-2", "in_progress")),
        ("status OPS-2 In Review", SetStatus("OPS-2", "in_review")),
        ("status OPS-2 done", SetStatus("OPS-2", "done")),
        ("status OPS-2 cancelled", SetStatus("OPS-2", "canceled")),
        ("status OPS-2 to do", SetStatus("OPS-2", "todo")),
        ("comment OPS-3 looks good   to me", Comment("OPS-3", "looks good   to me")),
        ("who", Who()),
        ("who OPS", Who("OPS")),
        ("link", Link()),
        ("link abcd-efgh", Link("abcd-efgh")),
        ("subscribe OPS", Subscribe("OPS")),
        (
            "subscribe OPS created, status_changed label:db label:api format:detailed summary:on",
            Subscribe("OPS", ("created", "status_changed"), ("db", "api"), "detailed", True),
        ),
        ("subscribe OPS mentions:off", Subscribe("OPS", mentions=False)),
        ("subscribe OPS mentions:on", Subscribe("OPS", mentions=True)),
        ("unsubscribe", Unsubscribe()),
        ("unsubscribe ops", Unsubscribe("OPS")),
        ("prefs", Prefs()),
        ("prefs comment_added slack off", Prefs("comment_added", "slack", "off")),
        ("prefs mention digest", Prefs("mention", None, "digest")),
        ("prefs quiet 22:00-8:00 Europe/Berlin", Prefs(quiet=("22:00", "08:00", "Europe/Berlin"))),
        ("prefs quiet off", Prefs(quiet_off=True)),
    ],
)
def test_parses(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frobnicate", "I don't know `frobnicate`"),
        ("show", "Which ticket?"),
        ("show OPS", "is not a ticket key like OPS-12"),
        ("assign OPS-1", "To whom?"),
        ("status OPS-1", "Which status?"),
        ("status OPS-1 sleeping", "I don't know the status 'sleeping'"),
        ("comment OPS-1", "The comment is empty"),
        ("subscribe", "Which project?"),
        ("subscribe OPS format:huge", "compact` or `detailed"),
        ("subscribe OPS colour:red", "I don't know the option"),
        ("list OPS WEB", "at most one"),
        ("prefs shouting slack off", "Unknown notification type"),
        ("prefs mention pigeon off", "Unknown destination"),
        ("prefs mention slack loud", "Unknown mode"),
        ("prefs quiet 10pm", "Quiet hours look like"),
        ("who lower-case-key!", "is not a project key"),
    ],
)
def test_bad_input_explains_itself(text: str, message: str) -> None:
    with pytest.raises(ParseError) as error:
        parse(text)
    assert message in str(error.value)
    assert "Usage:" in str(error.value) or HELP_TEXT in str(error.value)
