"""A fake Slack Web API: a real aiohttp server on 127.0.0.1 that slack_sdk and slack-bolt talk to.

It keeps channels with their messages (ts, thread, metadata) so `chat.update`, `chat.delete`,
`conversations.history/replies` behave, records every call (`calls`, `calls_to(method)`) and every
`response_url` post (`responses`), knows users (`add_user`) for `users.info`, and can be told to
answer a method with HTTP 429 and an integer `Retry-After` (`rate_limit`).

Like Slack, it refuses messages and modals past Block Kit's limits (`tests/fakes/slack_limits.py`:
`msg_too_long`, `invalid_blocks`, `msg_blocks_too_long`, `invalid_arguments`, `ok: false`) and keeps
nothing of them; a refused `response_url` post is answered 400. Every refusal is also listed in
`rejected`. `refuse(method, error)` makes the next calls of a method fail with a Slack error.

Channels (`add_channel`: members, Slack Connect, private) answer `conversations.info` and the
paginated `conversations.members`; `views.publish` keeps each user's Home tab (`homes`, at most 100
blocks); `rotate_tokens()` makes OAuth tokens expire (`token_expired` after) and answers
`oauth.v2.access` with `grant_type=refresh_token`.

Timing, as Slack has it: `hold(method)` keeps a method's answers back until the returned event is set
(a slow `users.info`, without real waiting); `slow(method, seconds)` makes each call of a method cost
`seconds` on the fake's clock (`clock()`, wall time plus what slow calls cost). A `trigger_id` (see
`tests/fakes/slack_requests.trigger_id`: it carries its issue time) is good for `TRIGGER_TTL` seconds
of that clock: `views.open` with an older one answers `expired_trigger_id`. Views keep their ids
(`views`), `views.update` replaces one by `view_id`, `chat.getPermalink` answers a message's link.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.slack_limits import CHECKS, Refusal, check_message

BOT_TOKEN = "xoxb-test-token"
#: How long Slack accepts a `trigger_id` for `views.open` (seconds).
TRIGGER_TTL = 3.0
PERMALINK = "https://fake.slack.com/archives/{channel}/p{ts}"


def trigger_issued_at(trigger_id: str) -> float | None:
    """When a trigger id of `slack_requests.trigger_id()` was issued (epoch seconds), else None."""
    parts = trigger_id.split(".")
    if len(parts) == 3 and parts[1].isdigit() and len(parts[1]) >= 13:
        return int(parts[1]) / 1000
    return None


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Message:
    ts: str
    channel: str
    text: str
    blocks: list[Any] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    bot: bool = True


def _json_params(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeSlack:
    def __init__(self, team_id: str = "T111", bot_user: str = "UBOT") -> None:
        self.team_id = team_id
        self.bot_user = bot_user
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        self.messages: dict[str, Message] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self._limits: dict[str, list[int]] = {}
        #: Per-channel 429s (`rate_limit_channel`), and until when (monotonic) each channel is limited.
        self._channel_limits: dict[str, list[int]] = {}
        self.limited_until: dict[str, float] = {}
        self._drops: dict[str, int] = {}
        self._channel_refusals: dict[str, list[str]] = {}
        self._refusals: dict[str, list[str]] = {}
        #: (method or "response_url", the refused parameters, the error) of every refusal.
        self.rejected: list[tuple[str, dict[str, Any], str]] = []
        self._ts = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict[str, Any]] = []
        #: Channels set up with `add_channel`; any other is a public channel every user is in.
        self.channels: dict[str, dict[str, Any]] = {}
        #: The Home tab published for each user (`views.publish`), latest first replaced.
        self.homes: dict[str, dict[str, Any]] = {}
        #: Token rotation (`rotate_tokens`): tokens expire `token_ttl` seconds after they are issued.
        self.token_ttl: int | None = None
        self.token_expiry: dict[str, float] = {}
        self._refresh_tokens: dict[str, str] = {}
        self._rotations = itertools.count(1)
        self.url = ""
        self._held: dict[str, asyncio.Event] = {}
        self._slow: dict[str, float] = {}
        self._skew = 0.0
        #: Every view opened or updated, by id (the latest version).
        self.views: dict[str, dict[str, Any]] = {}
        self._view_ids = itertools.count(1)

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str = "1") -> str:
        return f"{self.url}/response/{key}"

    # --- set-up and inspection --------------------------------------------------------------------
    def add_user(self, user_id: str, name: str, email: str, *, confirmed: bool = True) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": name.split()[0].lower(), "real_name": name,
            "is_bot": False, "is_email_confirmed": confirmed,
            "profile": {"email": email, "real_name": name, "display_name": name},
        }  # fmt: skip

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 0) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After: retry_after`."""
        self._limits[method] = [retry_after] * times

    def rate_limit_channel(self, channel: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` `chat.postMessage` calls into `channel` with 429 and `Retry-After`
        (Slack's per-channel posting limit); other channels are not affected."""
        self._channel_limits[channel] = [retry_after] * times

    def rate_limited(self, channel: str) -> bool:
        """Whether `channel` is inside the Retry-After window of the last 429 it answered."""
        return time.monotonic() < self.limited_until.get(channel, float("-inf"))

    def refuse_channel(self, channel: str, error: str, *, times: int = 1) -> None:
        """Answer the next `times` `chat.postMessage` calls into `channel` with `{"ok": false, error}`."""
        self._channel_refusals[channel] = [error] * times

    def drop_after(self, method: str, *, times: int = 1) -> None:
        """Take the next `times` calls of `method` (a message is posted) but drop the connection
        instead of answering, as a proxy or network failure would."""
        self._drops[method] = times

    def refuse(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with `{"ok": false, "error": error}`."""
        self._refusals[method] = [error] * times

    def hold(self, method: str) -> asyncio.Event:
        """Keep every answer to `method` back until the returned event is set."""
        self._held[method] = asyncio.Event()
        return self._held[method]

    def slow(self, method: str, seconds: float) -> None:
        """Each call of `method` costs `seconds` on the fake's clock (no real waiting)."""
        self._slow[method] = seconds

    def clock(self) -> float:
        """The fake's time: wall time plus what `slow` calls have cost so far."""
        return time.time() + self._skew

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def channel_messages(self, channel: str, *, thread: str | None = None) -> list[Message]:
        found = [m for m in self.messages.values() if m.channel == channel]
        if thread is not None:
            return [m for m in found if m.thread_ts == thread and m.ts != thread]
        return [m for m in found if m.thread_ts is None]

    async def wait_for(self, check: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until `check()` returns something truthy (re-checked after every call); return it."""
        async with asyncio.timeout(within):
            while True:
                result = check()
                if result:
                    return result
                self._changed.clear()
                await self._changed.wait()

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected app (waits for the connection)."""
        await self.wait_for(lambda: [ws for ws in self.sockets if not ws.closed])
        await next(ws for ws in self.sockets if not ws.closed).send_json(envelope)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        self._changed.set()
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                self._changed.set()
        return ws

    # --- HTTP -------------------------------------------------------------------------------------
    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._changed.set()
        try:
            check_message(body)
        except Refusal as refusal:
            self.rejected.append(("response_url", body, refusal.error))
            return web.Response(status=400, text=refusal.error)
        self.responses.append({"key": request.match_info["key"], **body})
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            else:
                params.update(parse_qsl(raw.decode()))
        params = {key: _json_params(value) for key, value in params.items()}
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        self.calls.append(Call(method, params, token))
        self._changed.set()
        self._skew += self._slow.get(method, 0.0)
        held = self._held.get(method)
        if held is not None:
            await held.wait()
        if token in self.token_expiry and self.token_expiry[token] < time.time():
            return web.json_response({"ok": False, "error": "token_expired"})
        limits = self._limits.get(method)
        if limits:
            retry_after = limits.pop(0)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})  # fmt: skip
        channel_limits = self._channel_limits.get(str(params.get("channel")))
        if method == "chat.postMessage" and channel_limits:
            retry_after = channel_limits.pop(0)
            self.limited_until[str(params["channel"])] = time.monotonic() + retry_after
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})  # fmt: skip
        channel_refusals = self._channel_refusals.get(str(params.get("channel")))
        if method == "chat.postMessage" and channel_refusals:
            return web.json_response({"ok": False, "error": channel_refusals.pop(0)})
        refused = self._refused(method, params)
        if refused is not None:
            return web.json_response(refused)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        body = handler(params) if handler else {"ok": True}
        if self._drops.get(method):
            self._drops[method] -= 1
            assert request.transport is not None
            request.transport.abort()  # taken, never answered
            self._changed.set()
        return web.json_response(body)

    def _refused(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Slack's answer when it refuses the call (an injected error, or past a Block Kit limit)."""
        injected = self._refusals.get(method)
        refusal = Refusal(injected.pop(0), []) if injected else None
        if refusal is None and method in CHECKS:
            try:
                CHECKS[method](params)
            except Refusal as found:
                refusal = found
        if refusal is None:
            return None
        self.rejected.append((method, params, refusal.error))
        return refusal.body()

    def _new_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n}.{n:06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        team = self.calls[-1].token or ""
        if team.startswith("xoxb-T"):  # a token from `oauth.v2.access`: xoxb-<team>
            team_id = team.removeprefix("xoxb-").split("-", 1)[0]  # rotated: xoxb-<team>-r<n>
            return {"ok": True, "team_id": team_id, "user_id": f"UBOT{team_id}", "bot_id": f"B{team_id}",
                    "url": "https://other.slack.com/", "team": "Other"}  # fmt: skip
        return {"ok": True, "team_id": self.team_id, "user_id": self.bot_user, "bot_id": "BBOT",
                "url": "https://fake.slack.com/", "team": "Fake"}  # fmt: skip

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """Installing into workspace `code` (the test passes the team id as the code); with token
        rotation on, also `grant_type=refresh_token`: a new access token (and refresh token) for a
        known refresh token, `invalid_refresh_token` otherwise."""
        if params.get("grant_type") == "refresh_token":
            return self._refresh(str(params.get("refresh_token", "")))
        team_id = str(params.get("code", ""))
        answer = {
            "ok": True, "app_id": "A111", "authed_user": {"id": "UINSTALLER"}, "scope": "commands,chat:write",
            "token_type": "bot", "access_token": f"xoxb-{team_id}", "bot_user_id": f"UBOT{team_id}",
            "team": {"id": team_id, "name": "Other"}, "enterprise": None, "is_enterprise_install": False,
        }  # fmt: skip
        return {**answer, **self._rotating(team_id, answer["access_token"])}

    def rotate_tokens(self, ttl: int = 43_200) -> None:
        """Turn token rotation on (as an app with `token_rotation_enabled`): installs and refreshes
        hand out tokens that expire after `ttl` seconds (Slack: 12 hours) with a refresh token."""
        self.token_ttl = ttl

    def _rotating(self, team_id: str, token: str) -> dict[str, Any]:
        if self.token_ttl is None:
            return {}
        refresh = f"xoxe-1-{team_id}-{next(self._rotations)}"
        self._refresh_tokens[refresh] = team_id
        self.token_expiry[token] = time.time() + self.token_ttl
        return {"refresh_token": refresh, "expires_in": self.token_ttl}

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        team_id = self._refresh_tokens.pop(refresh_token, None)
        if team_id is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        token = f"xoxb-{team_id}-r{next(self._rotations)}"
        return {"ok": True, "app_id": "A111", "token_type": "bot", "access_token": token,
                "scope": "commands,chat:write", "bot_user_id": f"UBOT{team_id}",
                "team": {"id": team_id, "name": "Other"}, "enterprise": None,
                **self._rotating(team_id, token)}  # fmt: skip

    def add_channel(
        self,
        channel_id: str,
        members: list[str],
        *,
        ext_shared: bool = False,
        private: bool = False,
        bot_member: bool = True,
    ) -> None:
        """A channel with exactly these members; a private one the bot is not in is invisible to it
        (`channel_not_found`), as on Slack."""
        self.channels[channel_id] = {
            "id": channel_id, "name": channel_id.lower(), "is_channel": not private, "is_group": private,
            "is_private": private, "is_ext_shared": ext_shared, "is_shared": ext_shared,
            "is_member": bot_member, "members": list(members),
        }  # fmt: skip

    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        found = self.channels.get(channel_id)
        if found is None:
            members = [*sorted(self.users), self.bot_user]
            return {"id": channel_id, "name": channel_id.lower(), "is_channel": True,
                    "is_private": False, "is_ext_shared": False, "is_shared": False, "is_member": True,
                    "members": members}  # fmt: skip
        if found["is_private"] and not found["is_member"]:
            return None
        return found

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {k: v for k, v in channel.items() if k != "members"}}

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        """Paginated like Slack: `limit` (default 100) per page, `response_metadata.next_cursor`."""
        channel = self._channel(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        page = channel["members"][start : start + limit]
        more = start + limit < len(channel["members"])
        return {"ok": True, "members": page,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user_id", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        self.homes[user] = {"id": f"VH{user}", **(params.get("view") or {})}
        return {"ok": True, "view": self.homes[user]}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        ts = self._new_ts()
        self.messages[ts] = Message(
            ts, channel, str(params.get("text", "")), params.get("blocks") or [], params.get("thread_ts"),
            params.get("metadata"),
        )  # fmt: skip
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": params.get("text")}}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(params.get("ts")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.text = str(params.get("text", message.text))
        message.blocks = params.get("blocks") or message.blocks
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.messages.pop(str(params.get("ts")), None) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/link"}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._new_ts()}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).lstrip("U")}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        issued = trigger_issued_at(str(params.get("trigger_id", "")))
        if issued is not None and self.clock() - issued > TRIGGER_TTL:
            return {"ok": False, "error": "expired_trigger_id"}
        view_id = f"V{next(self._view_ids):08d}"
        self.views[view_id] = {"id": view_id, "hash": f"h{view_id}.1", **(params.get("view") or {})}
        return {"ok": True, "view": self.views[view_id]}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        old = self.views[view_id]
        if params.get("hash") and params["hash"] != old["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        version = int(old["hash"].rsplit(".", 1)[1]) + 1
        self.views[view_id] = {"id": view_id, "hash": f"h{view_id}.{version}", **(params.get("view") or {})}
        return {"ok": True, "view": self.views[view_id]}

    def _chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("message_ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        link = PERMALINK.format(channel=channel, ts=ts.replace(".", ""))
        return {"ok": True, "channel": channel, "permalink": link}

    def _history(self, found: list[Message]) -> dict[str, Any]:
        return {"ok": True, "messages": [
            {"type": "message", "ts": m.ts, "text": m.text, "thread_ts": m.thread_ts, "bot_id": "BBOT",
             **({"metadata": m.metadata} if m.metadata else {})} for m in found]}  # fmt: skip

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._history(self.channel_messages(str(params["channel"])))

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        thread = str(params["ts"])
        channel = params["channel"]
        found = [m for m in self.messages.values() if m.channel == channel and thread in (m.ts, m.thread_ts)]
        return self._history(found)
