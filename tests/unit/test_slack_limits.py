"""Slack's limits: `fit` (escape, then cut to the room), the renderers that use it, and the fake Slack's
checks that refuse what Slack refuses (so the integration tests notice an overshoot)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bots.actions import Result
from bots.slack import render
from bots.slack.limits import BLOCKS_BUDGET, MAX_BLOCKS, MAX_SECTION, MAX_TEXT, fit, pack
from tests.fakes.slack_limits import Refusal, all_text, check_message, check_view, raw_texts

BOARD = "http://board.test"
HOSTILE = "<!channel> & <@U0EVIL> <https://evil.example|click> >_<"


def ticket(n: int, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": n, "project_id": 1, "key": f"OPS-{n}", "title": title, "status": "todo", "priority": "high",
        "assignee": {"id": 2, "name": HOSTILE[:100]}, "reporter": {"id": 1, "name": HOSTILE[:100]},
        "labels": [HOSTILE[:50]], "description": HOSTILE * 40, **extra,
    }  # fmt: skip


# --- fit and pack ---------------------------------------------------------------------------------
def test_fit_escapes_and_keeps_short_text_whole() -> None:
    assert fit("a < b & c > d", 100) == "a &lt; b &amp; c &gt; d"


def test_fit_counts_the_escaped_length_and_never_cuts_an_entity() -> None:
    text = "&" * 10
    for limit in range(1, 30):
        cut = fit(text, limit)
        assert len(cut) <= limit
        assert cut.endswith("…")
        assert re.fullmatch(r"(&amp;)*…", cut), cut
    assert fit("x" * 50, 20, tail=" <http://b|more>") == "xxxx <http://b|more>"
    with pytest.raises(ValueError, match="tail"):
        fit("x" * 50, 3, tail="long tail")


def test_pack_keeps_lines_whole_in_chunks_under_the_limit() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(100)]
    chunks = pack(lines, 1_000)
    assert all(len(chunk) <= 1_000 for chunk in chunks)
    assert "\n".join(chunks).split("\n") == lines


# --- the renderers --------------------------------------------------------------------------------
def test_every_rendering_escapes_user_text() -> None:
    hostile = ticket(1, HOSTILE)
    messages: list[Any] = [
        render.ticket_blocks(hostile, BOARD, fmt="detailed"),
        render.ticket_blocks(hostile, BOARD, deleted=True),
        render.result_message(Result(f"Created OPS-1: {HOSTILE}", ticket=hostile), BOARD),
        render.result_message(Result(f"Open tickets in OPS:\n{HOSTILE}", tickets=[hostile]), BOARD),
        render.result_message(Result(HOSTILE, ok=False), BOARD),
        render.comment_text({"author": {"name": HOSTILE}, "body": HOSTILE, "ticket_id": 1}, "web"),
        render.reply_text([HOSTILE]),
        render.dm_blocks(
            {"id": 1, "title": HOSTILE, "message": HOSTILE, "ticket_id": 1, "project_id": 1}, BOARD
        ),
        render.digest_blocks([{"title": HOSTILE}], BOARD),
        render.summary_blocks(
            {"project": {"id": 1, "key": "OPS", "name": HOSTILE}, "counts": {}, "changed_today": 1,
             "working": [{"name": HOSTILE, "tickets": ["OPS-1"]}]}, BOARD,
        ),
    ]  # fmt: skip
    for message in messages:
        payload = {"text": message} if isinstance(message, str) else message
        assert raw_texts(payload) == [], payload
        assert "&lt;!channel&gt;" in str(payload)


def test_a_list_of_forty_long_titles_is_split_into_sections_slack_takes() -> None:
    found = [ticket(n, f"{n:02d} " + "Connection pool exhausted & retried " * 6) for n in range(1, 41)]
    found = [{**t, "title": t["title"][:200]} for t in found]
    message = render.result_message(Result("Open tickets in OPS:\n" + "x" * 100, tickets=found), BOARD)
    check_message(message)
    texts = [block["text"]["text"] for block in message["blocks"]]
    assert len(texts) > 1
    assert all(len(text) <= MAX_SECTION for text in texts)
    shown = "\n".join(texts)
    assert "OPS-1>" in shown
    left_out = [t["key"] for t in found if f"|{t['key']}>" not in shown]
    assert left_out, "40 long titles are past one message's budget"
    assert f"…and {len(left_out)} more <{BOARD}/#/p/1|on the board>" in shown


def test_a_digest_of_two_hundred_long_titles_fits_one_message() -> None:
    notifications = [{"title": f"Assigned to you: OPS-{n} " + "&<>" * 60} for n in range(200)]
    text, blocks = render.digest_blocks(notifications, BOARD)
    check_message({"text": text, "blocks": blocks})
    assert len(blocks) <= MAX_BLOCKS
    assert all_text(blocks) <= BLOCKS_BUDGET
    assert blocks[-1]["text"]["text"].endswith(f"more <{BOARD}/|on the board>")


def test_a_ten_thousand_character_comment_is_cut_with_a_link_to_the_ticket() -> None:
    comment = {"author": {"name": "Alice"}, "body": "&<>" * 3_334, "edited": True}
    text = render.comment_text(comment, "web", link=f"{BOARD}/#/p/1/t/7")
    check_message({"text": text})
    assert len(text) <= MAX_TEXT
    assert text.startswith("*Alice* (via web): &amp;&lt;&gt;")
    assert text.endswith(f"… <{BOARD}/#/p/1/t/7|read it all on the board> _(edited)_")


# --- the fake's checks ----------------------------------------------------------------------------
def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "t", "blocks": [_section("x")] * 51}, "invalid_blocks"),
        ({"text": "t", "blocks": [_section("x" * 3_001)]}, "invalid_blocks"),
        ({"text": "t", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]},
         "invalid_blocks"),
        ({"text": "t", "blocks": [{"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a"}]}]},
         "invalid_blocks"),
        ({"text": "t", "blocks": [_section("x" * 2_900)] * 4}, "msg_blocks_too_long"),
    ],
)  # fmt: skip
def test_the_fake_refuses_what_slack_refuses(message: dict[str, Any], error: str) -> None:
    with pytest.raises(Refusal) as refused:
        check_message(message)
    assert refused.value.error == error
    assert refused.value.body()["ok"] is False


def test_the_fake_takes_messages_at_the_limits() -> None:
    check_message({"text": "x" * 40_000, "blocks": [_section("x" * 3_000)] * 3})
    check_message({"text": "t", "blocks": [_section("x")] * 50})


def test_the_fake_refuses_a_modal_title_over_24_characters() -> None:
    with pytest.raises(Refusal):
        check_view(
            {"view": {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []}}
        )
