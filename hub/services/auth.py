"""Accounts and sessions: registration, login, rotating refresh tokens, access JWTs.

Refresh tokens are opaque random strings stored as SHA-256 digests, grouped in families. Each use
rotates: the presented token is marked used and a new one of the same family is issued. Presenting a
token that was already used means it leaked (or a client raced itself): the whole family is revoked,
so the thief's copy dies with the victim's.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.db.models import Membership, RefreshToken, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import Role
from hub.domain.errors import Conflict, Unauthenticated, ValidationFailed
from hub.domain.identity import Actor
from hub.services.policy import role_in
from hub.services.views import me_view

_hasher = PasswordHasher()
#: A rotated refresh token presented again within this many seconds is a lost response or two tabs
#: racing, not theft: it gets a fresh pair of the same family instead of revoking it.
REUSE_GRACE_SECONDS = 10
_DUMMY_HASH = _hasher.hash("timing-equaliser")
MIN_PASSWORD = 8
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenConfig:
    secret: str
    access_ttl: int
    refresh_ttl: int


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def issue_access_token(config: TokenConfig, user_id: int, ttl: int | None = None) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(seconds=ttl or config.access_ttl),
    }
    return jwt.encode(claims, config.secret, algorithm=ALGORITHM)


def decode_access_token(config: TokenConfig, token: str) -> tuple[int, int]:
    """(user_id, exp) of a valid access token; Unauthenticated otherwise.

    Verifying a signature costs about 0.1 ms, and the same token comes back again and again (every
    request, every tab's socket, every reconnect after a deploy), so verified tokens are remembered
    (`_verified`, bounded); expiry is checked on every use."""
    user_id, expires = _verified(config.secret, token)
    if expires <= time.time():
        raise Unauthenticated("token expired")
    return user_id, expires


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> tuple[int, int]:
    """Signature and claims of an access token, checked once per distinct token (failures are not kept)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated("invalid token") from None
    if claims.get("typ") != "access":
        raise Unauthenticated("invalid token")
    try:
        return int(claims["sub"]), int(claims["exp"])
    except (TypeError, ValueError):
        raise Unauthenticated("invalid token") from None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    uow: UnitOfWork, email: str, password: str, name: str, *, is_admin: bool = False
) -> User:
    """Create an account; Conflict if the email is taken. Does not commit."""
    email = normalize_email(email)
    errors: dict[str, str] = {}
    if "@" not in email or len(email) > 320:
        errors["email"] = "must be a valid email address"
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"must be at least {MIN_PASSWORD} characters"
    if not name.strip() or len(name) > 120:
        errors["name"] = "must be 1 to 120 characters"
    if errors:
        raise ValidationFailed("invalid account details", fields=errors)
    if await uow.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("an account with this email already exists", fields={"email": "already registered"})
    user = User(
        email=email, name=name.strip(), password_hash=await hash_password(password), is_admin=is_admin
    )
    uow.session.add(user)
    try:
        await uow.session.flush()
    except IntegrityError:
        raise Conflict("this email is already registered", fields={"email": "already registered"}) from None
    return user


async def register(uow: UnitOfWork, email: str, password: str, name: str) -> User:
    async with uow:
        user = await create_user(uow, email, password, name)
        await uow.commit()
        return user


async def _issue_pair(uow: UnitOfWork, config: TokenConfig, user_id: int, family: str) -> dict[str, Any]:
    refresh = secrets.token_urlsafe(32)
    uow.session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family,
            token_hash=_digest(refresh),
            expires_at=utcnow() + timedelta(seconds=config.refresh_ttl),
        )
    )
    return {
        "access_token": issue_access_token(config, user_id),
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": config.access_ttl,
    }


async def login(uow: UnitOfWork, config: TokenConfig, email: str, password: str) -> dict[str, Any]:
    async with uow:
        user = await uow.session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            await verify_password(_DUMMY_HASH, password)
            raise Unauthenticated("wrong email or password")
        if not await verify_password(user.password_hash, password):
            raise Unauthenticated("wrong email or password")
        pair = await _issue_pair(uow, config, user.id, str(uuid.uuid4()))
        await uow.commit()
        return pair


