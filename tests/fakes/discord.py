"""A fake Discord: the REST API (`/api/v10`) and the gateway WebSocket, served by aiohttp on 127.0.0.1.

The real discord.py client runs against it unchanged once it is pointed here::

    discord.http.Route.BASE = fake.api_url                           # REST, interaction callbacks, followups
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)    # or ask `GET /gateway/bot`

What it models (shapes checked against discord.py 2.7.1, which reads exactly these fields):

* One guild (`guild_id`) with the text channels `general` (`channel_id`) and `ops`, a bot user, an
  application (`APP_ID`) and guild members added with `add_user`. DM channels open per recipient,
  threads started from a message take that message's id (Discord's rule).
* Messages as discord.py sent them (`FakeMessage`: content, embeds, components, flags, pins, edits,
  deletion, replies); history with `before` / `after` / `around`, newest first like Discord.
* The gateway: HELLO, heartbeat ACKs, IDENTIFY → READY + GUILD_CREATE, RESUME (replaying missed
  dispatches, then RESUMED) or, with `accept_resume = False`, op 9 (`d: false`) so the client identifies
  afresh. `drop_gateway(code)` closes every socket with a close code. Sequence numbers are per
  session; a session whose socket is gone keeps collecting dispatches until it resumes. Message events
  honour the intents (no `MESSAGE_CONTENT` → empty content, as Discord does).
* Everything the bot does is also dispatched back like Discord does (MESSAGE_CREATE / UPDATE / DELETE,
  THREAD_CREATE / UPDATE / DELETE, CHANNEL_PINS_UPDATE) — except for ephemeral messages.
* User actions: `slash` (commands and autocomplete, resolved against what `tree.sync` PUT), `click`
  (buttons and selects), `submit_modal`, `say`; each interaction is recorded as an `Interaction` with
  its callback, followups and edits (`final()` is what the user ends up seeing). After a type 5 defer
  the first followup fills in the "thinking" message, keeping its id and ephemerality, as on Discord.
  User actions first wait (up to 10 s) for a connected, identified client (`wait_ready`).
* Failure injection with Discord's error JSON (`fail`), including 429s that discord.py retries: it
  honours a 429 only with a `Via` header and a JSON body with `retry_after`, both of which are sent.

Every REST call is recorded in `requests` as (method, path below `/api/v10` without the query, body).
Responses are `Content-Type: application/json` exactly: discord.py parses nothing else as JSON (so
aiohttp's `json_response`, which adds `; charset=utf-8`, must not be used).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

BOT_TOKEN = "discord-test-token"
APP_ID = 900000000000000001
BOT_USER_ID = 900000000000000002
OWNER_USER_ID = 900000000000000003
GUILD_ID = 800000000000000001
GENERAL_CHANNEL_ID = 800000000000000010
OPS_CHANNEL_ID = 800000000000000011
BOT_ROLE_ID = 800000000000000002

DISCORD_EPOCH_MS = 1420070400000
#: Every permission bit Discord has defined so far (administrator included): what interactions report.
ADMIN_PERMISSIONS = (1 << 51) - 1
#: @everyone: view, send, history, reactions, embeds, files, app commands, threads.
EVERYONE_PERMISSIONS = (
    (1 << 6) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31) | (1 << 35) | (1 << 38)
)
EPHEMERAL = 1 << 6
LOADING = 1 << 7
HAS_THREAD = 1 << 5
#: The message flags an edit may change: SUPPRESS_EMBEDS and IS_COMPONENTS_V2.
EDITABLE_FLAGS = (1 << 2) | (1 << 15)
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
TEXT_CHANNEL_TYPES = (0, 5)
THREAD_TYPES = (10, 11, 12)
#: Close codes after which Discord will not resume the session.
NOT_RESUMABLE = (4003, 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014)
#: Interaction type -> the callback types Discord accepts for it.
ALLOWED_CALLBACKS: dict[int, tuple[int, ...]] = {
    1: (1,), 2: (4, 5, 9, 12), 3: (4, 5, 6, 7, 9, 12), 4: (8,), 5: (4, 5, 6, 7),
}  # fmt: skip

Json = dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def snowflake_time(snowflake: int) -> str:
    """The ISO timestamp encoded in a snowflake."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC).isoformat()


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly `application/json` (no charset): discord.py's `json_or_text` compares the header verbatim.
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json", headers=headers
    )


def _error(status: int, code: int, message: str, errors: Json | None = None) -> web.Response:
    body: Json = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return _json(body, status)


def _invalid_form(field_name: str, code: str, message: str) -> web.Response:
    errors = {field_name: {"_errors": [{"code": code, "message": message}]}}
    return _error(400, 50035, "Invalid Form Body", errors)


@dataclass
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    #: What interactions from this user carry as `member.permissions`.
    permissions: int = ADMIN_PERMISSIONS
    #: Guild roles the member has (ids from `add_role`).
    role_ids: list[int] = field(default_factory=list)

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id), "username": self.username, "discriminator": "0",
            "global_name": self.global_name, "avatar": None, "public_flags": 0, "flags": 0,
            "banner": None, "accent_color": None, "avatar_decoration_data": None, "collectibles": None,
            "primary_guild": None,
        }  # fmt: skip
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class FakeMessage:
    id: int
    channel_id: int
    content: str
    embeds: list[Json]
    components: list[Json]
    author_id: int
    flags: int = 0
    pinned: bool = False
    deleted: bool = False
    edits: int = 0
    message_reference: Json | None = None
    #: The last JSON payload discord.py sent for this message (create or edit).
    raw: Json = field(default_factory=dict)
    attachments: list[Json] = field(default_factory=list)
    type: int = 0
    nonce: int | str | None = None
    #: Set on interaction responses and followups (they are webhook messages of the application).
    interaction_id: int | None = None
    pinned_at: str | None = None
    edited_at: str | None = None
    #: Emoji the bot reacted with.
    reactions: list[str] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def timestamp(self) -> str:
        return snowflake_time(self.id)

    @property
    def mention_ids(self) -> list[int]:
        return [int(found) for found in re.findall(r"<@!?(\d+)>", self.content)]


@dataclass
class FakeChannel:
    id: int
    type: int  # 0 text, 1 DM, 11 public thread, 12 private thread
    name: str
    guild_id: int | None
    parent_id: int | None = None
    recipient_id: int | None = None
    position: int = 0
    topic: str | None = None
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    #: Users added to a thread (`PUT /channels/{thread}/thread-members/{user}`), the bot included.
    member_ids: list[int] = field(default_factory=list)
    deleted: bool = False
    created_at: str = field(default_factory=_now)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass(eq=False)
class Interaction:
    """The fake's record of one interaction it sent and of everything the bot answered."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    user: FakeUser
    channel_id: int
    guild_id: int | None
    #: The INTERACTION_CREATE payload as dispatched.
    payload: Json
    #: The message the clicked component sits on (type 3), or the modal's source message.
    message_id: int | None = None
    #: Bodies POSTed to /interactions/{id}/{token}/callback (type 4, 5, 6, 7, 8, 9 …).
    responses: list[Json] = field(default_factory=list)
    #: Messages from POST /webhooks/{app}/{token}.
    followups: list[FakeMessage] = field(default_factory=list)
    #: Bodies PATCHed to /webhooks/{app}/{token}/messages/@original.
    edits: list[Json] = field(default_factory=list)
    #: The message the response created (type 4/5) or the component's message (type 6/7).
    original: FakeMessage | None = None
    _answers: list[Json] = field(default_factory=list, repr=False)
    _filled: bool = field(default=False, repr=False)
    _fake: FakeDiscord | None = field(default=None, repr=False)

    async def answered(self, within: float = 5.0) -> Json:
        """The first callback body (waits for it)."""
        assert self._fake is not None
        first: list[Json] = await self._fake.wait_for(
            lambda: self.responses[:1], within, what=f"a callback to interaction {self.id}"
        )
        return first[0]

    async def final(self, within: float = 10.0) -> Json:
        """What the user ends up seeing: the callback's data for types 4/7/8/9, else (after a type 5/6
        defer) the first followup's payload or the first edit of @original, whichever came first."""
        assert self._fake is not None
        first = await self.answered(within)
        if first["type"] in (4, 7, 8, 9):
            return dict(first.get("data") or {})
        if first["type"] == 1:
            return {}
        answers: list[Json] = await self._fake.wait_for(
            lambda: self._answers[:1],
            within,
            what=f"a followup or @original edit answering interaction {self.id}",
        )
        return answers[0]

    @property
    def ephemeral(self) -> bool:
        if self.responses and self.responses[0]["type"] in (4, 5):
            return bool(int((self.responses[0].get("data") or {}).get("flags") or 0) & EPHEMERAL)
        if self.followups:
            return self.followups[0].ephemeral
        return False


