"""Registration, login, rotating refresh tokens, logout, /api/me."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import select

from hub.adapters.db.models import RefreshToken
from hub.context import HubContext
from tests.conftest import SECRET
from tests.support.api import PASSWORD, Api


async def test_register_login_me(api: Api) -> None:
    reply = await api.post(
        "/api/auth/register", json={"email": "Ann@Example.com", "password": PASSWORD, "name": "Ann"}
    )
    assert reply.status == 201
    assert reply.body == {"id": reply.body["id"], "name": "Ann", "email": "ann@example.com"}
    login = await api.post("/api/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert login.status == 200
    assert login.body["token_type"] == "bearer"
    assert login.body["expires_in"] == 900
    me = await api.get("/api/me", token=login.body["access_token"])
    assert me.status == 200
    assert me.body["email"] == "ann@example.com"
    assert me.body["is_admin"] is False


async def test_register_rejects_duplicates_and_bad_fields(api: Api) -> None:
    await api.post("/api/auth/register", json={"email": "dup@example.com", "password": PASSWORD, "name": "D"})
    again = await api.post(
        "/api/auth/register", json={"email": "DUP@example.com", "password": PASSWORD, "name": "D"}
    )
    assert again.status == 409
    assert again.error_fields() == {"email": "already registered"}
    bad = await api.post(
        "/api/auth/register", json={"email": "x@example.com", "password": "short", "name": ""}
    )
    assert bad.status == 422
    assert set(bad.error_fields()) == {"password", "name"}
    assert bad.body["error"]["code"] == "validation_error"


async def test_wrong_password_and_unknown_user_are_alike(api: Api) -> None:
    user = await api.user()
    wrong = await api.post("/api/auth/login", json={"email": user.email, "password": "wrong-password"})
    nobody = await api.post("/api/auth/login", json={"email": "nobody@example.com", "password": "x" * 10})
    assert wrong.status == nobody.status == 401
    assert wrong.body == nobody.body


async def test_missing_bad_and_expired_tokens_are_401(api: Api) -> None:
    user = await api.user()
    assert (await api.get("/api/me")).status == 401
    assert (await api.get("/api/me", token="not-a-jwt")).status == 401
    forged = jwt.encode(
        {"sub": str(user.id), "typ": "access", "exp": 4102444800},
        "another-secret-key-of-sufficient-length-xyz",
        "HS256",
    )
    assert (await api.get("/api/me", token=forged)).status == 401
    expired = jwt.encode({"sub": str(user.id), "typ": "access", "exp": 1000}, SECRET, "HS256")
    reply = await api.get("/api/me", token=expired)
    assert reply.status == 401
    assert reply.body["error"] == {"code": "unauthenticated", "message": "token expired", "fields": {}}
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def _age_rotations(context: HubContext, seconds: int) -> None:
    async with context.uow() as uow:
        for row in await uow.session.scalars(select(RefreshToken).where(RefreshToken.used_at.is_not(None))):
            row.used_at = row.used_at - timedelta(seconds=seconds) if row.used_at else None
        await uow.commit()


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api, context: HubContext) -> None:
    user = await api.user()
    first = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status == 200
    assert first.body["refresh_token"] != user.refresh_token
    second = await api.post("/api/auth/refresh", json={"refresh_token": first.body["refresh_token"]})
    assert second.status == 200
    await _age_rotations(context, 60)
    # The first token was rotated a minute ago: presenting it again is theft → family revoked.
    reuse = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert reuse.status == 401
    assert "revoked" in reuse.body["error"]["message"]
    latest = await api.post("/api/auth/refresh", json={"refresh_token": second.body["refresh_token"]})
    assert latest.status == 401


async def test_a_rotated_token_reused_within_seconds_gets_a_fresh_pair(api: Api) -> None:
    """A lost response or two tabs racing is not theft: no sign-out for the user."""
    user = await api.user()
    first = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    again = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status == again.status == 200
    assert again.body["refresh_token"] not in (first.body["refresh_token"], user.refresh_token)
    for token in (first.body["refresh_token"], again.body["refresh_token"]):
        assert (await api.post("/api/auth/refresh", json={"refresh_token": token})).status == 200


async def test_logout_revokes_that_login_only(api: Api) -> None:
    user = await api.user()
    other = await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    out = await api.post("/api/auth/logout", json={"refresh_token": user.refresh_token}, token=user.token)
    assert out.status == 204
    dead = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert dead.status == 401
    alive = await api.post("/api/auth/refresh", json={"refresh_token": other.body["refresh_token"]})
    assert alive.status == 200


async def test_signup_can_be_disabled(api: Api) -> None:
    from quart import current_app  # noqa: F401  (the app fixture is running)

    context = api.client.app.extensions["switchboard"]
    context.settings = context.settings.model_copy(update={"allow_signup": False})
    reply = await api.post(
        "/api/auth/register", json={"email": "n@example.com", "password": PASSWORD, "name": "N"}
    )
    assert reply.status == 403
