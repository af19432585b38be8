"""/api/auth/* and /api/me."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_request, validate_response

from hub.api.deps import current_session, current_user, hub
from hub.api.limits import client_address, limits
from hub.api.schemas import (
    LoginIn,
    LogoutIn,
    MeOut,
    PasswordChangeIn,
    RefreshIn,
    RegisteredOut,
    RegisterIn,
    TokenOut,
)
from hub.domain.errors import Forbidden
from hub.services.accounts import auth
from hub.services.projects import invites
from hub.services.views import user_view

bp = Blueprint("auth", __name__, url_prefix="/api")


@bp.post("/auth/register")
@validate_request(RegisterIn)
@validate_response(RegisteredOut, 201)
async def register(data: RegisterIn) -> tuple[dict[str, Any], int]:
    """Create an account (when ALLOW_SIGNUP is on). With `invite` (an invite link's token), also join
    its project, in one step, whether or not sign-up is open: an unknown invite is 404, an ended one
    410 (`invite_expired` | `invite_revoked` | `invite_used_up`), and then no account is made."""
    await limits().check_register(client_address())
    context = hub()
    if data.invite is not None:
        user, project = await invites.register_with_invite(
            context.uow(), data.email, data.password, data.name, data.invite
        )
        return {**user_view(user), "project": project}, 201
    if not context.settings.allow_signup:
        raise Forbidden("sign-up is disabled on this hub; ask an administrator for an account")
    user = await auth.register(context.uow(), data.email, data.password, data.name)
    return user_view(user), 201


@bp.post("/auth/login")
@validate_request(LoginIn)
@validate_response(TokenOut)
async def login(data: LoginIn) -> dict[str, Any]:
    """Exchange email and password for an access token and a refresh token (a new session).
    A deactivated account gets 403 `account_deactivated`, once the password is right."""
    context = hub()
    async with limits().login_attempt(data.email, client_address()):
        return await auth.login(context.uow(), context.tokens, data.email, data.password)


@bp.post("/auth/refresh")
@validate_request(RefreshIn)
@validate_response(TokenOut)
async def refresh(data: RefreshIn) -> dict[str, Any]:
    """Rotate a refresh token. Reusing a rotated token revokes every token of that login (a replay
    within a few seconds, as when two tabs race, is forgiven once)."""
    await limits().check_refresh(client_address())
    context = hub()
    return await auth.refresh(context.uow(), context.tokens, data.refresh_token)


@bp.post("/auth/logout")
@validate_request(LogoutIn)
async def logout(data: LogoutIn) -> tuple[str, int]:
    """End this session: its access tokens stop working at once and its sockets close with 4001, on
    every instance; the given refresh token's session ends too. `everywhere` (or a token without a
    session and no refresh token) ends every session of the user."""
    user, claims = await current_session()
    await auth.logout(hub().uow(), user, claims, data.refresh_token, everywhere=data.everywhere)
    return "", 204


@bp.get("/me")
@validate_response(MeOut)
async def me() -> dict[str, Any]:
    """The authenticated user."""
    return await auth.get_me(hub().uow(), await current_user())


@bp.post("/me/password")
@validate_request(PasswordChangeIn)
async def change_password(data: PasswordChangeIn) -> tuple[str, int]:
    """Change your password (send the current one). Every other session of yours ends at once (its
    tokens get 401, its sockets close with 4001); this one stays signed in."""
    user, claims = await current_session()
    await auth.change_password(hub().uow(), user, claims, data.current_password, data.new_password)
    return "", 204
