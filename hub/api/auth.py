"""/api/auth/* and /api/me."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_request, validate_response

from hub.api.deps import current_user, hub
from hub.api.schemas import LoginIn, LogoutIn, MeOut, RefreshIn, RegisterIn, TokenOut, UserOut
from hub.domain.errors import Forbidden
from hub.services import auth
from hub.services.views import user_view

bp = Blueprint("auth", __name__, url_prefix="/api")


@bp.post("/auth/register")
@validate_request(RegisterIn)
@validate_response(UserOut, 201)
async def register(data: RegisterIn) -> tuple[dict[str, Any], int]:
    """Create an account (when ALLOW_SIGNUP is on)."""
    context = hub()
    if not context.settings.allow_signup:
        raise Forbidden("sign-up is disabled on this hub; ask an administrator for an account")
    user = await auth.register(context.uow(), data.email, data.password, data.name)
    return user_view(user), 201


@bp.post("/auth/login")
@validate_request(LoginIn)
@validate_response(TokenOut)
async def login(data: LoginIn) -> dict[str, Any]:
    """Exchange email and password for an access token and a refresh token."""
    context = hub()
    return await auth.login(context.uow(), context.tokens, data.email, data.password)


@bp.post("/auth/refresh")
@validate_request(RefreshIn)
@validate_response(TokenOut)
async def refresh(data: RefreshIn) -> dict[str, Any]:
    """Rotate a refresh token. Reusing a rotated token revokes every token of that login."""
    context = hub()
    return await auth.refresh(context.uow(), context.tokens, data.refresh_token)


@bp.post("/auth/logout")
@validate_request(LogoutIn)
async def logout(data: LogoutIn) -> tuple[str, int]:
    """Revoke the given refresh token's login (or all of the user's logins when none is given)."""
    user = await current_user()
    await auth.logout(hub().uow(), user, data.refresh_token)
    return "", 204


@bp.get("/me")
@validate_response(MeOut)
async def me() -> dict[str, Any]:
    """The authenticated user."""
    return await auth.get_me(hub().uow(), await current_user())
