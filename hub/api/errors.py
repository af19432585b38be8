"""One error shape for every failure: `{"error": {"code", "message", "fields"}}`, never a trace."""

from __future__ import annotations

import logging
import math
from typing import Any

from pydantic import ValidationError
from quart import Quart, Response, jsonify
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from hub.domain.errors import DomainError, RateLimited

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="switchboard"'
    return response


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query")]
    return ".".join(parts) or "body"


def pydantic_fields(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors():
        name = _field_name(tuple(item["loc"]))
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        fields.setdefault(name, message)
    return fields


def install_error_handlers(app: Quart) -> None:
    @app.errorhandler(DomainError)
    async def _domain(error: DomainError) -> Response:
        response = error_response(error.status, error.code, error.message, error.fields)
        if isinstance(error, RateLimited):
            # Whole seconds, rounded up (RFC 9110), and at least 1 so clients never retry in a loop.
            response.headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        return response

    @app.errorhandler(RequestSchemaValidationError)
    async def _schema(error: RequestSchemaValidationError) -> Response:
        cause = error.validation_error
        if isinstance(cause, ValidationError):
            fields = pydantic_fields(cause)
            return error_response(422, "validation_error", "the request has invalid fields", fields)
        return error_response(400, "bad_request", "the request body must be a JSON object")

    @app.errorhandler(HTTPException)
    async def _http(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = error.description or error.name
        if status == 400:
            message = "the request body is not valid JSON" if "JSON" in (message or "") else message
        if status == 413:
            message = "the request body is too large"
        response = error_response(status, code, message)
        for name, value in error.get_headers():
            if name.lower() == "allow":  # a 405 says which methods the resource has (RFC 9110)
                response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    async def _crash(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side")
