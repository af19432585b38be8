"""Per-channel pacing and Slack markup conversion (no I/O)."""

from __future__ import annotations

import asyncio
import time

from bots.pacing import ChannelPacer
from bots.slack.markup import to_plain
from bots.slack.render import comment_text, escape


async def test_posts_to_one_channel_are_spaced_and_others_are_not_held_up() -> None:
    pacer = ChannelPacer(interval=0.2)
    started = time.monotonic()
    await pacer.slot("C1")
    await pacer.slot("C2")
    assert time.monotonic() - started < 0.1
    await asyncio.gather(pacer.slot("C1"), pacer.slot("C1"))
    assert time.monotonic() - started >= 0.4
    assert 0 < pacer.quiet_for() <= 0.2


async def test_slack_markup_becomes_hub_text() -> None:
    async def email_of(user_id: str) -> str | None:
        return {"U2": "bob@example.com"}.get(user_id)

    text = "hi <@U1|al>, <@U2> & <@U3>: see <https://x.example|docs> &lt;3 in <#C1|ops> <!here>"
    assert await to_plain(text, email_of) == (
        "hi @al, @bob@example.com & @U3: see docs (https://x.example) <3 in #ops @here"
    )


def test_relayed_comments_are_attributed_and_escaped() -> None:
    comment = {"author": {"name": "Alice <Archer>"}, "body": "a < b & c", "edited": True}
    assert (
        comment_text(comment, "discord")
        == "*Alice &lt;Archer&gt;* (via Discord): a &lt; b &amp; c _(edited)_"
    )
    assert escape("<@U1>") == "&lt;@U1&gt;"
