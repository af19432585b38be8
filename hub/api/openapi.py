"""/openapi.json as the API behaves: every status an operation can answer, who must authenticate, and the
bounds of every path id. The one place that says so, derived from each route.

quart-schema documents what the decorators declare: the request and the success response. The rest is
added here, per operation, from what the route needs:

- authentication: every operation takes `Authorization: Bearer <access_token>` (401 without a valid
  one) except those in `PUBLIC`, which declare `security: []`;
- path parameters: 404 (nothing there, or nothing this user may see); an integer id is bounded by its
  column (`hub.api.http.BoundedIdRule`), and the bounds are copied from the very converter that routes;
- a request body: 400 (not JSON), 413 (larger than MAX_BODY_BYTES), 422 (a field is wrong); the body is
  required; a query string model: 422;
- what only the service knows (a role that is too low, a conflict, a rate limit): `OUTCOMES`, one line
  per route that has any;
- an operation that declares no success response answers 204 with no body.

Every error carries the contract's shape, `{"error": {"code", "message", "fields"}}` (`ErrorOut`).
"""

from __future__ import annotations

import copy
from typing import Any

from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import IntegerConverter, Rule

from hub.api.schemas import ErrorOut

#: Operations anyone may call: they are how a client gets a token in the first place (and what an invite
#: link offers, which the sign-up page shows before there is an account).
PUBLIC = frozenset({"auth.register", "auth.login", "auth.refresh", "invites.preview_invite"})

#: Statuses only the service can tell, by endpoint: 401 on the public sign-in routes (bad credentials),
#: 403 (the role does not allow it, or sign-up is off), 409 (a conflict with the current state), 429
#: (a rate limit: sign-in, sign-up, refresh and member additions).
OUTCOMES: dict[str, tuple[int, ...]] = {
    "auth.register": (403, 404, 409, 410, 429),
    "auth.login": (401, 429),
    "auth.refresh": (401, 429),
    "projects.create_project": (409,),
    "projects.update_project": (403,),
    "projects.add_member": (403, 409, 429),
    "projects.update_member": (403, 409),
    "projects.remove_member": (403, 409),
    "projects.leave_project": (409,),
    "projects.broadcast_to_project": (403,),
    "invites.create_invite": (403,),
    "invites.list_invites": (403,),
    "invites.revoke_invite": (403,),
    "invites.preview_invite": (410,),
    "invites.accept_invite": (409, 410, 429),
    "tickets.create_ticket": (403,),
    "tickets.update_ticket": (403, 409),
    "tickets.delete_ticket": (403,),
    "tickets.add_comment": (403,),
    "tickets.edit_comment": (403,),
    "tickets.delete_comment": (403,),
    "webhooks.list_webhooks": (403,),
    "webhooks.create_webhook": (403,),
    "webhooks.get_webhook": (403,),
    "webhooks.update_webhook": (403,),
    "webhooks.delete_webhook": (403,),
    "webhooks.rotate_secret": (403,),
    "webhooks.test_webhook": (403,),
    "webhooks.list_deliveries": (403,),
    "webhooks.replay": (403, 409),
    "webhooks.get_delivery": (403,),
    "webhooks.redeliver": (403, 409),
    "integrations.list_integrations": (403,),
    "integrations.create_integration": (403,),
    "integrations.get_integration": (403,),
    "integrations.update_integration": (403,),
    "integrations.delete_integration": (403,),
    "integrations.rotate_secret": (403,),
    "integrations.list_deliveries": (403,),
    "chat.delete_subscription": (403,),
    "users.deactivate": (403,),
    "users.reactivate": (403,),
}

REASONS = {
    400: "The body is not JSON, or not a JSON object.",
    401: "No valid access token (or, signing in, wrong credentials).",
    403: "Your role in the project does not allow this.",
    404: "Nothing there, or nothing you may see.",
    409: "Conflicts with the current state (a stale version, a duplicate, the last owner).",
    410: "Over for good: an invite link that expired, was revoked or was used up (`code` says which).",
    413: "The body is larger than the hub's MAX_BODY_BYTES.",
    422: "A field or parameter is invalid; `fields` names each one.",
    429: "Too many attempts; retry after `Retry-After` seconds.",
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_INTEGER_KEYS = ("minimum", "maximum")


def error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": REASONS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}},
        }
    elif status == 429:
        response["headers"] = {
            "Retry-After": {
                "required": True,
                "description": "seconds to wait",
                "schema": {"type": "integer", "minimum": 1},
            },
        }
    return response


def error_statuses(endpoint: str, operation: dict[str, Any]) -> set[int]:
    """The 4xx statuses `operation` (of the view `endpoint`) can answer."""
    statuses = set(OUTCOMES.get(endpoint, ()))
    if endpoint not in PUBLIC:
        statuses.add(401)
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)
    if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    return statuses


def _bound_path_parameters(operation: dict[str, Any], rule: Rule) -> None:
    for parameter in operation.get("parameters", []):
        converter = rule._converters.get(parameter["name"]) if parameter["in"] == "path" else None
        if isinstance(converter, IntegerConverter):
            for key, value in zip(_INTEGER_KEYS, (converter.min, converter.max), strict=True):
                if value is not None:
                    parameter["schema"][key] = value


def describe(operation: dict[str, Any], rule: Rule) -> dict[str, Any]:
    """`operation` (as quart-schema built it for `rule`) with its security, errors and bounds."""
    operation = copy.deepcopy(operation)  # quart-schema shares parts between a rule's methods
    endpoint = rule.endpoint
    operation["security"] = [] if endpoint in PUBLIC else BEARER
    _bound_path_parameters(operation, rule)
    if "requestBody" in operation:
        operation["requestBody"]["required"] = True
    responses = {str(status): response for status, response in operation.get("responses", {}).items()}
    operation["responses"] = responses
    if not any(str(status).startswith("2") for status in responses):
        responses["204"] = {"description": "Done; no body."}
    for status in sorted(error_statuses(endpoint, operation)):
        responses.setdefault(str(status), error_response(status))
    return operation


def error_components() -> dict[str, Any]:
    """`Error` (the body of every 4xx) and what it refers to, as OpenAPI components."""
    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    components: dict[str, Any] = schema.pop("$defs", {})
    schema["title"] = "Error"
    components["Error"] = schema
    return components


class HubOpenAPI(OpenAPIProvider):
    """quart-schema's provider with `describe` applied to every operation."""

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        for path_item in paths.values():
            for method, operation in list(path_item.items()):
                path_item[method] = describe(operation, rule)
        return paths, components

    def schema(self) -> dict[str, Any]:
        document = super().schema()
        document.pop("security", None)  # declared per operation
        document["components"]["schemas"].update(error_components())
        return document
