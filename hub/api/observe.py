"""Request ids, access logs and HTTP metrics for every request; the `/metrics` endpoint."""

from __future__ import annotations

import logging
import time
import uuid

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from quart import Blueprint, Quart, Response, g, request
from quart_schema import hide

from hub.api.deps import hub
from hub.observability.logs import redact, request_id
from hub.observability.metrics import Metrics

log = logging.getLogger("switchboard.access")
bp = Blueprint("observe", __name__)


def _metrics() -> Metrics:
    metrics: Metrics = hub().extras["metrics"]
    return metrics


@bp.get("/metrics")
@hide
async def metrics() -> Response:
    """Prometheus metrics (text exposition format)."""
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
