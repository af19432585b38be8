"""Requests exactly as Slack sends them to `POST /slack/events`: signed with the signing secret.

Slash commands are form-encoded; interactivity (`block_actions`, `view_submission`, `message_action`)
is a form field `payload` holding JSON; Events API callbacks are JSON. The signature is
`v0=HMAC_SHA256(secret, "v0:{timestamp}:{body}")` over exactly the bytes sent.

As on Slack, every user action carries its own `trigger_id` (and every click its own `action_ts`),
and every event its own `event_id`; a redelivery (`event(..., retry=N)`) repeats the `event_id` with
the `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` headers Slack adds.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

SIGNING_SECRET = "test-signing-secret"
_ids = itertools.count(1)


def trigger_id() -> str:
    """A fresh trigger id, shaped like Slack's (`13345224609.738474920.8088930838d88f008e0`); its middle
    part is when it was issued (epoch milliseconds), so the fake can expire it after 3 s as Slack does."""
    n = next(_ids)
    return f"{13345224609 + n}.{int(time.time() * 1000)}.{n:031x}"


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Sends signed requests to a hub at `base_url`; `response_url`s point at the fake Slack."""

    def __init__(
        self, base_url: str, fake_url: str, team_id: str = "T111", secret: str = SIGNING_SECRET
    ) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.fake_url = fake_url
        self.team_id = team_id
        self.secret = secret

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else sign(body, ts, self.secret),
            **(extra_headers or {}),
        }
        return await self.http.post("/slack/events", content=body.encode(), headers=headers)

    def response_url(self) -> tuple[str, str]:
        key = f"r{next(_ids)}"
        return key, f"{self.fake_url}/response/{key}"

    def command_body(self, user: str, text: str, channel: str = "C111", response_key: str = "") -> str:
        return urlencode({
            "token": "legacy", "team_id": self.team_id, "team_domain": "fake", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/ticket",
            "text": text, "api_app_id": "A111", "is_enterprise_install": "false",
            "response_url": f"{self.fake_url}/response/{response_key}",
            "trigger_id": trigger_id(),
        })  # fmt: skip

    async def command(
        self, user: str, text: str, channel: str = "C111", **kw: Any
    ) -> tuple[str, httpx.Response]:
        """A `/ticket` slash command; returns (response key, the hub's HTTP answer)."""
        key, _url = self.response_url()
        body = self.command_body(user, text, channel, key)
        return key, await self.send(body, "application/x-www-form-urlencoded", **kw)

    async def interactive(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded")

    async def block_action(
        self, user: str, action: dict[str, Any], *, channel: str = "C111", message_ts: str = "1.000100"
    ) -> tuple[str, httpx.Response]:
        key, url = self.response_url()
        payload = {
            "type": "block_actions", "team": {"id": self.team_id, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "api_app_id": "A111", "token": "legacy", "trigger_id": trigger_id(),
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": False},
            "channel": {"id": channel, "name": "general"},
            "message": {"type": "message", "ts": message_ts, "text": "x", "blocks": []},
            "response_url": url, "actions": [{"action_ts": f"{time.time():.6f}", **action}],
        }  # fmt: skip
        return key, await self.interactive(payload)

    async def view_submission(
        self, user: str, view: dict[str, Any], values: dict[str, Any]
    ) -> httpx.Response:
        payload = {
            "type": "view_submission", "team": {"id": self.team_id, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id}, "api_app_id": "A111",
            "token": "legacy", "trigger_id": trigger_id(),
            "view": {"type": "modal", "id": "V1", "hash": "h1", **view, "team_id": self.team_id,
                     "state": {"values": values}},
        }  # fmt: skip
        return await self.interactive(payload)

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        """An Events API callback (a fresh `event_id` unless one is given)."""
        return json.dumps({
            "token": "legacy", "team_id": self.team_id, "api_app_id": "A111", "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{next(_ids)}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": "UBOT", "is_bot": True}],
        })  # fmt: skip

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        """Deliver an event; `retry=N` sends it as Slack's Nth redelivery (give the first's `event_id`)."""
        headers = None
        if retry is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": retry_reason}
        return await self.send(self.event_body(event, event_id), "application/json", extra_headers=headers)
