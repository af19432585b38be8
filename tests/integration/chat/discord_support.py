"""A hub with Discord configured against the fake Discord (REST + gateway), served by Hypercorn, on
SQLite (in-process bus) and on PostgreSQL (+ Redis): the real-time `stack` pairs.

The real discord.py client inside the hub logs in over the fake's REST API, asks it for the gateway
(`GET /gateway/bot`), identifies over the fake gateway, and from then on receives the interactions and
messages the tests make fake users send (`fake.slash`, `fake.click`, `fake.say`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from quart import Quart

from bots.discord.runtime import DiscordRuntime
from hub.adapters.db.engine import Database
from hub.app import create_app
from hub.context import HubContext, build_context
from hub.services.chat import relay as chat_relay
from tests.conftest import make_settings
from tests.fakes.discord import BOT_TOKEN, FakeDiscord, FakeMessage, FakeUser, Interaction
from tests.support.api import HttpApi, User
from tests.support.live import served

BOARD = "http://board.test"


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.close()


@dataclass
class DiscordHub:
    address: str
    api: HttpApi
    app: Quart
    context: HubContext
    runtime: DiscordRuntime
    fake: FakeDiscord

    @property
    def channel(self) -> int:
        return self.fake.channel_id

    async def person(self, name: str) -> tuple[User, FakeUser]:
        """A hub user and a Discord user of the same name, linked through the public flow."""
        user = await self.api.user(name)
        member = self.fake.add_user(name.split()[0].lower(), global_name=name)
        await self.link(user, member)
        return user, member

    async def link(self, user: User, member: FakeUser) -> None:
        code = (await self.api.post("/api/me/chat-links", token=user.token)).body["code"]
        answer = await self.command(member, "link", {"code": code})
        assert "Linked" in text_of(answer), answer

    async def slash(
        self, member: FakeUser, sub: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> Interaction:
        return await self.fake.slash(member, "ticket", sub, options or {}, **kw)

    async def command(
        self, member: FakeUser, sub: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """Run `/ticket sub …` and return what the user sees (deferred, then followed up)."""
        interaction = await self.slash(member, sub, options, **kw)
        first = await interaction.answered()
        assert first["type"] == 5, first  # deferred at once: Discord's 3 seconds are never at risk
        answer = await interaction.final()
        assert interaction.ephemeral
        return answer

    def root_of(self, key: str, channel: int | None = None) -> Callable[[], FakeMessage | None]:
        channel = channel or self.channel
        return lambda: next(
            (
                m
                for m in self.fake.channel_messages(channel)
                if m.embeds and key in m.embeds[0].get("title", "")
            ),
            None,
        )

    async def root(self, key: str, channel: int | None = None) -> FakeMessage:
        """Wait until ticket `key` has its root message *and* the relay recorded it."""
        channel = channel or self.channel
        message: FakeMessage = await self.fake.wait_for(self.root_of(key, channel))
        for _ in range(200):
            found = await chat_relay.ticket_of_thread(
                self.context.uow(), "discord", str(self.fake.guild_id), str(channel), str(message.id)
            )
            if found:
                return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"the relay never recorded the root of {key}")

    def thread(self, root: FakeMessage) -> list[FakeMessage]:
        return self.fake.channel_messages(root.id)  # a message's thread has the message's id

    async def comments(
        self, user: User, ticket_id: int, *, until: Callable[[list[dict[str, Any]]], bool]
    ) -> list[dict[str, Any]]:
        """The ticket's comments (REST), polled until `until` holds for them (at most 5 s)."""
        items: list[dict[str, Any]] = []
        for _ in range(100):
            listed = (await self.api.get(f"/api/tickets/{ticket_id}/comments", token=user.token)).body
            items = list(listed["items"] if isinstance(listed, dict) else listed)
            if until(items):
                break
            await asyncio.sleep(0.05)
        return items

    async def settle(self, seconds: float = 0.6) -> None:
        await asyncio.sleep(seconds)


def text_of(message: dict[str, Any]) -> str:
    """Everything a user reads in a message payload: content, embed titles, descriptions, fields."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields") or []]
        parts.append((embed.get("author") or {}).get("name") or "")
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


def discord_env(fake: FakeDiscord) -> dict[str, str]:
    return {"DISCORD_BOT_TOKEN": BOT_TOKEN, "DISCORD_API_URL": fake.api_url, "PUBLIC_URL": BOARD}


async def start_discord_hub(
    backend: tuple[str, str | None, dict[str, str]], fake: FakeDiscord, **extra: str
) -> tuple[DiscordHub, Any]:
    url, schema, stack_extra = backend
    settings = make_settings(url, **stack_extra, **discord_env(fake), **extra)
    context = build_context(settings)
    if schema:
        await context.db.dispose()
        context.db = Database(url, schema=schema)
    app = create_app(settings, context)
    runtime = context.discord
    assert isinstance(runtime, DiscordRuntime)
    runtime.client._connection.guild_ready_timeout = 0.1  # discord.py's wait for more guilds
    runtime.relay.pacer.interval = 0.2
    runtime.relay.poll_interval = runtime.notifier.poll_interval = 0.3
    manager = served(app, context)
    address = await manager.__aenter__()
    await fake.wait_ready()
    await asyncio.wait_for(runtime.client.wait_until_ready(), 10)  # guilds loaded, `on_ready` done
    return DiscordHub(address, HttpApi(f"http://{address}"), app, context, runtime, fake), manager


@pytest.fixture
async def discord_hub(
    stack: tuple[str, str | None, dict[str, str]], fake_discord: FakeDiscord
) -> AsyncIterator[DiscordHub]:
    live, manager = await start_discord_hub(stack, fake_discord)
    try:
        yield live
    finally:
        await live.api.aclose()
        await manager.__aexit__(None, None, None)
