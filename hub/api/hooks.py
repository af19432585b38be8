"""`POST /hooks/{integration_id}`: where GitHub, Alertmanager and signed tools send their requests.

Public: no user token, only each kind's own signature (hub.services.integrations.receiver). The body
is read raw (signatures cover its exact bytes) and limited to INTEGRATION_MAX_BODY. Not in
/openapi.json: its requests are the senders' formats, documented in docs/integrations.md.
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from quart_schema import hide
from werkzeug.exceptions import RequestEntityTooLarge

from hub.adapters.ratelimit import Rate
from hub.api.deps import hub
from hub.config import parse_rate
from hub.services.integrations.receiver import Receiving, receive

bp = Blueprint("hooks", __name__)


def receiving() -> Receiving:
    context = hub()
    settings = context.settings
    parsed = parse_rate(settings.integration_rate_limit)
    limits = context.limits
    return Receiving(
        uow=context.uow,
        limiter=limits.limiter if limits is not None else None,
        rate=Rate(*parsed) if parsed else None,
        tolerance=settings.integration_signature_tolerance,
        refused=limits.refused if limits is not None else {},
    )


@bp.post("/hooks/<int:integration_id>")
@hide
async def receive_hook(integration_id: int) -> Response:
    limit = hub().settings.integration_max_body
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    body = await request.get_data(False, False, False)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    headers = {name.lower(): value for name, value in request.headers.items()}
    reply = await receive(receiving(), integration_id, headers, body)
    response = jsonify(reply.body)
    response.status_code = reply.status
    return response
