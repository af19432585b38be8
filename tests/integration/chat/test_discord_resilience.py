"""The Discord bot under stress: gateway drops, bot restarts, crashes between post and record, rate
limits, channels that refuse, and the bot as its own process."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bots.discord.runtime import DiscordRuntime, run_standalone
from bots.relay import Relay
from hub.adapters.db.engine import Database
from hub.adapters.db.types import utcnow
from hub.context import build_context
from tests.conftest import make_settings
from tests.fakes.discord import FakeDiscord, FakeMessage, FakeUser
from tests.integration.chat.discord_support import DiscordHub, discord_env, text_of
from tests.integration.realtime.conftest import start_live
from tests.support.api import User
from tests.support.crash import CrashAfter
from tests.support.database import fresh_sqlite
from tests.support.live import ws_connect
from tests.support.process import cli_env, run_cli


def _later() -> datetime:
    """A clock past any retry the failed round scheduled."""
    return utcnow() + timedelta(hours=1)


async def _subscribed(hub: DiscordHub) -> tuple[User, FakeUser, dict[str, Any]]:
    alice, member = await hub.person("Alice Archer")
    project = await hub.api.project(alice, "OPS")
    await hub.command(member, "subscribe", {"project": "OPS"})
    return alice, member, project


def _custom_id(message: FakeMessage, prefix: str) -> str:
    return next(
        str(c["custom_id"])
        for row in message.components
        for c in row["components"]
        if str(c.get("custom_id", "")).startswith(prefix)
    )


@pytest.mark.parametrize("resumable", [True, False], ids=["resume", "identify"])
async def test_bot_reconnects_after_the_gateway_drops_it(discord_hub: DiscordHub, resumable: bool) -> None:
    hub = discord_hub
    _alice, member, _project = await _subscribed(hub)
    identifies = hub.fake.identifies
    hub.fake.accept_resume = resumable
    await hub.fake.drop_gateway(4000)
    if resumable:
        await hub.fake.wait_for(lambda: hub.fake.resumes == 1, within=20)
    else:
        await hub.fake.wait_for(lambda: hub.fake.identifies == identifies + 1, within=20)
    await hub.fake.wait_ready(within=20)
    answer = await hub.command(member, "create", {"title": "After the drop"})
    assert "Created OPS-1" in text_of(answer)
    await hub.root("OPS-1")


async def test_buttons_and_commands_survive_a_bot_restart(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    _alice, member, _project = await _subscribed(hub)
    await hub.command(member, "create", {"title": "Posted before the restart"})
    root = await hub.root("OPS-1")
    await hub.runtime.stop()
    restarted = DiscordRuntime(hub.runtime.config, hub.context)
    restarted.client._connection.guild_ready_timeout = 0.1
    await restarted.start()
    try:
        await asyncio.wait_for(restarted.client.wait_until_ready(), 20)
        assert restarted.client.synced == 0  # Discord already has the same /ticket
        click = await hub.fake.click(member, root, _custom_id(root, "sb:assign:"))
        assert "assigned to Alice Archer" in text_of(await click.final())
    finally:
        await restarted.stop()
    assert len(hub.fake.requests_to("PUT", r"/applications/\d+/commands")) == 1


@pytest.mark.parametrize("method", ["post_ticket", "post_reply", "post_comment"])
async def test_crash_between_post_and_record_does_not_double_post(
    discord_hub: DiscordHub, method: str
) -> None:
    hub = discord_hub
    alice, _member, project = await _subscribed(hub)
    await hub.runtime.relay.stop()
    steady = Relay(hub.context.db, hub.runtime.sink)
    # The relay's position must exist before the ticket: a relay's very first round starts from the
    # events committed before it was made (a busy machine may stop the hub's relay before its first).
    await steady.run_once()
    ticket = await hub.api.ticket(alice, project["id"], title="Crash test")
    if method != "post_ticket":
        await steady.run_once()  # the root exists already
        if method == "post_reply":
            await hub.api.patch(
                f"/api/tickets/{ticket['id']}", json={"status": "in_review"}, token=alice.token
            )
        else:
            await hub.api.post(
                f"/api/tickets/{ticket['id']}/comments", json={"body": "once"}, token=alice.token
            )
    posts_before = len(hub.fake.requests_to("POST", r"/channels/\d+/messages$"))
    crashing = Relay(hub.context.db, CrashAfter(hub.runtime.sink, method))  # type: ignore[arg-type]
    await crashing.run_once()  # the channel's lane fails: its cursor stays, a retry is scheduled
    (sub,) = (await hub.api.get(f"/api/projects/{project['id']}/chat-subscriptions", token=alice.token)).body[
        "items"
    ]
    assert (sub["failures"], sub["state"]) == (1, "active")
    assert sub["retry_at"] is not None
    assert len(hub.fake.requests_to("POST", r"/channels/\d+/messages$")) == posts_before + 1
    # the restart (after the retry time) redoes the batch
    assert await Relay(hub.context.db, hub.runtime.sink, clock=_later).run_once() >= 1
    assert len(hub.fake.requests_to("POST", r"/channels/\d+/messages$")) == posts_before + 1
    assert hub.fake.requests_to("GET", r"/channels/\d+/messages")  # it looked for its own message
    await hub.api.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "after"}, token=alice.token)
    await Relay(hub.context.db, hub.runtime.sink).run_once()
    roots = [m for m in hub.fake.channel_messages(hub.channel) if m.embeds]
    assert len(roots) == 1
    assert "after" in text_of(hub.thread(roots[0])[-1].raw)


async def test_rate_limited_post_is_retried_once(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, _member, project = await _subscribed(hub)
    hub.fake.fail("POST", rf"/channels/{hub.channel}/messages$", status=429, retry_after=0.3)
    await hub.api.ticket(alice, project["id"], title="Busy channel")
    await hub.root("OPS-1")
    await hub.settle()
    assert len([m for m in hub.fake.channel_messages(hub.channel) if m.embeds]) == 1
    assert len(hub.fake.requests_to("POST", rf"/channels/{hub.channel}/messages$")) == 2  # 429, then OK


async def test_a_channel_that_refuses_does_not_hold_up_the_others(discord_hub: DiscordHub) -> None:
    hub = discord_hub
    alice, member, project = await _subscribed(hub)
    other = hub.fake.add_channel("ops-alerts")
    await hub.command(member, "subscribe", {"project": "OPS"}, channel_id=other.id)
    hub.fake.fail("POST", rf"/channels/{hub.channel}/messages$", status=403, code=50001, times=100)
    await hub.api.ticket(alice, project["id"], title="Only one channel can see me")
    await hub.root("OPS-1", channel=other.id)
    await hub.api.ticket(alice, project["id"], title="And the next one")
    await hub.root("OPS-2", channel=other.id)  # the position moved on
    assert [m for m in hub.fake.channel_messages(hub.channel) if m.embeds] == []


async def test_standalone_bot_runs_and_stops(
    sqlite_template: Path, tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    settings = make_settings(fresh_sqlite(sqlite_template, tmp_path), **discord_env(fake_discord))
    stop = asyncio.Event()
    task = asyncio.create_task(run_standalone(settings, stop=stop))
    try:
        await fake_discord.wait_ready(within=20)
        member = fake_discord.add_user("anyone")
        interaction = await fake_discord.slash(member, "ticket", "help", {})
        assert "/ticket create" in text_of(await interaction.final())
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 20) == 0


async def test_standalone_bot_refused_token_exits_1(
    sqlite_template: Path, tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    env = {**discord_env(fake_discord), "DISCORD_BOT_TOKEN": "not-the-token"}
    settings = make_settings(fresh_sqlite(sqlite_template, tmp_path), **env)
    assert await asyncio.wait_for(run_standalone(settings), 20) == 1
    assert fake_discord.identifies == 0


async def test_switchboard_discord_command(tmp_path: Path, fake_discord: FakeDiscord) -> None:
    assert (await asyncio.to_thread(run_cli, tmp_path, "migrate")).returncode == 0
    env = cli_env(tmp_path, **discord_env(fake_discord))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "discord", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await fake_discord.wait_ready(within=30)
        assert fake_discord.requests_to("GET", r"/gateway/bot")  # the gateway came from the REST API
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "Discord bot is running" in out.decode()


async def test_standalone_bot_sees_the_hubs_presence_through_redis(
    stack: tuple[str, str | None, dict[str, str]], fake_discord: FakeDiscord
) -> None:
    """A bot in its own process reads who is online from the hub instances' shared presence (Redis);
    on the embedded default (in-process presence) it cannot, and says only who works on what."""
    url, schema, extra = stack
    live, manager = await start_live(stack)
    settings = make_settings(url, **extra, **discord_env(fake_discord))
    context = build_context(settings)
    if schema:
        await context.db.dispose()
        context.db = Database(url, schema=schema)
    stop = asyncio.Event()
    task = asyncio.create_task(run_standalone(settings, stop=stop, context=context))
    try:
        await fake_discord.wait_ready(within=20)
        alice = await live.api.user("Alice Archer")
        project = await live.api.project(alice, "OPS")
        member = fake_discord.add_user("alice", global_name="Alice Archer")
        code = (await live.api.post("/api/me/chat-links", token=alice.token)).body["code"]
        linked = await fake_discord.slash(member, "ticket", "link", {"code": code})
        assert "Linked" in text_of(await linked.final())
        async with ws_connect(
            live.address, f"/ws/projects/{project['id']}/presence/", token=alice.token
        ) as ws:
            await ws.recv_type("presence_state")
            who = await fake_discord.slash(member, "ticket", "who", {"project": "OPS"})
            text = text_of(await who.final())
        assert "Nobody has a ticket in progress." in text
        if extra.get("REDIS_URL"):
            assert "Online on the board: Alice Archer" in text
        else:
            assert "Online on the board" not in text
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 20) == 0
        await live.api.aclose()
        await manager.__aexit__(None, None, None)  # type: ignore[attr-defined]
