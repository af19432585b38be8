"""A fake Slack Web API: a real aiohttp server on 127.0.0.1 that slack_sdk and slack-bolt talk to.

It keeps channels with their messages (ts, thread, metadata) so `chat.update`, `chat.delete`,
`conversations.history/replies` behave, records every call (`calls`, `calls_to(method)`) and every
`response_url` post (`responses`), knows users (`add_user`) for `users.info`, and can be told to
answer a method with HTTP 429 and an integer `Retry-After` (`rate_limit`).

Like Slack, it refuses messages and modals past Block Kit's limits (`tests/fakes/slack_limits.py`:
`msg_too_long`, `invalid_blocks`, `msg_blocks_too_long`, `invalid_arguments`, `ok: false`) and keeps
nothing of them; a refused `response_url` post is answered 400. Every refusal is also listed in
`rejected`. `refuse(method, error)` makes the next calls of a method fail with a Slack error.
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
        self._refusals: dict[str, list[str]] = {}
        #: (method or "response_url", the refused parameters, the error) of every refusal.
        self.rejected: list[tuple[str, dict[str, Any], str]] = []
        self._ts = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict[str, Any]] = []
        self.url = ""

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

    def refuse(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with `{"ok": false, "error": error}`."""
        self._refusals[method] = [error] * times

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
        limits = self._limits.get(method)
        if limits:
            retry_after = limits.pop(0)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})  # fmt: skip
        refused = self._refused(method, params)
        if refused is not None:
            return web.json_response(refused)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        body = handler(params) if handler else {"ok": True}
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
            team_id = team.removeprefix("xoxb-")
            return {"ok": True, "team_id": team_id, "user_id": f"UBOT{team_id}", "bot_id": f"B{team_id}",
                    "url": "https://other.slack.com/", "team": "Other"}  # fmt: skip
        return {"ok": True, "team_id": self.team_id, "user_id": self.bot_user, "bot_id": "BBOT",
                "url": "https://fake.slack.com/", "team": "Fake"}  # fmt: skip

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """Installing into workspace `code` (the test passes the team id as the code)."""
        team_id = str(params.get("code", ""))
        return {
            "ok": True, "app_id": "A111", "authed_user": {"id": "UINSTALLER"}, "scope": "commands,chat:write",
            "token_type": "bot", "access_token": f"xoxb-{team_id}", "bot_user_id": f"UBOT{team_id}",
            "team": {"id": team_id, "name": "Other"}, "enterprise": None, "is_enterprise_install": False,
        }  # fmt: skip

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
        return {"ok": True, "view": {"id": "V1", **(params.get("view") or {})}}

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
