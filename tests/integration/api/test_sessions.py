"""Sessions end now, not when their access token expires: logout, refresh-token reuse, password change
and deactivation; the password and email policy of new accounts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select, text, update

from hub.adapters.db.models import Event, LoginSession, RefreshToken, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.webhook_models import WebhookDelivery
from hub.context import HubContext
from hub.services.accounts.auth import SESSION_REVOKED, issue_access_token
from hub.services.webhooks import outbox as webhook_outbox
from tests.conftest import SECRET
from tests.support.api import PASSWORD, Api
from tests.support.api import User as ApiUser
from tests.support.process import HubProcess, cli_env, run_cli


async def _login(api: Api, user: ApiUser, password: str = PASSWORD) -> dict[str, Any]:
    reply = await api.post("/api/auth/login", json={"email": user.email, "password": password})
    assert reply.status == 200, reply.body
    return dict(reply.body)


async def _me(api: Api, token: str) -> int:
    return (await api.get("/api/me", token=token)).status


async def _refresh(api: Api, token: str) -> int:
    return (await api.post("/api/auth/refresh", json={"refresh_token": token})).status


async def _make_admin(context: HubContext, user: ApiUser) -> None:
    async with context.uow() as uow:
        await uow.session.execute(update(User).where(User.id == user.id).values(is_admin=True))
        await uow.commit()


async def _revocations(context: HubContext) -> list[Event]:
    async with context.uow() as uow:
        return list(await uow.session.scalars(select(Event).where(Event.type == SESSION_REVOKED)))


# -- tokens carry their session ----------------------------------------------------------------------
async def test_access_tokens_name_their_session(api: Api, context: HubContext) -> None:
    user = await api.user()
    claims = jwt.decode(user.token, SECRET, algorithms=["HS256"])
    async with context.uow() as uow:
        session = await uow.session.get(LoginSession, claims["sid"])
        family = await uow.session.scalar(
            select(RefreshToken.family_id).where(RefreshToken.user_id == user.id)
        )
    assert session is not None
    assert (session.user_id, session.revoked_at) == (user.id, None)
    assert family == claims["sid"]
    refreshed = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert jwt.decode(refreshed.body["access_token"], SECRET, algorithms=["HS256"])["sid"] == claims["sid"]


# -- logout ------------------------------------------------------------------------------------------
async def test_logout_ends_that_sessions_access_token_at_once_and_no_other(
    api: Api, context: HubContext
) -> None:
    user = await api.user()
    other = await _login(api, user)
    assert await _me(api, user.token) == 200  # verified and remembered (`_verified`) before logout
    out = await api.post("/api/auth/logout", json={"refresh_token": user.refresh_token}, token=user.token)
    assert out.status == 204
    reply = await api.get("/api/me", token=user.token)
    assert reply.status == 401
    assert reply.body["error"]["code"] == "unauthenticated"
    assert await _refresh(api, user.refresh_token) == 401
    assert await _me(api, other["access_token"]) == 200
    assert await _refresh(api, other["refresh_token"]) == 200
    [event] = await _revocations(context)
    assert event.project_id is None
    assert event.payload == {
        "user_id": user.id,
        "session_id": jwt.decode(user.token, SECRET, algorithms=["HS256"])["sid"],
        "reason": "signed_out",
    }


async def test_logout_without_a_refresh_token_ends_the_access_tokens_session(api: Api) -> None:
    user = await api.user()
    other = await _login(api, user)
    assert (await api.post("/api/auth/logout", json={}, token=user.token)).status == 204
    assert await _me(api, user.token) == 401
    assert await _refresh(api, user.refresh_token) == 401
    assert await _me(api, other["access_token"]) == 200


async def test_logout_everywhere_ends_every_session_and_session_less_token(
    api: Api, context: HubContext
) -> None:
    user = await api.user()
    other = await _login(api, user)
    script = issue_access_token(context.tokens, user.id)  # like `switchboard token`: no session
    assert await _me(api, script) == 200
    out = await api.post("/api/auth/logout", json={"everywhere": True}, token=user.token)
    assert out.status == 204
    for token in (user.token, other["access_token"], script):
        assert await _me(api, token) == 401
    for token in (user.refresh_token, other["refresh_token"]):
        assert await _refresh(api, token) == 401
    fresh = await _login(api, user)
    assert await _me(api, fresh["access_token"]) == 200


async def test_a_session_less_token_without_a_refresh_token_signs_out_everywhere(
    api: Api, context: HubContext
) -> None:
    """It names no session to end, so logout ends them all (what logout without a refresh token
    always did)."""
    user = await api.user()
    script = issue_access_token(context.tokens, user.id)
    assert (await api.post("/api/auth/logout", json={}, token=script)).status == 204
    assert await _me(api, script) == 401
    assert await _me(api, user.token) == 401


async def test_another_users_refresh_token_is_not_ended_by_my_logout(api: Api) -> None:
    me, them = await api.user(), await api.user()
    out = await api.post("/api/auth/logout", json={"refresh_token": them.refresh_token}, token=me.token)
    assert out.status == 204
    assert await _me(api, them.token) == 200
    assert await _refresh(api, them.refresh_token) == 200


async def test_revocation_events_reach_no_activity_feed_and_no_webhook(api: Api, context: HubContext) -> None:
    owner = await api.user()
    pid = (await api.project(owner))["id"]
    context.settings = context.settings.model_copy(update={"webhook_allow_private": True})
    hook = await api.post(
        f"/api/projects/{pid}/webhooks", json={"url": "http://127.0.0.1:9/in"}, token=owner.token
    )
    assert hook.status == 201, hook.body
    second = await _login(api, owner)
    await api.post("/api/auth/logout", json={}, token=second["access_token"])
    [revocation] = await _revocations(context)
    feed = await api.get(f"/api/projects/{pid}/events", query={"after": 0}, token=owner.token)
    assert feed.status == 200
    assert SESSION_REVOKED not in {item["type"] for item in feed.body["items"]}
    result = await webhook_outbox.fan_out(context.uow(), utcnow())
    assert result.position == revocation.id  # read past ...
    async with context.uow() as uow:
        sent = set(await uow.session.scalars(select(WebhookDelivery.event_id)))
    assert revocation.id not in sent  # ... and sent nowhere


# -- refresh-token reuse -----------------------------------------------------------------------------
async def test_a_rotated_token_is_forgiven_once_within_the_grace_then_the_session_ends(api: Api) -> None:
    user = await api.user()
    first = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    replay = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status == replay.status == 200  # two tabs racing
    again = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert again.status == 401
    assert "revoked" in again.body["error"]["message"]
    for pair in (first.body, replay.body):
        assert await _refresh(api, pair["refresh_token"]) == 401
        assert await _me(api, pair["access_token"]) == 401
    assert await _me(api, user.token) == 401


async def test_reuse_after_the_grace_ends_the_sessions_access_tokens(api: Api, context: HubContext) -> None:
    user = await api.user()
    first = await api.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    async with context.uow() as uow:
        for row in await uow.session.scalars(select(RefreshToken).where(RefreshToken.used_at.is_not(None))):
            row.used_at = (row.used_at or utcnow()) - timedelta(seconds=60)
        await uow.commit()
    assert await _refresh(api, user.refresh_token) == 401
    assert await _me(api, first.body["access_token"]) == 401


# -- password change ---------------------------------------------------------------------------------
async def test_password_change_ends_every_other_session(api: Api, context: HubContext) -> None:
    user = await api.user()
    other = await _login(api, user)
    script = issue_access_token(context.tokens, user.id)
    wrong = await api.post(
        "/api/me/password",
        json={"current_password": "not-it-at-all", "new_password": "a new long one"},
        token=user.token,
    )
    assert wrong.status == 422
    assert wrong.error_fields() == {"current_password": "is not correct"}
    weak = await api.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "Password123!"},
        token=user.token,
    )
    assert weak.status == 422
    assert set(weak.error_fields()) == {"new_password"}
    assert await _me(api, other["access_token"]) == 200  # refused changes end nothing
    changed = await api.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "violet-lantern-harbour"},
        token=user.token,
    )
    assert changed.status == 204
    assert await _me(api, user.token) == 200  # this session stays
    assert await _refresh(api, user.refresh_token) == 200
    for token in (other["access_token"], script):
        assert await _me(api, token) == 401
    assert await _refresh(api, other["refresh_token"]) == 401
    old = await api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert old.status == 401
    await _login(api, user, "violet-lantern-harbour")


async def test_password_change_needs_a_token(api: Api) -> None:
    reply = await api.post("/api/me/password", json={"current_password": "x", "new_password": "y" * 10})
    assert reply.status == 401


# -- deactivation --------------------------------------------------------------------------------------
async def test_only_site_admins_deactivate_and_unknown_ids_are_404(api: Api, context: HubContext) -> None:
    admin, target, someone = await api.user("Ada Admin"), await api.user("Target"), await api.user()
    assert (await api.post(f"/api/users/{target.id}/deactivate", token=someone.token)).status == 403
    assert (await api.post("/api/users/999999/deactivate", token=someone.token)).status == 403
    assert (await api.post(f"/api/users/{target.id}/deactivate")).status == 401
    await _make_admin(context, admin)
    assert (await api.post("/api/users/999999/deactivate", token=admin.token)).status == 404
    assert (await api.post("/api/users/999999/reactivate", token=admin.token)).status == 404
    assert (await api.post(f"/api/users/{admin.id}/deactivate", token=admin.token)).status == 409
    assert (await api.post(f"/api/users/{target.id}/reactivate", token=someone.token)).status == 403
    assert await _me(api, target.token) == 200


async def test_deactivation_ends_everything_at_once_and_reactivation_needs_a_new_login(
    api: Api, context: HubContext
) -> None:
    admin, target = await api.user("Ada Admin"), await api.user("Target")
    await _make_admin(context, admin)
    other = await _login(api, target)
    script = issue_access_token(context.tokens, target.id)
    reply = await api.post(f"/api/users/{target.id}/deactivate", token=admin.token)
    assert reply.status == 200, reply.body
    assert reply.body["id"] == target.id
    assert reply.body["deactivated_at"] is not None
    for token in (target.token, other["access_token"], script):
        assert await _me(api, token) == 401
    for token in (target.refresh_token, other["refresh_token"]):
        assert await _refresh(api, token) == 401
    right = await api.post("/api/auth/login", json={"email": target.email, "password": PASSWORD})
    assert right.status == 403
    assert right.body["error"]["code"] == "account_deactivated"
    # Without the password nothing is told: the same answer as for an unknown email.
    wrong = await api.post("/api/auth/login", json={"email": target.email, "password": "wrong-password"})
    nobody = await api.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "wrong-password"}
    )
    assert wrong.status == nobody.status == 401
    assert wrong.body == nobody.body
    again = await api.post(f"/api/users/{target.id}/deactivate", token=admin.token)
    assert again.status == 200
    assert again.body["deactivated_at"] == reply.body["deactivated_at"]
    back = await api.post(f"/api/users/{target.id}/reactivate", token=admin.token)
    assert back.status == 200
    assert back.body["deactivated_at"] is None
    for token in (target.token, other["access_token"], script):
        assert await _me(api, token) == 401  # old sessions stay ended
    assert await _refresh(api, target.refresh_token) == 401
    fresh = await _login(api, target)
    assert await _me(api, fresh["access_token"]) == 200


def test_deactivation_from_the_command_line(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    created = run_cli(
        tmp_path, "user", "create", "zed@example.com", "--password", "longenough", "--name", "Zed"
    )
    assert created.returncode == 0, created.stderr
    hub = HubProcess(tmp_path, cli_env(tmp_path))
    try:
        hub.wait_ready()
        with httpx.Client(base_url=hub.url, timeout=10) as client:
            login = client.post(
                "/api/auth/login", json={"email": "zed@example.com", "password": "longenough"}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert client.get("/api/me", headers=headers).status_code == 200
            done = run_cli(tmp_path, "user", "deactivate", "ZED@example.com")
            assert done.returncode == 0, done.stderr
            assert "deactivated user" in done.stdout
            assert client.get("/api/me", headers=headers).status_code == 401
            refused = client.post(
                "/api/auth/login", json={"email": "zed@example.com", "password": "longenough"}
            )
            assert refused.status_code == 403
            token = run_cli(tmp_path, "token", "zed@example.com")
            assert token.returncode != 0
            assert "deactivated" in token.stderr
            assert run_cli(tmp_path, "user", "reactivate", "zed@example.com").returncode == 0
            again = client.post(
                "/api/auth/login", json={"email": "zed@example.com", "password": "longenough"}
            )
            assert again.status_code == 200
    finally:
        hub.stop()
    missing = run_cli(tmp_path, "user", "deactivate", "nobody@example.com")
    assert missing.returncode == 1
    assert "no user with email nobody@example.com" in missing.stderr


# -- password and email policy -----------------------------------------------------------------------
async def _register(api: Api, email: str, password: str, name: str = "Pat Doeson") -> Any:
    return await api.post("/api/auth/register", json={"email": email, "password": password, "name": name})


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password1", "too common"),
        ("Qwertyuiop", "too common"),
        ("P@ssw0rd2024!", "too common"),
        ("dragon99", "too common"),
        ("abcdefgh", "too common"),
        ("98765432", "too common"),
        ("zzzzzzzzzz", "too common"),
        ("pat.doe@example.com", "your email address or name"),
        ("Pat Doeson", "your email address or name"),
        ("patdoe2024!", "based on your email address or name"),
        ("short", "at least 8 characters"),
    ],
)
async def test_weak_passwords_are_refused_naming_the_field(api: Api, password: str, reason: str) -> None:
    reply = await _register(api, "pat.doe@example.com", password)
    assert reply.status == 422, reply.body
    assert reply.body["error"]["code"] == "validation_error"
    assert set(reply.error_fields()) == {"password"}
    assert reason in reply.error_fields()["password"]


async def test_passwords_have_a_maximum_length(api: Api) -> None:
    assert (await _register(api, "long@example.com", "x1-" * 86)).status == 422  # 258 characters
    assert (await _register(api, "long@example.com", "correct-horse-" * 18)).status == 201  # 252


async def test_good_passwords_pass(api: Api) -> None:
    for n, password in enumerate(
        ["correct-horse-battery", "switchboard-demo", "tr0ub4dor&3", "längeres Kennwort"]
    ):
        reply = await _register(api, f"good{n}@example.com", password)
        assert reply.status == 201, (password, reply.body)


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "a@b", "two@@example.com", "a..b@example.com", "x@localhost", "sp ace@example.com"],
)
async def test_invalid_emails_are_refused_with_the_reason(api: Api, email: str) -> None:
    reply = await _register(api, email, "correct-horse-battery")
    assert reply.status == 422, reply.body
    assert reply.error_fields()["email"].startswith("must be a valid email address: ")


async def test_emails_are_normalised(api: Api) -> None:
    reply = await _register(api, "  Zoe.Smith@Example.COM ", "correct-horse-battery")
    assert reply.status == 201, reply.body
    assert reply.body["email"] == "zoe.smith@example.com"
    login = await api.post(
        "/api/auth/login", json={"email": "ZOE.SMITH@example.com", "password": "correct-horse-battery"}
    )
    assert login.status == 200
    dup = await _register(api, "zoe.smith@EXAMPLE.com", "correct-horse-battery")
    assert dup.status == 409


def test_the_command_line_applies_the_policy(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    weak = run_cli(tmp_path, "user", "create", "a@example.com", "--password", "iloveyou1", "--name", "A")
    assert weak.returncode == 1
    assert "password: is too common" in weak.stderr
    bad = run_cli(tmp_path, "user", "create", "a@b", "--password", "correct-horse-battery", "--name", "A")
    assert bad.returncode == 1
    assert "email: must be a valid email address" in bad.stderr


# -- migration -----------------------------------------------------------------------------------------
async def test_the_upgrade_turns_existing_logins_into_sessions(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from hub.adapters.db.migrate import upgrade
    from tests.support.database import sqlite_url

    url = sqlite_url(tmp_path / "old.db")
    await upgrade(url, "0003")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, name, password_hash, is_admin, preferences, created_at) "
                    "VALUES (1, 'a@example.com', 'A', 'x', 0, '{}', '2026-01-01 00:00:00')"
                )
            )
            for n, (family, revoked) in enumerate(
                [("fam-live", None), ("fam-live", None), ("fam-dead", "2026-01-03")]
            ):
                await conn.execute(
                    text(
                        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at, "
                        "created_at) VALUES (1, :family, :hash, '2027-01-01', :revoked, :created)"
                    ),
                    {"family": family, "hash": f"h{n}", "revoked": revoked, "created": f"2026-01-0{n + 1}"},
                )
        await upgrade(url)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT id, user_id, revoked_at FROM sessions ORDER BY id"))
            ).all()
    finally:
        await engine.dispose()
    assert [(r[0], r[1], r[2] is not None) for r in rows] == [("fam-dead", 1, True), ("fam-live", 1, False)]
