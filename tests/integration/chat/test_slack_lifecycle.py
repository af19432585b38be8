"""A workspace's and a channel's life as Slack reports it: uninstalls, revoked tokens, archived,
deleted and left channels, reinstalls, and rotating OAuth tokens — through signed events and the
real slack-bolt/slack_sdk code, against the fake Slack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from hub.adapters.db.chat_models import SLACK_BOTS, SLACK_INSTALLATIONS, ChatSubscription
from tests.integration.chat.conftest import CHANNEL, SlackHub
from tests.integration.chat.test_slack_oauth import _install, multi_hub  # noqa: F401  (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


async def _states(hub: SlackHub) -> dict[str, tuple[str, str | None]]:
    uow = hub.context.uow()
    async with uow:
        rows = await uow.session.scalars(select(ChatSubscription).order_by(ChatSubscription.id))
        return {f"{r.team_id}/{r.channel_id}": (r.state, r.state_reason) for r in rows}


async def _event(hub: SlackHub, event: dict[str, object]) -> None:
    reply = await hub.slack.event(event)
    assert reply.status_code == 200, reply.text  # unhandled events used to get 404


async def _until(hub: SlackHub, key: str, state: str) -> tuple[str, str | None]:
    """Wait until the subscription `team/channel` is in `state` (bolt acknowledges first, then works)."""
    for _ in range(200):
        found = (await _states(hub)).get(key)
        if found is not None and found[0] == state:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never became {state}: {await _states(hub)}")


async def test_archive_unarchive_delete_and_the_bot_leaving_set_channel_states(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    for channel in (CHANNEL, "C222", "G333"):
        assert "now gets OPS updates" in (await hub.command("UALICE", "subscribe OPS", channel))["text"]
    team = hub.fake.team_id
    here = f"{team}/{CHANNEL}"

    await _event(hub, {"type": "channel_archive", "channel": CHANNEL, "user": "UALICE"})
    assert await _until(hub, here, "archived") == ("archived", "the channel was archived")
    assert (await _states(hub))[f"{team}/C222"][0] == "active"
    # Only active subscriptions relay: a new ticket reaches C222, not the archived channel.
    ticket = await hub.api.ticket(alice, project["id"], title="While archived")
    await hub.fake.wait_for(hub.root_of(ticket["key"], "C222"))
    await hub.settle()
    assert hub.root_of(ticket["key"], CHANNEL)() is None

    await _event(hub, {"type": "channel_unarchive", "channel": CHANNEL, "user": "UALICE"})
    assert await _until(hub, here, "active") == ("active", None)

    # Someone else leaving changes nothing (had it removed the subscription, the archive after it
    # could not archive it); the bot itself being removed does.
    await _event(hub, {"type": "member_left_channel", "user": "UALICE", "channel": CHANNEL,
                       "channel_type": "C", "team": team})  # fmt: skip
    await _event(hub, {"type": "channel_archive", "channel": CHANNEL, "user": "UALICE"})
    await _until(hub, here, "archived")
    await _event(hub, {"type": "member_left_channel", "user": hub.fake.bot_user, "channel": CHANNEL,
                       "channel_type": "C", "team": team})  # fmt: skip
    await _event(hub, {"type": "channel_deleted", "channel": "C222"})
    await _event(hub, {"type": "group_left", "channel": "G333"})
    assert await _until(hub, here, "removed") == ("removed", "Switchboard was removed from the channel")
    assert await _until(hub, f"{team}/C222", "removed") == ("removed", "the channel was deleted")
    await _until(hub, f"{team}/G333", "removed")
    # Unarchiving a deleted or left channel does not bring it back: a later archive of C222 (which
    # only an active subscription takes) would otherwise show.
    await _event(hub, {"type": "channel_unarchive", "channel": "C222", "user": "UALICE"})
    await _event(hub, {"type": "channel_archive", "channel": "C222", "user": "UALICE"})
    await _event(hub, {"type": "channel_unarchive", "channel": "C444", "user": "UALICE"})
    await hub.settle()
    assert (await _states(hub))[f"{team}/C222"][0] == "removed"


async def test_user_tokens_revoked_change_nothing_bot_tokens_stop_the_workspace(hub: SlackHub) -> None:
    alice = await hub.person("Alice Archer", "UALICE")
    await hub.api.project(alice, "OPS")
    await hub.command("UALICE", "subscribe OPS")
    key = f"{hub.fake.team_id}/{CHANNEL}"
    await _event(hub, {"type": "tokens_revoked", "tokens": {"oauth": ["UALICE"]}})
    # Had that stopped the workspace, this archive (of an active subscription only) could not show.
    await _event(hub, {"type": "channel_archive", "channel": CHANNEL, "user": "UALICE"})
    await _until(hub, key, "archived")
    await _event(hub, {"type": "channel_unarchive", "channel": CHANNEL, "user": "UALICE"})
    await _until(hub, key, "active")
    await _event(hub, {"type": "tokens_revoked", "tokens": {"bot": [hub.fake.bot_user]}})
    assert await _until(hub, key, "uninstalled") == ("uninstalled", "the bot token was revoked")


async def test_uninstall_deletes_the_installation_and_a_reinstall_resumes(multi_hub: SlackHub) -> None:  # noqa: F811
    hub = multi_hub
    assert (await _install(hub, "T222")).status_code == 200
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    assert "now gets OPS updates" in (await hub.command("UALICE", "subscribe OPS"))["text"]
    first = await hub.api.ticket(alice, project["id"], title="Before the uninstall")
    await hub.fake.wait_for(hub.root_of(first["key"]))
    store = hub.runtime.parts.bolt.installation_store
    assert await store.async_find_bot(enterprise_id=None, team_id="T222") is not None

    await _event(hub, {"type": "app_uninstalled"})
    assert await _until(hub, f"T222/{CHANNEL}", "uninstalled") == ("uninstalled", "the app was uninstalled")
    assert await store.async_find_bot(enterprise_id=None, team_id="T222") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T222") is None
    posts = len(hub.fake.calls_to("chat.postMessage"))
    await hub.api.ticket(alice, project["id"], title="While uninstalled")
    await hub.settle()
    assert len(hub.fake.calls_to("chat.postMessage")) == posts  # nothing relayed, nothing tried

    assert (await _install(hub, "T222")).status_code == 200
    assert (await _states(hub))[f"T222/{CHANNEL}"] == ("active", None)
    third = await hub.api.ticket(alice, project["id"], title="After the reinstall")
    await hub.fake.wait_for(hub.root_of(third["key"]))
    post = next(c for c in hub.fake.calls_to("chat.postMessage") if third["key"] in c.params.get("text", ""))
    assert post.token == "xoxb-T222"


async def _expire_soon(hub: SlackHub, minutes: int = 10) -> None:
    """The stored bot token of T222 now expires in `minutes` (naive UTC, as slack_sdk stores it)."""
    soon = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(tzinfo=None)
    async with hub.context.db.engine.begin() as conn:
        for table in (SLACK_BOTS, SLACK_INSTALLATIONS):
            await conn.execute(
                update(table).where(table.c.team_id == "T222").values(bot_token_expires_at=soon)
            )


async def test_a_token_near_expiry_is_refreshed_and_the_relay_posts_with_the_new_one(
    multi_hub: SlackHub,  # noqa: F811
) -> None:
    hub = multi_hub
    hub.fake.rotate_tokens()
    assert (await _install(hub, "T222")).status_code == 200
    alice = await hub.person("Alice Archer", "UALICE")
    project = await hub.api.project(alice, "OPS")
    await hub.command("UALICE", "subscribe OPS")
    assert [c.params.get("grant_type") for c in hub.fake.calls_to("oauth.v2.access")] == [None]  # the install

    # The relay (no request from Slack behind it) refreshes before posting.
    await _expire_soon(hub)
    ticket = await hub.api.ticket(alice, project["id"], title="Posted with a fresh token")
    await hub.fake.wait_for(hub.root_of(ticket["key"]))
    refresh = hub.fake.calls_to("oauth.v2.access")[-1]
    assert refresh.params["grant_type"] == "refresh_token"
    assert refresh.params["refresh_token"].startswith("xoxe-1-T222-")
    post = next(c for c in hub.fake.calls_to("chat.postMessage") if ticket["key"] in c.params.get("text", ""))
    assert post.token is not None
    assert post.token.startswith("xoxb-T222-r")
    bot = await hub.runtime.parts.bolt.installation_store.async_find_bot(enterprise_id=None, team_id="T222")
    assert bot.bot_token == post.token
    assert bot.bot_token_expires_at > datetime.now(UTC).timestamp() + 3600

    # An incoming request refreshes too (bolt's authorizer, through SLACK_API_URL; the relay is
    # stopped meanwhile so that it cannot be the one refreshing), and the relay's next post uses what
    # it stored.
    await hub.runtime.relay.stop()
    await _expire_soon(hub)
    answer = await hub.command("UALICE", "help")
    assert answer["text"]
    assert len(hub.fake.calls_to("oauth.v2.access")) == 3
    await hub.runtime.relay.start()
    bot = await hub.runtime.parts.bolt.installation_store.async_find_bot(enterprise_id=None, team_id="T222")
    assert bot.bot_token != post.token
    later = await hub.api.ticket(alice, project["id"], title="And the next one")
    await hub.fake.wait_for(hub.root_of(later["key"]))
    last = next(c for c in hub.fake.calls_to("chat.postMessage") if later["key"] in c.params.get("text", ""))
    assert last.token == bot.bot_token
