"""Replies of every kind in a ticket's thread: files and "also send to channel" become comments;
what cannot become one is answered privately to its author; bots and Slack's notices stay ignored."""

from __future__ import annotations

from typing import Any

from tests.integration.chat.conftest import CHANNEL, SlackHub, link_directly
from tests.support.api import User

SHOT = "https://fake.slack.com/files/UBOB/F0SHOT/screenshot.png"
LOG = "https://fake.slack.com/files/UBOB/F0LOG/server.log"


async def _setup(hub: SlackHub) -> tuple[User, dict[str, Any], str]:
    """Alice's project followed in CHANNEL, linked member Bob, and the thread of one ticket."""
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UALICE", "subscribe OPS")
    ticket = await hub.api.ticket(alice, project["id"], title="Checkout fails")
    root = await hub.root(ticket["key"])
    return alice, ticket, root.ts


async def _bodies(hub: SlackHub, user: User, ticket_id: int, expected: int) -> list[str]:
    url = f"/api/tickets/{ticket_id}/comments"
    for _ in range(40):
        if len((await hub.api.get(url, token=user.token)).body["items"]) >= expected:
            break
        await hub.settle(0.05)
    await hub.settle()
    return [c["body"] for c in (await hub.api.get(url, token=user.token)).body["items"]]


def _file(file_id: str, name: str, permalink: str) -> dict[str, Any]:
    return {"id": file_id, "name": name, "title": name, "mimetype": "image/png", "filetype": "png",
            "permalink": permalink, "url_private": permalink.replace("/files/", "/files-pri/"),
            "mode": "hosted", "user": "UBOB"}  # fmt: skip


async def test_a_reply_with_files_becomes_a_comment_with_links(hub: SlackHub) -> None:
    alice, ticket, thread = await _setup(hub)
    await hub.slack.event({
        "type": "message", "subtype": "file_share", "channel": CHANNEL, "user": "UBOB",
        "text": "see the trace &amp; the screenshot", "ts": "1800000000.000100", "thread_ts": thread,
        "files": [_file("F0SHOT", "screenshot.png", SHOT), _file("F0LOG", "server.log", LOG),
                  {"id": "F0HIDDEN", "mode": "hidden_by_limit"}],
        "upload": False, "display_as_bot": False, "channel_type": "channel",
    })  # fmt: skip
    # A file alone (no text) is a comment too.
    await hub.slack.event({
        "type": "message", "subtype": "file_share", "channel": CHANNEL, "user": "UBOB", "text": "",
        "ts": "1800000000.000200", "thread_ts": thread, "files": [_file("F0SHOT", "screenshot.png", SHOT)],
    })  # fmt: skip
    assert await _bodies(hub, alice, ticket["id"], 2) == [
        f"see the trace & the screenshot\n📎 screenshot.png ({SHOT})\n📎 server.log ({LOG})",
        f"📎 screenshot.png ({SHOT})",
    ]
    await hub.settle()
    assert hub.fake.calls_to("chat.postEphemeral") == []
    # Like any reply from Slack, it is not posted back into the thread.
    assert [m for m in hub.fake.channel_messages(CHANNEL, thread=thread) if "screenshot" in m.text] == []


async def test_a_reply_also_sent_to_the_channel_becomes_a_comment(hub: SlackHub) -> None:
    alice, ticket, thread = await _setup(hub)
    await hub.slack.event({
        "type": "message", "subtype": "thread_broadcast", "channel": CHANNEL, "user": "UBOB",
        "text": "fixed in 1.4.2, everyone", "ts": "1800000000.000300", "thread_ts": thread,
        "root": {"type": "message", "ts": thread, "text": "OPS-1", "bot_id": "B1"},
    })  # fmt: skip
    assert await _bodies(hub, alice, ticket["id"], 1) == ["fixed in 1.4.2, everyone"]


async def test_what_cannot_become_a_comment_is_told_to_its_author(hub: SlackHub) -> None:
    alice, ticket, thread = await _setup(hub)
    await hub.slack.event({
        "type": "message", "subtype": "me_message", "channel": CHANNEL, "user": "UBOB",
        "text": "waves", "ts": "1800000000.000400", "thread_ts": thread,
    })  # fmt: skip
    notes = await hub.fake.wait_for(lambda: hub.fake.calls_to("chat.postEphemeral"))
    assert len(notes) == 1
    note = notes[0].params
    assert (note["channel"], note["user"], note["thread_ts"]) == (CHANNEL, "UBOB", thread)
    assert "not added to the ticket" in note["text"]
    assert "me_message" in note["text"]
    assert await _bodies(hub, alice, ticket["id"], 0) == []


async def test_bots_notices_and_other_threads_stay_silent(hub: SlackHub) -> None:
    alice, ticket, thread = await _setup(hub)
    quiet = [
        {"subtype": "bot_message", "bot_id": "B9", "text": "deploy done", "thread_ts": thread},
        {"subtype": "file_share", "bot_id": "B9", "user": "UBOTX", "text": "report", "thread_ts": thread,
         "files": [_file("F0R", "report.pdf", SHOT)]},
        {"subtype": "channel_join", "user": "UBOB", "text": "<@UBOB> has joined the channel"},
        {"subtype": "pinned_item", "user": "UBOB", "text": "pinned a message", "thread_ts": thread},
        {"subtype": "me_message", "user": "UBOB", "text": "waves", "thread_ts": "1700000000.999999"},
    ]  # fmt: skip
    for n, fields in enumerate(quiet):
        event = {"type": "message", "channel": CHANNEL, "ts": f"1800000001.{n:06d}", **fields}
        assert (await hub.slack.event(event)).status_code == 200
    assert await _bodies(hub, alice, ticket["id"], 0) == []
    assert hub.fake.calls_to("chat.postEphemeral") == []
