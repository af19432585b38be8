"""Slack as it is: user text escaped in every field we send, and every message inside Block Kit's limits.

The fake Slack refuses what Slack refuses (`tests/fakes/slack_limits.py`), so a message past a limit
shows up in `fake.rejected` instead of in the channel.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bots.notify import Notifier
from bots.slack.limits import MAX_SECTION, MAX_TEXT
from tests.fakes.slack_limits import raw_texts
from tests.integration.chat.conftest import BOARD, CHANNEL, SlackHub, link_directly
from tests.support.api import PASSWORD, User

HOSTILE = "<!channel> & <@U0EVIL> <https://evil.example|click> >_<"
ESCAPED = "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt;"


async def _user(hub: SlackHub, name: str, slack_id: str, email: str) -> User:
    """A hub user with a hostile display name (the email stays a valid one) and their Slack account."""
    made = await hub.api.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
    assert made.status == 201, made.body
    login = await hub.api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    hub.fake.add_user(slack_id, "Mallory", email)
    user = User(made.body["id"], email, name, login.body["access_token"], login.body["refresh_token"])
    await link_directly(hub, user, slack_id)
    return user


def _everything_sent(hub: SlackHub) -> list[Any]:
    """Every Web API call's parameters and every `response_url` post the fake received."""
    return [call.params for call in hub.fake.calls] + hub.fake.responses + [r[1] for r in hub.fake.rejected]


