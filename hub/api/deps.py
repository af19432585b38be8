"""What handlers need from the request: the hub's context and the authenticated user."""

from __future__ import annotations

from quart import current_app, request

from hub.context import HubContext
from hub.domain.errors import Unauthenticated
from hub.domain.identity import Actor
from hub.services.accounts.auth import AccessClaims, authenticate, user_for_token


def hub() -> HubContext:
    context: HubContext = current_app.extensions["switchboard"]
    return context


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <access_token>")
    return token.strip()


#: The header the hub's own web board sends on every REST call, so its changes are recorded with the
#: origin `web` (events, activity, chat relays) rather than `api`.
CLIENT_HEADER = "X-Switchboard-Client"


def client_origin() -> str:
    """`web` for the hub's web board (it says so in `X-Switchboard-Client`), else `api`. A label for
    people reading the activity, not an authorization fact: any client may claim it."""
    return "web" if request.headers.get(CLIENT_HEADER, "").strip().lower() == "web" else "api"


async def current_user() -> Actor:
    """The user of the request's access token; 401 when it is missing, bad or expired, its session
    ended or its user is deactivated (one database read, see `services.auth.authenticate`)."""
    context = hub()
    return await user_for_token(context.uow(), context.tokens, bearer_token())


async def current_session() -> tuple[Actor, AccessClaims]:
    """`current_user` with the token's claims (its session), for handlers that end sessions."""
    context = hub()
    return await authenticate(context.uow(), context.tokens, bearer_token())
