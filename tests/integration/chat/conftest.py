"""A hub with Slack configured against the fake Slack, served by Hypercorn, on SQLite (in-process bus)
and on PostgreSQL (+ Redis) — the real-time `stack` pairs.

Requests reach the hub exactly as Slack sends them (`SlackSender`, signed); the hub's Web API calls and
`response_url` posts reach `FakeSlack`. Real slack-bolt and slack_sdk code runs in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from quart import Quart

from bots.slack.config import SlackConfig
from bots.slack.runtime import SlackRuntime, install
from hub.adapters.db.engine import Database
from hub.api import chat as chat_api
from hub.app import create_app
from hub.context import HubContext, build_context
from hub.services.chat import accounts as chat
from hub.services.chat import relay as chat_relay
from hub.services.chat.accounts import ChatUser
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack, Message
from tests.fakes.slack_requests import SIGNING_SECRET, SlackSender
from tests.integration.chat.discord_support import discord_hub, fake_discord  # noqa: F401  (fixtures)
from tests.integration.realtime.conftest import stack  # noqa: F401  (the backend pairs)
from tests.support.api import HttpApi, User
from tests.support.live import served

BOARD = "http://board.test"
CHANNEL = "C111"
SLACK_ENV = (
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET",
    "SLACK_SCOPES", "SLACK_REDIRECT_URI", "SLACK_INSTALL_PATH", "SLACK_REDIRECT_URI_PATH",
    "SLACK_VERIFICATION_TOKEN", "SLACK_API_URL", "SLACK_DIGEST_HOUR",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack-bolt reads SLACK_* variables by itself; the tests configure everything explicitly."""
    for name in SLACK_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@dataclass
class SlackHub:
    address: str
    api: HttpApi
    app: Quart
    context: HubContext
    runtime: SlackRuntime
    fake: FakeSlack
    slack: SlackSender

    async def person(self, name: str, slack_id: str, *, confirmed: bool = True) -> User:
        """A hub user whose Slack account (same email) links itself on first use."""
        user = await self.api.user(name)
        self.fake.add_user(slack_id, name, user.email, confirmed=confirmed)
        return user

    async def link(self, user: User, slack_id: str) -> None:
        """Link through the public flow: a code from the REST API, redeemed by `/ticket link CODE`."""
        code = (await self.api.post("/api/me/chat-links", token=user.token)).body["code"]
        key, reply = await self.slack.command(slack_id, f"link {code}")
        assert reply.status_code == 200
        answer = await self.answer(key)
        assert "Linked" in answer["text"], answer

    async def answer(self, key: str, within: float = 10.0) -> dict[str, Any]:
        """The `respond()` post for a request's response_url."""
        found: dict[str, Any] = await self.fake.wait_for(
            lambda: next((r for r in self.fake.responses if r["key"] == key), None), within
        )
        return found

    async def command(self, slack_id: str, text: str, channel: str = CHANNEL) -> dict[str, Any]:
        key, reply = await self.slack.command(slack_id, text, channel)
        assert reply.status_code == 200, reply.text
        return await self.answer(key)

    def root_of(self, key: str, channel: str = CHANNEL) -> Callable[[], Any]:
        """A check for `fake.wait_for`: the root message of ticket `key` in the channel."""
        return lambda: next((m for m in self.fake.channel_messages(channel) if key in m.text), None)

    async def root(self, key: str, channel: str = CHANNEL) -> Message:
        """Wait until ticket `key` has its root message in the channel *and* the relay recorded it."""
        message: Message = await self.fake.wait_for(self.root_of(key, channel))
        for _ in range(100):
            uow = self.context.uow()
            if await chat_relay.ticket_of_thread(uow, "slack", self.fake.team_id, channel, message.ts):
                return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"the relay never recorded the root of {key}")

    async def settle(self, seconds: float = 0.6) -> None:
        """Let the relay run a few rounds (for asserting that something did *not* happen)."""
        await asyncio.sleep(seconds)


def slack_settings_env(fake: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "PUBLIC_URL": BOARD,
    }


def slack_runtime(app: Quart, context: HubContext, config: SlackConfig | None) -> SlackRuntime:
    """The runtime `create_app` installed (once hub.app wires Slack in), else install it here."""
    runtime = context.slack or install(app, context, config)
    assert isinstance(runtime, SlackRuntime)
    return runtime


async def start_slack_hub(
    backend: tuple[str, str | None, dict[str, str]], fake: FakeSlack, **extra: str
) -> tuple[SlackHub, Any]:
    url, schema, stack_extra = backend
    settings = make_settings(url, **stack_extra, **slack_settings_env(fake), **extra)
    context = build_context(settings)
    if schema:
        await context.db.dispose()
        context.db = Database(url, schema=schema)
    app = create_app(settings, context)
    if chat_api.bp.name not in app.blueprints:  # until hub.app registers it
        app.register_blueprint(chat_api.bp)
    runtime = slack_runtime(app, context, SlackConfig.from_settings(settings, env={}))
    runtime.relay.pacer.interval = 0.2
    runtime.relay.poll_interval = runtime.notifier.poll_interval = 0.3
    manager = served(app, context)
    address = await manager.__aenter__()
    hub = SlackHub(
        address, HttpApi(f"http://{address}"), app, context, runtime, fake,
        SlackSender(f"http://{address}", fake.url),
    )  # fmt: skip
    return hub, manager


@pytest.fixture
async def hub(
    stack: tuple[str, str | None, dict[str, str]],  # noqa: F811  (the imported fixture)
    fake_slack: FakeSlack,
) -> AsyncIterator[SlackHub]:
    live, manager = await start_slack_hub(stack, fake_slack)
    try:
        yield live
    finally:
        await live.slack.aclose()
        await live.api.aclose()
        await manager.__aexit__(None, None, None)


async def link_directly(hub: SlackHub, user: User, slack_id: str) -> None:
    """Link without the chat round trip (for tests about something else)."""
    code = (await hub.api.post("/api/me/chat-links", token=user.token)).body["code"]
    await chat.redeem_link_code(hub.context.uow(), ChatUser("slack", hub.fake.team_id, slack_id), code)
