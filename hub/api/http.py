"""Cross-cutting HTTP behaviour: security headers, no caching of API answers, CORS for the configured
origins, and a request body that is valid JSON or a 400 (never a 500)."""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, request
from quart.routing import QuartRule
from quart.wrappers import Request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, IntegerConverter

from hub.domain.limits import digits_up_to, id_bound

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
#: Powerful browser features the board never uses, denied to it and to anything framed in it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)
_CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_CORS_HEADERS = "Authorization, Content-Type, X-Switchboard-Client"


class InvalidJSON(BadRequest):
    """The body is not JSON: bad syntax, not UTF-8, or nested deeper than the parser goes."""

    description = "the request body is not valid JSON"


class HubRequest(Request):
    """Quart's request, whose `get_json` turns every way a body can fail to be JSON into a 400.

    Quart decodes the body as UTF-8 before parsing (a `UnicodeDecodeError` escapes its `ValueError`
    handling) and the parser recurses per nesting level (a `RecursionError` escapes too): both were
    500s, before authentication even ran."""

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            return await super().get_json(force=force, silent=silent, cache=cache)
        except (UnicodeDecodeError, RecursionError) as error:
            if silent:
                return None
            return self.on_json_loading_failed(error)

    def on_json_loading_failed(self, error: Exception) -> Any:
        raise InvalidJSON()


class BoundedIdRule(QuartRule):
    """Every `<int:name>` in a route matches ASCII digits naming an id its column can hold (1 up to
    `hub.domain.limits.id_bound(name)`); anything beyond is no route at all: a 404, as for any other id
    that names nothing, instead of a database driver error."""

    def get_converter(
        self, variable_name: str, converter_name: str, args: tuple[Any, ...], kwargs: Any
    ) -> BaseConverter:
        converter = super().get_converter(variable_name, converter_name, args, kwargs)
        if isinstance(converter, IntegerConverter) and "max" not in kwargs:
            converter.min, converter.max = 1, id_bound(variable_name)
            # The range in the pattern itself: a value that fails `to_python` would make werkzeug
            # answer 405 when the path has another method. (`\d` would take other scripts' digits.)
            converter.regex = digits_up_to(converter.max)
        return converter


def bound_path_ids(app: Quart) -> None:
    """Call before routes are added: they are built with `BoundedIdRule`."""
    app.url_rule_class = BoundedIdRule


def install_http_policies(app: Quart, cors_origins: list[str]) -> None:
    allowed = set(cors_origins)
    app.request_class = HubRequest

    @app.before_request
    async def _preflight() -> Response | None:
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            response = Response("", status=204)
            return response
        return None

    @app.after_request
    async def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith("/api/"):
            # Tokens (login, refresh), secrets (webhook create and rotate-secret), link codes and
            # everyone's private data: nothing under /api/ may be kept by a browser or a proxy cache.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        origin = request.headers.get("Origin")
        if origin and ("*" in allowed or origin in allowed):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = _CORS_METHODS
                response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        return response
