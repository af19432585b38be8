"""Accounts and sessions: registration, login, rotating refresh tokens, access JWTs, deactivation.

A login is a session (`sessions` row). Its refresh tokens are opaque random strings stored as SHA-256
digests, one family per session (the family id is the session id). Each use rotates: the presented
token is marked used and a new one of the same family is issued. Presenting a token that was already
used means it leaked (or a client raced itself): the session is revoked, so the thief's copy dies
with the victim's -- except once within REUSE_GRACE_SECONDS (a lost response, two tabs racing).

Access tokens are JWTs (`sub`, `typ`, `iat`, `exp` and `sid`, the session). Every request reads the
user together with the token's session in one statement (`authenticate`), so logout, refresh-token
reuse, a password change and deactivation end access tokens at once on every instance; the same
commit writes a `session.revoked` outbox event on which every instance closes the sockets of the
ended sessions with 4001 (hub.realtime.sessions). Tokens without `sid` (`switchboard token`,
scripts) belong to no session: logout cannot end them one by one, but deactivation, a password
change and "sign out everywhere" do (`users.tokens_valid_after`), and they expire as usual.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.adapters.db.models import LoginSession, Membership, RefreshToken, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.domain.enums import EventType, Role
from hub.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from hub.domain.events import SessionRevoked
from hub.domain.identity import Actor
from hub.services.access import role_in
from hub.services.accounts import hashing, passwords
from hub.services.views import iso, me_view

_hasher = PasswordHasher()
#: A rotated refresh token presented again within this many seconds is a lost response or two tabs
#: racing, not theft: it gets a fresh pair of the same family instead of revoking it -- once; a second
#: replay (`refresh_tokens.replayed_at` is set) revokes the session like any other reuse.
REUSE_GRACE_SECONDS = 10
_DUMMY_HASH = _hasher.hash("timing-equaliser")
MIN_PASSWORD = passwords.MIN_PASSWORD
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenConfig:
    secret: str
    access_ttl: int
    refresh_ttl: int


async def hash_password(password: str) -> str:
    """argon2 on the bounded hashing pool (`hub.services.accounts.hashing`); RateLimited when it is full."""
    return await hashing.gate.run(_hasher.hash, password)


async def verify_password(stored_hash: str, password: str) -> bool:
    """Check a password on the bounded hashing pool; RateLimited when it is full."""

    def check() -> bool:
        try:
            return _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await hashing.gate.run(check)


def normalize_email(email: str) -> str:
    return passwords.normalize_email(email)


class AccessClaims(NamedTuple):
    """What a verified access token says. `session_id` (the `sid` claim) is the login it was issued
    for; tokens minted without one (`switchboard token`, scripts) have None."""

    user_id: int
    expires: int
    session_id: str | None = None
    issued_at: int = 0


def issue_access_token(
    config: TokenConfig,
    user_id: int,
    ttl: int | None = None,
    *,
    session_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """A signed access token for `user_id`, valid for `ttl` seconds (default: the configured TTL)
    from `now` (default: the current time; tests pass another to mint old tokens)."""
    now = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(seconds=ttl or config.access_ttl),
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, config.secret, algorithm=ALGORITHM)


def decode_access_token(config: TokenConfig, token: str, *, now: float | None = None) -> AccessClaims:
    """The claims of a token with a valid signature that has not expired at `now` (a Unix time;
    default: the current time); Unauthenticated otherwise.

    Verifying a signature costs about 0.1 ms, and the same token comes back again and again (every
    request, every tab's socket, every reconnect after a deploy), so verified tokens are remembered
    (`_verified`, bounded); expiry is checked on every use. The cache only ever holds what the token
    itself says: whether its session, its user and the token are still in good standing is asked of
    the database on every use (`user_for_token`, `socket_admissions`), so a remembered token is never
    accepted after its session was revoked."""
    claims = _verified(config.secret, token)
    if claims.expires <= (time.time() if now is None else now):
        raise Unauthenticated("token expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> AccessClaims:
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
    session_id = claims.get("sid")
    if session_id is not None and (not isinstance(session_id, str) or not 0 < len(session_id) <= 36):
        raise Unauthenticated("invalid token")
    try:
        return AccessClaims(int(claims["sub"]), int(claims["exp"]), session_id, int(claims.get("iat") or 0))
    except (TypeError, ValueError):
        raise Unauthenticated("invalid token") from None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountDeactivated(Forbidden):
    code = "account_deactivated"


async def create_user(
    uow: UnitOfWork, email: str, password: str, name: str, *, is_admin: bool = False
) -> User:
    """Create an account; ValidationFailed naming each bad field (the email's syntax, the password
    policy of `hub.services.accounts.passwords`, the name), Conflict if the email is taken. Does not
    commit."""
    email, email_error = passwords.email_problem(email)
    errors: dict[str, str] = {}
    if email_error:
        errors["email"] = email_error
    if not name.strip() or len(name) > 120:
        errors["name"] = "must be 1 to 120 characters"
    password_error = passwords.password_problem(password, email=email, name=name)
    if password_error:
        errors["password"] = password_error
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
        "access_token": issue_access_token(config, user_id, session_id=family),
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": config.access_ttl,
    }


async def login(uow: UnitOfWork, config: TokenConfig, email: str, password: str) -> dict[str, Any]:
    """A new session for the right email and password. A wrong password and an unknown email get the
    same 401 after the same work; a deactivated account gets 403 `account_deactivated`, but only
    once the password was right, so it tells nothing to someone who does not know it."""
    async with uow:
        user = await uow.session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            await verify_password(_DUMMY_HASH, password)
            raise Unauthenticated("wrong email or password")
        if not await verify_password(user.password_hash, password):
            raise Unauthenticated("wrong email or password")
        if user.deactivated_at is not None:
            raise AccountDeactivated("this account is deactivated; ask a site administrator")
        family = str(uuid.uuid4())
        uow.session.add(LoginSession(id=family, user_id=user.id, created_at=utcnow()))
        pair = await _issue_pair(uow, config, user.id, family)
        await uow.commit()
        return pair


#: The presented refresh token with what decides whether it may still be used: its user's standing
#: and its session (absent for a family created before sessions existed, or by an older instance).
_REFRESH_ROW = (
    select(RefreshToken, User.deactivated_at, LoginSession.id, LoginSession.revoked_at)
    .join(User, User.id == RefreshToken.user_id)
    .outerjoin(LoginSession, LoginSession.id == RefreshToken.family_id)
)


async def refresh(uow: UnitOfWork, config: TokenConfig, token: str) -> dict[str, Any]:
    """Rotate a refresh token. A rotated token presented again within REUSE_GRACE_SECONDS (a lost
    response, two tabs racing) gets a fresh pair once; any other reuse revokes the whole session."""
    async with uow:
        found = (
            await uow.session.execute(
                _REFRESH_ROW.where(RefreshToken.token_hash == _digest(token)).with_for_update(of=RefreshToken)
            )
        ).first()
        now = utcnow()
        if found is None:
            raise Unauthenticated("invalid or expired refresh token")
        row, deactivated_at, session_id, session_revoked_at = found
        if (
            row.revoked_at is not None
            or row.expires_at <= now
            or deactivated_at is not None
            or session_revoked_at is not None
        ):
            raise Unauthenticated("invalid or expired refresh token")
        if session_id is None:
            await _adopt_family(uow, row)
        if row.used_at is not None:
            if (now - row.used_at).total_seconds() <= REUSE_GRACE_SECONDS and row.replayed_at is None:
                row.replayed_at = now
                pair = await _issue_pair(uow, config, row.user_id, row.family_id)
                await uow.commit()
                return pair
            await _end_session(uow, row.user_id, row.family_id, reason="refresh_token_reused", actor_id=None)
            await uow.commit()
            raise Unauthenticated("refresh token reused; all sessions of this login were revoked")
        row.used_at = now
        pair = await _issue_pair(uow, config, row.user_id, row.family_id)
        await uow.commit()
        return pair


async def _adopt_family(uow: UnitOfWork, row: RefreshToken) -> None:
    """Give a refresh family without a session row (made by an instance still running the previous
    release during a rolling upgrade) its session, so its access tokens can be revoked like others."""
    insert_ = sqlite_insert if uow.db.is_sqlite else pg_insert
    await uow.session.execute(
        insert_(LoginSession)
        .values(id=row.family_id, user_id=row.user_id, created_at=row.created_at)
        .on_conflict_do_nothing(index_elements=["id"])
    )


# -- ending sessions ---------------------------------------------------------------------------------
#: The outbox event that ends sessions. Written with `project_id` NULL, so it never reaches the
#: activity feed, ticket sockets, webhooks or the chat relay (they only read project events); every
#: hub instance's fan-out sees it and closes the matching sockets with 4001 (hub.realtime.sessions).
SESSION_REVOKED = EventType.SESSION_REVOKED


async def _end_session(
    uow: UnitOfWork, user_id: int, session_id: str, *, reason: str, actor_id: int | None
) -> None:
    """Revoke one session of `user_id`: its refresh tokens, access tokens and sockets. Does not commit."""
    now = utcnow()
    ended = await uow.session.execute(
        update(LoginSession)
        .where(
            LoginSession.id == session_id, LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
    await uow.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.family_id == session_id,
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if ended.rowcount:  # type: ignore[attr-defined]
        uow.emit(SessionRevoked(user_id, session_id, reason), project_id=None, actor_id=actor_id)


async def _end_all_sessions(
    uow: UnitOfWork,
    user_id: int,
    *,
    reason: str,
    actor_id: int | None,
    keep: str | None = None,
    every_socket: bool = False,
) -> None:
    """Revoke every session of `user_id` but `keep`, and the access tokens without a session issued
    until now (`users.tokens_valid_after`). Sockets close on every instance: those of the revoked
    sessions, and those opened with a session-less token, issued up to this second unless
    `every_socket`. Does not commit."""
    now = utcnow()
    sessions = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    tokens = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep is not None:
        sessions = sessions.where(LoginSession.id != keep)
        tokens = tokens.where(RefreshToken.family_id != keep)
    await uow.session.execute(sessions.values(revoked_at=now))
    await uow.session.execute(tokens.values(revoked_at=now))
    await uow.session.execute(update(User).where(User.id == user_id).values(tokens_valid_after=now))
    revoked = SessionRevoked.everywhere(
        user_id,
        reason=reason,
        except_session_id=keep,
        issued_before=None if every_socket else int(now.timestamp()),
    )
    uow.emit(revoked, project_id=None, actor_id=actor_id)


async def logout(
    uow: UnitOfWork, user: Actor, claims: AccessClaims, token: str | None, *, everywhere: bool = False
) -> None:
    """End the session of the access token (`claims`) and the one of the refresh token `token` (when
    it is the user's). With `everywhere`, or when neither names a session (a session-less token and
    no refresh token), end every session of the user and every session-less token issued so far."""
    async with uow:
        ending: list[str] = []
        if claims.session_id is not None:
            ending.append(claims.session_id)
        if token:
            row = await uow.session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
            )
            if row is not None and row.user_id == user.id and row.family_id not in ending:
                ending.append(row.family_id)
        if everywhere or not ending:
            await _end_all_sessions(uow, user.id, reason="signed_out_everywhere", actor_id=user.id)
        else:
            for session_id in ending:
                await _end_session(uow, user.id, session_id, reason="signed_out", actor_id=user.id)
        await uow.commit()


async def change_password(
    uow: UnitOfWork, actor: Actor, claims: AccessClaims, current_password: str, new_password: str
) -> None:
    """Set a new password (the current one must be right) and end every other session of the user,
    and every session-less token; the session of `claims` stays signed in. Both argon2 runs happen
    before the write transaction, so they never hold SQLite's write lock."""
    row = await uow.db.read_first(
        select(User.password_hash, User.email, User.name).where(User.id == actor.id)
    )
    if row is None:
        raise Unauthenticated("invalid token")
    if not await verify_password(row.password_hash, current_password):
        raise ValidationFailed(
            "the current password is not correct", fields={"current_password": "is not correct"}
        )
    problem = passwords.password_problem(new_password, email=row.email, name=row.name)
    if problem:
        raise ValidationFailed("the new password is not acceptable", fields={"new_password": problem})
    new_hash = await hash_password(new_password)
    async with uow:
        changed = await uow.session.execute(
            update(User)
            .where(User.id == actor.id, User.password_hash == row.password_hash)
            .values(password_hash=new_hash)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            raise Conflict("the password was changed meanwhile; sign in again and retry")
        await _end_all_sessions(
            uow, actor.id, reason="password_changed", actor_id=actor.id, keep=claims.session_id
        )
        await uow.commit()


# -- deactivation ------------------------------------------------------------------------------------
def account_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "is_admin": user.is_admin,
        "deactivated_at": iso(user.deactivated_at) if user.deactivated_at else None,
    }


def _require_site_admin(actor: Actor | None) -> None:
    if actor is not None and not actor.is_admin:
        raise Forbidden("only site administrators can deactivate or reactivate users")


async def user_id_for_email(uow: UnitOfWork, email: str) -> int:
    """The id of the account with `email` (NotFound otherwise); for the command line."""
    async with uow:
        user_id = await uow.session.scalar(select(User.id).where(User.email == normalize_email(email)))
    if user_id is None:
        raise NotFound(f"no user with email {email}")
    return int(user_id)


async def deactivate_user(uow: UnitOfWork, user_id: int, *, actor: Actor | None) -> dict[str, Any]:
    """Deactivate an account: it can no longer sign in or refresh, and every session, access token
    and socket of it ends at once on every instance. `actor` None is the command line; otherwise a
    site admin, who cannot deactivate themself. Deactivating twice changes nothing."""
    _require_site_admin(actor)
    async with uow:
        user = await uow.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound("no such user")
        if actor is not None and actor.id == user.id:
            raise Conflict("you cannot deactivate your own account")
        if user.deactivated_at is None:
            user.deactivated_at = utcnow()
            await _end_all_sessions(
                uow,
                user.id,
                reason="account_deactivated",
                actor_id=actor.id if actor else None,
                every_socket=True,
            )
        await uow.commit()
        return account_view(user)


async def reactivate_user(uow: UnitOfWork, user_id: int, *, actor: Actor | None) -> dict[str, Any]:
    """Let a deactivated account sign in again (its old sessions stay ended)."""
    _require_site_admin(actor)
    async with uow:
        user = await uow.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound("no such user")
        user.deactivated_at = None
        await uow.commit()
        return account_view(user)


# -- every request -----------------------------------------------------------------------------------
#: What decides whether a token still stands: the user (active? tokens valid after?) and its session's
#: revocation; read per request (`_ACTOR_BY_ID`) and per batch of sockets (`_standing`).
_STANDING = (
    User.id,
    User.name,
    User.email,
    User.is_admin,
    User.deactivated_at,
    User.tokens_valid_after,
    LoginSession.revoked_at.label("session_revoked_at"),
)
#: Built once: constructing the statement would cost more than running it. The user and, in the same
#: statement, the token's session (NULL when the token has none, or names one that is not the user's).
_ACTOR_BY_ID = (
    select(*_STANDING, LoginSession.user_id.label("session_user_id"))
    .outerjoin(
        LoginSession,
        and_(LoginSession.id == bindparam("session_id", type_=String), LoginSession.user_id == User.id),
    )
    .where(User.id == bindparam("user_id"))
)


def refusal(
    claims: AccessClaims,
    deactivated_at: datetime | None,
    tokens_valid_after: datetime | None,
    session_user_id: int | None,
    session_revoked_at: datetime | None,
) -> str | None:
    """Why a token with a valid signature is no longer accepted, or None. A token with a session is
    good while its session is (logout, refresh-token reuse, a password change elsewhere and
    deactivation revoke sessions); one without is good until the user's `tokens_valid_after` second."""
    if deactivated_at is not None:
        return "this account is deactivated"
    if claims.session_id is not None:
        if session_user_id is None or session_revoked_at is not None:
            return "this session has ended; sign in again"
    elif tokens_valid_after is not None and claims.issued_at <= int(tokens_valid_after.timestamp()):
        return "this token was revoked; sign in again"
    return None


async def authenticate(uow: UnitOfWork, config: TokenConfig, token: str) -> tuple[Actor, AccessClaims]:
    """The user of an access token and its claims; Unauthenticated when the token is bad or expired,
    its session ended, or its user is gone or deactivated."""
    claims = decode_access_token(config, token)
    # Every request asks this: one read, outside a transaction, of the columns an Actor needs and of
    # the token's standing (a LEFT JOIN on its session), so a revocation counts at once everywhere.
    row = await uow.db.read_first(_ACTOR_BY_ID, {"user_id": claims.user_id, "session_id": claims.session_id})
    if row is None:
        raise Unauthenticated("invalid token")
    why = refusal(
        claims, row.deactivated_at, row.tokens_valid_after, row.session_user_id, row.session_revoked_at
    )
    if why is not None:
        raise Unauthenticated(why)
    return Actor(id=row.id, name=row.name, email=row.email, is_admin=row.is_admin), claims


async def user_for_token(uow: UnitOfWork, config: TokenConfig, token: str) -> Actor:
    """The user an access token belongs to (Unauthenticated when it is bad, revoked or the user is gone)."""
    return (await authenticate(uow, config, token))[0]


Admission = tuple[Actor, Role | None] | Unauthenticated
"""A socket's user and role in its project (None for outsiders), or why its token is refused."""


async def socket_admissions(
    uow: UnitOfWork, requests: Sequence[tuple[AccessClaims, int | None]]
) -> list[Admission]:
    """Admit many sockets at once: `requests` are (claims of a verified token, project id or None).

    Sockets connect in storms (a deploy, a network blip), so a whole batch costs two reads -- the
    users with the tokens' sessions, then their memberships -- instead of a round trip per socket,
    and on SQLite they do not queue behind writers for the write lock (`Database.read_session`).
    A deleted or deactivated user, an ended session or a revoked session-less token is refused
    (`refusal`, as for REST); site admins without a membership see every existing project as owners."""
    user_ids = {claims.user_id for claims, _ in requests}
    session_ids = {claims.session_id for claims, _ in requests if claims.session_id is not None}
    project_ids = {project_id for _, project_id in requests if project_id is not None}
    async with uow.db.read_session() as session:
        standing = await _standing(session, user_ids, session_ids)
        if project_ids:
            members = await session.execute(
                select(Membership.user_id, Membership.project_id, Membership.role).where(
                    Membership.user_id.in_(user_ids), Membership.project_id.in_(project_ids)
                )
            )
            standing.roles = {(user_id, project_id): Role(role) for user_id, project_id, role in members}
        return [await standing.admission(session, claims, project_id) for claims, project_id in requests]


@dataclass
class _Standing:
    """What a batch of socket admissions read: the users, their tokens' sessions and their roles."""

    users: dict[int, Any]
    actors: dict[int, Actor]
    #: session id -> (its user, when it was revoked)
    sessions: dict[str, tuple[int, datetime | None]]
    roles: dict[tuple[int, int], Role]

    async def admission(
        self, session: AsyncSession, claims: AccessClaims, project_id: int | None
    ) -> Admission:
        """One socket's admission, from the batch's reads (a site admin's role may need one more)."""
        user_id = claims.user_id
        actor, user = self.actors.get(user_id), self.users.get(user_id)
        if actor is None or user is None:
            return Unauthenticated("invalid token")
        owner, revoked_at = self.sessions.get(claims.session_id or "", (None, None))
        why = refusal(claims, user.deactivated_at, user.tokens_valid_after, owner, revoked_at)
        if why is not None:
            return Unauthenticated(why)
        role = None if project_id is None else self.roles.get((user_id, project_id))
        if project_id is not None and role is None and actor.is_admin:
            role = await role_in(session, project_id, actor)
        return actor, role


async def _standing(session: AsyncSession, user_ids: set[int], session_ids: set[str]) -> _Standing:
    """The users with the given ids and those of the given sessions that belong to them (no roles yet)."""
    rows = await session.execute(
        select(*_STANDING, LoginSession.id.label("session_id"))
        .outerjoin(LoginSession, and_(LoginSession.user_id == User.id, LoginSession.id.in_(session_ids)))
        .where(User.id.in_(user_ids))
    )
    users: dict[int, Any] = {}
    sessions: dict[str, tuple[int, datetime | None]] = {}
    for row in rows:
        users[row.id] = row
        if row.session_id is not None:
            sessions[row.session_id] = (row.id, row.session_revoked_at)
    actors = {
        row.id: Actor(id=row.id, name=row.name, email=row.email, is_admin=row.is_admin)
        for row in users.values()
    }
    return _Standing(users, actors, sessions, {})


async def get_me(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    async with uow:
        user = await uow.session.get(User, actor.id)
        if user is None:
            raise Unauthenticated("invalid token")
        return me_view(user)
