"""`POST /slack/events` (events, slash commands, interactivity) and the OAuth install routes.

There is no Quart adapter in slack-bolt, so the route hands the raw request to
`AsyncApp.async_dispatch` and copies bolt's response back. Bolt checks the signature (bad, missing or
older than five minutes → 401, nothing done) before any listener runs.
"""

from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import hide
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse


def _to_quart(bolt_response: BoltResponse) -> Response:
    response = Response(bolt_response.body, status=bolt_response.status)
    response.headers.pop("Content-Type", None)
    for name, values in bolt_response.headers.items():
        for value in values:
            response.headers.add(name, value)  # keeps several Set-Cookie values
    return response


async def _bolt_request() -> AsyncBoltRequest:
    raw = await request.get_data()
    body = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return AsyncBoltRequest(body=body, query=request.query_string.decode(), headers=dict(request.headers))


def blueprint(bolt: AsyncApp) -> Blueprint:
    bp = Blueprint("slack", __name__)

    @bp.post("/slack/events")
    @hide
    async def slack_events() -> Response:
        return _to_quart(await bolt.async_dispatch(await _bolt_request()))

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