@dataclass(eq=False)
class _Session:
    session_id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    log: list[Json] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    alive: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def connected(self) -> bool:
        return self.alive and self.ws is not None and not self.ws.closed


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    code: int
    message: str
    times: int
    retry_after: float | None


@dataclass
class _Call:
    request: web.Request
    path: str
    params: dict[str, str]
    body: Any
    files: list[Json]

    def id(self, name: str) -> int:
        return int(self.params[name])

    @property
    def json(self) -> Json:
        return self.body if isinstance(self.body, dict) else {}

    def flag(self, name: str) -> bool:
        return self.request.query.get(name, "").lower() in ("1", "true")


_Handler = Callable[[_Call], Awaitable[web.StreamResponse]]


class FakeDiscord:
    def __init__(self) -> None:
        self.guild_id = GUILD_ID
        self.guild_name = "Fake Guild"
        self.channel_id = GENERAL_CHANNEL_ID
        self.heartbeat_interval = 41250
        #: False: a RESUME gets op 9 (`d: false`), so discord.py identifies afresh.
        self.accept_resume = True
        self.users: dict[int, FakeUser] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[int, Interaction] = {}
        #: guild id (None = global) -> the commands as `PUT` by `tree.sync`, echoed with ids.
        self.synced_commands: dict[int | None, list[Json]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.identifies = 0
        self.resumes = 0
        self.invalid_sessions = 0
        self.connections = 0
        #: Every frame the clients sent on the gateway (op, d), heartbeats included.
        self.gateway_received: list[Json] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._sessions: dict[str, _Session] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._dropped: set[web.WebSocketResponse] = set()
        self._failures: list[_Failure] = []
        self._counter = itertools.count()
        self._last_id = 0
        self._routes: list[tuple[str, re.Pattern[str], _Handler, bool]] = []
        #: What interactions carry as `app_permissions` (the bot's permissions in the channel).
        self.app_permissions = ADMIN_PERMISSIONS
        #: Roles made with `add_role`, after @everyone and the bot's role.
        self.extra_roles: list[Json] = []
        self._add_routes()
        self.bot = self._put_user(FakeUser(BOT_USER_ID, "switchboard", "Switchboard", bot=True))
        self.owner = self._put_user(FakeUser(OWNER_USER_ID, "guild-owner", "Guild Owner"))
        self.member_ids: list[int] = [BOT_USER_ID, OWNER_USER_ID]
        self.joined_at: dict[int, str] = {BOT_USER_ID: _now(), OWNER_USER_ID: _now()}
        self.channels[GENERAL_CHANNEL_ID] = FakeChannel(
            GENERAL_CHANNEL_ID, 0, "general", GUILD_ID, position=0
        )
        self.channels[OPS_CHANNEL_ID] = FakeChannel(OPS_CHANNEL_ID, 0, "ops", GUILD_ID, position=1)

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def close(self) -> None:
        sockets = [ws for ws in self._sockets if not ws.closed]
        self._dropped.update(sockets)
        await asyncio.gather(*(ws.close(code=1001) for ws in sockets), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gateway"

    # --- set-up -----------------------------------------------------------------------------------
    def _put_user(self, user: FakeUser) -> FakeUser:
        self.users[user.id] = user
        return user

    def add_user(
        self, username: str, *, global_name: str | None = None, user_id: int | None = None
    ) -> FakeUser:
        """A guild member (a human)."""
        user = self._put_user(FakeUser(user_id or self.snowflake(), username, global_name))
        if user.id not in self.member_ids:
            self.member_ids.append(user.id)
            self.joined_at[user.id] = _now()
        return user

    def add_channel(self, name: str, kind: int = 0) -> FakeChannel:
        """Another guild channel (`kind`: 0 text, 2 voice, 4 category, 5 news, 13 stage, 15 forum);
        clients that are already connected are not told."""
        position = len([c for c in self.channels.values() if c.guild_id and not c.is_thread])
        channel = FakeChannel(self.snowflake(), kind, name, GUILD_ID, position=position)
        self.channels[channel.id] = channel
        return channel

    def dm_channel(self, user: FakeUser | int) -> FakeChannel:
        """The DM channel between the bot and `user` (opened if need be)."""
        user_id = user if isinstance(user, int) else user.id
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipient_id == user_id:
                return channel
        channel = FakeChannel(self.snowflake(), 1, "", None, recipient_id=user_id)
        self.channels[channel.id] = channel
        return channel

    def snowflake(self) -> int:
        """A new, strictly increasing snowflake for the current time."""
        ms = int(time.time() * 1000)
        value = max(((ms - DISCORD_EPOCH_MS) << 22) | (next(self._counter) & 0xFFF), self._last_id + 1)
        self._last_id = value
        return value

    # --- state ------------------------------------------------------------------------------------
    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        """Messages everyone sees in the channel or thread, oldest first (no deleted or ephemeral ones)."""
        found = [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.deleted and not m.ephemeral
        ]
        return sorted(found, key=lambda m: m.id)

    def dm_messages(self, user_id: int) -> list[FakeMessage]:
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipient_id == user_id:
                return self.channel_messages(channel.id)
        return []

    def threads(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.is_thread and not c.deleted]

    def requests_to(self, method: str, path_regex: str) -> list[tuple[str, str, Any]]:
        """Recorded REST calls with that method whose path (below /api/v10, no query) `re.search`es
        `path_regex`."""
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r[0] == method.upper() and pattern.search(r[1])]

    async def wait_for(self, check: Callable[[], Any], within: float = 10.0, *, what: str = "") -> Any:
        """Poll `check()` until it returns something truthy; return that. AssertionError on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            result = check()
            if result:
                return result
            if loop.time() >= deadline:
                raise AssertionError(f"fake Discord: waited {within}s for {what or check}")
            await asyncio.sleep(0.01)

    async def wait_ready(self, within: float = 10.0) -> None:
        """Until a client has identified (or resumed) and got READY + GUILD_CREATE, and is connected."""
        await self.wait_for(
            lambda: any(s.connected for s in self._sessions.values()),
            within,
            what="a connected, ready gateway session",
        )

    # --- failure injection ------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        path_regex: str,
        *,
        status: int,
        code: int = 0,
        message: str = "",
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `times` matching REST calls with Discord's error JSON `{"code","message"}`.

        `path_regex` is searched in the path below /api/v10 (no query). A 429 carries `retry_after`
        (default 0.1 s), `"global": false`, `Retry-After`, the `X-RateLimit-*` headers and `Via`.
        """
        if not message:
            message = (
                "You are being rate limited." if status == 429 else f"{status}: {HTTPStatus(status).phrase}"
            )
        self._failures.append(
            _Failure(method.upper(), re.compile(path_regex), status, code, message, times, retry_after)
        )

    def _injected(self, method: str, path: str) -> web.Response | None:
        for failure in self._failures:
            if failure.method in (method, "*") and failure.pattern.search(path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                if failure.status != 429:
                    return _error(failure.status, failure.code, failure.message)
                retry = 0.1 if failure.retry_after is None else failure.retry_after
                body: Json = {"message": failure.message, "retry_after": retry, "global": False}
                if failure.code:
                    body["code"] = failure.code
                headers = {
                    "Retry-After": str(max(1, round(retry))), "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                    "X-RateLimit-Reset-After": f"{retry:.3f}", "X-RateLimit-Bucket": "fake-bucket",
                    "X-RateLimit-Scope": "user", "Via": "1.1 google",
                }  # fmt: skip
                return _json(body, 429, headers)
        return None

    # --- gateway ----------------------------------------------------------------------------------
    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every open gateway socket with `code` (4000: discord.py RESUMEs)."""
        sockets = [ws for ws in self._sockets if not ws.closed]
        for session in self._sessions.values():
            if session.ws in sockets and code in NOT_RESUMABLE:
                session.alive = False
        self._dropped.update(sockets)
        await asyncio.gather(*(ws.close(code=code, message=b"fake drop") for ws in sockets))

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every open socket (discord.py closes and RESUMEs)."""
        for ws in [ws for ws in self._sockets if not ws.closed]:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(json.dumps({"op": 7, "d": None}))

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a dispatch (op 0) to every identified session; a disconnected one gets it on RESUME."""
        await self._broadcast(event, data)

    async def _broadcast(self, event: str, data: Json, message: FakeMessage | None = None) -> None:
        for session in list(self._sessions.values()):
            if not session.alive:
                continue
            payload: Json | None = data
            if message is not None:
                payload = self._for_intents(session.intents, message, data)
            if payload is not None:
                async with session.lock:
                    await self._emit(session, event, payload)

    async def _emit(self, session: _Session, event: str, data: Json) -> None:
        """Send one dispatch on `session` (the caller holds `session.lock`)."""
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        if session.ws is not None and not session.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await session.ws.send_str(json.dumps(frame))

    def _for_intents(self, intents: int, message: FakeMessage, data: Json) -> Json | None:
        channel = self.channels.get(message.channel_id)
        in_dm = channel is not None and channel.guild_id is None
        if not intents & (INTENT_DIRECT_MESSAGES if in_dm else INTENT_GUILD_MESSAGES):
            return None
        if (
            intents & INTENT_MESSAGE_CONTENT or in_dm or message.author_id == BOT_USER_ID
            or BOT_USER_ID in message.mention_ids or "content" not in data
        ):  # fmt: skip
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        self.connections += 1
        self._sockets.add(ws)
        session: _Session | None = None
        try:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval}}))
            async for frame in ws:
                if frame.type is not web.WSMsgType.TEXT:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                try:
                    payload = json.loads(frame.data)
                    op, d = payload["op"], payload.get("d")
                except (ValueError, KeyError, TypeError):
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                self.gateway_received.append({"op": op, "d": d})
                if op == 1:
                    await ws.send_str('{"op": 11}')
                elif op in (2, 6):
                    if session is not None:
                        await ws.close(code=4005, message=b"Already authenticated.")
                        break
                    if not isinstance(d, dict) or d.get("token") not in (BOT_TOKEN, f"Bot {BOT_TOKEN}"):
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    session = await (self._identify(ws, d) if op == 2 else self._resume(ws, d))
                elif session is None:
                    await ws.close(code=4003, message=b"Not authenticated.")
                    break
                elif op == 8:
                    await self._member_chunk(session, d or {})
                elif op not in (3, 4):
                    await ws.close(code=4001, message=b"Unknown opcode.")
                    break
        finally:
            self._sockets.discard(ws)
            dropped = ws in self._dropped
            self._dropped.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                # A client closing with 1000/1001 ends its session (Discord's rule); other codes keep it.
                if not dropped and ws.close_code in (1000, 1001):
                    session.alive = False
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: Json) -> _Session:
        self.identifies += 1
        session = _Session(uuid.uuid4().hex, int(d.get("intents") or 0), d.get("shard"))
        session.ws = ws
        ready: Json = {
            "v": 10, "user": {**self.bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}], "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url, "session_type": "normal",
            "application": {"id": str(APP_ID), "flags": self._app_flags()},
            "private_channels": [], "presences": [], "relationships": [], "guild_join_requests": [],
            "user_settings": {}, "auth": {}, "geo_ordered_rtc_regions": ["fake"], "_trace": ["fake-gateway"],
        }  # fmt: skip
        if session.shard is not None:
            ready["shard"] = session.shard
        async with session.lock:
            await self._emit(session, "READY", ready)
            await self._emit(session, "GUILD_CREATE", self._guild_create(session.intents))
        self._sessions[session.session_id] = session
        return session

    async def _resume(self, ws: web.WebSocketResponse, d: Json) -> _Session | None:
        session = self._sessions.get(str(d.get("session_id")))
        if not self.accept_resume or session is None or not session.alive:
            if session is not None:
                session.alive = False
            self.invalid_sessions += 1
            await ws.send_str(json.dumps({"op": 9, "d": False}))
            return None
        seq = int(d.get("seq") or 0)
        async with session.lock:
            old = session.ws
            session.ws = ws
            if old is not None and not old.closed:
                self._dropped.add(old)
                await old.close(code=4000)
            for frame in session.log:
                if frame["s"] > seq:
                    await ws.send_str(json.dumps(frame))
            await self._emit(session, "RESUMED", {"_trace": ["fake-gateway"]})
        self.resumes += 1
        return session

    async def _member_chunk(self, session: _Session, d: Json) -> None:
        ids = [int(i) for i in d.get("user_ids") or []]
        query = str(d.get("query") or "").lower()
        members = [
            self._member(uid, with_user=True) for uid in self.member_ids
            if (not ids or uid in ids) and self.users[uid].username.lower().startswith(query)
        ]  # fmt: skip
        limit = int(d.get("limit") or 0)
        chunk: Json = {
            "guild_id": str(GUILD_ID), "members": members[:limit] if limit else members,
            "chunk_index": 0, "chunk_count": 1, "not_found": [],
        }  # fmt: skip
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        async with session.lock:
            await self._emit(session, "GUILD_MEMBERS_CHUNK", chunk)

    # --- payloads ---------------------------------------------------------------------------------
    @staticmethod
    def _app_flags() -> int:
        # GATEWAY_PRESENCE_LIMITED | GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED
        return (1 << 13) | (1 << 15) | (1 << 19)

    def _roles(self) -> list[Json]:
        def role(role_id: int, name: str, permissions: int, position: int, managed: bool) -> Json:
            return {
                "id": str(role_id), "name": name, "permissions": str(permissions), "position": position,
                "color": 0, "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False, "managed": managed, "mentionable": False, "flags": 0, "icon": None,
                "unicode_emoji": None, "description": None,
            }  # fmt: skip

        return [
            role(GUILD_ID, "@everyone", EVERYONE_PERMISSIONS, 0, False),
            {
                **role(BOT_ROLE_ID, "Switchboard", ADMIN_PERMISSIONS, 1, True),
                "tags": {"bot_id": str(BOT_USER_ID)},
            },
            *self.extra_roles,
        ]

    def _member(self, user_id: int, *, with_user: bool = False, permissions: int | None = None) -> Json:
        data: Json = {
            "roles": [str(BOT_ROLE_ID)] if user_id == BOT_USER_ID else [
                str(r) for r in getattr(self.users.get(user_id), "role_ids", [])
            ],
            "joined_at": self.joined_at.get(user_id, _now()), "deaf": False, "mute": False, "flags": 0,
            "pending": False, "nick": None, "avatar": None, "banner": None, "premium_since": None,
            "communication_disabled_until": None,
        }  # fmt: skip
        if with_user:
            data["user"] = self.users[user_id].payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def _last_message_id(self, channel_id: int) -> str | None:
        ids = [m.id for m in self.messages.values() if m.channel_id == channel_id and not m.deleted]
        return str(max(ids)) if ids else None

    def channel_payload(self, channel: FakeChannel, *, permissions: int | None = None) -> Json:
        """The channel object as Discord's REST API returns it."""
        data: Json
        if channel.type == 1:
            recipient = self.users.get(channel.recipient_id or 0)
            data = {
                "id": str(channel.id), "type": 1, "last_message_id": self._last_message_id(channel.id),
                "flags": 0, "recipients": [recipient.payload()] if recipient else [],
            }  # fmt: skip
        elif channel.is_thread:
            in_thread = [m for m in self.messages.values() if m.channel_id == channel.id and not m.deleted]
            data = {
                "id": str(channel.id), "type": channel.type, "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id), "owner_id": str(channel.owner_id or BOT_USER_ID),
                "name": channel.name, "last_message_id": self._last_message_id(channel.id),
                "message_count": len(in_thread), "total_message_sent": len(in_thread),
                "member_count": min(50, len(channel.member_ids)), "rate_limit_per_user": 0, "flags": 0,
                "applied_tags": [],
                "thread_metadata": {
                    "archived": channel.archived, "auto_archive_duration": channel.auto_archive_duration,
                    "archive_timestamp": channel.created_at, "locked": channel.locked,
                    "create_timestamp": channel.created_at,
                    **({"invitable": True} if channel.type == 12 else {}),
                },
            }  # fmt: skip
        else:
            data = {
                "id": str(channel.id), "type": channel.type, "guild_id": str(channel.guild_id),
                "name": channel.name, "position": channel.position, "parent_id": None,
                "topic": channel.topic, "nsfw": False, "last_message_id": self._last_message_id(channel.id),
                "rate_limit_per_user": 0, "permission_overwrites": [], "flags": 0,
                "default_auto_archive_duration": 1440,
            }  # fmt: skip
            if channel.type in (2, 13):  # voice, stage
                data.update(bitrate=64000, user_limit=0, rtc_region=None)
            if channel.type in (15, 16):  # forum, media
                data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None,
                            default_forum_layout=0, default_thread_rate_limit_per_user=0)  # fmt: skip
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def _guild(self) -> Json:
        return {
            "id": str(GUILD_ID), "name": self.guild_name, "icon": None, "splash": None,
            "discovery_splash": None, "banner": None, "description": None, "owner_id": str(OWNER_USER_ID),
            "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "roles": self._roles(),
            "emojis": [], "stickers": [], "features": [], "mfa_level": 0, "application_id": None,
            "system_channel_id": str(GENERAL_CHANNEL_ID), "system_channel_flags": 0,
            "rules_channel_id": None, "public_updates_channel_id": None, "safety_alerts_channel_id": None,
            "max_members": 500000, "vanity_url_code": None, "premium_tier": 0,
            "premium_subscription_count": 0, "preferred_locale": "en-US", "nsfw_level": 0,
            "premium_progress_bar_enabled": False, "incidents_data": None,
        }  # fmt: skip

    def _guild_channels(self) -> list[FakeChannel]:
        found = [
            c for c in self.channels.values() if c.guild_id == GUILD_ID and not c.is_thread and not c.deleted
        ]
        return sorted(found, key=lambda c: (c.position, c.id))

    def _guild_create(self, intents: int) -> Json:
        # Without the GUILD_MEMBERS intent Discord sends only the bot's own member.
        members = self.member_ids if intents & INTENT_GUILD_MEMBERS else [BOT_USER_ID]
        active = [t for t in self.threads() if t.guild_id == GUILD_ID and not t.archived]
        return {
            **self._guild(), "unavailable": False, "joined_at": self.joined_at[BOT_USER_ID], "large": False,
            "lazy": True, "member_count": len(self.member_ids), "voice_states": [],
            "members": [self._member(uid, with_user=True) for uid in members],
            "channels": [self.channel_payload(c) for c in self._guild_channels()],
            "threads": [self.channel_payload(t) for t in active], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        }  # fmt: skip

    def message_payload(self, message: FakeMessage, *, nested: bool = True) -> Json:
        """The message object as Discord's REST API returns it."""
        author = self.users.get(message.author_id) or FakeUser(message.author_id, f"user{message.author_id}")
        data: Json = {
            "id": str(message.id), "channel_id": str(message.channel_id), "type": message.type,
            "content": message.content, "author": author.payload(), "attachments": message.attachments,
            "embeds": message.embeds, "components": message.components,
            "mentions": [self.users[u].payload() for u in message.mention_ids if u in self.users],
            "mention_roles": [], "mention_everyone": False, "pinned": message.pinned, "tts": False,
            "timestamp": message.timestamp, "edited_timestamp": message.edited_at, "flags": message.flags,
        }  # fmt: skip
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if message.reactions:
            data["reactions"] = [
                {"emoji": {"id": None, "name": emoji}, "count": 1, "me": True, "burst_count": 0,
                 "me_burst": False, "count_details": {"burst": 0, "normal": 1}, "burst_colors": []}
                for emoji in message.reactions
            ]  # fmt: skip
        if message.interaction_id is not None:
            data["webhook_id"] = str(APP_ID)
            data["application_id"] = str(APP_ID)
            inter = self.interactions.get(message.interaction_id)
            if inter is not None:
                meta: Json = {
                    "id": str(inter.id), "type": inter.type, "user": inter.user.payload(),
                    "authorizing_integration_owners": inter.payload.get("authorizing_integration_owners", {}),
                }  # fmt: skip
                if inter.type == 2:
                    meta["name"] = (inter.payload.get("data") or {}).get("name", "")
                    meta["command_type"] = 1
                if inter.message_id is not None:
                    meta["interacted_message_id"] = str(inter.message_id)
                if inter.original is not None and inter.original.id != message.id:
                    meta["original_response_message_id"] = str(inter.original.id)
                data["interaction_metadata"] = meta
        if message.message_reference is not None:
            data["message_reference"] = message.message_reference
            if nested:
                ref = self.messages.get(int(message.message_reference.get("message_id") or 0))
                data["referenced_message"] = (
                    self.message_payload(ref, nested=False) if ref and not ref.deleted else None
                )
        thread = self.channels.get(message.id)
        if nested and thread is not None and thread.is_thread and not thread.deleted:
            data["thread"] = self.channel_payload(thread)
        return data

    def _message_event(self, message: FakeMessage) -> Json:
        """A MESSAGE_CREATE / MESSAGE_UPDATE payload: the message plus guild_id and member."""
        data = self.message_payload(message)
        channel = self.channels.get(message.channel_id)
        if channel is not None and channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            if message.author_id in self.member_ids:
                data["member"] = self._member(message.author_id)
            data["mentions"] = [
                {**self.users[u].payload(), "member": self._member(u)}
                for u in message.mention_ids if u in self.users and u in self.member_ids
            ]  # fmt: skip
        return data

    # --- storing and announcing messages ----------------------------------------------------------
    def _validate_message(self, body: Json, files: list[Json], *, edit: bool = False) -> web.Response | None:
        content = body.get("content")
        if content is not None and len(str(content)) > 2000:
            return _invalid_form("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        if len(body.get("embeds") or []) > 10:
            return _invalid_form("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        if len(body.get("components") or []) > 40:
            return _invalid_form("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
        has_something = (
            content or body.get("embeds") or body.get("components") or files
            or body.get("sticker_ids") or body.get("poll")
        )  # fmt: skip
        if not edit and not has_something:
            return _error(400, 50006, "Cannot send an empty message")
        return None

    def _attachments(self, message_id: int, body: Json, files: list[Json], keep: list[Json]) -> list[Json]:
        wanted = {str(a.get("id")) for a in body.get("attachments") or []}
        kept = [a for a in keep if a["id"] in wanted] if "attachments" in body else list(keep)
        for upload in files:
            attachment_id = str(self.snowflake())
            url = f"{self.url}/attachments/{message_id}/{attachment_id}/{upload['filename']}"
            kept.append({
                "id": attachment_id, "filename": upload["filename"], "size": upload["size"], "url": url,
                "proxy_url": url, "content_type": upload.get("content_type"),
            })  # fmt: skip
        return kept

    def _new_message(
        self,
        channel_id: int,
        author_id: int,
        body: Json,
        *,
        files: list[Json] | None = None,
        message_type: int = 0,
        interaction: Interaction | None = None,
        message_id: int | None = None,
    ) -> FakeMessage:
        message_id = message_id or self.snowflake()
        reference = body.get("message_reference")
        if reference:
            reference = {
                "type": int(reference.get("type") or 0), "message_id": str(reference.get("message_id")),
                "channel_id": str(reference.get("channel_id") or channel_id),
                **({"guild_id": str(reference["guild_id"])} if reference.get("guild_id") else {}),
            }  # fmt: skip
            message_type = 19 if message_type == 0 else message_type
        message = FakeMessage(
            id=message_id, channel_id=channel_id, content=str(body.get("content") or ""),
            embeds=list(body.get("embeds") or []), components=list(body.get("components") or []),
            author_id=author_id, flags=int(body.get("flags") or 0), message_reference=reference or None,
            raw=body, type=message_type, nonce=body.get("nonce"),
            interaction_id=interaction.id if interaction else None,
        )  # fmt: skip
        message.attachments = self._attachments(message_id, body, files or [], [])
        self.messages[message.id] = message
        channel = self.channels.get(channel_id)
        if channel is not None and channel.is_thread and author_id not in channel.member_ids:
            channel.member_ids.append(author_id)
        return message

    def _edit_message(self, message: FakeMessage, body: Json, files: list[Json]) -> None:
        if "content" in body:
            message.content = str(body["content"] or "")
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            message.flags = (message.flags & ~EDITABLE_FLAGS) | (int(body["flags"]) & EDITABLE_FLAGS)
        message.flags &= ~LOADING
        message.attachments = self._attachments(message.id, body, files, message.attachments)
        message.raw = body
        message.edits += 1
        message.edited_at = _now()

    async def _announce(self, event: str, message: FakeMessage) -> None:
        """MESSAGE_CREATE / MESSAGE_UPDATE over the gateway (never for ephemeral messages)."""
        if not message.ephemeral:
            await self._broadcast(event, self._message_event(message), message)

    async def _announce_delete(self, message: FakeMessage) -> None:
        if message.ephemeral:
            return
        data: Json = {"id": str(message.id), "channel_id": str(message.channel_id)}
        channel = self.channels.get(message.channel_id)
        if channel is not None and channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        await self._broadcast("MESSAGE_DELETE", data, message)

    async def _announce_channel(self, event: str, channel: FakeChannel, **extra: Any) -> None:
        await self.dispatch(event, {**self.channel_payload(channel), **extra})

    # --- user actions -----------------------------------------------------------------------------
    async def say(
        self, user: FakeUser, channel_id: int, content: str, *, reply_to: FakeMessage | None = None
    ) -> FakeMessage:
        """`user` posts `content` in a channel, thread or DM channel: stored, and MESSAGE_CREATE sent."""
        await self.wait_ready()
        channel = self.channels[channel_id]
        body: Json = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {"message_id": reply_to.id, "channel_id": reply_to.channel_id,
                                         "guild_id": channel.guild_id}  # fmt: skip
        message = self._new_message(channel.id, user.id, body)
        await self._announce("MESSAGE_CREATE", message)
        return message

    async def slash(
        self,
        user: FakeUser,
        command: str,
        subcommand: str | None,
        options: dict[str, Any],
        *,
        channel_id: int | None = None,
        guild: bool = True,
        focused: str | None = None,
    ) -> Interaction:
        """`user` runs `/command [subcommand] options…` (type 2), or types into option `focused` (type 4).

        The command must have been synced (guild first, then global; only global ones in DMs).
        `subcommand` may be "group sub". Values: FakeUser (or a user id) for USER options, FakeChannel
        for CHANNEL options, plain values otherwise.
        """
        definition, scope = self._command(command, guild)
        data: Json = {"id": definition["id"], "name": command, "type": 1}
        if scope is not None:
            data["guild_id"] = str(scope)
        leaf = definition
        wrap: list[Json] = []
        for name in (subcommand or "").split():
            found = next(
                (o for o in leaf.get("options") or [] if o["name"] == name and o["type"] in (1, 2)), None
            )
            if found is None:
                raise LookupError(f"/{command} has no subcommand {subcommand!r}")
            leaf = found
            wrap.append({"type": found["type"], "name": name})
        resolved: Json = {}
        built: list[Json] = []
        for name, value in options.items():
            spec = next((o for o in leaf.get("options") or [] if o["name"] == name), None)
            if spec is None:
                raise LookupError(f"/{command} {subcommand or ''} has no option {name!r}")
            built.append(self._option(spec, value, resolved, guild=guild, focused=name == focused))
        if focused is not None and focused not in options:
            raise LookupError(f"focused option {focused!r} is not among the options given")
        for level in reversed(wrap):
            built = [{**level, "options": built}]
        data["options"] = built
        if resolved and focused is None:
            data["resolved"] = resolved
        channel = self.channels[channel_id or self.channel_id] if guild else self.dm_channel(user)
        return await self._interact(4 if focused else 2, user, channel, data)

    async def click(
        self,
        user: FakeUser,
        message: FakeMessage,
        custom_id: str,
        *,
        values: list[str] | None = None,
        component_type: int | None = None,
    ) -> Interaction:
        """`user` presses a button (component_type 2) or picks `values` in a string select (3)."""
        data: Json = {
            "custom_id": custom_id,
            "component_type": component_type or (3 if values is not None else 2),
        }
        if values is not None:
            data["values"] = values
        if data["component_type"] == 5 and values:  # a user select: Discord resolves the users
            users = {v: self.users[int(v)].payload() for v in values if int(v) in self.users}
            data["resolved"] = {"users": users}
        channel = self.channels[message.channel_id]
        return await self._interact(3, user, channel, data, message=message)

    async def message_command(self, user: FakeUser, name: str, message: FakeMessage) -> Interaction:
        """`user` runs the message context-menu command `name` (type 3) on `message`."""
        definition = next(
            (d for scope in (GUILD_ID, None) for d in self.synced_commands.get(scope, [])
             if d["name"] == name and int(d.get("type") or 1) == 3),
            None,
        )  # fmt: skip
        if definition is None:
            raise LookupError(f"message command {name!r} was not synced")
        data: Json = {
            "id": definition["id"], "name": name, "type": 3, "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): self.message_payload(message)}},
        }  # fmt: skip
        if definition.get("guild_id"):
            data["guild_id"] = definition["guild_id"]
        return await self._interact(2, user, self.channels[message.channel_id], data)

    async def delete_message(self, message: FakeMessage) -> None:
        """Someone (its author or a moderator) deletes `message`: MESSAGE_DELETE, as Discord sends it
        whether or not the client ever saw the message."""
        message.deleted = True
        await self._announce_delete(message)

    async def bulk_delete(self, messages: list[FakeMessage]) -> None:
        """A moderator purges `messages` of one channel: one MESSAGE_DELETE_BULK."""
        for message in messages:
            message.deleted = True
        channel = self.channels[messages[0].channel_id]
        data: Json = {"ids": [str(m.id) for m in messages], "channel_id": str(channel.id)}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        await self.dispatch("MESSAGE_DELETE_BULK", data)

    async def add_role(self, name: str, permissions: int = 0) -> int:
        """A new guild role (GUILD_ROLE_CREATE is dispatched to connected clients); returns its id."""
        role: Json = {
            "id": str(self.snowflake()), "name": name, "permissions": str(permissions),
            "position": len(self.extra_roles) + 2, "color": 0, "hoist": False, "managed": False,
            "mentionable": False, "flags": 0, "icon": None, "unicode_emoji": None, "description": None,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        }  # fmt: skip
        self.extra_roles.append(role)
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(GUILD_ID), "role": role})
        return int(role["id"])

    async def submit_modal(self, user: FakeUser, shown: Interaction, values: dict[str, Any]) -> Interaction:
        """`user` submits the modal the bot answered `shown` with (callback type 9); `values` by custom_id
        (a str for text inputs, a list of str for selects)."""
        modal = next((r["data"] for r in shown.responses if r["type"] == 9), None)
        if modal is None:
            raise LookupError(f"interaction {shown.id} was not answered with a modal")

        def fill(component: Json) -> Json:
            if component.get("type") == 1:
                return {"type": 1, "components": [fill(c) for c in component.get("components") or []]}
            if component.get("type") == 18:
                return {"type": 18, "id": component.get("id", 0), "component": fill(component["component"])}
            custom_id = component.get("custom_id")
            if component.get("type") == 4:
                return {"type": 4, "id": component.get("id", 0), "custom_id": custom_id,
                        "value": str(values.get(str(custom_id), component.get("value") or ""))}  # fmt: skip
            if custom_id is not None:
                return {"type": component["type"], "id": component.get("id", 0), "custom_id": custom_id,
                        "values": list(values.get(str(custom_id), []))}  # fmt: skip
            return {"type": component.get("type"), "id": component.get("id", 0)}

        data: Json = {
            "custom_id": modal["custom_id"],
            "components": [fill(c) for c in modal.get("components") or []],
        }
        channel = self.channels[shown.channel_id]
        message = self.messages.get(shown.message_id) if shown.message_id else None
        return await self._interact(5, user, channel, data, message=message)

    def _command(self, command: str, guild: bool) -> tuple[Json, int | None]:
        for scope in [GUILD_ID, None] if guild else [None]:
            for definition in self.synced_commands.get(scope, []):
                if definition["name"] == command and int(definition.get("type") or 1) == 1:
                    return definition, scope
        synced = {scope: [c["name"] for c in cmds] for scope, cmds in self.synced_commands.items()}
        raise LookupError(
            f"/{command} was not synced {'to the guild or ' if guild else ''}globally: {synced}"
        )

    def _option(self, spec: Json, value: Any, resolved: Json, *, guild: bool, focused: bool) -> Json:
        kind = int(spec["type"])
        option: Json = {"name": spec["name"], "type": kind}
        if focused:
            option["value"] = str(value)
            option["focused"] = True
            return option
        if kind in (6, 9) and isinstance(value, FakeUser | int):
            user = value if isinstance(value, FakeUser) else self.users[value]
            option["value"] = str(user.id)
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            if guild and user.id in self.member_ids:
                member = self._member(user.id, permissions=user.permissions)
                resolved.setdefault("members", {})[str(user.id)] = member
        elif kind == 7:
            channel = value if isinstance(value, FakeChannel) else self.channels[int(value)]
            option["value"] = str(channel.id)
            info = {
                "id": str(channel.id), "name": channel.name, "type": channel.type,
                "permissions": str(ADMIN_PERMISSIONS),
            }  # fmt: skip
            if channel.is_thread:
                payload = self.channel_payload(channel)
                info.update(parent_id=payload["parent_id"], thread_metadata=payload["thread_metadata"])
            resolved.setdefault("channels", {})[str(channel.id)] = info
        elif kind == 8:
            option["value"] = str(value)
            roles = {r["id"]: r for r in self._roles()}
            if str(value) in roles:
                resolved.setdefault("roles", {})[str(value)] = roles[str(value)]
        elif kind == 4:
            option["value"] = int(value)
        elif kind == 10:
            option["value"] = float(value)
        elif kind == 5:
            option["value"] = bool(value)
        else:
            option["value"] = str(value)
        return option

    async def _interact(
        self,
        kind: int,
        user: FakeUser,
        channel: FakeChannel,
        data: Json,
        *,
        message: FakeMessage | None = None,
    ) -> Interaction:
        await self.wait_ready()
        interaction_id = self.snowflake()
        token = f"fake-interaction-{interaction_id}-{secrets.token_hex(16)}"
        in_guild = channel.guild_id is not None
        payload: Json = {
            "id": str(interaction_id), "application_id": str(APP_ID), "type": kind, "data": data,
            "token": token, "version": 1, "channel_id": str(channel.id),
            "channel": self.channel_payload(channel, permissions=ADMIN_PERMISSIONS if in_guild else None),
            "app_permissions": str(self.app_permissions), "locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(channel.guild_id) if in_guild else "0"},
            "context": 0 if in_guild else 1, "attachment_size_limit": 10 * 1024 * 1024,
        }  # fmt: skip
        if in_guild:
            payload["guild_id"] = str(channel.guild_id)
            payload["guild"] = {"id": str(channel.guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = self._member(user.id, with_user=True, permissions=user.permissions)
        else:
            payload["user"] = user.payload()
        if message is not None:
            payload["message"] = self.message_payload(message)
        interaction = Interaction(
            id=interaction_id, token=token, type=kind, user=user, channel_id=channel.id,
            guild_id=channel.guild_id, payload=payload, message_id=message.id if message else None,
            _fake=self,
        )  # fmt: skip
        self.interactions[interaction_id] = interaction
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    # --- REST plumbing ----------------------------------------------------------------------------
    def _route(self, methods: str, pattern: str, handler: _Handler, *, auth: bool = True) -> None:
        for method in methods.split():
            self._routes.append((method, re.compile(pattern), handler, auth))

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Json]]:
        files: list[Json] = []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                content = await part.read()
                if part.name == "payload_json":
                    body = json.loads(content)
                elif part.filename is not None:
                    files.append({"field": part.name, "filename": part.filename, "size": len(content),
                                  "content_type": part.headers.get("Content-Type")})  # fmt: skip
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        self.requests.append((request.method, path, body))
        allowed: list[str] = []
        for method, pattern, handler, auth in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            if auth and request.headers.get("Authorization") != f"Bot {BOT_TOKEN}":
                return _error(401, 0, "401: Unauthorized")
            injected = self._injected(request.method, path)
            if injected is not None:
                return injected
            return await handler(_Call(request, path, match.groupdict(), body, files))
        if allowed:
            return _error(405, 0, "405: Method Not Allowed")
        return _error(404, 0, "404: Not Found")

    def _add_routes(self) -> None:
        channel = r"/channels/(?P<channel>\d+)"
        message = channel + r"/messages/(?P<message>\d+)"
        webhook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        self._route("GET", r"/gateway", self._get_gateway, auth=False)
        self._route("GET", r"/gateway/bot", self._get_gateway_bot)
        self._route("GET", r"/users/@me", self._get_me)
        self._route("GET", r"/users/(?P<user>\d+)", self._get_user)
        self._route("POST", r"/users/@me/channels", self._open_dm)
        self._route("GET", r"/oauth2/applications/@me|/applications/@me", self._get_application)
        self._route(
            "GET PUT", r"/applications/(?P<app>\d+)(?:/guilds/(?P<guild>\d+))?/commands", self._commands
        )
        self._route("GET", r"/guilds/(?P<guild>\d+)", self._get_guild)
        self._route("GET", r"/guilds/(?P<guild>\d+)/channels", self._get_guild_channels)
        self._route("GET", r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)", self._get_member)
        self._route("GET", r"/guilds/(?P<guild>\d+)/threads/active", self._get_active_threads)
        self._route("GET PATCH DELETE", channel, self._channel)
        self._route("POST", channel + r"/typing", self._typing)
        self._route("GET POST", channel + r"/messages", self._messages)
        self._route("GET", channel + r"(?:/messages)?/pins", self._get_pins)
        self._route("PUT DELETE", channel + r"(?:/messages)?/pins/(?P<message>\d+)", self._pin)
        self._route("GET PATCH DELETE", message, self._message)
        self._route("POST", message + r"/threads", self._thread_from_message)
        self._route("POST", channel + r"/threads", self._thread_without_message)
        self._route("PUT DELETE", channel + r"/thread-members/(?P<user>\d+|@me)", self._thread_member)
        self._route("PUT DELETE", message + r"/reactions/(?P<emoji>[^/]+)/@me", self._reaction)
        self._route(
            "POST",
            r"/interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback",
            self._callback,
            auth=False,
        )
        self._route("POST", webhook, self._followup, auth=False)
        original = webhook + r"/messages/(?P<message>@original|\d+)"
        self._route("GET PATCH DELETE", original, self._webhook_message, auth=False)

    # --- REST: gateway, users, application, commands, guild -----------------------------------------
    async def _get_gateway(self, call: _Call) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: _Call) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_me(self, call: _Call) -> web.Response:
        return _json({**self.bot.payload(), "verified": True, "mfa_enabled": False, "locale": "en-US",
                      "email": None})  # fmt: skip

    async def _get_user(self, call: _Call) -> web.Response:
        user = self.users.get(call.id("user"))
        return _json(user.payload()) if user else _error(404, 10013, "Unknown User")

    async def _open_dm(self, call: _Call) -> web.Response:
        recipient = self.users.get(int(call.json.get("recipient_id") or 0))
        if recipient is None:
            return _error(400, 50033, "Invalid Recipients")
        return _json(self.channel_payload(self.dm_channel(recipient)))

    async def _get_application(self, call: _Call) -> web.Response:
        return _json({
            "id": str(APP_ID), "name": "Switchboard", "icon": None, "description": "", "summary": "",
            "type": None, "bot_public": True, "bot_require_code_grant": False,
            "verify_key": "0" * 64, "owner": self.owner.payload(), "team": None, "flags": self._app_flags(),
            "bot": self.bot.payload(), "hook": True, "interactions_endpoint_url": None,
            "redirect_uris": [], "rpc_origins": [], "tags": [], "approximate_guild_count": 1,
            "integration_types_config": {"0": {}}, "install_params": None,
        })  # fmt: skip

    async def _commands(self, call: _Call) -> web.Response:
        if call.id("app") != APP_ID:
            return _error(403, 50001, "Missing Access")
        guild = int(call.params["guild"]) if call.params.get("guild") else None
        if guild is not None and guild != GUILD_ID:
            return _error(403, 50001, "Missing Access")
        if call.request.method == "GET":
            return _json(self.synced_commands.get(guild, []))
        if not isinstance(call.body, list):
            return _invalid_form("_root", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        before = {c["name"]: c["id"] for c in self.synced_commands.get(guild, [])}
        echoed = []
        for command in call.body:
            item: Json = {
                "type": 1, "description": "", "default_member_permissions": None, "nsfw": False,
                "name_localizations": None,
                "description_localizations": None, **command,
                "id": before.get(command["name"]) or str(self.snowflake()),
                "application_id": str(APP_ID), "version": str(self.snowflake()),
            }  # fmt: skip
            if guild is not None:
                item["guild_id"] = str(guild)
            echoed.append(item)
        self.synced_commands[guild] = echoed
        return _json(echoed)

    async def _get_guild(self, call: _Call) -> web.Response:
        if call.id("guild") != GUILD_ID:
            return _error(404, 10004, "Unknown Guild")
        return _json({**self._guild(), "approximate_member_count": len(self.member_ids)})

    async def _get_guild_channels(self, call: _Call) -> web.Response:
        if call.id("guild") != GUILD_ID:
            return _error(404, 10004, "Unknown Guild")
        return _json([self.channel_payload(c) for c in self._guild_channels()])

    async def _get_member(self, call: _Call) -> web.Response:
        if call.id("guild") != GUILD_ID:
            return _error(404, 10004, "Unknown Guild")
        if call.id("user") not in self.member_ids:
            return _error(404, 10007, "Unknown Member")
        return _json(self._member(call.id("user"), with_user=True))

    async def _get_active_threads(self, call: _Call) -> web.Response:
        active = [self.channel_payload(t) for t in self.threads() if not t.archived]
        return _json({"threads": active, "members": []})

    # --- REST: channels ---------------------------------------------------------------------------
    def _find_channel(self, call: _Call) -> FakeChannel | web.Response:
        channel = self.channels.get(call.id("channel"))
        if channel is None or channel.deleted:
            return _error(404, 10003, "Unknown Channel")
        return channel

    def _find_message(self, call: _Call) -> tuple[FakeChannel, FakeMessage] | web.Response:
        channel = self._find_channel(call)
        if isinstance(channel, web.Response):
            return channel
        message = self.messages.get(call.id("message"))
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            return _error(404, 10008, "Unknown Message")
        return channel, message

    async def _channel(self, call: _Call) -> web.Response:
        channel = self._find_channel(call)
        if isinstance(channel, web.Response):
            return channel
        method = call.request.method
        if method == "GET":
            return _json(self.channel_payload(channel))
        if channel.type == 1:
            return _error(403, 50003, "Cannot execute action on a DM channel")
        if method == "DELETE":
            channel.deleted = True
            await self._announce_channel("THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE", channel)
            return _json(self.channel_payload(channel))
        body = call.json
        if "name" in body:
            channel.name = str(body["name"])
        if "topic" in body:
            channel.topic = body["topic"]
        if "archived" in body:
            channel.archived = bool(body["archived"])
        if "locked" in body:
            channel.locked = bool(body["locked"])
        if "auto_archive_duration" in body:
            channel.auto_archive_duration = int(body["auto_archive_duration"])
        await self._announce_channel("THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE", channel)
        return _json(self.channel_payload(channel))

    async def _typing(self, call: _Call) -> web.Response:
        channel = self._find_channel(call)
        return channel if isinstance(channel, web.Response) else web.Response(status=204)

    async def _messages(self, call: _Call) -> web.Response:
        channel = self._find_channel(call)
        if isinstance(channel, web.Response):
            return channel
        if call.request.method == "GET":
            return _json([self.message_payload(m) for m in self._history(channel.id, call.request.query)])
        body = call.json
        invalid = self._validate_message(body, call.files)
        if invalid is not None:
            return invalid
        if channel.is_thread and channel.archived:
            if channel.locked:
                return _error(400, 50083, "Thread is archived")
            channel.archived = False
        reference = body.get("message_reference")
        if reference and reference.get("fail_if_not_exists", True):
            target = self.messages.get(int(reference.get("message_id") or 0))
            if target is None or target.deleted:
                return _invalid_form(
                    "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
        message = self._new_message(channel.id, BOT_USER_ID, body, files=call.files)
        message.flags &= ~(EPHEMERAL | LOADING)  # only interaction responses can be ephemeral
        await self._announce("MESSAGE_CREATE", message)
        return _json(self.message_payload(message))

    def _history(self, channel_id: int, query: Mapping[str, str]) -> list[FakeMessage]:
        found = self.channel_messages(channel_id)
        limit = max(1, min(100, int(query.get("limit") or 50)))
        if query.get("before"):
            chosen = [m for m in found if m.id < int(query["before"])][-limit:]
        elif query.get("after"):
            chosen = [m for m in found if m.id > int(query["after"])][:limit]
        elif query.get("around"):
            around = int(query["around"])
            older = [m for m in found if m.id < around][-(limit // 2) :] if limit > 1 else []
            chosen = older + [m for m in found if m.id >= around][: limit - len(older)]
        else:
            chosen = found[-limit:]
        return list(reversed(chosen))

    async def _message(self, call: _Call) -> web.Response:
        found = self._find_message(call)
        if isinstance(found, web.Response):
            return found
        _channel, message = found
        method = call.request.method
        if method == "GET":
            return _json(self.message_payload(message))
        if method == "DELETE":
            message.deleted = True
            await self._announce_delete(message)
            return web.Response(status=204)
        if message.author_id != BOT_USER_ID:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        invalid = self._validate_message(call.json, call.files, edit=True)
        if invalid is not None:
            return invalid
        self._edit_message(message, call.json, call.files)
        await self._announce("MESSAGE_UPDATE", message)
        return _json(self.message_payload(message))

    async def _get_pins(self, call: _Call) -> web.Response:
        channel = self._find_channel(call)
        if isinstance(channel, web.Response):
            return channel
        pinned = sorted(
            (m for m in self.channel_messages(channel.id) if m.pinned), key=lambda m: m.pinned_at or ""
        )
        pinned.reverse()
        if call.path.endswith("/messages/pins"):  # the current endpoint; `/pins` is the deprecated one
            limit = max(1, min(50, int(call.request.query.get("limit") or 50)))
            before = call.request.query.get("before")
            if before:
                pinned = [m for m in pinned if (m.pinned_at or "") < before]
            items = [{"pinned_at": m.pinned_at, "message": self.message_payload(m)} for m in pinned[:limit]]
            return _json({"items": items, "has_more": len(pinned) > limit})
        return _json([self.message_payload(m) for m in pinned])

    async def _pin(self, call: _Call) -> web.Response:
        found = self._find_message(call)
        if isinstance(found, web.Response):
            return found
        channel, message = found
        pin = call.request.method == "PUT"
        if (
            pin
            and len([m for m in self.channel_messages(channel.id) if m.pinned]) >= 250
            and not message.pinned
        ):
            return _error(400, 30003, "Maximum number of pins reached (250)")
        message.pinned = pin
        message.pinned_at = _now() if pin else None
        last = max((m.pinned_at for m in self.channel_messages(channel.id) if m.pinned_at), default=None)
        data: Json = {"channel_id": str(channel.id), "last_pin_timestamp": last}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        await self.dispatch("CHANNEL_PINS_UPDATE", data)
        return web.Response(status=204)

    async def _reaction(self, call: _Call) -> web.Response:
        found = self._find_message(call)
        if isinstance(found, web.Response):
            return found
        _channel, message = found
        emoji = unquote(call.params["emoji"])
        if call.request.method == "PUT" and emoji not in message.reactions:
            message.reactions.append(emoji)
        elif call.request.method == "DELETE" and emoji in message.reactions:
            message.reactions.remove(emoji)
        return web.Response(status=204)

    # --- REST: threads ----------------------------------------------------------------------------
    async def _start_thread(self, parent: FakeChannel, thread_id: int, kind: int, body: Json) -> FakeChannel:
        thread = FakeChannel(
            id=thread_id, type=kind, name=str(body.get("name") or "thread"), guild_id=parent.guild_id,
            parent_id=parent.id, owner_id=BOT_USER_ID,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440), member_ids=[BOT_USER_ID],
        )  # fmt: skip
        self.channels[thread.id] = thread
        member = {"id": str(thread.id), "user_id": str(BOT_USER_ID), "join_timestamp": _now(), "flags": 0}
        await self._announce_channel("THREAD_CREATE", thread, newly_created=True, member=member)
        return thread

    async def _thread_from_message(self, call: _Call) -> web.Response:
        found = self._find_message(call)
        if isinstance(found, web.Response):
            return found
        channel, message = found
        if channel.type not in TEXT_CHANNEL_TYPES:
            return _error(400, 50024, "Cannot execute action on this channel type")
        if message.id in self.channels:
            return _error(400, 160004, "A thread has already been created for this message")
        if not call.json.get("name"):
            return _invalid_form("name", "BASE_TYPE_REQUIRED", "This field is required")
        thread = await self._start_thread(channel, message.id, 11, call.json)
        message.flags |= HAS_THREAD
        await self._announce("MESSAGE_UPDATE", message)
        return _json(self.channel_payload(thread))

    async def _thread_without_message(self, call: _Call) -> web.Response:
        channel = self._find_channel(call)
        if isinstance(channel, web.Response):
            return channel
        body = call.json
        if not body.get("name"):
            return _invalid_form("name", "BASE_TYPE_REQUIRED", "This field is required")
        if channel.type in (15, 16):  # forum / media: the thread starts with a message of the same id
            thread = await self._start_thread(channel, self.snowflake(), 11, body)
            starter = self._new_message(thread.id, BOT_USER_ID, body.get("message") or {}, files=call.files,
                                        message_id=thread.id)  # fmt: skip
            await self._announce("MESSAGE_CREATE", starter)
            return _json({**self.channel_payload(thread), "message": self.message_payload(starter)})
        if channel.type not in TEXT_CHANNEL_TYPES:
            return _error(400, 50024, "Cannot execute action on this channel type")
        kind = int(body.get("type") or 12)
        thread = await self._start_thread(channel, self.snowflake(), kind, body)
        return _json(self.channel_payload(thread))

    async def _thread_member(self, call: _Call) -> web.Response:
        channel = self._find_channel(call)
        if isinstance(channel, web.Response):
            return channel
        if not channel.is_thread:
            return _error(400, 50024, "Cannot execute action on this channel type")
        user_id = BOT_USER_ID if call.params["user"] == "@me" else int(call.params["user"])
        if user_id not in self.users:
            return _error(404, 10013, "Unknown User")
        if call.request.method == "PUT" and user_id not in channel.member_ids:
            channel.member_ids.append(user_id)
        elif call.request.method == "DELETE" and user_id in channel.member_ids:
            channel.member_ids.remove(user_id)
        return web.Response(status=204)

    # --- REST: interactions and their webhook -----------------------------------------------------
    async def _callback(self, call: _Call) -> web.Response:
        interaction = self.interactions.get(call.id("interaction"))
        if interaction is None or interaction.token != call.params["token"]:
            return _error(404, 10062, "Unknown interaction")
        if interaction.responses:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = call.json
        kind = int(body.get("type") or 0)
        from_component = interaction.message_id is not None
        if kind not in ALLOWED_CALLBACKS.get(interaction.type, ()) or (kind in (6, 7) and not from_component):
            return _invalid_form(
                "type", "INTERACTION_RESPONSE_TYPE_INVALID", f"Callback type {kind} is not valid"
            )
        data: Json = body.get("data") or {}
        if kind == 4 or kind == 7:
            invalid = self._validate_message(data, call.files, edit=kind == 7)
            if invalid is not None:
                return invalid
        interaction.responses.append(body)
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            message_body = data if kind == 4 else {"flags": (flags & EPHEMERAL) | LOADING}
            message = self._new_message(
                interaction.channel_id, BOT_USER_ID, message_body, files=call.files,
                message_type=20 if interaction.type == 2 else 0, interaction=interaction,
            )  # fmt: skip
            interaction.original = message
            await self._announce("MESSAGE_CREATE", message)
        elif kind in (6, 7) and interaction.message_id is not None:
            interaction.original = self.messages.get(interaction.message_id)
            if kind == 7 and interaction.original is not None:
                self._edit_message(interaction.original, data, call.files)
                await self._announce("MESSAGE_UPDATE", interaction.original)
        if not call.flag("with_response"):
            return web.Response(status=204)
        reply: Json = {"interaction": {"id": str(interaction.id), "type": interaction.type}}
        original = interaction.original
        if original is not None and kind in (4, 5, 6, 7):
            reply["interaction"].update(
                response_message_id=str(original.id), response_message_loading=kind == 5,
                response_message_ephemeral=original.ephemeral,
            )  # fmt: skip
            if kind != 6:
                reply["resource"] = {"type": kind, "message": self.message_payload(original)}
        return _json(reply)

    def _webhook_interaction(self, call: _Call) -> Interaction | web.Response:
        if call.id("app") == APP_ID:
            for interaction in self.interactions.values():
                if interaction.token == call.params["token"] and interaction.responses:
                    return interaction
        return _error(404, 10015, "Unknown Webhook")

    async def _followup(self, call: _Call) -> web.Response:
        interaction = self._webhook_interaction(call)
        if isinstance(interaction, web.Response):
            return interaction
        body = call.json
        invalid = self._validate_message(body, call.files)
        if invalid is not None:
            return invalid
        deferred = interaction.original
        if interaction.responses[0]["type"] == 5 and deferred is not None and not interaction._filled:
            # The first followup after a "thinking" defer replaces that message (same id, same ephemerality).
            self._edit_message(deferred, body, call.files)
            deferred.edits -= 1
            deferred.edited_at = None
            interaction._filled = True
            message = deferred
            await self._announce("MESSAGE_UPDATE", message)
        else:
            message = self._new_message(interaction.channel_id, BOT_USER_ID, body, files=call.files,
                                        interaction=interaction)  # fmt: skip
            await self._announce("MESSAGE_CREATE", message)
        interaction.followups.append(message)
        interaction._answers.append(body)
        if call.flag("wait"):
            return _json(self.message_payload(message))
        return web.Response(status=204)

    async def _webhook_message(self, call: _Call) -> web.Response:
        interaction = self._webhook_interaction(call)
        if isinstance(interaction, web.Response):
            return interaction
        original = call.params["message"] == "@original"
        if original:
            message = interaction.original
        else:
            own = [interaction.original, *interaction.followups]
            message = next((m for m in own if m is not None and m.id == call.id("message")), None)
        if message is None or message.deleted:
            return _error(404, 10008, "Unknown Message")
        method = call.request.method
        if method == "GET":
            return _json(self.message_payload(message))
        if method == "DELETE":
            message.deleted = True
            await self._announce_delete(message)
            return web.Response(status=204)
        invalid = self._validate_message(call.json, call.files, edit=True)
        if invalid is not None:
            return invalid
        self._edit_message(message, call.json, call.files)
        if original:
            interaction.edits.append(call.json)
            interaction._answers.append(call.json)
            interaction._filled = True
        await self._announce("MESSAGE_UPDATE", message)
        return _json(self.message_payload(message))
