"""`create_app(settings)`: the one place where the hub is wired together. Nothing connects at import."""

from __future__ import annotations

from quart import Quart, Response
from quart_schema import HttpSecurityScheme, Info, QuartSchema, hide

from bots.discord.runtime import install as install_discord
from bots.slack.runtime import install as install_slack
from hub.adapters.ratelimit import create_limiter
from hub.api import (
    auth,
    chat,
    hooks,
    integrations,
    invites,
    notifications,
    observe,
    projects,
    system,
    tickets,
    users,
    webhooks,
)
from hub.api.errors import install_error_handlers
from hub.api.http import bound_path_ids, install_http_policies
from hub.api.openapi import HubOpenAPI
from hub.config import Settings
from hub.context import HubContext, build_context
from hub.observability.metrics import Metrics, StatsCollector
from hub.observability.ratelimits import RateLimitCollector
from hub.realtime.admission import Admissions
from hub.realtime.connection import send_limits
from hub.realtime.endpoints import socket_app
from hub.realtime.service import Realtime
from hub.services.accounts import hashing
from hub.services.limits import Limits
from web import STATIC_DIR


def create_app(settings: Settings, context: HubContext | None = None) -> Quart:
    """Build the Quart app for `settings`; `context` lets tests and the CLI share one."""
    context = context or build_context(settings)
    app = Quart("switchboard", static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["switchboard"] = context
    bound_path_ids(app)  # before any route is added
    QuartSchema(
        app,
        info=Info(title="Switchboard", version="0.1.0", description="Real-time ticketing hub API"),
        openapi_path="/openapi.json",
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes={"bearer": HttpSecurityScheme(scheme="bearer", bearer_format="JWT")},
        openapi_provider_class=HubOpenAPI,  # errors, security and bounds per operation
    )
    blueprints = (
        auth.bp,
        projects.bp,
        tickets.bp,
        notifications.bp,
        notifications.prefs_bp,
        system.bp,
        observe.bp,
        webhooks.bp,
        chat.bp,
        users.bp,
        integrations.bp,
        invites.bp,
        hooks.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    metrics = Metrics()
    context.metrics = metrics
    realtime = Realtime(
        context.db,
        settings.redis_url,
        prefix=settings.redis_prefix,
        observe_latency=metrics.fanout_latency.observe,
    )
    metrics.add_collector(
        StatsCollector(realtime.stats, lambda: {"switchboard_open_sockets": realtime.open_sockets()})
    )
    observe.install_request_tracing(app)
    realtime.send_limits = send_limits(settings)
    context.realtime = realtime
    context.admissions = Admissions(context.uow, context.tokens)
    limits = Limits.from_settings(settings, create_limiter(settings.redis_url, prefix=settings.redis_prefix))
    context.limits = limits
    hashing.configure(settings.password_hash_concurrency, settings.password_hash_queue)
    metrics.add_collector(RateLimitCollector(limits, hashing.gate, realtime.stats))
    # The three sockets in front of Quart, wrapped as Quart documents; mypy checks an assigned method
    # against its unbound signature (with `self`), hence `assignment` as well as `method-assign`.
    app.asgi_app = socket_app(app.asgi_app, context)  # type: ignore[method-assign, assignment]
    context.publisher = realtime.publisher
    if settings.redis_url:
        context.readiness_probes["redis"] = realtime.ping_backend
    install_error_handlers(app)
    install_http_policies(app, settings.cors_allowed_origins)
    install_slack(app, context, observer=metrics.chat)  # a no-op unless Slack is configured
    install_discord(app, context, observer=metrics.chat)  # a no-op unless Discord is configured

    @app.get("/")
    @hide
    async def index() -> Response:
        return await app.send_static_file("index.html")

    @app.before_serving
    async def _start() -> None:
        await realtime.start()
        await limits.limiter.start()

    @app.after_serving
    async def _close() -> None:
        await realtime.stop()
        await limits.limiter.stop()
        await context.db.dispose()

    return app
