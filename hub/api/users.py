"""/api/users/*: site administrators deactivate and reactivate accounts."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_response

from hub.api.deps import current_user, hub
from hub.api.schemas import AccountOut
from hub.services.accounts import auth

bp = Blueprint("users", __name__, url_prefix="/api/users")


@bp.post("/<int:user_id>/deactivate")
@validate_response(AccountOut)
async def deactivate(user_id: int) -> dict[str, Any]:
    """Deactivate an account (site admins only; 403 for others, 404 for an unknown id, 409 for
    yourself). It can no longer sign in (403 `account_deactivated`) or refresh; its access tokens get
    401 and its sockets close with 4001 at once, on every instance. Idempotent."""
    actor = await current_user()
    return await auth.deactivate_user(hub().uow(), user_id, actor=actor)


@bp.post("/<int:user_id>/reactivate")
@validate_response(AccountOut)
async def reactivate(user_id: int) -> dict[str, Any]:
    """Let a deactivated account sign in again (site admins only). Its old sessions stay ended."""
    actor = await current_user()
    return await auth.reactivate_user(hub().uow(), user_id, actor=actor)