async def test_hostile_titles_labels_names_and_comments_reach_slack_escaped(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    mallory = await _user(hub, f"Mal {HOSTILE}"[:120], "UMAL", "mallory.limits@example.com")
    made = await hub.api.post("/api/projects", json={"key": "OPS", "name": HOSTILE}, token=alice.token)
    project = made.body
    await hub.api.add(alice, project["id"], mallory, "member")
    await hub.command("UALICE", "subscribe OPS format:detailed")
    ticket = await hub.api.ticket(
        alice, project["id"], title=HOSTILE, description=HOSTILE, labels=["<!everyone>&"],
        assignee_id=mallory.id,
    )  # fmt: skip
    await hub.api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": HOSTILE}, token=mallory.token)
    root = await hub.root(ticket["key"])
    await hub.fake.wait_for(lambda: hub.fake.channel_messages(CHANNEL, thread=root.ts))
    dms = await hub.fake.wait_for(
        lambda: [c for c in hub.fake.calls_to("chat.postMessage") if c.params["channel"] == "DMAL"]
    )
    # Commands, a button and the create form, each answering with the hostile title.
    for text in ("list OPS", f"show {ticket['key']}", f"create OPS {HOSTILE}", f"comment {ticket['key']} ok"):
        await hub.command("UMAL", text)
    mark_read = dms[0].params["blocks"][-1]["elements"][-1]
    key, _reply = await hub.slack.block_action("UMAL", {"type": "button", **mark_read}, channel="DMAL")
    assert (await hub.answer(key))["text"].startswith(f"✓ Read: Assigned to you: {ticket['key']} {ESCAPED}")
    values = {
        "project": {"value": {"type": "static_select", "selected_option": {"value": "OPS"}}},
        "title": {"value": {"type": "plain_text_input", "value": HOSTILE}},
    }
    meta = {"callback_id": "sb_create", "private_metadata": f'{{"channel": "{CHANNEL}"}}'}
    assert (await hub.slack.view_submission("UMAL", meta, values)).status_code == 200
    await hub.fake.wait_for(lambda: hub.fake.calls_to("chat.postEphemeral"))

    sent = _everything_sent(hub)
    assert [text for payload in sent for text in raw_texts(payload)] == []
    assert hub.fake.rejected == []
    # The hostile text did arrive — escaped — in the fallbacks that notifications show.
    assert ESCAPED in root.text
    assert ESCAPED in dms[0].params["text"]
    assert "&lt;!everyone&gt;&amp;" in str(root.blocks)
    assert f"*Mal {ESCAPED}" in hub.fake.channel_messages(CHANNEL, thread=root.ts)[0].text
    assert ESCAPED in hub.fake.calls_to("chat.postEphemeral")[-1].params["text"]
    assert any(ESCAPED in r.get("text", "") for r in hub.fake.responses)


async def test_ticket_list_of_long_titles_is_split_into_sections(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    for n in range(22):
        title = (f"{n:02d} Checkout & payment pages time out under load " * 5)[:200]
        await hub.api.ticket(alice, project["id"], title=title)
    answer = await hub.command("UALICE", "list OPS")
    assert hub.fake.rejected == []
    texts = [block["text"]["text"] for block in answer["blocks"] if block["type"] == "section"]
    assert len(texts) > 1
    assert all(len(text) <= MAX_SECTION for text in texts)
    shown = "\n".join(texts)
    assert texts[0].startswith("Open tickets in OPS")
    assert shown.count("• *<") == 20  # the command lists 20; each line whole, every one shown
    assert "Checkout &amp; payment" in shown


async def test_digest_of_fifty_notifications_fits_and_is_sent_again_when_refused(hub: SlackHub) -> None:
    await hub.runtime.notifier.stop()  # this test drives its own notifier and clock
    alice = await hub.person("Alice Archer", "UALICE")
    bob = await hub.person("Bob Baker", "UBOB")
    project = await hub.api.project(alice, "OPS")
    await hub.api.add(alice, project["id"], bob, "member")
    await link_directly(hub, bob, "UBOB")
    await hub.command("UBOB", "prefs ticket_assigned slack digest")
    for n in range(50):
        title = (f"{n:02d} Nightly export <fails> & retries forever " * 5)[:200]
        await hub.api.ticket(alice, project["id"], title=title, assignee_id=bob.id)
    day = datetime.now(UTC).replace(hour=9, minute=5)
    notifier = Notifier(hub.context.db, hub.runtime.sink, digest_hour=9, clock=lambda: day)
    assert await notifier.run_digests_once() == 1
    assert hub.fake.rejected == []
    digest = hub.fake.calls_to("chat.postMessage")[-1].params
    assert digest["channel"] == "DBOB"
    assert all(len(block["text"]["text"]) <= MAX_SECTION for block in digest["blocks"])
    shown = "\n".join(block["text"]["text"] for block in digest["blocks"])
    listed = shown.count("\n• ")
    assert listed + int(shown.rsplit("…and ", 1)[1].split()[0]) == 50
    assert shown.endswith(f"more <{BOARD}/|on the board>")

    # The next day Slack refuses the digest: it is not marked sent, and goes out at the next check.
    await hub.api.ticket(alice, project["id"], title="One more", assignee_id=bob.id)
    day += timedelta(days=1)
    hub.fake.refuse("chat.postMessage", "invalid_blocks")
    assert await notifier.run_digests_once() == 0
    assert await notifier.run_digests_once() == 1
    assert "OPS-51 One more" in str(hub.fake.calls_to("chat.postMessage")[-1].params["blocks"])
    assert await notifier.run_digests_once() == 0  # and now it counts as sent


async def test_a_ten_thousand_character_comment_is_relayed_cut_with_a_link(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    await hub.command("UALICE", "subscribe OPS")
    ticket = await hub.api.ticket(alice, project["id"], title="Huge log")
    root = await hub.root(ticket["key"])
    body = ("&<>" * 3_334)[:10_000]  # 46,670 characters once escaped
    made = await hub.api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": body}, token=alice.token)
    assert made.status == 201, made.body
    posted = await hub.fake.wait_for(lambda: hub.fake.channel_messages(CHANNEL, thread=root.ts))
    assert hub.fake.rejected == []
    text = posted[0].text
    assert len(text) <= MAX_TEXT
    assert text.startswith("*Alice Archer* (via web): &amp;&lt;&gt;&amp;")
    link = f"{BOARD}/#/p/{project['id']}/t/{ticket['id']}"
    assert text.endswith(f"… <{link}|read it all on the board>")
