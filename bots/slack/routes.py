"""`POST /slack/events` (events, slash commands, interactivity) and the OAuth install routes.

There is no Quart adapter in slack-bolt, so the route hands the raw request to
`AsyncApp.async_dispatch` and copies bolt's response back. The signature is checked here, over the raw
bytes, before anything is decoded or parsed (bad, missing or older than five minutes → 401, nothing
done): bolt parses the body when its request is built, before its own check, so unsigned junk used to
reach the parser. Bolt checks it again before any listener runs.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from quart import Blueprint, Quart, Response, request
from quart_schema import hide
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from hub.api.errors import error_response, install_error_handlers


def _to_quart(bolt_response: BoltResponse) -> Response:
    response = Response(bolt_response.body, status=bolt_response.status)
    response.headers.pop("Content-Type", None)
    for name, values in bolt_response.headers.items():
        for value in values:
            response.headers.add(name, value)  # keeps several Set-Cookie values
    return response


#: How old a signed request may be (Slack's own rule, as bolt applies it).
MAX_AGE_SECONDS = 300


def _signed(secret: bytes, raw: bytes) -> bool:
    """Whether Slack signed `raw`: `v0=HMAC_SHA256(secret, "v0:{timestamp}:" + body)` over the bytes as
    received, with a timestamp at most five minutes off. (slack_sdk's verifier decodes the body as
    UTF-8 and calls `int()` on the timestamp first: junk made both raise.)"""
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12 or not signature:
        return False
    if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace"))


async def _bolt_request(raw: bytes | None = None) -> AsyncBoltRequest:
    data = raw if raw is not None else await request.get_data()
    body = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return AsyncBoltRequest(
        body=body, query=request.query_string.decode("latin-1"), headers=dict(request.headers)
    )


def blueprint(bolt: AsyncApp, signing_secret: str) -> Blueprint:
    bp = Blueprint("slack", __name__)
    secret = signing_secret.encode()

    @bp.post("/slack/events")
    @hide
    async def slack_events() -> Response:
        raw = await request.get_data()  # 413 past MAX_BODY_BYTES
        if not isinstance(raw, bytes) or not _signed(secret, raw):
            return error_response(401, "unauthenticated", "the request is not signed by Slack")
        try:
            body = raw.decode("utf-8")
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string.decode("latin-1"), headers=dict(request.headers)
            )
        except (ValueError, RecursionError):  # signed, yet no text or no body bolt can read
            return error_response(400, "bad_request", "the request body is not a Slack payload")
        return _to_quart(await bolt.async_dispatch(bolt_request))

    flow = bolt.oauth_flow
    if flow is not None:

        @bp.get("/slack/install")
        @hide
        async def slack_install() -> Response:
            return _to_quart(await flow.handle_installation(await _bolt_request()))

        @bp.get("/slack/oauth_redirect")
        @hide
        async def slack_oauth_redirect() -> Response:
            return _to_quart(await flow.handle_callback(await _bolt_request()))

    return bp


def standalone_app(bolt: AsyncApp, signing_secret: str, max_body_bytes: int) -> Quart:
    """The web app of `switchboard slack` in HTTP mode: `POST /slack/events` (and the OAuth routes) and
    `/healthz`, with the hub's MAX_BODY_BYTES (413 past it) and its JSON error shape."""
    web = Quart("switchboard-slack")
    web.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    web.register_blueprint(blueprint(bolt, signing_secret))
    web.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})
    install_error_handlers(web)
    return web
