"""`switchboard slack`: the bot as its own process serves Slack and relays from the shared database."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx

from bots.slack.runtime import run_standalone
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_requests import SlackSender
from tests.integration.chat.conftest import slack_settings_env
from tests.support.database import fresh_sqlite
from tests.support.process import free_port


async def test_standalone_bot_answers_commands_and_stops_cleanly(
    sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = make_settings(fresh_sqlite(sqlite_template, tmp_path), **slack_settings_env(fake_slack))
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(run_standalone(settings, port=port, stop=stop))
    sender = SlackSender(f"http://127.0.0.1:{port}", fake_slack.url)
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        key, reply = await sender.command("UALICE", "help")
        assert reply.status_code == 200
        answer = await fake_slack.wait_for(
            lambda: next((r for r in fake_slack.responses if r["key"] == key), None)
        )
        assert "Commands of `/ticket`" in answer["text"]
        bad = await sender.send(
            "command=/ticket&text=help", "application/x-www-form-urlencoded", signature="v0=x"
        )
        assert bad.status_code == 401
    finally:
        await sender.aclose()
        stop.set()
        await asyncio.wait_for(task, 20)
