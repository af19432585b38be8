"""Service endpoints: health, readiness, the API docs page."""

from __future__ import annotations

import asyncio
from typing import Any

from quart import Blueprint, Response, current_app
from quart_schema import hide

from hub.api.deps import hub

bp = Blueprint("system", __name__)


@bp.get("/healthz")
@hide
async def healthz() -> dict[str, Any]:
    """The process is up. `signup`: whether anyone may create an account (ALLOW_SIGNUP; the sign-in
    page offers "Create an account"). On a demo hub it also says how to log in (the board shows the
    hint)."""
    body: dict[str, Any] = {"status": "ok", "signup": hub().settings.allow_signup}
    demo = hub().demo_login
    if demo is not None:
        body["demo"] = {"email": demo.email, "password": demo.password}
    return body


@bp.get("/readyz")
@hide
async def readyz() -> tuple[dict[str, Any], int]:
    """Ready to serve: the database answers (and Redis, when configured)."""
    context = hub()
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(context.db.ping(), timeout=2)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason is shown
        checks["database"] = f"error: {type(exc).__name__}"
    for name, probe in context.readiness_probes.items():
        try:
            await asyncio.wait_for(probe(), timeout=2)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503


@bp.get("/docs")
@hide
async def docs() -> Response:
    """A self-contained API reference rendered from /openapi.json (no CDN: works offline)."""
    return await current_app.send_static_file("docs.html")