async def refresh(uow: UnitOfWork, config: TokenConfig, token: str) -> dict[str, Any]:
    """Rotate a refresh token; reuse of a rotated token revokes its whole family (after a short grace,
    see REUSE_GRACE_SECONDS)."""
    async with uow:
        row = await uow.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == _digest(token)).with_for_update()
        )
        now = utcnow()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise Unauthenticated("invalid or expired refresh token")
        if row.used_at is not None and (now - row.used_at).total_seconds() <= REUSE_GRACE_SECONDS:
            pair = await _issue_pair(uow, config, row.user_id, row.family_id)
            await uow.commit()
            return pair
        if row.used_at is not None:
            await _revoke_family(uow, row.family_id)
            await uow.commit()
            raise Unauthenticated("refresh token reused; all sessions of this login were revoked")
        row.used_at = now
        pair = await _issue_pair(uow, config, row.user_id, row.family_id)
        await uow.commit()
        return pair


async def _revoke_family(uow: UnitOfWork, family_id: str) -> None:
    await uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def logout(uow: UnitOfWork, user: Actor, token: str | None) -> None:
    """Revoke the family of the given refresh token, or every session of the user without one."""
    async with uow:
        if token:
            row = await uow.session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
            )
            if row is not None and row.user_id == user.id:
                await _revoke_family(uow, row.family_id)
        else:
            await uow.session.execute(
                update(RefreshToken)
                .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        await uow.commit()


#: Built once: constructing the statement would cost more than running it.
_ACTOR_BY_ID = select(User.id, User.name, User.email, User.is_admin).where(User.id == bindparam("user_id"))


async def user_for_token(uow: UnitOfWork, config: TokenConfig, token: str) -> Actor:
    """The user an access token belongs to (Unauthenticated when it is bad or the user is gone)."""
    user_id, _exp = decode_access_token(config, token)
    # Every request asks this: one read, outside a transaction, of the columns an Actor needs.
    row = await uow.db.read_first(_ACTOR_BY_ID, {"user_id": user_id})
    if row is None:
        raise Unauthenticated("invalid token")
    return Actor(id=row.id, name=row.name, email=row.email, is_admin=row.is_admin)


Admission = tuple[Actor, Role | None] | Unauthenticated
"""A socket's user and role in its project (None for outsiders), or why its token is refused."""


async def socket_admissions(uow: UnitOfWork, requests: Sequence[tuple[int, int | None]]) -> list[Admission]:
    """Admit many sockets at once: `requests` are (user id from a verified token, project id or None).

    Sockets connect in storms (a deploy, a network blip), so a whole batch costs two reads -- the
    users, then their memberships -- instead of a round trip per socket, and on SQLite they do not
    queue behind writers for the write lock (`Database.read_session`). A deleted
    user is refused; site admins without a membership see every existing project as owners."""
    user_ids = {user_id for user_id, _ in requests}
    project_ids = {project_id for _, project_id in requests if project_id is not None}
    async with uow.db.read_session() as session:
        rows = await session.execute(
            select(User.id, User.name, User.email, User.is_admin).where(User.id.in_(user_ids))
        )
        actors = {
            row.id: Actor(id=row.id, name=row.name, email=row.email, is_admin=row.is_admin) for row in rows
        }
        roles: dict[tuple[int, int], Role] = {}
        if project_ids:
            members = await session.execute(
                select(Membership.user_id, Membership.project_id, Membership.role).where(
                    Membership.user_id.in_(user_ids), Membership.project_id.in_(project_ids)
                )
            )
            roles = {(user_id, project_id): Role(role) for user_id, project_id, role in members}
        results: list[Admission] = []
        for user_id, project_id in requests:
            actor = actors.get(user_id)
            if actor is None:
                results.append(Unauthenticated("invalid token"))
                continue
            role = None if project_id is None else roles.get((user_id, project_id))
            if project_id is not None and role is None and actor.is_admin:
                role = await role_in(session, project_id, actor)
            results.append((actor, role))
        return results


async def get_me(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    async with uow:
        user = await uow.session.get(User, actor.id)
        if user is None:
            raise Unauthenticated("invalid token")
        return me_view(user)
