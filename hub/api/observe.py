"""Request ids, access logs and HTTP metrics for every request; the `/metrics` endpoint.

`/metrics` is not public: with METRICS_TOKEN set it wants `Authorization: Bearer <METRICS_TOKEN>`
(401 otherwise); without it, it answers only requests made directly from this machine — a loopback
peer (or none: a Unix socket, the test client) and no `X-Forwarded-For`/`Forwarded`/`X-Real-IP`
header, since a reverse proxy on the same host forwards everyone's requests from loopback (403
otherwise).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
import uuid

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from quart import Blueprint, Quart, Response, g, request
from quart_schema import hide

from hub.api.deps import hub
from hub.api.errors import error_response
from hub.domain.correlation import request_id
from hub.observability.logs import redact
from hub.observability.metrics import Metrics

log = logging.getLogger("switchboard.access")
bp = Blueprint("observe", __name__)


def _metrics() -> Metrics:
    return hub().require_metrics()


_PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _direct_local_request() -> bool:
    if any(name in request.headers for name in _PROXY_HEADERS):
        return False
    client = request.scope.get("client")
    if not client:
        return True  # a Unix socket or an in-process client
    try:
        return ipaddress.ip_address(str(client[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


def metrics_refusal() -> Response | None:
    """Why this request may not read `/metrics` (an error response), or None when it may."""
    token = hub().settings.metrics_token
    if token is not None:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), expected):
            return None
        return error_response(401, "unauthenticated", "send Authorization: Bearer <METRICS_TOKEN>")
    if _direct_local_request():
        return None
    return error_response(
        403, "forbidden", "/metrics answers only local requests; set METRICS_TOKEN to scrape it remotely"
    )


@bp.get("/metrics")
@hide
async def metrics() -> Response:
    """Prometheus metrics (text exposition format)."""
    refusal = metrics_refusal()
    if refusal is not None:
        return refusal
    return Response(generate_latest(_metrics().registry), content_type=CONTENT_TYPE_LATEST)


def install_request_tracing(app: Quart) -> None:
    @app.before_request
    async def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        g.request_id = rid
        g.started = time.perf_counter()
        request_id.set(rid)

    @app.after_request
    async def _finish(response: Response) -> Response:
        started = getattr(g, "started", None)
        if started is None:
            return response
        elapsed = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics = _metrics()
        metrics.http_requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.http_duration.labels(route).observe(elapsed)
        response.headers["X-Request-ID"] = g.request_id
        log.info(
            "%s %s %s %.1fms",
            request.method,
            redact(request.full_path.rstrip("?")),
            response.status_code,
            elapsed * 1000,
            extra={
                "request_id": g.request_id,
                "method": request.method,
                "path": redact(request.full_path.rstrip("?")),
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        return response
